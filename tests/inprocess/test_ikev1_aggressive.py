"""IKEv1 Aggressive Mode with PSK (RFC 2409 §5) between two in-process cores: off unless both
connections say aggressive=yes, one DH group, a warning on each side, HASH_R/HASH_I checked
here from the RFC formulas, a wrong PSK refused, a lost AI2 recovered, Quick Mode after it."""

from __future__ import annotations

import pytest

from pluto.config.conn_to_description import checked_descriptions
from pluto.config.ipsec_conf import from_text
from pluto.config.lexer import ConfigError
from pluto.connections.builder import build_connection
from pluto.crypto.kdf_ikev1 import ikev1_keys, skeyid_psk
from pluto.crypto.prf import PRFS
from pluto.ikev1.aggressive_mode import WARNING
from pluto.ikev1.states import IsakmpSa, V1StateKind
from pluto.packet.ikev1 import (
    HashPayload,
    IdentificationPayload,
    KeyExchangePayload,
    NoncePayload,
    SecurityAssociationPayload,
    parse_message,
)
from pluto.packet.ikev1_types import ExchangeType, NotifyType, OakleyAttribute
from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import PSK, Pair, connection
from whack.options import parse_command_line


def _pair(**kw) -> Pair:
    pair = Pair(**kw)
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    return pair


def _aggr(**kw) -> dict:
    return connection(ikev2=False, aggressive=True, keyingtries=1, **kw)


def _run(pair: Pair, west: dict, east: dict | None = None):
    pair.add(west, east or west)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    return reply


def test_aggressive_mode_establishes_with_one_group_and_warns():
    pair = _pair()
    reply = _run(pair, _aggr())
    assert reply.finished == 0, reply.lines
    assert reply.texts[0] == '"west-east" #1: initiating IKEv1 Aggressive Mode connection'
    assert reply.texts[1] == f'"west-east" #1: WARNING: {WARNING}'
    assert pair.east.lines_with(f"WARNING: {WARNING}")
    assert pair.west.lines_with("initiator established ISAKMP SA {auth=PRESHARED_KEY")
    assert pair.east.lines_with("responder established ISAKMP SA {auth=PRESHARED_KEY")
    assert [s.kind.name for s in pair.west.core.states] == ["STATE_AGGR_I2", "STATE_QUICK_I2"]
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_AGGR_R2", "STATE_QUICK_R2"]
    assert len(pair.west.kernel.installed_sas()) == len(pair.east.kernel.installed_sas()) == 2

    ai1, ar1, ai2 = (parse_message(d.data) for d in pair.wire.sent[:3])
    assert {m.exchange for m in (ai1, ar1, ai2)} == {ExchangeType.AGGRESSIVE}
    assert not ai1.is_encrypted and not ar1.is_encrypted and ai2.is_encrypted
    offer = ai1.find(SecurityAssociationPayload)[0]
    groups = {dict((a.type, a.as_int()) for a in t.attributes)[
        OakleyAttribute.GROUP_DESCRIPTION] for t in offer.proposals[0].transforms}
    assert groups == {14}, "the default's first group only (MODP2048)"
    assert len(ai1.find(KeyExchangePayload)[0].data) == 256
    # HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) from the wire alone
    # and the PSK and g^xy
    west = next(s for s in pair.west.core.states if isinstance(s, IsakmpSa))
    g_xi, g_xr = ai1.find(KeyExchangePayload)[0].data, ar1.find(KeyExchangePayload)[0].data
    ni, nr = ai1.find(NoncePayload)[0].data, ar1.find(NoncePayload)[0].data
    g_xy = west.keypair.shared_secret(g_xr)
    prf = PRFS[5]
    keys = ikev1_keys(prf, skeyid_psk(prf, PSK.encode(), ni, nr), g_xy, ar1.icookie,
                      ar1.rcookie)
    idr_b = ar1.find(IdentificationPayload)[0].emit_body(None)
    expected = prf(keys.skeyid, g_xr + g_xi + ar1.rcookie + ar1.icookie
                   + offer.emit_body(None) + idr_b)
    assert ar1.find(HashPayload)[0].data == expected


def test_responder_without_aggressive_yes_ignores_aggressive_mode():
    pair = _pair()
    reply = _run(pair, _aggr(), connection(ikev2=False, keyingtries=1))
    assert pair.east.lines_with("initial Aggressive Mode message received on 127.0.0.2:UDP/500 "
                                "but no IKEv1 connection with aggressive=yes; ignoring it")
    pair.advance(61)
    assert reply.finished not in (None, 0)
    assert len(pair.east.core.states) == 0


