"""The certificate keywords of a connection end, checked when the connection is built.

- ``leftca=``: the DN of the CA the end's certificate must chain to, or ``%same`` (the other
  end's leftca); unset, any trusted CA will do.
- ``leftsendcert=``: ``always``/``yes``, ``sendifasked`` (libreswan's default: when the peer
  sent a CERTREQ) or ``never``/``no``.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509

from pluto.certs.dn import DnError, parse_dn

SENDCERT = {"always": "always", "yes": "always", "sendifasked": "sendifasked",
            "ifasked": "sendifasked", "never": "never", "no": "never"}


class CertConfigError(ValueError):
    """A certificate keyword with a bad value; the message names the keyword."""


def end_ca(value: Any, side: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if text == "%same":
        return text
    try:
        parse_dn(text)
    except DnError as err:
        raise CertConfigError(f"{side}ca: {err}") from None
    return text


def end_sendcert(value: Any, side: str) -> str:
    if value is None:
        return "sendifasked"
    text = str(value).strip().lower()
    if text not in SENDCERT:
        raise CertConfigError(f"{side}sendcert: {value!r} is not always, sendifasked or never")
    return SENDCERT[text]


def ca_name(ca: str | None, other_ca: str | None) -> x509.Name | None:
    """The CA a certificate must chain to, given the end's and the other end's leftca."""
    if ca == "%same":
        ca = other_ca if other_ca != "%same" else None
    return None if ca is None else parse_dn(ca)
