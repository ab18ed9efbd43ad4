"""The ipsec front end: command line, what it sends to pluto, and its own errors."""

from __future__ import annotations

import pytest

import whack.client
from whack import ipsec

CONF = """\
config setup
\trundir={rundir}

conn west-east
\tleft=198.51.100.45
\tright=198.51.100.23
\tauthby=secret
\tleftsubnets={{198.18.1.0/24 198.18.5.0/24}}
\trightsubnet=198.18.2.0/24

conn broken
\tleft=198.51.100.45
\tright=198.51.100.23
\tauthby=secret
\tleftsubnet=198.18.1.1/24
"""


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "ipsec.conf"
    path.write_text(CONF.format(rundir=tmp_path / "run"))
    return path


@pytest.fixture
def sent(monkeypatch):
    """Every request the front end sends: (socket path, actions)."""
    requests: list[tuple[str, list[dict]]] = []

    def fake_send(path, actions, out):
        requests.append((path, actions))
        out.write("ok\n")
        return 0

    monkeypatch.setattr(whack.client, "send_request", fake_send)
    return requests


def test_add_replaces_each_subconnection_and_finds_pluto_through_config_setup(conf, sent,
                                                                              tmp_path):
    assert ipsec.main(["--config", str(conf), "add", "west-east"]) == 0
    ctl = str(tmp_path / "run" / "pluto.ctl")
    (path, actions), = sent  # one request: each delete (if there) then its add
    assert path == ctl
    assert [a["action"] for a in actions] == ["delete", "add", "delete", "add"]
    deletes = actions[0::2]
    assert deletes == [{"action": "delete", "name": "west-east/1x1", "if_exists": True},
                       {"action": "delete", "name": "west-east/2x1", "if_exists": True}]
    adds = actions[1::2]
    assert [a["connection"]["left"]["client"] for a in adds] == ["198.18.1.0/24",
                                                                "198.18.5.0/24"]


@pytest.mark.parametrize(("verb", "action"), [("up", "initiate"), ("down", "terminate"),
                                              ("delete", "delete"), ("route", "route"),
                                              ("unroute", "unroute")])
def test_named_commands_act_on_every_subconnection(conf, sent, verb, action):
    # the global options may also follow the command
    assert ipsec.main([verb, "--config", str(conf), "west-east"]) == 0
    (_, actions), = sent
    assert [(a["action"], a["name"]) for a in actions] == [(action, "west-east/1x1"),
                                                           (action, "west-east/2x1")]
    if action == "initiate":
        assert all(a["async"] is False for a in actions)


def test_a_name_not_in_the_file_goes_to_pluto_as_it_is(conf, sent):
    assert ipsec.main(["--config", str(conf), "--rundir", "/elsewhere", "down", "other"]) == 0
    assert sent == [("/elsewhere/pluto.ctl", [{"action": "terminate", "name": "other"}])]


@pytest.mark.parametrize(("verb", "actions"), [
    ("status", [{"action": "status", "json": False}]),
    ("trafficstatus", [{"action": "trafficstatus", "json": False}]),
    ("showstates", [{"action": "showstates", "json": False}]),
    ("listen", [{"action": "listen"}]),
    ("rereadsecrets", [{"action": "rereadsecrets"}]),
])
def test_simple_commands(conf, sent, verb, actions):
    assert ipsec.main(["--ctlbase", "/x/pluto", "--config", str(conf), verb]) == 0
    assert sent == [("/x/pluto.ctl", actions)]


def test_add_of_a_bad_conn_names_file_and_line(conf, sent, capsys):
    assert ipsec.main(["--config", str(conf), "add", "broken"]) == 1
    assert sent == []
    assert capsys.readouterr().err == (
        f"ipsec add: {conf}:15: conn broken: leftsubnet=198.18.1.1/24: '198.18.1.1/24' has "
        "host bits set; did you mean 198.18.1.0/24?\n")


def test_add_of_an_unknown_conn(conf, sent, capsys):
    assert ipsec.main(["--config", str(conf), "add", "nothing"]) == 1
    assert capsys.readouterr().err == f"ipsec add: {conf}: no conn 'nothing'\n"


def test_pluto_not_running(conf, capsys, tmp_path):
    assert ipsec.main(["--config", str(conf), "status"]) == 1
    assert capsys.readouterr().err == (
        f'ipsec status: Pluto is not running (no "{tmp_path}/run/pluto.ctl")\n')


def test_start_without_a_config_file(tmp_path, capsys):
    missing = tmp_path / "none.conf"
    assert ipsec.main(["--config", str(missing), "start"]) == 1
    assert capsys.readouterr().err == (f'ipsec start: no configuration file "{missing}" (give '
                                       "--config FILE)\n")


def test_start_with_a_broken_config_does_not_start_pluto(tmp_path, capsys):
    path = tmp_path / "ipsec.conf"
    path.write_text("config setup\n  nonsense=1\n")
    assert ipsec.main(["--config", str(path), "start"]) == 1
    assert capsys.readouterr().err == (f"ipsec start: {path}:2: unknown keyword 'nonsense' in "
                                       "config setup\n")


def test_kernel_without_ip(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'ip' there
    assert ipsec.main(["_kernel", "state"]) == 1
    assert "the 'ip' command (iproute2) is not installed" in capsys.readouterr().err


def test_kernel_runs_ip_xfrm(monkeypatch, tmp_path, capfd):
    fake = tmp_path / "ip"
    fake.write_text("#!/bin/sh\necho \"ip $*\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert ipsec.main(["_kernel", "policy"]) == 0
    assert capfd.readouterr().out == "ip xfrm policy\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["_kernel", "sa"], "ipsec _kernel: expected 'state' or 'policy' (ipsec _kernel "
                        "state|policy)\n"),
    (["up"], "ipsec up: expected one connection name (ipsec up NAME)\n"),
    (["status", "extra"], "ipsec status: unexpected argument 'extra'\n"),
    (["frobnicate"], "ipsec frobnicate: unknown command (try ipsec --help)\n"),
    (["--rundir", "a", "--ctlbase", "b", "status"],
     "ipsec: --ctlbase and --rundir both say where pluto is; give one\n"),
    (["--config"], "ipsec: --config needs a value\n"),
])
def test_usage_errors(argv, message, capsys):
    assert ipsec.main(argv) == 2
    assert capsys.readouterr().err == message


def test_help_and_version(capsys):
    assert ipsec.main(["--help"]) == 0
    assert "start | stop | restart" in capsys.readouterr().out
    assert ipsec.main([]) == 2
    capsys.readouterr()
    assert ipsec.main(["--version"]) == 0
    assert capsys.readouterr().out == "ipsec (pluto in Python) 0.1.0\n"


def test_whack_passes_through_with_the_location(monkeypatch):
    seen = []
    import whack.main

    monkeypatch.setattr(whack.main, "main", lambda argv: seen.append(argv) or 0)
    assert ipsec.main(["--rundir", "/r", "whack", "--status"]) == 0
    assert ipsec.main(["--rundir", "/r", "whack", "--rundir", "/s", "--status"]) == 0
    assert seen == [["--rundir", "/r", "--status"], ["--rundir", "/s", "--status"]]


def test_stop_when_not_running(conf, capsys):
    assert ipsec.main(["--config", str(conf), "stop"]) == 1
    assert "Pluto is not running" in capsys.readouterr().err
