"""The C structs of the kernel's XFRM uapi (linux/xfrm.h) as field types for pyroute2 messages.

pyroute2 encodes a message's ``fields`` one after another; a field whose format is a class
calls that class's ``encode_into``/``decode_from``. :class:`CStruct` is such a class, built
from a member list, so the nested structs of linux/xfrm.h (a selector inside a policy inside an
acquire) are declared once and reused. Every member list spells out the compiler's padding with
``_pad`` members, and each struct's size is checked against the kernel's at import time.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Any, ClassVar

# struct xfrm_lifetime_cfg uses this for "no limit".
XFRM_INF = 0xFFFFFFFFFFFFFFFF

Member = tuple[str, Any]  # (name, struct format or CStruct subclass or Address)


class Address:
    """``xfrm_address_t``: 16 bytes, an IPv4 address in the first 4, the rest zero.

    Encodes a ``str``, an ``ipaddress`` object, 16 raw bytes or nothing (all zero); decodes to
    the 16 raw bytes (only the family, stored elsewhere in the struct, says how to read them).
    """

    size = 16

    @staticmethod
    def pack(value: Any) -> bytes:
        if value is None or value == 0:
            return bytes(16)
        if isinstance(value, bytes | bytearray):
            if len(value) != 16:
                raise ValueError(f"xfrm_address_t needs 16 bytes, not {len(value)}")
            return bytes(value)
        return ipaddress.ip_address(value).packed.ljust(16, b"\0")

    @classmethod
    def encode_into(cls, data: bytearray, offset: int, value: Any) -> int:
        data.extend(cls.pack(value))
        return offset + 16

    @staticmethod
    def decode_from(data: bytes, offset: int) -> tuple[bytes, int]:
        return bytes(data[offset:offset + 16]), offset + 16


def address_from(raw: bytes, family: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Read a decoded ``xfrm_address_t`` as the address of ``family`` (AF_INET or AF_INET6)."""
    if family == 2:  # AF_INET
        return ipaddress.IPv4Address(raw[:4])
    return ipaddress.IPv6Address(raw[:16])


def _member_size(fmt: Any) -> int:
    return struct.calcsize("=" + fmt.lstrip(">")) if isinstance(fmt, str) else fmt.size


