"""Distinguished names as libreswan writes them: ``C=CA, O=Libreswan, CN=east.example``.

The text lists the RDNs in the order of the certificate's DER encoding (the first one is the
outermost, usually ``C``), the reverse of RFC 4514. Separators are ``,`` (or ``/`` when the
text starts with one, the OpenSSL one-line form); ``\\,`` escapes a separator and values may
be quoted. Two DNs are the same when their attribute types match in order and their values
match ignoring case and runs of blanks, which is what operators expect of
``rightid="C=CA, O=Libreswan, CN=east"`` against a certificate's subject.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

# Attribute names accepted in text, and the name each OID prints as.
_ATTRIBUTES: dict[str, ObjectIdentifier] = {
    "C": NameOID.COUNTRY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME, "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "CN": NameOID.COMMON_NAME,
    "E": NameOID.EMAIL_ADDRESS, "EMAIL": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS, "DC": NameOID.DOMAIN_COMPONENT,
    "SN": NameOID.SURNAME, "GN": NameOID.GIVEN_NAME, "T": NameOID.TITLE,
    "TITLE": NameOID.TITLE, "SERIALNUMBER": NameOID.SERIAL_NUMBER, "UID": NameOID.USER_ID,
    "STREET": NameOID.STREET_ADDRESS, "POSTALCODE": NameOID.POSTAL_CODE,
}
_NAMES: dict[ObjectIdentifier, str] = {
    NameOID.COUNTRY_NAME: "C", NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L", NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.COMMON_NAME: "CN",
    NameOID.EMAIL_ADDRESS: "E", NameOID.DOMAIN_COMPONENT: "DC", NameOID.SURNAME: "SN",
    NameOID.GIVEN_NAME: "GN", NameOID.TITLE: "T", NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.USER_ID: "UID", NameOID.STREET_ADDRESS: "STREET", NameOID.POSTAL_CODE: "postalCode",
}


class DnError(ValueError):
    """A distinguished name that cannot be parsed; the message quotes it."""


def looks_like_dn(text: str) -> bool:
    """Whether an ID written in a config is a DN (``KEY=value`` with a known key)."""
    head = text.lstrip("/").split("=", 1)[0].strip().upper()
    return "=" in text and (head in _ATTRIBUTES or head.replace(".", "").isdigit())


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quotes and backslash escapes."""
    parts, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted or escaped:
        raise DnError(f"DN '{text}': unbalanced quote or trailing backslash")
    parts.append("".join(current))
    return parts


def _oid(key: str, text: str) -> ObjectIdentifier:
    known = _ATTRIBUTES.get(key.upper())
    if known is not None:
        return known
    if key and all(part.isdigit() for part in key.split(".")) and "." in key:
        try:
            return ObjectIdentifier(key)
        except ValueError as err:  # digits and dots, but not a valid OID (e.g. "3.5")
            raise DnError(f"DN '{text}': '{key}' is not an object identifier") from err
    raise DnError(f"DN '{text}': unknown attribute '{key}'")


def parse_dn(text: str) -> x509.Name:
    """The x509.Name that ``text`` writes (RDNs in the order written)."""
    body = text.strip()
    separator = ","
    if body.startswith("/"):
        body, separator = body[1:], "/"
    rdns = []
    for part in _split(body, separator):
        if not part.strip():
            continue
        key, equals, value = part.partition("=")
        if not equals:
            raise DnError(f"DN '{text}': '{part.strip()}' is not KEY=value")
        oid = _oid(key.strip(), text)
        value = value.strip()
        if not value:
            raise DnError(f"DN '{text}': {key.strip()} has an empty value")
        if oid == NameOID.COUNTRY_NAME and len(value) != 2:
            raise DnError(f"DN '{text}': C must be a two-letter country code")
        rdns.append(x509.RelativeDistinguishedName([x509.NameAttribute(oid, value)]))
    if not rdns:
        raise DnError(f"DN '{text}' is empty")
    return x509.Name(rdns)


def dn_from_der(data: bytes) -> x509.Name:
    """The Name in an ID_DER_ASN1_DN payload; DnError when it is not a DER Name."""
    from pluto.certs.der import DerError, parse_name

    try:
        return parse_name(data)
    except DerError as err:
        raise DnError(f"ID_DER_ASN1_DN is not a DER-encoded name ({err})") from None


def format_dn(name: x509.Name) -> str:
    """libreswan's way of printing a DN: ``C=CA, O=Libreswan, CN=east``."""
    parts = []
    for rdn in name.rdns:
        for attribute in rdn:
            key = _NAMES.get(attribute.oid, attribute.oid.dotted_string)
            value = attribute.value if isinstance(attribute.value, str) else \
                attribute.value.hex()
            parts.append(f"{key}={value.replace(',', chr(92) + ',')}")
    return ", ".join(parts)


def _fold(value: object) -> str:
    text = value if isinstance(value, str) else bytes(value).hex()  # type: ignore[arg-type]
    return " ".join(text.split()).casefold()


def dn_key(name: x509.Name) -> tuple:
    """A value equal for names that compare the same (types in order, folded values)."""
    return tuple(tuple(sorted((a.oid.dotted_string, _fold(a.value)) for a in rdn))
                 for rdn in name.rdns)


def same_dn(one: x509.Name, other: x509.Name) -> bool:
    return dn_key(one) == dn_key(other)
