"""A strict reader for the one DER structure cryptography cannot parse alone: a Name
(RFC 5280 §4.1.2.4) as an ID_DER_ASN1_DN payload carries it.

    Name ::= SEQUENCE OF SET OF SEQUENCE { type OBJECT IDENTIFIER, value ANY }

Every length is checked against what is left; anything else raises DerError.
"""

from __future__ import annotations

import warnings

from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ObjectIdentifier

_STRING_TYPES = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1",
                 0x1E: "utf-16-be", 0x1C: "utf-32-be", 0x12: "ascii"}


class DerError(ValueError):
    """Bytes that are not the DER structure expected."""


def _tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """(tag, contents, offset after) of the TLV at ``offset``."""
    if offset + 2 > len(data):
        raise DerError("truncated")
    tag, first = data[offset], data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[offset:offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise DerError("length runs past the end")
    return tag, data[offset:offset + length], offset + length


def _items(data: bytes, tag: int) -> list[bytes]:
    items, offset = [], 0
    while offset < len(data):
        found, contents, offset = _tlv(data, offset)
        if found != tag:
            raise DerError(f"expected tag 0x{tag:02x}, found 0x{found:02x}")
        items.append(contents)
    return items


def _oid(contents: bytes) -> ObjectIdentifier:
    if not contents or contents[-1] & 0x80:
        raise DerError("bad OBJECT IDENTIFIER")
    arcs, value = [], 0
    for octet in contents:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    dotted = [first, arcs[0] - 40 * first, *arcs[1:]]
    return ObjectIdentifier(".".join(str(arc) for arc in dotted))


def parse_name(data: bytes) -> x509.Name:
    tag, body, end = _tlv(data, 0)
    if tag != 0x30 or end != len(data):
        raise DerError("not a single SEQUENCE")
    rdns = []
    for rdn in _items(body, 0x31):
        attributes = []
        for pair in _items(rdn, 0x30):
            oid_tag, oid_bytes, offset = _tlv(pair, 0)
            if oid_tag != 0x06:
                raise DerError("attribute without an OBJECT IDENTIFIER")
            value_tag, value, offset = _tlv(pair, offset)
            if offset != len(pair):
                raise DerError("extra data in an attribute")
            encoding = _STRING_TYPES.get(value_tag)
            if encoding is None:
                raise DerError(f"attribute value of unsupported type 0x{value_tag:02x}")
            try:
                text = value.decode(encoding)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    attributes.append(x509.NameAttribute(_oid(oid_bytes), text,
                                                         _ASN1Type(value_tag)))
            except (UnicodeDecodeError, ValueError) as err:
                raise DerError(f"bad attribute value ({err})") from None
        if not attributes:
            raise DerError("empty RDN")
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)
