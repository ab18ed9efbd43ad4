"""Wait until a log file holds a line (a fixed string) some number of times.

Fault scenarios use it where the time things take varies (a restart, a liveness timeout, a
negotiation under packet loss inside User-Mode-Linux): the transcript then shows only what
happened, not how long it took. Silent on success; on a timeout it says what it waited for
and exits 1, so the transcript shows the failure.

    python -m testing.faults.wait_log FILE TEXT [--count N] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def count_in(path: Path, text: str) -> int:
    """How many lines of ``path`` contain ``text`` (0 while the file does not exist)."""
    try:
        content = path.read_text(errors="replace")
    except FileNotFoundError:
        return 0
    return sum(1 for line in content.splitlines() if text in line)


def wait_for(path: Path, text: str, count: int = 1, timeout: float = 30.0,
             poll: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if count_in(path, text) >= count:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wait_log", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("text")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if args.count < 1 or args.timeout <= 0:
        parser.error("--count must be at least 1 and --timeout positive")
    if wait_for(args.file, args.text, args.count, args.timeout):
        return 0
    print(f"timed out after {args.timeout:g} s waiting for {args.count} line(s) with "
          f"{args.text!r} in {args.file.name} (found {count_in(args.file, args.text)})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
