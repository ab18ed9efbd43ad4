"""The repository's copy of the vectors is the team's shared set, byte for byte."""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "vectors"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "vectors"


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs the team's shared/vectors beside the checkout")
def test_copy_matches_shared_folder():
    names = sorted(p.relative_to(SHARED) for p in SHARED.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(HERE) for p in HERE.rglob("*") if p.is_file())
    for name in names:
        assert (HERE / name).read_bytes() == (SHARED / name).read_bytes(), name
