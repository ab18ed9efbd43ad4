"""Identities as pluto(8) writes them: ``@fqdn``, ``user@fqdn``, an IP address, ``@#hex``
(key ID), ``%any`` (match anything), ``%fromcert`` (our end: the certificate's subject; the
peer's end: any ID its certificate vouches for) and distinguished names
(``C=CA, O=Example, CN=east``, ID_DER_ASN1_DN, compared as DNs: see pluto/certs/dn.py).

An :class:`Identity` knows its IKE ID type and the payload bytes, prints back in the manual's
form, and can tell whether a received identity matches it (``%any`` matches everything).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pluto.packet.ikev2_types import IdType


class IdentityError(ValueError):
    """A badly written identity; the message quotes it."""


@dataclass(frozen=True)
class Identity:
    type: IdType | None  # None: %any (matches any ID)
    data: bytes = b""

    @property
    def is_any(self) -> bool:
        return self.type is None

    @property
    def is_fromcert(self) -> bool:
        """``%fromcert``: matches any ID (the certificate check then decides)."""
        return self.type is None and self.data == FROMCERT_MARK

    def matches(self, other: Identity) -> bool:
        """Does the received identity ``other`` satisfy this configured one?"""
        if self.is_any:
            return True
        if self.type in (IdType.ID_FQDN, IdType.ID_RFC822_ADDR):
            # DNS names compare without regard to case (RFC 4343).
            return self.type == other.type and self.data.lower() == other.data.lower()
        if self.type == IdType.ID_DER_ASN1_DN:
            return other.type == IdType.ID_DER_ASN1_DN and _same_dn_bytes(self.data, other.data)
        return self.type == other.type and self.data == other.data

    def __str__(self) -> str:
        if self.type is None:
            return "%fromcert" if self.data == FROMCERT_MARK else "%any"
        if self.type == IdType.ID_DER_ASN1_DN:
            return _dn_text(self.data)
        if self.type in (IdType.ID_IPV4_ADDR, IdType.ID_IPV6_ADDR):
            return str(ipaddress.ip_address(self.data))
        if self.type == IdType.ID_FQDN:
            return "@" + self.data.decode("utf-8", "backslashreplace")
        if self.type == IdType.ID_RFC822_ADDR:
            return self.data.decode("utf-8", "backslashreplace")
        if self.type == IdType.ID_KEY_ID:
            return "@#0x" + self.data.hex()
        if self.type == IdType.ID_NULL:
            return "(none)"
        return f"{self.type.name}:{self.data.hex()}"

    @classmethod
    def from_address(cls, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Identity:
        kind = IdType.ID_IPV4_ADDR if address.version == 4 else IdType.ID_IPV6_ADDR
        return cls(kind, address.packed)

    @classmethod
    def from_payload(cls, id_type: int, data: bytes) -> Identity:
        try:
            kind = IdType(id_type)
        except ValueError:
            raise IdentityError(f"unknown ID type {id_type}") from None
        if kind == IdType.ID_IPV4_ADDR and len(data) != 4:
            raise IdentityError("ID_IPV4_ADDR is not 4 bytes")
        if kind == IdType.ID_IPV6_ADDR and len(data) != 16:
            raise IdentityError("ID_IPV6_ADDR is not 16 bytes")
        if kind == IdType.ID_DER_ASN1_DN:
            from pluto.certs.dn import DnError, dn_from_der

            try:
                dn_from_der(bytes(data))
            except DnError as err:
                raise IdentityError(str(err)) from None
        return cls(kind, bytes(data))

    @classmethod
    def from_dn(cls, name) -> Identity:
        """The ID_DER_ASN1_DN of an x509.Name (a certificate's subject, as encoded there)."""
        return cls(IdType.ID_DER_ASN1_DN, name.public_bytes())


FROMCERT_MARK = b"%fromcert"
ANY = Identity(None)
FROMCERT = Identity(None, FROMCERT_MARK)


def _same_dn_bytes(one: bytes, other: bytes) -> bool:
    from pluto.certs.dn import DnError, dn_from_der, same_dn

    if one == other:
        return True
    try:
        return same_dn(dn_from_der(one), dn_from_der(other))
    except DnError:
        return False


def _dn_text(data: bytes) -> str:
    from pluto.certs.dn import DnError, dn_from_der, format_dn

    try:
        return format_dn(dn_from_der(data))
    except DnError:
        return f"ID_DER_ASN1_DN:{data.hex()}"


def parse_identity(text: str) -> Identity:
    """Parse an identity as written in whack's ``--id`` or ipsec.conf's ``leftid=``."""
    text = text.strip()
    if not text:
        raise IdentityError("empty identity")
    if text in ("%any", "%any6"):
        return ANY
    if text == "%fromcert":
        return FROMCERT
    if text == "%null":
        return Identity(IdType.ID_NULL)
    if text.startswith("@#"):
        digits = text[2:].removeprefix("0x")
        try:
            return Identity(IdType.ID_KEY_ID, bytes.fromhex(digits))
        except ValueError:
            raise IdentityError(f"identity '{text}': @# must be followed by hex digits") from None
    if text.startswith("@"):
        name = text.lstrip("@")  # @@name is the old "do not resolve" spelling
        if not name:
            raise IdentityError(f"identity '{text}' has no name after @")
        return Identity(IdType.ID_FQDN, name.encode())
    try:
        return Identity.from_address(ipaddress.ip_address(text))
    except ValueError:
        pass
    if "=" in text:  # before user@fqdn: a DN may hold E=user@example
        from pluto.certs.dn import DnError, parse_dn

        try:
            return Identity.from_dn(parse_dn(text))
        except DnError as err:
            raise IdentityError(f"identity '{text}': {err}") from None
    if "@" in text:
        return Identity(IdType.ID_RFC822_ADDR, text.encode())
    # libreswan would resolve a bare host name; we do not do DNS, so say how to write it.
    raise IdentityError(f"identity '{text}': write a name as @{text}, or give an IP address")
