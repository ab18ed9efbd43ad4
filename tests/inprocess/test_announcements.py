"""IKE_SA_INIT announcements: SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4) and
CHILDLESS_IKEV2_SUPPORTED (RFC 6023), both ways, checked on the wire with scapy's
independent IKEv2 layer; and the childless IKE_AUTH they allow.
"""

from __future__ import annotations

import struct

from scapy.config import conf  # noqa: F401  (scapy wants its configuration loaded first)
from scapy.contrib import ikev2 as sc
from scapy.packet import NoPayload

from pluto.engine.states import IkeSa
from tests.inprocess.harness import Pair

SIGNATURE_HASH_ALGORITHMS, CHILDLESS_IKEV2_SUPPORTED = 16431, 16418
OUR_HASHES = bytes.fromhex("0002000300040005")  # SHA2-256, -384, -512, IDENTITY (RFC 8420)


def _notifies(datagram: bytes) -> dict[int, bytes]:
    """Notify type -> data, as scapy dissects the message."""
    found = {}
    layer = sc.IKEv2(datagram).payload
    while not isinstance(layer, NoPayload):
        if isinstance(layer, sc.IKEv2_Notify):
            found[layer.type] = bytes(layer.notify or b"")
        layer = layer.payload
    return found


def _ike_sa_init_exchange(pair: Pair) -> tuple[bytes, bytes]:
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    request = pair.drop_next()
    pair.wire.deliver(request)
    response = pair.drop_next()
    pair.wire.deliver(response)
    return request.data, response.data


def test_both_ends_announce_and_record_hash_algorithms_and_childless_support():
    pair = Pair()
    pair.add()
    request, response = _ike_sa_init_exchange(pair)
    for datagram in (request, response):
        notifies = _notifies(datagram)
        assert notifies[SIGNATURE_HASH_ALGORITHMS] == OUR_HASHES
        assert notifies[CHILDLESS_IKEV2_SUPPORTED] == b""
    # the notify payload's bytes: generic header, protocol 0, SPI size 0, type, 4 hashes
    at = request.index(struct.pack("!BBH", 0, 0, SIGNATURE_HASH_ALGORITHMS)) - 4
    assert request[at + 1:at + 4] == b"\x00\x00\x10"  # not critical, length 16
    assert request[at + 8:at + 16] == OUR_HASHES
    pair.pump()
    for host in (pair.west, pair.east):
        ike = host.core.states.get(1)
        assert isinstance(ike, IkeSa) and ike.kind.established
        assert ike.peer_hash_algorithms == (2, 3, 4, 5) and ike.peer_childless


def test_peer_hash_algorithms_are_recorded_as_sent():
    """west's request with other identifiers in the same notify (SHA1, IDENTITY, SHA2-512,
    SHA2-256)."""
    pair = Pair()
    pair.add()
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    request = pair.drop_next().data
    edited = request.replace(OUR_HASHES, bytes.fromhex("0001000500040002"))
    assert edited != request
    pair.east.core.packet_received(edited, pair.east.endpoint, pair.west.endpoint)
    ike = pair.east.core.states.get(1)
    assert ike.peer_hash_algorithms == (1, 5, 4, 2)


def test_a_hash_list_of_odd_length_is_ignored():
    pair = Pair()
    pair.add()
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    request = bytearray(pair.drop_next().data)
    at = bytes(request).index(OUR_HASHES)
    # drop the last octet of the notify: shorten the payload and the message
    del request[at + 7]
    struct.pack_into("!H", request, at - 6, 15)
    struct.pack_into("!I", request, 24, len(request))
    pair.east.core.packet_received(bytes(request), pair.east.endpoint, pair.west.endpoint)
    assert pair.east.lines_with("ignoring SIGNATURE_HASH_ALGORITHMS notify with 7 octets")
    ike = pair.east.core.states.get(1)
    assert ike.kind.name == "STATE_V2_IKE_SA_INIT_R" and ike.peer_hash_algorithms == ()


def test_childless_ike_auth_is_accepted_when_announced():
    pair = Pair()
    pair.west.impairs.apply("omit-v2-ike-auth-child")
    reply = pair.establish()
    assert reply.finished == 0, reply.texts
    for host in (pair.west, pair.east):
        assert [s.kind.name for s in host.core.states] == ["STATE_V2_ESTABLISHED_IKE_SA"]
        assert host.kernel.installed_sas() == []


def test_childless_ike_auth_is_accepted_even_without_the_initiators_announcement():
    # strongSwan and libreswan go childless after seeing our announcement, without sending
    # one themselves: RFC 6023 needs only the responder's.
    pair = Pair()
    pair.add()
    pair.west.impairs.apply("omit-v2-ike-auth-child")
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.wire.deliver(pair.drop_next())  # IKE_SA_INIT request
    pair.east.core.states.get(1).peer_childless = False  # as if west had not announced it
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert pair.east.lines_with("responder established IKE SA")
    assert not pair.east.kernel.installed_sas()
