"""``--showstates``, ``--trafficstatus`` and ``--status`` (pluto/engine/status.py).

The golden files under tests/inprocess/golden/ hold the exact output of an established pair at
a fixed fake time with seeded randomness. After an intended change of the output, rewrite them
with ``PLUTO_UPDATE_GOLDEN=1 python -m pytest tests/inprocess/test_status.py`` and review the
diff. The JSON forms are checked against the states and the kernel, not against golden text.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from pluto.engine import status
from pluto.kernel.ops import SaCounters
from tests.inprocess.harness import Pair, connection

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, lines: list[str]) -> None:
    path = GOLDEN / name
    text = "\n".join(lines) + "\n"
    if os.environ.get("PLUTO_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"{path} is missing: run with PLUTO_UPDATE_GOLDEN=1 to create it"
    expected = path.read_text()
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            f"golden/{name}", "actual"))
        pytest.fail(f"output differs from golden/{name} (PLUTO_UPDATE_GOLDEN=1 rewrites "
                    f"it):\n{diff}")


def _established(**kw) -> Pair:
    pair = Pair()
    reply = pair.establish(**kw)
    assert reply.finished == 0, reply.texts
    pair.advance(30)  # timers show time passing: REKEY/REPLACE 30 s closer
    return pair


def _texts(host, action: str, **extra) -> list[str]:
    reply = host.whack({"action": action, **extra})
    assert reply.finished == 0, reply.texts
    return reply.texts


@pytest.mark.parametrize("side", ["west", "east"])
@pytest.mark.parametrize("action", ["showstates", "trafficstatus", "status"])
def test_golden_outputs(side, action):
    pair = _established()
    assert_golden(f"{side}-{action}.txt", _texts(getattr(pair, side), action))


def test_golden_files_have_libreswans_shapes():
    """The golden text itself, checked against shapes taken from libreswan 4.x transcripts,
    so that a careless PLUTO_UPDATE_GOLDEN=1 cannot bless a broken shape."""
    west = (GOLDEN / "west-showstates.txt").read_text().splitlines()
    assert west[0].startswith('#1: "west-east":500 STATE_V2_ESTABLISHED_IKE_SA (established '
                              "IKE SA); REKEY in ")
    assert west[0].endswith("s; REPLACE in 3570s; newest; idle;")
    assert west[1].endswith("s; REPLACE in 28770s; newest; eroute owner; IKE SA #1; idle;")
    assert " tun.0@127.0.0.2 tun.0@127.0.0.1 Traffic: ESPin=0B ESPout=0B ESPmax=2^63B" in west[2]
    assert (GOLDEN / "west-trafficstatus.txt").read_text() == (
        '#2: "west-east", type=ESP, add_time=1700000000, inBytes=0, outBytes=0, '
        "id='@east'\n")
    full = (GOLDEN / "east-status.txt").read_text().splitlines()
    for line in ("using kernel interface: nostack", "interface UDP 127.0.0.2:500",
                 "Connection list:", "Total IPsec connections: loaded 1, active 1",
                 "State Information: DDoS cookies not required, Accepting new IKE connections",
                 "IKE SAs: total(1), half-open(0), open(0), authenticated(1), anonymous(0)",
                 "IPsec SAs: total(1), authenticated(1), anonymous(0)", "Bare Shunt list:"):
        assert line in full
    assert full.index("Connection list:") < full.index("Total IPsec connections: loaded 1, "
                                                       "active 1") < full.index("Bare Shunt list:")


def test_showstates_names_the_kernel_spis():
    pair = _established()
    for host, peer in ((pair.west, pair.east), (pair.east, pair.west)):
        child = host.core.states.get(2)
        spis = {sa.id.spi for sa in host.kernel.installed_sas()}
        assert {child.inbound_spi, child.outbound_spi} == spis
        traffic = _texts(host, "showstates")[2]
        assert f"esp.{child.outbound_spi:x}@{peer.address} " in traffic
        assert f"esp.{child.inbound_spi:x}@{host.address} " in traffic


def test_showstates_json_matches_the_states():
    pair = _established()
    rows = [json.loads(line) for line in _texts(pair.west, "showstates", json=True)]
    assert [r["serial"] for r in rows] == [1, 2]
    ike, child = rows
    state = pair.west.core.states.get(1)
    assert ike["type"] == "IKE" and ike["state"] == "STATE_V2_ESTABLISHED_IKE_SA"
    assert ike["spi_i"] == state.spi_i.hex() and ike["spi_r"] == state.spi_r.hex()
    assert ike["spi_i"] == pair.east.core.states.get(1).spi_i.hex()  # the peer agrees
    assert ike["peer_id"] == "@east" and ike["initiator"] is True and ike["children"] == [2]
    assert ike["timers"]["replace"] == 3570 and ike["newest"] is True
    assert ike["local"] == "127.0.0.1:500" and ike["remote"] == "127.0.0.2:500"
    assert ike["algorithms"] == "AES_GCM_16_256-HMAC_SHA2_512-DH19"
    assert child["type"] == "CHILD" and child["ike_sa"] == 1 and child["eroute_owner"] is True
    east_child = pair.east.core.states.get(2)
    assert child["inbound_spi"] == f"{east_child.outbound_spi:08x}"
    assert child["outbound_spi"] == f"{east_child.inbound_spi:08x}"
    assert (child["local_ts"], child["remote_ts"]) == ("198.18.1.0/24", "198.18.2.0/24")
    assert child["mode"] == "tunnel" and child["add_time"] == 1_700_000_000
    assert child["timers"]["replace"] == 28770


def test_trafficstatus_json():
    pair = _established()
    (line,) = _texts(pair.east, "trafficstatus", json=True)
    assert json.loads(line) == {"serial": 2, "connection": "west-east", "label": '"west-east"',
                                "type": "ESP", "add_time": 1_700_000_000, "in_bytes": 0,
                                "out_bytes": 0, "peer_id": "@west", "ike_sa": 1}


def test_status_json():
    pair = _established()
    (line,) = _texts(pair.west, "status", json=True)
    data = json.loads(line)
    assert data["kernel"] == "nostack" and data["interfaces"] == ["127.0.0.1:500"]
    assert data["debug"] == [] and data["impairs"] == {}
    (conn,) = data["connections"]
    assert conn["name"] == "west-east" and conn["kind"] == "permanent"
    assert (conn["newest_ike"], conn["newest_child"]) == (1, 2)
    assert conn["routing"] == "erouted"
    assert conn["esp_algorithm_newest"] == "AES_GCM_16_256-NONE; pfsgroup=<Phase1>"
    assert conn["lines"][0].startswith('"west-east": 198.18.1.0/24===127.0.0.1[@west]...')
    assert data["totals"] == {"loaded": 1, "active": 1, "ddos_cookies_required": False,
                              "accepting": True,
                              "ike_sas": {"total": 1, "half_open": 0, "open": 0,
                                          "authenticated": 1, "anonymous": 0},
                              "ipsec_sas": {"total": 1, "authenticated": 1, "anonymous": 0}}
    assert [s["serial"] for s in data["states"]] == [1, 2]


def test_status_counts_half_open_and_open_ike_sas():
    pair = Pair()
    pair.add()
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    texts = _texts(pair.west, "status")
    assert "IKE SAs: total(1), half-open(1), open(0), authenticated(0), anonymous(0)" in texts
    assert "Total IPsec connections: loaded 1, active 0" in texts
    assert any(t.startswith('#1: "west-east":500 STATE_V2_IKE_SA_INIT_I (sent IKE_SA_INIT '
                            "request); RETRANSMIT in 0s; idle;") for t in texts)
    pair.wire.deliver(pair.drop_next())  # east answers, west sends IKE_AUTH
    pair.wire.deliver(pair.drop_next())
    texts = _texts(pair.west, "status")
    assert "IKE SAs: total(1), half-open(0), open(1), authenticated(0), anonymous(0)" in texts
    east = _texts(pair.east, "status")
    assert "IKE SAs: total(1), half-open(1), open(0), authenticated(0), anonymous(0)" in east
    assert any("STATE_V2_IKE_SA_INIT_R (sent IKE_SA_INIT response); DISCARD in 60s;" in t
               for t in east)


def test_status_reports_busy_unlistening_debug_and_impairs():
    pair = Pair()
    pair.west.core.options.force_busy = True
    pair.west.whack({"action": "unlisten"})
    pair.west.flags.enable("base")
    pair.west.impairs.apply("revival")
    texts = _texts(pair.west, "status")
    assert "State Information: DDoS cookies REQUIRED, NOT ACCEPTING new IKE connections" in texts
    assert "debug: base" in texts and "impair: revival" in texts
    data = json.loads(_texts(pair.west, "status", json=True)[0])
    assert data["debug"] == ["base"] and data["impairs"] == {"revival": True}
    assert data["totals"]["ddos_cookies_required"] and not data["totals"]["accepting"]


def test_traffic_amounts_are_readable(monkeypatch):
    pair = _established()
    child = pair.west.core.states.get(2)
    amounts = {child.inbound_spi: 29 * 1024 + 1000, child.outbound_spi: 84}

    def counters(sa_id):
        return SaCounters(bytes=amounts[sa_id.spi], packets=1)

    monkeypatch.setattr(pair.west.kernel, "sa_counters", counters)
    traffic = _texts(pair.west, "showstates")[2]
    assert traffic.endswith(" Traffic: ESPin=29KB ESPout=84B ESPmax=2^63B")
    assert _texts(pair.west, "trafficstatus")[0] == (
        '#2: "west-east", type=ESP, add_time=1700000000, inBytes=30696, outBytes=84, '
        "id='@east'")


@pytest.mark.parametrize(("amount", "text"), [(0, "0B"), (1023, "1023B"), (1024, "1KB"),
                                              (5 * 1024 * 1024 + 7, "5MB"),
                                              (3 << 40, "3TB"), (5000 << 40, "5000TB")])
def test_readable_bytes(amount, text):
    assert status.readable_bytes(amount) == text


def test_transport_mode_has_no_tunnel_addresses():
    pair = Pair()
    reply = pair.establish(west_client=None, east_client=None, tunnel=False)
    assert reply.finished == 0, reply.texts
    traffic = _texts(pair.west, "showstates")[2]
    assert "tun.0@" not in traffic and " Traffic: ESPin=0B" in traffic


def test_states_are_listed_by_connection_then_serial():
    pair = Pair()
    pair.add(connection("b-conn"))
    pair.add(connection("a-conn", west_client="198.18.1.0/25", east_client="198.18.2.0/25"))
    for name in ("b-conn", "a-conn"):
        assert pair.west.whack({"action": "initiate", "name": name}).finished is None
        pair.pump()
    lines = [t for t in _texts(pair.west, "showstates") if "STATE_" in t]
    states = list(pair.west.core.states)  # in serial order: b-conn's came first
    assert states[0].conn.name == "b-conn"
    expected = sorted(states, key=lambda st: (st.conn.name, st.serial))
    assert [t.split()[0] for t in lines] == [f"#{st.serial}:" for st in expected]
    assert lines[0].split()[1].startswith('"a-conn"')
    assert lines[-1].split()[1].startswith('"b-conn"')
