"""IKEv1 Mode Config between an in-process client (west) and server (east): the server pushes
an address of rightaddresspool= (here the client is left: leftaddresspool=), the client ACKs
it and its Quick Mode proposes it as its /32 client subnet; the kernels hold SAs for that
address; after XAUTH; a rekeyed ISAKMP SA keeps the lease; a pulling client is answered."""

from __future__ import annotations

import ipaddress

from pluto.ikev1 import transaction
from pluto.ikev1.states import QuickSa
from pluto.packet.ikev1 import Attribute, ModeConfigPayload
from pluto.packet.ikev1_types import ModeCfgAttribute as A
from pluto.packet.ikev1_types import ModeCfgType
from tests.inprocess.ikev1_xauth_pair import (
    PASSWORD,
    exchanges,
    isakmp,
    transaction_payloads,
    xauth_pair,
)

POOL = "198.18.9.10-198.18.9.20"
CLIENT = {"modecfgclient": True, "addresspool": POOL}
SERVER = {"modecfgserver": True}
FIRST = ipaddress.ip_network("198.18.9.10/32")
EASTNET = ipaddress.ip_network("198.18.2.0/24")


def _quick(host) -> QuickSa:
    return next(s for s in host.core.states if isinstance(s, QuickSa))


def _up(pair, **creds):
    reply = pair.west.whack({"action": "initiate", "name": "west-east", **creds})
    pair.pump()
    assert reply.finished == 0, reply.lines
    return reply


def test_pushed_address_becomes_the_clients_subnet():
    pair = xauth_pair(west_end=CLIENT, east_end=SERVER, west_client=None)
    _up(pair)
    assert exchanges(pair) == ["IDENTITY_PROTECTION"] * 6 + ["TRANSACTION"] * 2 + ["QUICK"] * 3
    (who1, set_), (who2, ack) = transaction_payloads(pair, pair.east)
    assert (who1, set_.cfg_type, who2, ack.cfg_type) == ("east", ModeCfgType.SET,
                                                         "west", ModeCfgType.ACK)
    assert [(a.type, a.value) for a in set_.attributes] == [
        (A.INTERNAL_IP4_ADDRESS, bytes([198, 18, 9, 10]))]
    assert ack.identifier == set_.identifier
    west_q, east_q = _quick(pair.west), _quick(pair.east)
    assert (west_q.local_ts, west_q.remote_ts) == (FIRST, EASTNET)
    assert (east_q.remote_ts, east_q.local_ts) == (FIRST, EASTNET)
    selectors = {(sa.src_selector, sa.dst_selector) for sa in pair.west.kernel.installed_sas()}
    assert selectors == {(FIRST, EASTNET), (EASTNET, FIRST)}
    assert pair.east.lines_with('"west-east" #1: ModeCfg: pushing internal address '
                                '198.18.9.10')
    assert pair.west.lines_with("ModeCfg: received internal address 198.18.9.10; using it as "
                                "our client subnet")


def test_xauth_then_modecfg_then_quick_mode():
    pair = xauth_pair(west_end={**CLIENT, "xauthclient": True},
                      east_end={**SERVER, "xauthserver": True}, west_client=None)
    _up(pair, xauthuser="alice", xauthpass=PASSWORD)
    kinds = [(who, p.cfg_type) for who, p in transaction_payloads(pair, pair.east)]
    assert kinds == [("east", ModeCfgType.REQUEST), ("west", ModeCfgType.REPLY),
                     ("east", ModeCfgType.SET), ("west", ModeCfgType.ACK),
                     ("east", ModeCfgType.SET), ("west", ModeCfgType.ACK)]
    assert _quick(pair.west).local_ts == FIRST
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_MAIN_R3", "STATE_QUICK_R2"]


def test_isakmp_rekey_keeps_the_lease():
    pair = xauth_pair(west_end={**CLIENT, "xauthclient": True},
                      east_end={**SERVER, "xauthserver": True}, west_client=None,
                      ikelifetime=600, rekeymargin=60, rekeyfuzz=0)
    _up(pair, xauthuser="alice", xauthpass=PASSWORD)
    pair.advance(540)
    assert [s.serial for s in pair.west.core.states] == [2, 3]  # IPsec SA #2 kept under #3
    assert pair.east.lines_with('"west-east" #3: XAUTH: User alice: Authentication Successful')
    assert pair.east.lines_with('"west-east" #3: ModeCfg: pushing internal address '
                                '198.18.9.10')
    assert _quick(pair.west).local_ts == FIRST and _quick(pair.east).remote_ts == FIRST
    assert len(pair.east.kernel.installed_sas()) == 2
    # the IPsec SA lives on under the new ISAKMP SA, on both sides
    assert pair.east.core.states.get(2).ike_serial == 3
    assert not pair.east.lines_with("unknown SPI")


