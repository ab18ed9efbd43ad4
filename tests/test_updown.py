"""The updown command: verbs, PLUTO_* variables, output logging, failures, the default.

A recording script writes its environment to a file per run, so the tests see exactly what
pluto handed over; the default updown is run with a fake ``ip`` first on PATH, so the host's
routing table is never touched.
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
from pathlib import Path

import pytest

from pluto.engine.states import ChildSa
from pluto.kernel import updown
from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import Pair, connection

ip = ipaddress.ip_address
net = ipaddress.ip_network


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _recorder(tmp_path: Path, host: str, fail_on: str = "") -> str:
    """A script that appends its PLUTO_* environment (as JSON) to runs-HOST.jsonl."""
    out = tmp_path / f"runs-{host}.jsonl"
    return _script(tmp_path, f"updown-{host}", f"""
python3 -c 'import json, os; print(json.dumps({{k: v for k, v in os.environ.items()
    if k.startswith("PLUTO_")}}))' >> {out}
echo "recorded $PLUTO_VERB"
[ "$PLUTO_VERB" != "{fail_on}" ]
""")


def _runs(tmp_path: Path, host: str) -> list[dict]:
    path = tmp_path / f"runs-{host}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _pair(tmp_path: Path, fail_on: str = "", **kw) -> Pair:
    pair = Pair()
    desc = connection(west=str(pair.west.address), east=str(pair.east.address), **kw)
    desc["left"]["updown"] = _recorder(tmp_path, "west", fail_on)
    desc["right"]["updown"] = _recorder(tmp_path, "east")
    pair.add(desc)
    return pair


def test_up_and_down_run_the_verbs_in_order_with_the_variables(tmp_path):
    pair = _pair(tmp_path)
    assert pair.west.whack({"action": "initiate", "name": "west-east"}).finished is None
    pair.pump()
    assert [r["PLUTO_VERB"] for r in _runs(tmp_path, "west")] == [
        "prepare-client", "route-client", "up-client"]
    assert [r["PLUTO_VERB"] for r in _runs(tmp_path, "east")] == [
        "prepare-client", "route-client", "up-client"]
    [child] = [s for s in pair.west.core.states if isinstance(s, ChildSa)]
    up = _runs(tmp_path, "west")[-1]
    assert up == {
        "PLUTO_VERSION": "2.0", "PLUTO_VERB": "up-client", "PLUTO_CONNECTION": "west-east",
        "PLUTO_NEXT_HOP": "127.0.0.2", "PLUTO_INTERFACE": "lo",
        "PLUTO_REQID": str(child.reqid), "PLUTO_ME": "127.0.0.1", "PLUTO_MY_ID": "@west",
        "PLUTO_MY_CLIENT": "198.18.1.0/24", "PLUTO_MY_CLIENT_NET": "198.18.1.0",
        "PLUTO_MY_CLIENT_MASK": "255.255.255.0", "PLUTO_MY_PORT": "0",
        "PLUTO_MY_PROTOCOL": "0", "PLUTO_PEER": "127.0.0.2", "PLUTO_PEER_ID": "@east",
        "PLUTO_PEER_CLIENT": "198.18.2.0/24", "PLUTO_PEER_CLIENT_NET": "198.18.2.0",
        "PLUTO_PEER_CLIENT_MASK": "255.255.255.0", "PLUTO_PEER_PORT": "0",
        "PLUTO_PEER_PROTOCOL": "0", "PLUTO_PEER_CA": ""}
    assert '"west-east" #2: updown: recorded up-client' in pair.west.log
    # a rekey runs nothing: the policies and routes stay
    assert pair.west.whack({"action": "rekey-child", "name": "west-east"}).finished is None
    pair.pump()
    assert len(_runs(tmp_path, "west")) == 3
    assert pair.west.whack({"action": "terminate", "name": "west-east"}).finished == 0
    pair.pump()
    assert [r["PLUTO_VERB"] for r in _runs(tmp_path, "west")][3:] == [
        "down-client", "unroute-client"]
    assert [r["PLUTO_VERB"] for r in _runs(tmp_path, "east")][3:] == [
        "down-client", "unroute-client"]


def test_route_and_unroute_run_their_verbs_and_up_skips_prepare(tmp_path):
    pair = _pair(tmp_path)
    assert pair.west.whack({"action": "route", "name": "west-east"}).finished == 0
    assert pair.west.whack({"action": "initiate", "name": "west-east"}).finished is None
    pair.pump()
    assert pair.west.whack({"action": "terminate", "name": "west-east"}).finished == 0
    pair.pump()
    assert pair.west.whack({"action": "unroute", "name": "west-east"}).finished == 0
    assert [r["PLUTO_VERB"] for r in _runs(tmp_path, "west")] == [
        "prepare-client", "route-client", "up-client", "down-client", "unroute-client"]


def test_host_to_host_uses_host_verbs(tmp_path):
    pair = _pair(tmp_path, west_client=None, east_client=None)
    assert pair.west.whack({"action": "initiate", "name": "west-east"}).finished is None
    pair.pump()
    runs = _runs(tmp_path, "west")
    assert [r["PLUTO_VERB"] for r in runs] == ["prepare-host", "route-host", "up-host"]
    assert runs[-1]["PLUTO_PEER_CLIENT"] == "127.0.0.2/32"


def test_a_failing_up_keeps_the_child_sa_down_and_tells_the_peer(tmp_path):
    pair = _pair(tmp_path, fail_on="up-client")
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    failure = f'updown "{tmp_path}/updown-west" failed for up-client: exit status 1'
    assert reply.finished == RC_NOTIFICATION
    assert reply.lines[-1] == (RC_NOTIFICATION, f'"west-east" #2: kernel refused the Child SA: '
                                                f"{failure}")
    assert pair.east.lines_with("received Delete SA payload: deleting Child SA")
    assert not [s for s in pair.west.core.states if isinstance(s, ChildSa)]
    assert not [s for s in pair.east.core.states if isinstance(s, ChildSa)]
    for host in (pair.west, pair.east):
        assert host.kernel.installed_sas() == [] and host.kernel.installed_policies() == []
    # prepare and route ran before the failure; no down for what never came up
    assert [r["PLUTO_VERB"] for r in _runs(tmp_path, "west")] == [
        "prepare-client", "route-client", "up-client"]


def test_a_failing_route_refuses_the_route(tmp_path):
    pair = _pair(tmp_path, fail_on="route-client")
    reply = pair.west.whack({"action": "route", "name": "west-east"})
    assert reply.finished != 0
    assert pair.west.kernel.installed_policies() == [] and pair.west.core.routes == {}


def _context(**kw) -> updown.UpdownContext:
    values = dict(connection="c", me=ip("2001:db8:1:2::45"), peer=ip("2001:db8:1:2::23"),
                  my_client=net("2001:db8:0:1::/64"), peer_client=net("2001:db8:0:2::/64"),
                  next_hop=ip("2001:db8:1:2::23"))
    values.update(kw)
    return updown.UpdownContext(**values)


def test_v6_verbs_and_masks():
    ctx = _context()
    assert updown.verb("up", ctx) == "up-client-v6"
    assert updown.verb("unroute", _context(peer_client=net("2001:db8:1:2::23/128"))) == \
        "unroute-host-v6"
    env = updown.environment("up-client-v6", ctx)
    assert env["PLUTO_PEER_CLIENT_MASK"] == "ffff:ffff:ffff:ffff::"
    assert env["PLUTO_MY_CLIENT_NET"] == "2001:db8:0:1::"
    with pytest.raises(ValueError):
        updown.verb("sideways", ctx)


def test_output_is_kept_and_a_missing_command_fails(tmp_path):
    result = updown.run("echo one; echo two >&2; exit 3", "up-client", _context())
    assert (result.returncode, result.output, result.ok) == (3, ["one", "two"], False)
    result = updown.run(str(tmp_path / "missing"), "up-client", _context())
    assert result.returncode == 127 and not result.ok


def test_a_hung_command_times_out():
    result = updown.run("sleep 5", "up-client", _context(), timeout=0.2)
    assert result.returncode is None and "timed out" in result.error


def test_the_default_updown_adds_and_removes_the_route(tmp_path):
    log = tmp_path / "ip.log"
    fake = tmp_path / "bin"
    fake.mkdir()
    _script(fake, "ip", f'echo "$@" >> {log}\n')
    ctx = _context(me=ip("198.51.100.45"), peer=ip("198.51.100.23"),
                   my_client=net("198.18.1.0/24"), peer_client=net("198.18.2.0/24"),
                   next_hop=ip("198.51.100.23"))
    path = f"{fake}:{os.environ.get('PATH', '')}"
    old = os.environ.get("PATH")
    os.environ["PATH"] = path
    try:
        for verb in ("prepare-client", "route-client", "up-client", "down-client",
                     "unroute-client", "route-host"):
            assert updown.run(updown.DEFAULT_UPDOWN, verb, ctx).ok
    finally:
        os.environ["PATH"] = old or ""
    assert log.read_text().splitlines() == [
        "route replace 198.18.2.0/24 via 198.51.100.23",
        "route del 198.18.2.0/24 via 198.51.100.23"]


def test_loopback_interface_is_found():
    assert updown.interface_of(ip("127.0.0.1")) == "lo"
    assert updown.interface_of(ip("192.0.2.77")) == ""
