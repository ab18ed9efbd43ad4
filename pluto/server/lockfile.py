"""The lock file ``pluto.pid``: one pluto per run directory.

pluto(8): pluto creates the lock file and writes its PID into it so that scripts can find it;
if the file already exists pluto exits with status 10. A file left behind by a pluto that died
(its PID is not running, or the file holds no PID) is stale: it is removed with a message and
pluto carries on.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

EXIT_LOCKED = 10


class LockHeld(Exception):
    """Another pluto holds the lock file."""

    def __init__(self, path: str, pid: int) -> None:
        super().__init__(f'lock file "{path}" already exists (pid {pid})')
        self.path = path
        self.pid = pid


class LockError(Exception):
    """The lock file cannot be created (no directory, no permission...)."""


def pid_is_running(pid: int) -> bool:
    """True when a process with this PID exists (signal 0 checks without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    return True


def read_pid(path: str) -> int | None:
    """The PID in a lock file, or None when it holds anything else."""
    try:
        with open(path, "rb") as f:
            text = f.read(64)
    except FileNotFoundError:
        return None
    try:
        pid = int(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return None
    return pid if pid > 0 else None


class LockFile:
    """``acquire()`` creates the file with our PID; ``release()`` removes it if still ours."""

    def __init__(self, path: str, log: Callable[[str], None] = lambda _line: None,
                 is_running: Callable[[int], bool] = pid_is_running) -> None:
        self.path = path
        self._log = log
        self._is_running = is_running
        self._pid: int | None = None

    @property
    def held(self) -> bool:
        return self._pid is not None

    def acquire(self) -> None:
        """Take the lock; LockHeld when a live pluto has it, LockError when it cannot."""
        pid = os.getpid()
        for _attempt in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self._remove_if_stale(pid)
                continue
            except OSError as err:
                raise LockError(f'cannot create lock file "{self.path}": '
                                f"{err.strerror}") from None
            try:
                os.write(fd, f"{pid}\n".encode())
            finally:
                os.close(fd)
            self._pid = pid
            return
        raise LockError(f'cannot create lock file "{self.path}": it keeps reappearing')

    def _remove_if_stale(self, our_pid: int) -> None:
        holder = read_pid(self.path)
        # Our own PID in the file can only be left from an earlier life (a restarted
        # container reuses PIDs), never from this process: we have not written it yet.
        if holder is not None and holder != our_pid and self._is_running(holder):
            raise LockHeld(self.path, holder)
        why = "holds no PID" if holder is None else f"pid {holder} is not running"
        self._log(f'removing stale lock file "{self.path}" ({why})')
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass  # someone else removed it; try again
        except OSError as err:
            raise LockError(f'cannot remove stale lock file "{self.path}": '
                            f"{err.strerror}") from None

    def release(self) -> None:
        """Remove the file, unless another process has replaced it meanwhile."""
        if self._pid is None:
            return
        try:
            if read_pid(self.path) == self._pid:
                os.unlink(self.path)
        except OSError as err:
            if err.errno != errno.ENOENT:
                self._log(f'cannot remove lock file "{self.path}": {err.strerror}')
        self._pid = None
