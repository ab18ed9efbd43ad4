"""The command lines as users run them: pluto, whack, ipsec, python -m labs."""

import re
import subprocess
import sys

import pytest


def run(*args):
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def test_pluto_version_and_help():
    code, out, _ = run("-m", "pluto", "--version")
    assert code == 0 and out.startswith("pluto ")
    code, out, _ = run("-m", "pluto", "--help")
    assert code == 0 and "--impair" in out


def test_pluto_impair_list_shows_settings():
    code, out, _ = run("-m", "pluto", "--impair", "nonce:7", "--impair", "list")
    assert code == 0 and out.splitlines() == ["nonce:7"]


@pytest.mark.parametrize("prog", ["pluto", "whack"])
def test_bad_debug_and_impair_are_named(prog):
    code, _, err = run("-m", prog, "--debug", "parsnip")
    assert code == 1 and "'parsnip'" in err
    code, _, err = run("-m", prog, "--impair=ke-payload:sideways")
    assert code == 1 and "'sideways'" in err


def test_daemon_start_problem_is_named_and_exits_1(tmp_path):
    rundir = tmp_path / "missing" / "rundir"
    code, _, err = run("-m", "pluto", "--nofork", "--noklips", "--rundir", str(rundir))
    assert code == 1 and str(rundir) in err


def test_ipsec_front_end_dispatches():
    code, out, _ = run("-m", "whack.ipsec", "whack", "--impair", "help")
    assert code == 0 and "ke-payload" in out
    code, _, err = run("-m", "whack.ipsec", "--rundir", "/nonexistent-pluto-rundir", "status")
    assert code == 1 and "not running" in err


def test_labs_help_lists_the_sub_commands():
    code, out, _ = run("-m", "labs", "--help")
    assert code == 0
    for command in ("up", "down", "status", "exec", "netns-tests", "demo"):
        assert re.search(rf"^\s+{re.escape(command)}\s+\S", out, re.M), (command, out)
