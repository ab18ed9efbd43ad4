"""Mutated copies of every datagram of Aggressive Mode, RSA-signature Main Mode and NAT-T
exchanges never crash a core: each is delivered, byte-flipped and truncated, to the core
that received the original, at the moment it received it. A mutant may spoil that attempt
(an unauthenticated first message can, as in libreswan), but once the timeouts have run
both cores negotiate again from scratch."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pluto.crypto.hostkey import format_rsasigkey, format_secrets_entry
from tests.inprocess.harness import Nat, Pair, connection

KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _v1(pair: Pair) -> Pair:
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    return pair


def _pair(kind: str) -> Pair:
    if kind == "rsasig":
        secrets = format_secrets_entry(KEY, "")
        pair = _v1(Pair(west_secrets=secrets, east_secrets=secrets))
        desc = connection(ikev2=False, auth="rsasig", keyingtries=1)
        for end in ("left", "right"):
            desc[end]["rsasigkey"] = format_rsasigkey(KEY.public_key())
        pair.add(desc)
    elif kind == "aggressive":
        pair = _v1(Pair())
        pair.add(connection(ikev2=False, aggressive=True, keyingtries=1))
    else:
        pair = _v1(Pair(west="203.0.113.209", east="198.51.100.23"))
        pair.wire.nat = Nat(["203.0.113.209"], "198.51.100.254")
        pair.add(connection(west="203.0.113.209", east="198.51.100.23", ikev2=False,
                            keyingtries=1),
                 connection(west="%any", east="198.51.100.23", ikev2=False, keyingtries=1))
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    return pair


@pytest.mark.parametrize("kind", ["rsasig", "aggressive", "natt"])
def test_mutated_messages_never_crash(kind):
    rand = random.Random(kind)
    pair = _pair(kind)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    delivered = 0
    while pair.wire.queue and delivered < 20:
        datagram = pair.wire.queue.popleft()
        for _ in range(12):
            data = bytearray(datagram.data)
            if rand.random() < 0.5:
                for _flip in range(rand.randint(1, 4)):
                    data[rand.randrange(len(data))] ^= 1 << rand.randrange(8)
            else:
                data = data[:rand.randrange(len(data))]
            pair.wire.deliver(type(datagram)(bytes(data), datagram.src, datagram.dst))
        pair.wire.queue.clear()  # what the mutants caused: dropped
        pair.wire.deliver(datagram)
        delivered += 1
    pair.advance(300)
    assert reply.finished is not None
    again = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert again.finished == 0, again.lines
    assert len(pair.west.kernel.installed_sas()) >= 2
