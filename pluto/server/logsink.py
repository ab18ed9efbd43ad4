"""Where pluto's log lines go: stderr, a log file, or syslog.

Lines arrive exactly as the core writes them (``"conn" #1: ...``, ``| debug``,
``IMPAIR: ...``). ``--stderrlog`` prints them unchanged, as libreswan does with ``--nofork
--stderrlog``; ``--logfile FILE`` appends them with a timestamp; with neither, they go to
syslog (facility authpriv), as pluto(8) says.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def timestamp(seconds: float) -> str:
    """``Nov 24 09:15:07.123456``: the local-time stamp of a log file line."""
    whole = int(seconds)
    micros = int(round((seconds - whole) * 1_000_000)) % 1_000_000
    return time.strftime("%b %e %H:%M:%S", time.localtime(whole)) + f".{micros:06d}"


class LogSink:
    """A callable taking one line; writes it to every destination configured."""

    def __init__(self, *, stderr: TextIO | None = None, logfile: TextIO | None = None,
                 syslog: Callable[[str], None] | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        self._stderr = stderr
        self._logfile = logfile
        self._syslog = syslog
        self._wall = wall

    def __call__(self, line: str) -> None:
        # One bad destination (a full disk, a closed terminal) must not take pluto down.
        if self._stderr is not None:
            try:
                self._stderr.write(line + "\n")
                self._stderr.flush()
            except (OSError, ValueError):
                self._stderr = None
        self.log_elsewhere(line)

    def log_elsewhere(self, line: str) -> None:
        """The line to the log file and syslog only (stderr already has it)."""
        if self._logfile is not None:
            try:
                self._logfile.write(f"{timestamp(self._wall())}: {line}\n")
                self._logfile.flush()
            except (OSError, ValueError):
                pass
        if self._syslog is not None:
            self._syslog(line)

    def close(self) -> None:
        if self._logfile is not None:
            try:
                self._logfile.close()
            except OSError:
                pass
            self._logfile = None


def open_sink(*, stderrlog: bool, logfile: str | None) -> LogSink:
    """The sink the command line asks for; OSError when the log file cannot be opened."""
    stream = open(logfile, "a", encoding="utf-8", errors="replace") if logfile else None
    syslog_fn = None
    if not stderrlog and stream is None:
        syslog_fn = _syslog_writer()
    return LogSink(stderr=sys.stderr if stderrlog else None, logfile=stream, syslog=syslog_fn)


def _syslog_writer() -> Callable[[str], None]:
    import syslog

    syslog.openlog("pluto", syslog.LOG_PID, syslog.LOG_AUTHPRIV)

    def write(line: str) -> None:
        level = syslog.LOG_DEBUG if line.startswith("| ") else syslog.LOG_WARNING
        syslog.syslog(level, line)

    return write
