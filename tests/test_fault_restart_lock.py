"""A pluto killed with SIGKILL leaves its lock file and control socket; a new pluto started
right away takes both over, even while the killed one is still an unreaped zombie."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_fault_logfile import _free_port, _whack

from pluto.server.lockfile import pid_is_running
from pluto.server.pidcheck import pid_is_alive, process_state

REPO = Path(__file__).resolve().parent.parent


def test_a_zombie_is_running_for_kill_but_not_alive():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = time.monotonic() + 5
        while process_state(pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process_state(pid) == "Z"
        assert pid_is_running(pid)  # kill(pid, 0) still succeeds
        assert not pid_is_alive(pid)
    finally:
        os.waitpid(pid, 0)
    assert not pid_is_alive(pid)
    assert pid_is_alive(os.getpid())


def test_process_state_reads_names_with_spaces_and_parentheses(tmp_path):
    # /proc/PID/stat is "PID (comm) STATE ...": comm is whatever the program named itself
    script = tmp_path / "rename.py"
    script.write_text("import sys, time\nopen('/proc/self/comm', 'w').write('x) Z (z')\n"
                      "print('renamed', flush=True)\ntime.sleep(30)\n")
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "renamed\n"
        assert open(f"/proc/{process.pid}/comm").read() == "x) Z (z\n"
        assert process_state(process.pid) in ("S", "R")
        assert pid_is_alive(process.pid)
    finally:
        process.kill()
        process.wait()


def test_daemon_killed_with_sigkill_is_replaced_at_once(tmp_path):
    rundir = tmp_path / "run"
    rundir.mkdir()
    argv = [sys.executable, "-m", "pluto", "--noklips", "--stderrlog", "--rundir", str(rundir),
            "--listen", "127.0.0.1", "--ikeport", str(_free_port()), "--natikeport", "0",
            "--secretsfile", str(tmp_path / "none")]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with open(tmp_path / "first.log", "w") as log:
        assert subprocess.run(argv, stderr=log, env=env, timeout=30).returncode == 0
    first = int((rundir / "pluto.pid").read_text())
    os.kill(first, signal.SIGKILL)
    # the daemon's parent is init, which may take its time to reap it
    deadline = time.monotonic() + 5
    while pid_is_alive(first) and time.monotonic() < deadline:
        time.sleep(0.01)
    with open(tmp_path / "second.log", "w") as log:
        assert subprocess.run(argv, stderr=log, env=env, timeout=30).returncode == 0
    second = int((rundir / "pluto.pid").read_text())
    try:
        assert second != first
        assert _whack(rundir / "pluto.ctl", [{"action": "status"}])[-1].done
    finally:
        os.kill(second, signal.SIGTERM)
    lines = (tmp_path / "second.log").read_text().splitlines()
    assert f'removing stale lock file "{rundir}/pluto.pid" (pid {first} is not running)' in lines
    assert f'removing stale control socket "{rundir}/pluto.ctl"' in lines
