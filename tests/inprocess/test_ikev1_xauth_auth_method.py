"""XAUTH's Oakley authentication methods in Main Mode (draft-beaulieu-ike-xauth-02 §7.2):
an XAUTH client that initiates proposes XAUTHInitPreShared (65001), as strongSwan's and
libreswan's XAUTH servers require (interop-ikev1-strongswan-xauth); the responder answers
with the transform as proposed and both sides then work with the PSK method."""

from __future__ import annotations

from pluto.ikev1.sa import base_method
from pluto.packet.ikev1 import SecurityAssociationPayload, parse_message
from pluto.packet.ikev1_types import ExchangeType, OakleyAttribute, OakleyAuthMethod
from tests.inprocess.ikev1_xauth_pair import PASSWORD, isakmp, xauth_pair

CLIENT, SERVER = {"xauthclient": True}, {"xauthserver": True}


def _main_mode_methods(pair) -> list[set[int]]:
    """The authentication methods in the SA payload of each clear Main Mode message."""
    found = []
    for datagram in pair.wire.sent:
        msg = parse_message(datagram.data)
        if msg.exchange != ExchangeType.IDENTITY_PROTECTION or msg.encrypted is not None:
            continue
        for sa in (p for p in msg.payloads if isinstance(p, SecurityAssociationPayload)):
            found.append({t.find(OakleyAttribute.AUTHENTICATION_METHOD).as_int()
                          for t in sa.proposals[0].transforms})
    return found


def test_xauth_client_initiator_proposes_xauth_init_preshared_and_establishes():
    pair = xauth_pair(west_end=CLIENT, east_end=SERVER)
    pair.west.whack({"action": "initiate", "name": "west-east", "xauthuser": "alice",
                     "xauthpass": PASSWORD})
    pair.pump()
    assert _main_mode_methods(pair) == [{OakleyAuthMethod.XAUTH_INIT_PRESHARED}] * 2
    assert [s.kind.name for s in pair.west.core.states] == ["STATE_MAIN_I4", "STATE_QUICK_I2"]
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_MAIN_R3", "STATE_QUICK_R2"]
    assert isakmp(pair.west).chosen.auth == isakmp(pair.east).chosen.auth == \
        OakleyAuthMethod.PRESHARED_KEY


def test_xauth_server_initiator_proposes_xauth_resp_preshared():
    pair = xauth_pair(west_end=SERVER, east_end=CLIENT)
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert _main_mode_methods(pair)[0] == {OakleyAuthMethod.XAUTH_RESP_PRESHARED}


def test_without_xauth_the_plain_method_is_proposed():
    pair = xauth_pair()
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert _main_mode_methods(pair) == [{OakleyAuthMethod.PRESHARED_KEY}] * 2


def test_base_method_of_each_xauth_variant():
    assert base_method(65001) == base_method(65002) == OakleyAuthMethod.PRESHARED_KEY
    assert base_method(65005) == base_method(65006) == OakleyAuthMethod.RSA_SIG
    assert base_method(64221) == 64221  # hybrid: not mapped, so never accepted as PSK