def test_server_answers_a_pulling_client():
    pair = xauth_pair(west_end=CLIENT, east_end=SERVER, west_client=None)
    _up(pair)
    client = isakmp(pair.west)
    message_id = transaction.new_message_id(pair.west.core, client)
    request = ModeConfigPayload(ModeCfgType.REQUEST, [Attribute(A.INTERNAL_IP4_ADDRESS, b"")],
                                77)
    before = len(pair.wire.sent)
    transaction.send(pair.west.core, client, message_id, request, wait=False)
    pair.pump()
    answers = transaction_payloads(pair, pair.east)[-2:]
    assert [(who, p.cfg_type, p.identifier) for who, p in answers] == [
        ("west", ModeCfgType.REQUEST, 77), ("east", ModeCfgType.REPLY, 77)]
    assert [(a.type, a.value) for a in answers[1][1].attributes] == [
        (A.INTERNAL_IP4_ADDRESS, bytes([198, 18, 9, 10]))]
    assert len(pair.wire.sent) == before + 2


def test_bad_pool_is_refused_naming_the_option():
    pair = xauth_pair()
    from tests.inprocess.harness import connection

    desc = connection("bad", ikev2=False)
    desc["left"]["addresspool"] = "198.18.9.20-198.18.9.10"
    reply = pair.west.whack({"action": "add", "connection": desc})
    assert reply.finished != 0
    assert "leftaddresspool: '198.18.9.20-198.18.9.10' must go from a lower to a higher" \
        in reply.texts[-1]


def test_ipsec_conf_keywords_reach_the_connection():
    from pluto.config.conn_to_description import descriptions
    from pluto.config.ipsec_conf import from_text
    from pluto.connections.builder import build_connection

    conf = from_text("conn c\n  left=198.51.100.45\n  right=198.51.100.23\n  keyexchange=ikev1\n"
                     "  authby=secret\n  leftxauthclient=yes\n  leftmodecfgclient=yes\n"
                     "  leftxauthusername=alice\n  rightxauthserver=yes\n"
                     "  rightmodecfgserver=yes\n  leftaddresspool=198.18.9.0/30\n"
                     "  modecfgpull=yes\n", "t.conf")
    conn = build_connection(descriptions(conf.conn("c"))[0])
    left, right = conn.left.v1cfg, conn.right.v1cfg
    assert (left.xauthclient, left.modecfgclient, left.xauthusername) == (True, True, "alice")
    assert left.addresspool == (ipaddress.ip_address("198.18.9.0"),
                                ipaddress.ip_address("198.18.9.3"))
    assert (right.xauthserver, right.modecfgserver, right.xauthclient) == (True, True, False)
    assert conn.modecfgpull is True


def test_ipv6_pools_and_ikev2_connections_are_refused():
    pair = xauth_pair()
    from tests.inprocess.harness import connection

    desc = connection("v6", ikev2=False)
    desc["left"]["addresspool"] = "2001:db8:9::1-2001:db8:9::9"
    reply = pair.west.whack({"action": "add", "connection": desc})
    assert "IPv6 address pools are not implemented yet" in reply.texts[-1]
    desc = connection("v2")
    desc["right"]["xauthserver"] = True
    reply = pair.west.whack({"action": "add", "connection": desc})
    assert reply.finished != 0 and "are IKEv1 only (ikev2=no)" in reply.texts[-1]


def test_modecfgpull_client_requests_after_xauth():
    pair = xauth_pair(west_end={**CLIENT, "xauthclient": True},
                      east_end={**SERVER, "xauthserver": True}, west_client=None,
                      modecfgpull=True)
    _up(pair, xauthuser="alice", xauthpass=PASSWORD)
    kinds = [(who, p.cfg_type) for who, p in transaction_payloads(pair, pair.east)]
    assert kinds[4:] == [("west", ModeCfgType.REQUEST), ("east", ModeCfgType.REPLY)]
    assert _quick(pair.west).local_ts == FIRST and _quick(pair.east).remote_ts == FIRST
    assert pair.west.lines_with('"west-east" #1: ModeCfg: requesting an internal address')
    assert pair.east.lines_with("ModeCfg: answered the client's request with 198.18.9.10")
