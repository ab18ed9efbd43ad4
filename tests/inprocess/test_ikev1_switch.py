"""The IKEv1 responder's second look at the connection once MI3 shows the peer's ID: it
moves the ISAKMP SA to the connection naming that ID (permanent or a %any template), keeps a
connection that accepts any ID only when nothing better exists, and refuses an ID no
connection accepts with INVALID_ID_INFORMATION."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pluto.crypto.hostkey import format_rsasigkey, format_secrets_entry
from pluto.ikev1.states import IsakmpSa, QuickSa
from tests.inprocess.harness import Pair, connection

SHARED = ': PSK "one-secret-for-every-pair-of-ids"\n'


def _pair(**kw) -> Pair:
    pair = Pair(**kw)
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    return pair


def _v1(name: str = "west-east", **kw) -> dict:
    return connection(name, ikev2=False, keyingtries=1, **kw)


def _add(host, *descs: dict) -> None:
    for desc in descs:
        reply = host.whack({"action": "add", "connection": desc})
        assert reply.finished == 0, reply.lines


def _isakmp(host) -> IsakmpSa:
    return next(s for s in host.core.states if isinstance(s, IsakmpSa))


def test_psk_responder_switches_to_the_connection_naming_the_peer_id():
    pair = _pair(west_secrets=SHARED, east_secrets=SHARED)
    other = _v1("other")
    other["left"]["id"] = "@someone-else"
    _add(pair.east, other, _v1())  # "other" is found first by addresses
    _add(pair.west, _v1())
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert pair.east.lines_with('"other" #1: switched from "other" to "west-east" for peer ID '
                                "'@west'")
    assert _isakmp(pair.east).conn.name == "west-east"
    quick = next(s for s in pair.east.core.states if isinstance(s, QuickSa))
    assert quick.conn.name == "west-east" and quick.kind.name == "STATE_QUICK_R2"


def test_psk_responder_refuses_an_id_no_connection_accepts():
    pair = _pair(west_secrets=SHARED, east_secrets=SHARED)
    other = _v1()
    other["left"]["id"] = "@someone-else"
    _add(pair.east, other)
    _add(pair.west, _v1())
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.east.lines_with("no suitable connection for peer '@west'; sending "
                                "notification INVALID_ID_INFORMATION")
    assert pair.west.lines_with("received and ignored notification payload: "
                                "INVALID_ID_INFORMATION")
    assert len(pair.east.core.states) == 0
    pair.advance(61)
    assert reply.finished not in (None, 0)
    assert not pair.east.kernel.installed_sas()


def test_switch_is_refused_when_the_other_connection_has_another_psk():
    # the IDs pick another key: the peer's HASH could not have used it, so no switch
    secrets = ('@east @west : PSK "the-key-of-west-and-east-here"\n'
               '@east @someone-else : PSK "a-completely-different-key"\n')
    pair = _pair(west_secrets=secrets, east_secrets=secrets)
    other = _v1("other")
    other["left"]["id"] = "@someone-else"
    right = _v1()
    _add(pair.east, other, right)
    _add(pair.west, _v1())
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    # east picked "other" at MI1 and derived keys from its PSK: MI3 does not decrypt
    assert pair.east.lines_with("probable authentication failure")
    assert not any(s.kind.established for s in pair.east.core.states)


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for name in ("west", "east", "alice")}


def _road(name: str, peer_id: str, peer_key: rsa.RSAPrivateKey, keys) -> dict:
    desc = _v1(name, west="%any", auth="rsasig")
    desc["left"]["id"] = peer_id
    desc["left"]["rsasigkey"] = format_rsasigkey(peer_key.public_key())
    desc["right"]["rsasigkey"] = format_rsasigkey(keys["east"].public_key())
    return desc


def test_rsasig_road_warrior_templates_switch_to_the_instance_for_the_proven_id(keys):
    pair = _pair(west_secrets=format_secrets_entry(keys["west"], "@west"),
                 east_secrets=format_secrets_entry(keys["east"], "@east"))
    _add(pair.east, _road("road-alice", "@alice", keys["alice"], keys),
         _road("road-west", "@west", keys["west"], keys))
    mine = _v1(auth="rsasig")
    mine["left"]["rsasigkey"] = format_rsasigkey(keys["west"].public_key())
    mine["right"]["rsasigkey"] = format_rsasigkey(keys["east"].public_key())
    _add(pair.west, mine)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert pair.east.lines_with('"road-alice"[1] 127.0.0.1 #1: switched from "road-alice"[1] '
                                '127.0.0.1 to "road-west"[1] 127.0.0.1')
    assert _isakmp(pair.east).conn.label == '"road-west"[1] 127.0.0.1'
    labels = [c.label for c in pair.east.core.connections]
    assert '"road-alice"[1] 127.0.0.1' not in labels, "the unused instance is gone"
    assert len(pair.east.kernel.installed_sas()) == 2


def test_rsasig_road_warrior_with_an_unknown_id_is_refused(keys):
    pair = _pair(west_secrets=format_secrets_entry(keys["west"], "@west"),
                 east_secrets=format_secrets_entry(keys["east"], "@east"))
    _add(pair.east, _road("road-alice", "@alice", keys["alice"], keys))
    mine = _v1(auth="rsasig")
    mine["left"]["rsasigkey"] = format_rsasigkey(keys["west"].public_key())
    mine["right"]["rsasigkey"] = format_rsasigkey(keys["east"].public_key())
    _add(pair.west, mine)
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.east.lines_with("no suitable connection for peer '@west'; sending "
                                "notification INVALID_ID_INFORMATION")
    assert not list(pair.east.core.connections.instances_of(
        pair.east.core.connections.get("road-alice")))