class CStruct:
    """A fixed-size C struct; values are dicts keyed by member name (``_pad`` members hidden).

    Subclasses set ``members``; formats are ``struct`` formats read in standard sizes with
    native byte order unless they start with ``>`` (the kernel's ``__be16``/``__be32``).
    """

    members: ClassVar[tuple[Member, ...]] = ()
    size: ClassVar[int] = 0

    def __init_subclass__(cls, c_size: int = 0, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.size = sum(_member_size(fmt) for _, fmt in cls.members)
        if c_size and cls.size != c_size:
            raise TypeError(f"{cls.__name__} is {cls.size} bytes, the kernel's is {c_size}")

    @classmethod
    def encode_into(cls, data: bytearray, offset: int, value: Any) -> int:
        value = value or {}
        for name, fmt in cls.members:
            if isinstance(fmt, str):
                size = struct.calcsize("=" + fmt.lstrip(">"))
                data.extend(bytes(size))
                if not name.startswith("_"):
                    order = ">" if fmt.startswith(">") else "="
                    struct.pack_into(order + fmt.lstrip(">"), data, offset, value.get(name, 0))
                offset += size
            else:
                offset = fmt.encode_into(data, offset, value.get(name))
        return offset

    @classmethod
    def decode_from(cls, data: bytes, offset: int) -> tuple[dict[str, Any], int]:
        value: dict[str, Any] = {}
        for name, fmt in cls.members:
            if isinstance(fmt, str):
                order = ">" if fmt.startswith(">") else "="
                fmt = order + fmt.lstrip(">")
                if not name.startswith("_"):
                    value[name] = struct.unpack_from(fmt, data, offset)[0]
                offset += struct.calcsize(fmt)
            else:
                value[name], offset = fmt.decode_from(data, offset)
        return value, offset

    @classmethod
    def pack(cls, value: dict[str, Any]) -> bytes:
        data = bytearray()
        cls.encode_into(data, 0, value)
        return bytes(data)

    @classmethod
    def unpack(cls, data: bytes) -> dict[str, Any]:
        if len(data) < cls.size:
            raise ValueError(f"{cls.__name__} needs {cls.size} bytes, got {len(data)}")
        return cls.decode_from(data, 0)[0]


# --- linux/xfrm.h, in the header's order --------------------------------------------------

class XfrmId(CStruct, c_size=24):
    members = (("daddr", Address), ("spi", ">I"), ("proto", "B"), ("_pad", "3x"))


class Selector(CStruct, c_size=56):
    members = (
        ("daddr", Address), ("saddr", Address),
        ("dport", ">H"), ("dport_mask", ">H"), ("sport", ">H"), ("sport_mask", ">H"),
        ("family", "H"), ("prefixlen_d", "B"), ("prefixlen_s", "B"), ("proto", "B"),
        ("_pad", "3x"), ("ifindex", "i"), ("user", "I"),
    )


class LifetimeCfg(CStruct, c_size=64):
    members = (
        ("soft_byte_limit", "Q"), ("hard_byte_limit", "Q"),
        ("soft_packet_limit", "Q"), ("hard_packet_limit", "Q"),
        ("soft_add_expires_seconds", "Q"), ("hard_add_expires_seconds", "Q"),
        ("soft_use_expires_seconds", "Q"), ("hard_use_expires_seconds", "Q"),
    )


class LifetimeCur(CStruct, c_size=32):
    members = (("bytes", "Q"), ("packets", "Q"), ("add_time", "Q"), ("use_time", "Q"))


class ReplayState(CStruct, c_size=12):
    members = (("oseq", "I"), ("seq", "I"), ("bitmap", "I"))


class ReplayStateEsn(CStruct, c_size=24):
    """Fixed part of ``xfrm_replay_state_esn``; ``bmp_len`` 32-bit words of bitmap follow."""

    members = (("bmp_len", "I"), ("oseq", "I"), ("seq", "I"), ("oseq_hi", "I"),
               ("seq_hi", "I"), ("replay_window", "I"))


class Stats(CStruct, c_size=12):
    members = (("replay_window", "I"), ("replay", "I"), ("integrity_failed", "I"))


class UsersaInfo(CStruct, c_size=224):
    members = (
        ("sel", Selector), ("id", XfrmId), ("saddr", Address), ("lft", LifetimeCfg),
        ("curlft", LifetimeCur), ("stats", Stats), ("seq", "I"), ("reqid", "I"),
        ("family", "H"), ("mode", "B"), ("replay_window", "B"), ("flags", "B"),
        ("_pad", "7x"),  # the struct holds u64s, so its size rounds up to 8
    )


class UsersaId(CStruct, c_size=24):
    members = (("daddr", Address), ("spi", ">I"), ("family", "H"), ("proto", "B"),
               ("_pad", "x"))


class UserspiInfo(CStruct, c_size=232):
    members = (("info", UsersaInfo), ("min", "I"), ("max", "I"))


class UserpolicyInfo(CStruct, c_size=168):
    members = (
        ("sel", Selector), ("lft", LifetimeCfg), ("curlft", LifetimeCur),
        ("priority", "I"), ("index", "I"), ("dir", "B"), ("action", "B"), ("flags", "B"),
        ("share", "B"), ("_pad", "4x"),
    )


class UserpolicyId(CStruct, c_size=64):
    members = (("sel", Selector), ("index", "I"), ("dir", "B"), ("_pad", "3x"))


class UserTmpl(CStruct, c_size=64):
    members = (
        ("id", XfrmId), ("family", "H"), ("_pad1", "2x"), ("saddr", Address),
        ("reqid", "I"), ("mode", "B"), ("share", "B"), ("optional", "B"), ("_pad2", "x"),
        ("aalgos", "I"), ("ealgos", "I"), ("calgos", "I"),
    )


class EncapTmpl(CStruct, c_size=24):
    members = (("encap_type", "H"), ("encap_sport", ">H"), ("encap_dport", ">H"),
               ("_pad", "2x"), ("encap_oa", Address))


class Mark(CStruct, c_size=8):
    members = (("v", "I"), ("m", "I"))


class UserpolicyType(CStruct, c_size=6):
    members = (("type", "B"), ("_pad1", "x"), ("_reserved1", "H"), ("_reserved2", "B"),
               ("_pad2", "x"))


class UserAcquire(CStruct, c_size=280):
    members = (
        ("id", XfrmId), ("saddr", Address), ("sel", Selector), ("policy", UserpolicyInfo),
        ("aalgos", "I"), ("ealgos", "I"), ("calgos", "I"), ("seq", "I"),
    )


class UserExpire(CStruct, c_size=232):
    members = (("state", UsersaInfo), ("hard", "B"), ("_pad", "7x"))


class UserPolexpire(CStruct, c_size=176):
    members = (("pol", UserpolicyInfo), ("hard", "B"), ("_pad", "7x"))


def lifetime_cfg(soft_bytes: int = XFRM_INF, hard_bytes: int = XFRM_INF,
                 soft_packets: int = XFRM_INF, hard_packets: int = XFRM_INF,
                 soft_add_seconds: int = 0, hard_add_seconds: int = 0,
                 soft_use_seconds: int = 0, hard_use_seconds: int = 0) -> dict[str, int]:
    """A ``xfrm_lifetime_cfg`` value; like ip-xfrm(8), unlimited volume and no timers."""
    return {
        "soft_byte_limit": soft_bytes, "hard_byte_limit": hard_bytes,
        "soft_packet_limit": soft_packets, "hard_packet_limit": hard_packets,
        "soft_add_expires_seconds": soft_add_seconds,
        "hard_add_expires_seconds": hard_add_seconds,
        "soft_use_expires_seconds": soft_use_seconds,
        "hard_use_expires_seconds": hard_use_seconds,
    }
