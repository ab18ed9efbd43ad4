"""Compare a scenario's transcripts with its golden files, or rewrite them (--update-golden)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from labs.scenario import ScenarioResult

UPDATE_ENV = "PLUTO_UPDATE_GOLDEN"  # "1": rewrite, as the loopback tier does


def update_requested(option: bool = False) -> bool:
    return option or os.environ.get(UPDATE_ENV) == "1"


def compare(directory: Path, result: ScenarioResult, update: bool = False) -> list[str]:
    """Unified diffs of every transcript that differs from its golden file (empty: all equal).

    With ``update``, the golden files are rewritten instead and nothing is reported. Golden
    files of hosts that produced no transcript count as differences too."""
    if update:
        for name, text in result.transcripts.items():
            (directory / name).write_text(text)
        return []
    failures = []
    expected_names = {p.name for p in directory.glob("*.console.txt")}
    for name in sorted(expected_names | set(result.transcripts)):
        golden = directory / name
        expected = golden.read_text() if golden.is_file() else ""
        actual = result.transcripts.get(name, "")
        if actual != expected:
            diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                        f"{name} (expected)", f"{name} (this run)", lineterm="")
            failures.append("\n".join(diff))
    return failures


def verdict(directory: Path, result: ScenarioResult, update: bool = False) -> str | None:
    """None when the run passed; else the whole story: problems first, then the diffs."""
    parts = [f"problem: {problem}" for problem in result.problems]
    parts += compare(directory, result, update)
    if not parts:
        return None
    return f"{directory.name} ({result.runner}, {result.seconds:.1f} s):\n" + "\n\n".join(parts)


def check_scenario(directory: Path, workdir: Path, update_option: bool = False) -> None:
    """Run one scenario as a pytest test: skip when it cannot run here, fail with the verdict."""
    import pytest

    from labs.runner import run_scenario, skip_reason

    reason = skip_reason(directory)
    if reason is not None:
        pytest.skip(reason)
    # Per-scenario, per-process prefix: xdist workers never share a namespace name.
    prefix = f"{directory.name[:20]}-{os.getpid()}"
    result = run_scenario(directory, workdir, prefix)
    message = verdict(directory, result, update_requested(update_option))
    if message is not None:
        pytest.fail(message, pytrace=False)
