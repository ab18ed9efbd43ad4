"""Apply the codec impairs of pluto/impair.py to outbound IKEv2 messages.

Two entry points, both working on copies:

- :func:`impair_inner_payloads` on the plaintext payloads of an SK payload, before they are
  encrypted (and fragmented);
- :func:`impair_outbound` on the message about to be emitted, after encryption: header
  impairs, cleartext payloads, and corruption of the SK/SKF body.

Every impair that fires logs one ``IMPAIR:`` line saying what it did.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace

from pluto.impair import Impairs
from pluto.log import Logger
from pluto.packet.ikev2 import Message
from pluto.packet.ikev2_payloads import KEPayload, Payload, SKFPayload, SKPayload, UnknownPayload
from pluto.packet.ikev2_sa import SAPayload, TransformAttribute
from pluto.packet.ikev2_types import (
    ExchangeType,
    PayloadType,
    ProtocolId,
    TransformAttr,
    TransformType,
)

UNKNOWN_PAYLOAD_TYPE = 255
BOGUS_HEADER_FLAG = 0x40  # an undefined bit of the IKE header flags
BOGUS_PAYLOAD_FLAG = 0x01  # a reserved bit of the generic payload header flags

_CHILD_PROTOCOLS = (ProtocolId.AH, ProtocolId.ESP)


def impair_outbound(msg: Message, impairs: Impairs, logger: Logger) -> Message:
    """A copy of ``msg`` with the header, cleartext-payload and SK/SKF impairs applied."""
    out = copy.deepcopy(msg)
    if impairs.get("major-version-bump"):
        out.major = (out.major + 1) & 0xF
        logger.impair(f"sending IKE major version {out.major} instead of {msg.major}")
    if impairs.get("minor-version-bump"):
        out.minor = (out.minor + 1) & 0xF
        logger.impair(f"sending IKE minor version {out.minor} instead of {msg.minor}")
    if impairs.get("send-bogus-isakmp-flag"):
        out.flags |= BOGUS_HEADER_FLAG
        logger.impair(f"setting bogus IKE header flag {BOGUS_HEADER_FLAG:#04x}")
    encrypted = out.encrypted
    cleartext = out.payloads[:-1] if encrypted is not None else out.payloads
    cleartext = _impair_payloads(cleartext, out.exchange, impairs, logger,
                                 add_unknown=encrypted is None)
    if encrypted is not None:
        _set_bogus_flags([encrypted], impairs, logger)
        if impairs.get("corrupt-encrypted"):
            encrypted.body = _flip_a_bit(encrypted.body, encrypted, logger)
        cleartext = [*cleartext, encrypted]
    out.payloads = cleartext
    return out


def impair_inner_payloads(payloads: Sequence[Payload], exchange: int, impairs: Impairs,
                          logger: Logger) -> list[Payload]:
    """A copy of the plaintext payloads of an SK payload, with the payload impairs applied."""
    return _impair_payloads(copy.deepcopy(list(payloads)), exchange, impairs, logger,
                            add_unknown=True)


def _impair_payloads(payloads: list[Payload], exchange: int, impairs: Impairs, logger: Logger,
                     add_unknown: bool) -> list[Payload]:
    payloads = _impair_ke(payloads, impairs, logger)
    for payload in payloads:
        if isinstance(payload, SAPayload):
            _impair_key_length(payload, "ike-key-length-attribute", (ProtocolId.IKE,),
                               impairs, logger)
            _impair_key_length(payload, "child-key-length-attribute", _CHILD_PROTOCOLS,
                               impairs, logger)
    if add_unknown and _names_exchange(impairs.get("add-unknown-v2-payload-to"), exchange):
        critical = bool(impairs.get("unknown-v2-payload-critical"))
        payloads.append(UnknownPayload(payload_type=UNKNOWN_PAYLOAD_TYPE, critical=critical))
        logger.impair(f"adding an unknown{' critical' if critical else ''} payload of type "
                      f"{UNKNOWN_PAYLOAD_TYPE} to the {ExchangeType(exchange).name} message")
    _set_bogus_flags(payloads, impairs, logger)
    return payloads


def _names_exchange(setting: object, exchange: int) -> bool:
    """Whether an add-unknown-v2-payload-to value names this exchange, however spelled."""
    if setting is None:
        return False
    try:
        name = ExchangeType(exchange).name
    except ValueError:
        return False
    return str(setting).upper().replace("-", "_") == name


def _impair_ke(payloads: list[Payload], impairs: Impairs, logger: Logger) -> list[Payload]:
    how = impairs.get("ke-payload")
    if how is None or not any(isinstance(p, KEPayload) for p in payloads):
        return payloads
    if how == "omit":
        logger.impair("omitting the KE payload")
        return [p for p in payloads if not isinstance(p, KEPayload)]
    out: list[Payload] = []
    for payload in payloads:
        if isinstance(payload, KEPayload):
            if how == "empty":
                logger.impair("sending an empty KE payload")
                payload = replace(payload, data=b"")
            else:
                fill = int(how) & 0xFF
                logger.impair(f"filling the KE payload's {len(payload.data)} bytes with "
                              f"{fill:#04x}")
                payload = replace(payload, data=bytes([fill]) * len(payload.data))
        out.append(payload)
    return out


def _impair_key_length(sa: SAPayload, impair: str, protocols: tuple[int, ...],
                       impairs: Impairs, logger: Logger) -> None:
    how = impairs.get(impair)
    if how is None:
        return
    for proposal in sa.proposals:
        if proposal.protocol not in protocols:
            continue
        for transform in proposal.transforms:
            if transform.transform_type != TransformType.ENCR:
                continue
            attrs = transform.attributes
            index = next((i for i, a in enumerate(attrs)
                          if a.attr_type == TransformAttr.KEY_LENGTH), None)
            if index is None:
                continue
            where = (f"{ProtocolId(proposal.protocol).name} proposal {proposal.number} "
                     f"transform {transform.transform_id}")
            if how == "omit":
                del attrs[index]
                logger.impair(f"{impair}: omitting the key-length attribute of {where}")
            elif how == "empty":
                attrs[index] = TransformAttribute(TransformAttr.KEY_LENGTH, b"")
                logger.impair(f"{impair}: sending an empty key-length attribute in {where}")
            elif how == "duplicate":
                attrs.insert(index + 1, copy.copy(attrs[index]))
                logger.impair(f"{impair}: duplicating the key-length attribute of {where}")
            else:
                value = int(how) & 0xFFFF
                attrs[index] = TransformAttribute(TransformAttr.KEY_LENGTH, value)
                logger.impair(f"{impair}: sending key length {value} in {where}")


def _set_bogus_flags(payloads: Sequence[Payload], impairs: Impairs, logger: Logger) -> None:
    if not impairs.get("send-bogus-payload-flag") or not payloads:
        return
    for payload in payloads:
        payload.reserved_flags |= BOGUS_PAYLOAD_FLAG
    names = ", ".join(_type_name(p.payload_type) for p in payloads)
    logger.impair(f"setting bogus payload flag {BOGUS_PAYLOAD_FLAG:#04x} in {names}")


def _type_name(ptype: int) -> str:
    try:
        return PayloadType(ptype).name
    except ValueError:
        return str(ptype)


def _flip_a_bit(body: bytes, payload: SKPayload | SKFPayload, logger: Logger) -> bytes:
    if not body:
        logger.impair(f"corrupt-encrypted: {payload.title()} is empty, nothing to corrupt")
        return body
    # Any bit will do: the ICV covers IV and ciphertext, so the peer's check must fail.
    where = len(body) // 2
    logger.impair(f"corrupting {payload.title()}: flipping bit 0 of byte {where} "
                  f"of {len(body)}")
    return body[:where] + bytes([body[where] ^ 0x01]) + body[where + 1:]
