"""The coverage-guided target runs from a recorded seed corpus without a single failure.

Skipped where atheris is not installed (``tox -e fuzz`` installs it: PyPI has a wheel for
CPython 3.11 on x86_64 Linux). CI: a few thousand runs; ``--long``: 10^6.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "atheris_target.py")


def test_atheris_target(tmp_path, fuzz_long: bool) -> None:
    pytest.importorskip("atheris", reason="atheris is not installed (tox -e fuzz installs it)")
    corpus = tmp_path / "corpus"
    made = subprocess.run([sys.executable, TARGET, "--make-corpus", str(corpus)],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert len(os.listdir(corpus)) >= 20
    runs = 1_000_000 if fuzz_long else 5_000
    fuzz = subprocess.run([sys.executable, TARGET, str(corpus), f"-atheris_runs={runs}",
                           "-max_len=4096"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=None if fuzz_long else 120)
    assert fuzz.returncode == 0, fuzz.stderr[-4000:]
    assert f"Done {runs} " in fuzz.stderr + fuzz.stdout
    assert not [name for name in os.listdir(tmp_path) if name.startswith("crash-")]
