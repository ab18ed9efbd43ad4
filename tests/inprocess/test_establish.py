"""IKEv2 establishment between two in-process cores: PSK both ways, the first Child SA in
both kernels, whack's reply stream, status output, IPv6."""

from __future__ import annotations

import ipaddress

from pluto.whack_protocol import RC_LOG, RC_NEW_STATE, RC_SUCCESS, exit_status
from tests.inprocess.harness import Pair


def _child_sas(host):
    return {sa.id.spi: sa for sa in host.kernel.installed_sas()}


def _check_kernels_match(pair: Pair) -> None:
    west, east = _child_sas(pair.west), _child_sas(pair.east)
    assert len(west) == len(east) == 2
    assert set(west) == set(east)  # each SPI is one direction, known to both ends
    for spi, sa in west.items():
        peer = east[spi]
        assert (sa.id, sa.src, sa.encrypt_key, sa.integ_key) == \
               (peer.id, peer.src, peer.encrypt_key, peer.integ_key)
        assert sa.encrypt_key != b"" and sa.src_selector == peer.src_selector


def test_establish_ipv4_psk():
    pair = Pair()
    reply = pair.establish()
    assert reply.finished == 0, reply.lines
    assert exit_status([rc for rc, _ in reply.lines]) == 0
    texts = reply.texts
    assert texts[0] == '"west-east" #1: initiating IKEv2 connection'
    assert texts[1] == '"west-east" #1: sent IKE_SA_INIT request to 127.0.0.2:UDP/500'
    assert texts[2] == ('"west-east" #1: processed IKE_SA_INIT response from 127.0.0.2:UDP/500 '
                        '{cipher=AES_GCM_16_256 integ=n/a prf=HMAC_SHA2_512 group=DH19}, '
                        'initiating IKE_AUTH')
    assert texts[3] == '"west-east" #1: sent IKE_AUTH request to 127.0.0.2:UDP/500'
    assert texts[4] == ('"west-east" #1: initiator established IKE SA; authenticated peer '
                        "using authby=secret and ID_FQDN '@east'")
    assert texts[5].startswith('"west-east" #2: initiator established Child SA using #1; IPsec '
                               'tunnel [198.18.1.0/24===198.18.2.0/24] {ESP=>0x')
    assert texts[5].endswith(" xfrm=AES_GCM_16_256 DPD=passive}")
    codes = [rc for rc, _ in reply.lines]
    assert codes[0] == RC_LOG and RC_NEW_STATE < codes[1] < RC_NEW_STATE + 100
    assert codes[-1] == RC_SUCCESS
    assert [s.kind.name for s in pair.west.core.states] == [
        "STATE_V2_ESTABLISHED_IKE_SA", "STATE_V2_ESTABLISHED_CHILD_SA"]
    assert [s.kind.name for s in pair.east.core.states] == [
        "STATE_V2_ESTABLISHED_IKE_SA", "STATE_V2_ESTABLISHED_CHILD_SA"]
    assert pair.east.lines_with("responder established Child SA using #1; IPsec tunnel "
                                "[198.18.2.0/24===198.18.1.0/24]")
    _check_kernels_match(pair)
    # west's outbound SA goes to east with west's client as source
    west_child = pair.west.core.states.get(2)
    out = pair.west.kernel.sa(next(sa.id for sa in pair.west.kernel.installed_sas()
                                   if sa.id.spi == west_child.outbound_spi))
    assert out.id.dst == ipaddress.ip_address("127.0.0.2")
    assert str(out.src_selector) == "198.18.1.0/24" and str(out.dst_selector) == "198.18.2.0/24"
    assert len(pair.west.kernel.installed_policies()) == 3


def test_the_keys_differ_per_direction_and_per_run():
    one, two = Pair(), Pair()
    one.establish()
    two.establish()
    keys_one = {sa.encrypt_key for sa in one.west.kernel.installed_sas()}
    assert len(keys_one) == 2
    # same seeds give the same run: determinism
    assert keys_one == {sa.encrypt_key for sa in two.west.kernel.installed_sas()}


