"""Where pluto's log lines go: stderr, a log file, or syslog.

Lines arrive exactly as the core writes them (``"conn" #1: ...``, ``| debug``,
``IMPAIR: ...``). ``--stderrlog`` prints them unchanged, as libreswan does with ``--nofork
--stderrlog``; ``--logfile FILE`` appends them with a timestamp; with neither, they go to
syslog (facility authpriv), as pluto(8) says.
"""

from __future__ import annotations

import os
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
                 wall: Callable[[], float] = time.time,
                 complain: TextIO | None = None) -> None:
        self._stderr = stderr
        self._logfile = logfile
        self._syslog = syslog
        self._wall = wall
        # where a failing log file is reported once: stderr, even without --stderrlog
        self._complain = complain if complain is not None else sys.stderr
        self.logfile_failure: str | None = None  # why writing the log file fails, if it does
        self.failures_since = 0  # lines lost since then

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
            self._write_logfile(f"{timestamp(self._wall())}: {line}\n")
        if self._syslog is not None:
            self._syslog(line)

    def _write_logfile(self, text: str) -> None:
        """One line, straight to the file: a full disk loses that line and nothing else.

        Unbuffered (os.write on the descriptor), so lines that failed are not kept in a
        buffer to pile up or to come out later in the wrong order. The first failure is
        reported once on stderr; the first success after it says how many lines were lost.
        """
        assert self._logfile is not None
        data = text.encode("utf-8", "replace")
        try:
            fileno = self._logfile.fileno()
        except (OSError, ValueError, AttributeError):
            fileno = None
        try:
            if fileno is None:  # an in-memory stream (tests)
                self._logfile.write(text)
                self._logfile.flush()
            else:
                os.write(fileno, data)
        except (OSError, ValueError) as err:
            self._logfile_failed(err)
            return
        if self.logfile_failure is not None:
            lost, self.failures_since = self.failures_since, 0
            self.logfile_failure = None
            self._complain_once(f"pluto: writing the log file works again; {lost} line(s) "
                                "were lost")

    def _logfile_failed(self, err: Exception) -> None:
        self.failures_since += 1
        if self.logfile_failure is not None:
            return
        reason = getattr(err, "strerror", None) or str(err)
        self.logfile_failure = (f'cannot write to the log file "{self.logfile_name}": '
                                f"{reason}; log lines are lost until it works again")
        self._complain_once(f"pluto: {self.logfile_failure}")

    def _complain_once(self, text: str) -> None:
        if self._complain is None:
            return
        try:
            self._complain.write(text + "\n")
            self._complain.flush()
        except (OSError, ValueError):
            self._complain = None

    @property
    def logfile_name(self) -> str:
        return str(getattr(self._logfile, "name", "?"))

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
