"""An XAUTH / Mode Config client (west, the initiator) and server (east) on one memory wire,
and a reader for the Transaction messages that crossed it."""

from __future__ import annotations

from pluto.ikev1.states import IsakmpSa
from pluto.packet.ikev1 import ModeConfigPayload, parse_message, parse_payloads
from pluto.packet.ikev1_types import ExchangeType
from tests.inprocess.harness import PSK, Pair, connection

PASSWORD = "correct horse"
SECRETS = f'@west @east : PSK "{PSK}"\n@alice : XAUTH "{PASSWORD}"\n'


def xauth_pair(*, west_end: dict | None = None, east_end: dict | None = None,
               **extra) -> Pair:
    """west's end has ``west_end`` (e.g. xauthclient), east's ``east_end`` (xauthserver);
    both cores hold the same connection description, as an ipsec.conf shared by both."""
    pair = Pair(east_secrets=SECRETS)
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    desc = connection(ikev2=False, **extra)
    desc["left"].update(west_end or {})
    desc["right"].update(east_end or {})
    pair.add(desc, desc)
    return pair


def isakmp(host) -> IsakmpSa:
    return next(s for s in host.core.states if isinstance(s, IsakmpSa))


def exchanges(pair: Pair) -> list[str]:
    """The exchange type of every datagram on the wire, in order."""
    return [ExchangeType(parse_message(d.data).exchange).name for d in pair.wire.sent]


def transaction_payloads(pair: Pair, reader) -> list[tuple[str, ModeConfigPayload]]:
    """(sender, ATTR payload) of each Transaction message, decrypted with ``reader``'s ISAKMP
    SA: each exchange's IV chain runs from its first message to its answer."""
    crypto = isakmp(reader).crypto
    found = []
    for datagram in pair.wire.sent:
        msg = parse_message(datagram.data)
        if msg.exchange != ExchangeType.TRANSACTION:
            continue
        plain = crypto.decrypt(msg.message_id, msg.encrypted.data)
        crypto.accept(msg.message_id, msg.encrypted.data)
        payloads, _padding = parse_payloads(plain, msg.encrypted.first_payload)
        sender = "west" if datagram.src == pair.west.endpoint else "east"
        found += [(sender, p) for p in payloads if isinstance(p, ModeConfigPayload)]
    return found
