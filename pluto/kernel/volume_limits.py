"""Byte and packet limits of a Child SA (libreswan's ``ipsec-max-bytes=`` and
``ipsec-max-packets=``) and the soft limits derived from them.

The hard limit is what the connection says: once an SA has carried that much, the kernel
deletes it (a hard EXPIRE). The soft limit is where the kernel warns pluto (a soft EXPIRE) so
that it rekeys first. As libreswan's ipsec.conf(5) documents it, the end that initiated the
Child SA sets its soft limit at 25% of the maximum and the responder at 50%, each lowered by
a random fuzz of up to 12%, so that the initiator normally rekeys first and the two ends do
not rekey at the same moment. With rekey=no (--dontrekey) no rekey is wanted: the soft limit
equals the hard one.

A limit of 0 means "none" (the kernel's XFRM_INF); libreswan's default of 2^63 amounts to the
same thing.
"""

from __future__ import annotations

import re

from pluto.crypto.rand import RandomSource

MAX_OPERATIONS = 2**63  # libreswan's IPSEC_SA_MAX_OPERATIONS, the largest accepted limit
INITIATOR_SOFT_PERCENT = 25
RESPONDER_SOFT_PERCENT = 50
SOFT_FUZZ_PERCENT = 12

_BINARY_UNITS = {"": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50,
                 "eib": 2**60}
_COUNT = re.compile(r"(\d+)\s*([a-zA-Z]*)")


class LimitError(ValueError):
    """A byte or packet count that cannot be used; the text says why."""


def parse_count(text: str, *, bytes_: bool) -> int:
    """``1000``, or for bytes also ``64KiB``, ``2MiB`` ... ``1EiB``; more than 0, at most
    2^63 (larger values are refused, so a typo does not silently become "no limit")."""
    match = _COUNT.fullmatch(text.strip())
    unit = match[2].lower() if match else ""
    if match is None or unit not in _BINARY_UNITS or (unit and not bytes_):
        shape = ("a number of bytes, optionally followed by KiB, MiB, GiB, TiB, PiB or EiB"
                 if bytes_ else "a number of packets")
        raise LimitError(f"'{text}' is not {shape}")
    value = int(match[1]) * _BINARY_UNITS[unit]
    if value <= 0:
        raise LimitError(f"'{text}' must be more than 0")
    if value > MAX_OPERATIONS:
        raise LimitError(f"'{text}' is more than the maximum 2^63")
    return value


def soft_limit(hard: int, initiator: bool, rekey: bool, rand: RandomSource) -> int:
    """The soft limit for a hard limit ``hard`` (0: none, so no soft limit either)."""
    if hard <= 0:
        return 0
    if not rekey:
        return hard
    base = hard * (INITIATOR_SOFT_PERCENT if initiator else RESPONDER_SOFT_PERCENT) // 100
    fuzz = base * SOFT_FUZZ_PERCENT // 100
    soft = base - (rand.randbelow(fuzz + 1) if fuzz > 0 else 0)
    return max(1, soft)


def format_limit(value: int, unit: str = "") -> str:
    """How ``--status`` shows a limit: ``2^63`` for the default, else the number."""
    return "2^63" + unit if value in (0, MAX_OPERATIONS) else f"{value}{unit}"
