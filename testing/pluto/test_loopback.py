"""Loopback tier: every testing/pluto/loopback-*/ scenario with real pluto processes.

No root needed: the plutos run with --noklips on 127.0.0.1 and 127.0.0.2. Set
PLUTO_UPDATE_GOLDEN=1 to rewrite the expected transcripts after an intended change.
"""

import difflib
import os
from pathlib import Path

import pytest
from loopback import Scenario, tracebacks

HERE = Path(__file__).resolve().parent
SCENARIOS = sorted(p for p in HERE.glob("loopback-*") if (p / "script.txt").is_file())
UPDATE = os.environ.get("PLUTO_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("directory", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_loopback_scenario(directory, tmp_path):
    outputs = Scenario(directory, tmp_path).run()
    assert not tracebacks(outputs), f"traceback in {tracebacks(outputs)}"
    failures = []
    for name, text in outputs.items():
        golden = directory / name
        if UPDATE:
            golden.write_text(text)
            continue
        expected = golden.read_text() if golden.exists() else ""
        if text != expected:
            diff = difflib.unified_diff(expected.splitlines(), text.splitlines(),
                                        f"{name} (expected)", f"{name} (this run)", lineterm="")
            failures.append("\n".join(diff))
    assert not failures, "\n\n".join(failures)
