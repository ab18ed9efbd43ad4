"""The lock file pluto.pid: created with our PID, a live holder refuses, stale files go."""

import os
import subprocess
import sys

import pytest

from pluto.server.lockfile import LockError, LockFile, LockHeld, pid_is_running, read_pid


def dead_pid():
    """The PID of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_process():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_acquire_writes_our_pid_and_release_removes_it(tmp_path):
    path = tmp_path / "pluto.pid"
    lock = LockFile(str(path))
    lock.acquire()
    assert lock.held
    assert path.read_text() == f"{os.getpid()}\n"
    lock.release()
    assert not path.exists() and not lock.held


def test_a_live_holder_refuses_with_its_pid(tmp_path, live_process):
    path = tmp_path / "pluto.pid"
    path.write_text(f"{live_process}\n")
    with pytest.raises(LockHeld) as info:
        LockFile(str(path)).acquire()
    assert info.value.pid == live_process
    assert str(info.value) == f'lock file "{path}" already exists (pid {live_process})'
    assert path.read_text() == f"{live_process}\n"  # untouched


@pytest.mark.parametrize("content, why", [
    (None, "is not running"),  # filled in with a dead PID below
    ("garbage\n", "holds no PID"),
    ("", "holds no PID"),
    ("-5\n", "holds no PID"),
    ("\xff\xfe", "holds no PID"),
])
def test_a_stale_file_is_removed_with_a_message(tmp_path, content, why):
    path = tmp_path / "pluto.pid"
    if content is None:
        content = f"{dead_pid()}\n"
    path.write_bytes(content.encode("latin-1"))
    messages = []
    lock = LockFile(str(path), log=messages.append)
    lock.acquire()
    assert path.read_text() == f"{os.getpid()}\n"
    assert len(messages) == 1
    assert messages[0].startswith(f'removing stale lock file "{path}"') and why in messages[0]


def test_our_own_pid_in_the_file_is_stale(tmp_path):
    # A restarted container can give the new pluto the PID the old one had.
    path = tmp_path / "pluto.pid"
    path.write_text(f"{os.getpid()}\n")
    messages = []
    LockFile(str(path), log=messages.append).acquire()
    assert "removing stale lock file" in messages[0]


def test_release_leaves_a_file_that_is_no_longer_ours(tmp_path, live_process):
    path = tmp_path / "pluto.pid"
    lock = LockFile(str(path))
    lock.acquire()
    path.write_text(f"{live_process}\n")
    lock.release()
    assert path.read_text() == f"{live_process}\n"


def test_a_missing_directory_is_a_clear_error(tmp_path):
    path = tmp_path / "no" / "such" / "pluto.pid"
    with pytest.raises(LockError) as info:
        LockFile(str(path)).acquire()
    assert f'cannot create lock file "{path}"' in str(info.value)


def test_pid_helpers(tmp_path, live_process):
    assert pid_is_running(os.getpid()) and pid_is_running(live_process)
    assert not pid_is_running(dead_pid())
    assert not pid_is_running(0) and not pid_is_running(-1)
    path = tmp_path / "f"
    path.write_text(" 42 \n")
    assert read_pid(str(path)) == 42
    assert read_pid(str(tmp_path / "missing")) is None
