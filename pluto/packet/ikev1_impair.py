"""The codec impairs of pluto/impair.py that make sense for IKEv1, applied to outbound messages.

    impair_header(msg, impairs, logger) -> Message        # header only (any message)
    impair_payloads(payloads, impairs, logger) -> list    # contents, before encryption
    impair_outbound(msg, impairs, logger) -> Message      # header, and payloads when clear

Each function returns a modified copy and leaves its argument alone. Every impair that fires
logs one ``IMPAIR: ...`` line. An impair with nothing to act on (no KE payload, no key-length
attribute) does not fire and logs nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

from pluto.impair import Impairs
from pluto.log import Logger
from pluto.packet.ikev1 import Message
from pluto.packet.ikev1_payloads import Attribute, KeyExchangePayload, Payload
from pluto.packet.ikev1_sa import Proposal, SecurityAssociationPayload, Transform
from pluto.packet.ikev1_types import IPsecAttribute, OakleyAttribute, ProtocolId

# An ISAKMP header flag bit that RFC 2408 leaves undefined.
BOGUS_ISAKMP_FLAG = 0x40
# A bit of the generic payload header's reserved byte (which IKEv1 leaves entirely reserved).
BOGUS_PAYLOAD_FLAG = 0x01


def impair_outbound(msg: Message, impairs: Impairs, logger: Logger) -> Message:
    """Header impairs, plus payload impairs when the message is sent in the clear (encrypted
    contents are impaired with :func:`impair_payloads` before encryption)."""
    msg = impair_header(msg, impairs, logger)
    if msg.encrypted is None:
        msg.payloads = impair_payloads(msg.payloads, impairs, logger)
    return msg


def impair_header(msg: Message, impairs: Impairs, logger: Logger) -> Message:
    msg = copy.deepcopy(msg)
    if impairs.get("major-version-bump"):
        new = (msg.major + 1) & 0xF
        logger.impair(f"major-version-bump: sending ISAKMP major version {new} "
                      f"instead of {msg.major}")
        msg.major = new
    if impairs.get("minor-version-bump"):
        new = (msg.minor + 1) & 0xF
        logger.impair(f"minor-version-bump: sending ISAKMP minor version {new} "
                      f"instead of {msg.minor}")
        msg.minor = new
    if impairs.get("send-bogus-isakmp-flag"):
        logger.impair(f"send-bogus-isakmp-flag: setting undefined ISAKMP flag "
                      f"{BOGUS_ISAKMP_FLAG:#04x}")
        msg.flags |= BOGUS_ISAKMP_FLAG
    return msg


def impair_payloads(payloads: list[Payload], impairs: Impairs, logger: Logger) -> list[Payload]:
    payloads = copy.deepcopy(payloads)
    payloads = _impair_ke(payloads, impairs.get("ke-payload"), logger)
    _impair_key_length(payloads, "ike-key-length-attribute", impairs, logger)
    _impair_key_length(payloads, "child-key-length-attribute", impairs, logger)
    if impairs.get("send-bogus-payload-flag"):
        count = 0
        for header in _generic_headers(payloads):
            header.reserved |= BOGUS_PAYLOAD_FLAG
            count += 1
        if count:
            logger.impair(f"send-bogus-payload-flag: setting reserved bit "
                          f"{BOGUS_PAYLOAD_FLAG:#04x} in {count} generic payload headers")
    return payloads


def _generic_headers(payloads: list[Payload]) -> Iterator[Payload | Proposal | Transform]:
    """Everything that has a generic payload header, proposals and transforms included."""
    for payload in payloads:
        yield payload
        if isinstance(payload, SecurityAssociationPayload):
            for proposal in payload.proposals:
                yield proposal
                yield from proposal.transforms


def _impair_ke(payloads: list[Payload], how: str | int | None,
               logger: Logger) -> list[Payload]:
    if how is None:
        return payloads
    kes = [p for p in payloads if isinstance(p, KeyExchangePayload)]
    if not kes:
        return payloads
    if how == "omit":
        logger.impair("ke-payload: omitting the KE payload")
        return [p for p in payloads if not isinstance(p, KeyExchangePayload)]
    if how == "empty":
        logger.impair("ke-payload: sending an empty KE payload")
        for ke in kes:
            ke.data = b""
        return payloads
    fill = int(how) & 0xFF
    logger.impair(f"ke-payload: filling the KE payload with byte {fill:#04x}")
    for ke in kes:
        ke.data = bytes([fill]) * len(ke.data)
    return payloads


# Which proposals each key-length impair touches, and the attribute it corrupts there.
_KEY_LENGTH_TARGETS = {
    "ike-key-length-attribute": (
        (ProtocolId.ISAKMP,), OakleyAttribute.KEY_LENGTH, "IKE SA"),
    "child-key-length-attribute": (
        (ProtocolId.IPSEC_AH, ProtocolId.IPSEC_ESP, ProtocolId.IPCOMP),
        IPsecAttribute.KEY_LENGTH, "Child SA"),
}


def _impair_key_length(payloads: list[Payload], name: str, impairs: Impairs,
                       logger: Logger) -> None:
    how = impairs.get(name)
    if how is None:
        return
    protocols, key_length, what = _KEY_LENGTH_TARGETS[name]
    changed = 0
    for payload in payloads:
        if not isinstance(payload, SecurityAssociationPayload):
            continue
        for proposal in payload.proposals:
            if proposal.protocol not in protocols:
                continue
            for transform in proposal.transforms:
                new = _corrupt(transform.attributes, key_length, how)
                if new is not None:
                    transform.attributes = new
                    changed += 1
    if not changed:
        return
    if how == "omit":
        action = "omitting"
    elif how == "empty":
        action = "sending an empty"
    elif how == "duplicate":
        action = "duplicating"
    else:
        action = f"sending value {how} as"
    logger.impair(f"{name}: {action} the key-length attribute of {changed} {what} "
                  f"transform{'s' if changed != 1 else ''}")


def _corrupt(attributes: list[Attribute], key_length: int,
             how: str | int) -> list[Attribute] | None:
    """The attribute list with its key-length attribute corrupted; None if it has none."""
    if not any(a.type == key_length for a in attributes):
        return None
    out: list[Attribute] = []
    for attribute in attributes:
        if attribute.type != key_length:
            out.append(attribute)
        elif how == "omit":
            continue
        elif how == "empty":
            out.append(Attribute(key_length, b""))
        elif how == "duplicate":
            out += [attribute, attribute]
        else:
            out.append(Attribute.number(key_length, int(how)))
    return out
