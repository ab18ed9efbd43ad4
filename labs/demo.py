"""`python -m labs demo` (what `./run lab` runs): the default east-west lab with pluto.

The demo is the scenario testing/pluto/ikev2-psk-subnet run once, as the test suite runs it:
a lab of its own (on the host kernel, or inside User-Mode-Linux when the host kernel has no
ESP; the runner says which), pluto on west and east installing SAs through XFRM, IKEv2 with a
pre-shared key, pings and a UDP echo through the tunnel, the ESP decrypted by scapy,
``whack --trafficstatus`` and ``--showstates``, both rekeys, a delete, and teardown. It prints
what each host's console showed and exits 0 only when the run had no problem and matched the
scenario's golden transcripts.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from labs.golden import verdict
from labs.runner import run_scenario, skip_reason

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "testing" / "pluto" / "ikev2-psk-subnet"
# The console lines worth a headline in the summary.
HIGHLIGHTS = ("established", "rekeyed", "type=ESP", "packets transmitted", "echo from",
              "STATE_V2_ESTABLISHED", "Traffic:")


def highlights(transcript: str) -> list[str]:
    """The commands that matter and the lines that show the tunnel working."""
    keep = []
    for line in transcript.splitlines():
        if " # python -m whack" in line and ("--trafficstatus" in line or "--showstates" in line):
            keep.append(line)
        elif any(word in line for word in HIGHLIGHTS) and " # " not in line:
            keep.append("    " + line)
    return keep


def run_demo(scenario: Path = SCENARIO, verbose: bool = False, out=print) -> int:
    """Run the demo scenario; print its story; 0 on success, 1 on failure, 2 if it cannot run."""
    reason = skip_reason(scenario)
    if reason is not None:
        out(f"labs demo: cannot run here: {reason}")
        return 2
    with tempfile.TemporaryDirectory(prefix="pluto-demo-") as tmp:
        workdir = Path(tmp)
        os.chmod(workdir, 0o755)  # a UML guest runs the scripts as root over hostfs
        result = run_scenario(scenario, workdir, f"demo-{os.getpid()}", announce=out)
    for name in ("west.console.txt", "east.console.txt"):
        text = result.transcripts.get(name, "")
        out(f"--- {name.split('.')[0]} ({'whole console' if verbose else 'highlights'}) ---")
        for line in (text.splitlines() if verbose else highlights(text)):
            out(line)
    failure = verdict(scenario, result)
    if failure is not None:
        out(f"labs demo: FAILED\n{failure}")
        return 1
    out(f"labs demo: IKEv2 negotiated, traffic crossed the tunnel, the lab is torn down "
        f"({result.runner}, {result.seconds:.0f} s)")
    return 0


def main(argv: list[str]) -> int:
    return run_demo(verbose="--verbose" in argv or "-v" in argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
