"""What each end announces in IKE_SA_INIT beyond the negotiation itself.

- SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4): the hash algorithms we can use with digital
  signatures, each a two-octet IANA "IKEv2 Hash Algorithms" number. Sent whenever digital
  signatures could be used; like libreswan we keep it simple and always send it.
- CHILDLESS_IKEV2_SUPPORTED (RFC 6023 §3): we accept an IKE_AUTH exchange without a Child
  SA. Our responder announces it in every IKE_SA_INIT response, which (RFC 6023 §3) lets the
  initiator leave the Child SA out of IKE_AUTH, whether or not it announced support itself.

Both are recorded from the peer's IKE_SA_INIT message on the IKE SA.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pluto.ikev2 import messages
from pluto.packet.ikev2 import NotifyPayload, Payload
from pluto.packet.ikev2_types import NotifyType

if TYPE_CHECKING:
    from pluto.engine.states import IkeSa
    from pluto.log import Logger


class HashAlgorithm(enum.IntEnum):
    """IANA "IKEv2 Hash Algorithms" (RFC 7427 §7, RFC 8420)."""

    SHA1 = 1
    SHA2_256 = 2
    SHA2_384 = 3
    SHA2_512 = 4
    IDENTITY = 5  # RFC 8420, for EdDSA


# The SHA-2 family (SHA-1 is no longer offered), and "Identity" because we verify and make
# Ed25519 signatures, which RFC 8420 signs without a separate hash.
OUR_HASH_ALGORITHMS: tuple[HashAlgorithm, ...] = (
    HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512,
    HashAlgorithm.IDENTITY)


def encode_hash_algorithms(algorithms: Iterable[int]) -> bytes:
    return b"".join(struct.pack("!H", int(a)) for a in algorithms)


def decode_hash_algorithms(data: bytes) -> tuple[int, ...] | None:
    """The two-octet identifiers of a SIGNATURE_HASH_ALGORITHMS notify; None if the data is
    not a whole number of them."""
    if len(data) % 2:
        return None
    return tuple(value for (value,) in struct.iter_unpack("!H", data))


def hash_name(value: int) -> str:
    try:
        return HashAlgorithm(value).name
    except ValueError:
        return str(value)


def ike_sa_init_notifies() -> list[Payload]:
    """The announcements we add to our IKE_SA_INIT request and response."""
    return [messages.notify(NotifyType.SIGNATURE_HASH_ALGORITHMS,
                            encode_hash_algorithms(OUR_HASH_ALGORITHMS)),
            messages.notify(NotifyType.CHILDLESS_IKEV2_SUPPORTED)]


def record_peer(ike: IkeSa, notifies: Iterable[NotifyPayload], logger: Logger) -> None:
    """Remember what the peer's IKE_SA_INIT message announced."""
    for notify in notifies:
        if notify.notify_type == NotifyType.SIGNATURE_HASH_ALGORITHMS:
            algorithms = decode_hash_algorithms(notify.data)
            if algorithms is None:
                logger.log(f"ignoring SIGNATURE_HASH_ALGORITHMS notify with {len(notify.data)} "
                           "octets of data (not a list of two-octet identifiers)")
                continue
            ike.peer_hash_algorithms = algorithms
            if logger.debugging("base"):  # every IKE_SA_INIT passes here: no string otherwise
                logger.debug("base", "peer's signature hash algorithms: "
                                     + (" ".join(hash_name(a) for a in algorithms) or "none"))
        elif notify.notify_type == NotifyType.CHILDLESS_IKEV2_SUPPORTED:
            ike.peer_childless = True
            logger.debug("base", "peer supports childless IKE SAs (RFC 6023)")