def test_an_aggressive_connection_does_not_answer_main_mode():
    # as in libreswan: aggressive=yes means Aggressive Mode only, in both roles
    pair = _pair()
    reply = _run(pair, connection(ikev2=False, keyingtries=1), _aggr())
    assert pair.east.lines_with("initial Main Mode message received on 127.0.0.2:UDP/500 but "
                                "no IKEv1 connection has been authorized; ignoring it")
    pair.advance(61)
    assert reply.finished not in (None, 0)
    assert len(pair.east.core.states) == 0


def test_wrong_psk_is_refused_at_ar1():
    pair = _pair(east_secrets='@west @east : PSK "not-the-key-west-knows-at-all"\n')
    reply = _run(pair, _aggr())
    assert reply.finished == RC_NOTIFICATION + NotifyType.INVALID_HASH_INFORMATION
    assert "received Hash Payload does not match computed value" in reply.texts[-1]
    assert not pair.west.kernel.installed_sas()


def test_several_dh_groups_are_refused_when_adding():
    pair = _pair()
    reply = pair.west.whack({"action": "add", "connection": _aggr(
        ike="aes256-sha2_256;modp2048+modp3072")})
    assert reply.finished not in (None, 0)
    assert "IKEv1 Aggressive Mode needs exactly one DH group, not 2" in reply.texts[-1]
    reply = pair.west.whack({"action": "add", "connection": connection(aggressive=True)})
    assert "--aggressive: Aggressive Mode is IKEv1 only" in reply.texts[-1]


def test_explicit_single_group_is_used():
    pair = _pair()
    reply = _run(pair, _aggr(ike="aes128-sha2_256;dh19"))
    assert reply.finished == 0, reply.lines
    ai1 = parse_message(pair.wire.sent[0].data)
    assert len(ai1.find(KeyExchangePayload)[0].data) == 64  # ECP256 x | y


def test_lost_ai2_is_recovered_by_the_responder_retransmitting_ar1():
    pair = _pair()
    pair.add(_aggr())
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.wire.deliver(pair.wire.queue.popleft())  # AI1
    pair.wire.deliver(pair.wire.queue.popleft())  # AR1
    lost = pair.drop_next()
    assert parse_message(lost.data).exchange == ExchangeType.AGGRESSIVE  # AI2
    pair.pump()  # QI1 reaches a responder still in AGGR_R1: ignored
    pair.advance(10)
    assert reply.finished == 0, reply.lines
    assert pair.west.lines_with("retransmitting in response to duplicate packet")
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_AGGR_R2", "STATE_QUICK_R2"]


def test_whack_aggressive_option_and_ipsec_conf_keyword():
    actions = parse_command_line(["--name", "c", "--host", "192.0.2.1", "--to", "--host",
                                  "192.0.2.2", "--ikev1", "--aggressive"])
    assert actions.actions[0]["connection"]["aggressive"] is True
    base = "conn c\n  left=198.51.100.45\n  right=198.51.100.23\n  keyexchange=ikev1\n"
    for line, expected in (("aggressive=yes", True), ("aggrmode=yes", True),
                           ("aggressive=no", False), ("", False)):
        desc = checked_descriptions(from_text(base + f"  {line}\n", "t.conf"), "c")[0]
        assert build_connection(desc).policy.aggressive is expected, line
    with pytest.raises(ConfigError, match="aggressive"):
        checked_descriptions(from_text(base + "  aggressive=maybe\n", "t.conf"), "c")


def test_status_policy_says_aggressive_and_states_are_v1_kinds():
    pair = _pair()
    assert _run(pair, _aggr()).finished == 0
    status = pair.west.whack({"action": "status"})
    policy = [t for t in status.texts if '"west-east":   policy:' in t]
    assert policy == ['"west-east":   policy: IKEv1+PSK+ENCRYPT+TUNNEL+PFS+AGGRESSIVE;']
    isakmp = next(s for s in pair.east.core.states if isinstance(s, IsakmpSa))
    assert isakmp.kind is V1StateKind.STATE_AGGR_R2 and isakmp.kind.established
    # a Main Mode connection does not say it
    plain = _pair()
    plain.add(connection(ikev2=False))
    texts = plain.west.whack({"action": "status"}).texts
    assert not any("AGGRESSIVE" in t for t in texts)