def test_establish_ipv6():
    pair = Pair(west="2001:db8:1:2::45", east="2001:db8:1:2::23")
    reply = pair.establish(west_client="2001:db8:0:1::/64", east_client="2001:db8:0:2::/64")
    assert reply.finished == 0, reply.lines
    assert reply.texts[1] == '"west-east" #1: sent IKE_SA_INIT request to ' \
                             '[2001:db8:1:2::23]:UDP/500'
    assert "IPsec tunnel [2001:db8:0:1::/64===2001:db8:0:2::/64]" in reply.texts[-1]
    _check_kernels_match(pair)


def test_host_to_host_without_clients():
    pair = Pair()
    reply = pair.establish(west_client=None, east_client=None)
    assert reply.finished == 0
    assert "IPsec tunnel [127.0.0.1/32===127.0.0.2/32]" in reply.texts[-1]


def test_async_initiate_returns_at_once():
    pair = Pair()
    pair.add()
    reply = pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    assert reply.finished == 0 and reply.texts == []
    pair.pump()
    assert pair.west.lines_with("initiator established Child SA")


def test_add_then_initiate_in_one_request():
    pair = Pair()
    from tests.inprocess.harness import connection
    pair.east.whack({"action": "add", "connection": connection()})
    reply = pair.west.whack({"action": "add", "connection": connection()},
                            {"action": "initiate", "name": "west-east"},
                            {"action": "showstates"})
    assert reply.finished is None  # waiting for the negotiation
    pair.pump()
    assert reply.finished == 0
    assert reply.texts[0] == 'added IKEv2 connection "west-east"'
    assert reply.texts[-1].startswith('#2: "west-east" esp.')


def test_showstates_and_trafficstatus():
    pair = Pair()
    pair.establish()
    lines = pair.west.whack({"action": "showstates"}).texts
    assert lines[0].startswith('#1: "west-east":500 STATE_V2_ESTABLISHED_IKE_SA (established '
                               'IKE SA); REKEY in ')
    assert "; REPLACE in 3600s; newest; idle;" in lines[0]
    assert lines[1].startswith('#2: "west-east":500 STATE_V2_ESTABLISHED_CHILD_SA '
                               '(established Child SA); REKEY in ')
    assert lines[1].endswith("; REPLACE in 28800s; newest; eroute owner; IKE SA #1; idle;")
    child = pair.west.core.states.get(2)
    assert lines[2] == (f'#2: "west-east" esp.{child.outbound_spi:x}@127.0.0.2 '
                        f'esp.{child.inbound_spi:x}@127.0.0.1 tun.0@127.0.0.2 tun.0@127.0.0.1 '
                        'Traffic: ESPin=0B ESPout=0B ESPmax=2^63B')
    traffic = pair.west.whack({"action": "trafficstatus"}).texts
    assert traffic == ['#2: "west-east", type=ESP, add_time=1700000000, inBytes=0, '
                       "outBytes=0, id='@east'"]
    import json
    data = json.loads(pair.west.whack({"action": "trafficstatus", "json": True}).texts[0])
    assert data["serial"] == 2 and data["ike_sa"] == 1


def test_rekey_margin_puts_responder_later():
    pair = Pair()
    pair.establish()
    west_rekey = pair.west.core.states.get(1).timers["rekey"].when
    east_rekey = pair.east.core.states.get(1).timers["rekey"].when
    now = pair.clock.now()
    # initiator: 3600 - (540 + up to 540); responder: half that margin before the end
    assert 3600 - 1080 <= west_rekey - now <= 3600 - 540
    assert 3600 - 540 <= east_rekey - now <= 3600 - 270


def test_core_accepts_the_server_options_object():
    from pluto.engine.core import _core_options
    from pluto.server.options import CoreOptions as ServerOptions
    from tests.inprocess.harness import ipaddress as ip

    endpoint = (ip.ip_address("127.0.0.1"), 500)
    options = _core_options(ServerOptions(force_busy=True, listen=(endpoint,)))
    assert options.listen == [endpoint] and options.force_busy
    assert options.retransmit_interval == 0.5
