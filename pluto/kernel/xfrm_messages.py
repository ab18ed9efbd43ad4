"""NETLINK_XFRM messages and attributes, declared with pyroute2's netlink message classes.

pyroute2 has the netlink framing (header, attribute chain, alignment) but no XFRM SA or policy
messages; the declarations below follow the struct layouts of linux/xfrm.h (see
:mod:`pluto.kernel.xfrm_structs`). A message class's ``fields`` are its struct's members, so a
decoded NEWSA reads ``msg["id"]["spi"]``, ``msg["curlft"]["bytes"]``, ``msg.get_attr(...)``.

:func:`encode_request` builds the bytes of one request; :func:`decode_messages` splits what
the kernel sent into decoded messages (errors and acks included).
"""

from __future__ import annotations

import enum
import struct
from typing import Any

from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, nla, nlmsg

from pluto.kernel.xfrm_structs import (
    Address,
    EncapTmpl,
    LifetimeCur,
    Mark,
    ReplayState,
    ReplayStateEsn,
    UserAcquire,
    UserExpire,
    UserPolexpire,
    UserpolicyId,
    UserpolicyInfo,
    UserpolicyType,
    UsersaId,
    UsersaInfo,
    UserspiInfo,
    UserTmpl,
)

NETLINK_XFRM = 6


class XfrmMsg(enum.IntEnum):
    NEWSA = 0x10
    DELSA = 0x11
    GETSA = 0x12
    NEWPOLICY = 0x13
    DELPOLICY = 0x14
    GETPOLICY = 0x15
    ALLOCSPI = 0x16
    ACQUIRE = 0x17
    EXPIRE = 0x18
    UPDPOLICY = 0x19
    UPDSA = 0x1A
    POLEXPIRE = 0x1B
    FLUSHSA = 0x1C
    FLUSHPOLICY = 0x1D


class XfrmGroup(enum.IntEnum):
    """Multicast groups (enum xfrm_nlgroups); bind with ``1 << (group - 1)``."""

    ACQUIRE = 1
    EXPIRE = 2
    SA = 3
    POLICY = 4


# xfrm_usersa_info.flags
XFRM_STATE_NOECN = 1
XFRM_STATE_DECAP_DSCP = 2
XFRM_STATE_NOPMTUDISC = 4
XFRM_STATE_WILDRECV = 8
XFRM_STATE_ICMP = 16
XFRM_STATE_AF_UNSPEC = 32
XFRM_STATE_ALIGN4 = 64
XFRM_STATE_ESN = 128

XFRM_MODE_TRANSPORT = 0
XFRM_MODE_TUNNEL = 1

XFRM_POLICY_IN = 0
XFRM_POLICY_OUT = 1
XFRM_POLICY_FWD = 2

XFRM_POLICY_ALLOW = 0
XFRM_POLICY_BLOCK = 1

# xfrm_encap_tmpl.encap_type: UDP_ENCAP_ESPINUDP (RFC 3948, no non-IKE marker).
UDP_ENCAP_ESPINUDP = 2

IPPROTO = {"esp": 50, "ah": 51, "comp": 108}


class _TrailingBytes:
    """A C flexible array member: the bytes after the fixed part of an attribute.

    Encoding writes the value; decoding yields nothing here, and the owning attribute fills the
    member in from its own length (pyroute2 hands field types no end offset).
    """

    @staticmethod
    def encode_into(data: bytearray, offset: int, value: Any) -> int:
        value = bytes(value or b"")
        data.extend(value)
        return offset + len(value)

    @staticmethod
    def decode_from(data: bytes, offset: int) -> tuple[bytes, int]:
        return b"", offset


class _WithTrailer(nla):
    """An attribute whose last member is ``trailer`` holding the rest of the attribute."""

    trailer = ""
    fixed_size = 0

    def decode(self) -> None:
        super().decode()
        start = self.offset + 4 + self.fixed_size
        self[self.trailer] = bytes(self.data[start:self.offset + self.length])


class XfrmAlgo(_WithTrailer):
    """struct xfrm_algo: XFRMA_ALG_CRYPT, XFRMA_ALG_COMP, XFRMA_ALG_AUTH (untruncated)."""

    fields = (("alg_name", "64s"), ("alg_key_len", "I"), ("alg_key", _TrailingBytes))
    trailer, fixed_size = "alg_key", 68


class XfrmAlgoAuth(_WithTrailer):
    """struct xfrm_algo_auth: XFRMA_ALG_AUTH_TRUNC."""

    fields = (("alg_name", "64s"), ("alg_key_len", "I"), ("alg_trunc_len", "I"),
              ("alg_key", _TrailingBytes))
    trailer, fixed_size = "alg_key", 72


class XfrmAlgoAead(_WithTrailer):
    """struct xfrm_algo_aead: XFRMA_ALG_AEAD."""

    fields = (("alg_name", "64s"), ("alg_key_len", "I"), ("alg_icv_len", "I"),
              ("alg_key", _TrailingBytes))
    trailer, fixed_size = "alg_key", 72


class XfrmReplayEsn(_WithTrailer):
    """struct xfrm_replay_state_esn with its bitmap (``bmp_len`` 32-bit words)."""

    fields = ReplayStateEsn.members + (("bmp", _TrailingBytes),)
    trailer, fixed_size = "bmp", ReplayStateEsn.size


class _TemplateList:
    @staticmethod
    def encode_into(data: bytearray, offset: int, value: Any) -> int:
        for template in value or ():
            offset = UserTmpl.encode_into(data, offset, template)
        return offset

    @staticmethod
    def decode_from(data: bytes, offset: int) -> tuple[list, int]:
        return [], offset


class XfrmTemplates(nla):
    """XFRMA_TMPL: one or more struct xfrm_user_tmpl back to back, in one attribute."""

    fields = (("templates", _TemplateList),)

    def decode(self) -> None:
        super().decode()
        start, end = self.offset + 4, self.offset + self.length
        self["templates"] = [UserTmpl.decode_from(self.data, at)[0]
                             for at in range(start, end - UserTmpl.size + 1, UserTmpl.size)]


def _struct_nla(name: str, cstruct) -> type[nla]:
    return type(name, (nla,), {"fields": cstruct.members})


class XfrmAddress(nla):
    fields = (("addr", Address),)


class _Attributes:
    """The XFRMA_* attribute table shared by every XFRM message (enum xfrm_attr_type_t)."""

    nla_map = (
        (1, "XFRMA_ALG_AUTH", "xfrm_algo"),
        (2, "XFRMA_ALG_CRYPT", "xfrm_algo"),
        (3, "XFRMA_ALG_COMP", "xfrm_algo"),
        (4, "XFRMA_ENCAP", "xfrm_encap_tmpl"),
        (5, "XFRMA_TMPL", "xfrm_templates"),
        (6, "XFRMA_SA", "xfrm_usersa_info"),
        (7, "XFRMA_POLICY", "xfrm_userpolicy_info"),
        (8, "XFRMA_SEC_CTX", "cdata"),
        (9, "XFRMA_LTIME_VAL", "xfrm_lifetime_cur"),
        (10, "XFRMA_REPLAY_VAL", "xfrm_replay_state"),
        (11, "XFRMA_REPLAY_THRESH", "uint32"),
        (12, "XFRMA_ETIMER_THRESH", "uint32"),
        (13, "XFRMA_SRCADDR", "xfrm_address"),
        (14, "XFRMA_COADDR", "xfrm_address"),
        (15, "XFRMA_LASTUSED", "uint64"),
        (16, "XFRMA_POLICY_TYPE", "xfrm_userpolicy_type"),
        (17, "XFRMA_MIGRATE", "cdata"),
        (18, "XFRMA_ALG_AEAD", "xfrm_algo_aead"),
        (19, "XFRMA_KMADDRESS", "cdata"),
        (20, "XFRMA_ALG_AUTH_TRUNC", "xfrm_algo_auth"),
        (21, "XFRMA_MARK", "xfrm_mark"),
        (22, "XFRMA_TFCPAD", "uint32"),
        (23, "XFRMA_REPLAY_ESN_VAL", "xfrm_replay_esn"),
        (24, "XFRMA_SA_EXTRA_FLAGS", "uint32"),
        (25, "XFRMA_PROTO", "uint8"),
        (26, "XFRMA_ADDRESS_FILTER", "cdata"),
        (27, "XFRMA_PAD", "cdata"),
        (28, "XFRMA_OFFLOAD_DEV", "cdata"),
        (29, "XFRMA_SET_MARK", "uint32"),
        (30, "XFRMA_SET_MARK_MASK", "uint32"),
        (31, "XFRMA_IF_ID", "uint32"),
        (32, "XFRMA_MTIMER_THRESH", "uint32"),
    )
    xfrm_algo = XfrmAlgo
    xfrm_algo_auth = XfrmAlgoAuth
    xfrm_algo_aead = XfrmAlgoAead
    xfrm_encap_tmpl = _struct_nla("xfrm_encap_tmpl", EncapTmpl)
    xfrm_templates = XfrmTemplates
    xfrm_usersa_info = _struct_nla("xfrm_usersa_info", UsersaInfo)
    xfrm_userpolicy_info = _struct_nla("xfrm_userpolicy_info", UserpolicyInfo)
    xfrm_lifetime_cur = _struct_nla("xfrm_lifetime_cur", LifetimeCur)
    xfrm_replay_state = _struct_nla("xfrm_replay_state", ReplayState)
    xfrm_address = XfrmAddress
    xfrm_userpolicy_type = _struct_nla("xfrm_userpolicy_type", UserpolicyType)
    xfrm_mark = _struct_nla("xfrm_mark", Mark)
    xfrm_replay_esn = XfrmReplayEsn


class usersa_info_msg(_Attributes, nlmsg):
    """NEWSA, UPDSA; the kernel's answer to GETSA and ALLOCSPI."""

    fields = UsersaInfo.members


class usersa_id_msg(_Attributes, nlmsg):
    """DELSA, GETSA."""

    fields = UsersaId.members


class userspi_info_msg(_Attributes, nlmsg):
    """ALLOCSPI."""

    fields = UserspiInfo.members


class userpolicy_info_msg(_Attributes, nlmsg):
    """NEWPOLICY, UPDPOLICY; the kernel's answer to GETPOLICY."""

    fields = UserpolicyInfo.members


class userpolicy_id_msg(_Attributes, nlmsg):
    """DELPOLICY, GETPOLICY."""

    fields = UserpolicyId.members


class user_acquire_msg(_Attributes, nlmsg):
    """ACQUIRE (kernel to us): a policy matched and no SA exists."""

    fields = UserAcquire.members


class user_expire_msg(_Attributes, nlmsg):
    """EXPIRE (kernel to us): an SA reached a soft or hard limit."""

    fields = UserExpire.members


class user_polexpire_msg(_Attributes, nlmsg):
    """POLEXPIRE (kernel to us): a policy reached a limit."""

    fields = UserPolexpire.members


class nlmsg_error(nlmsg):
    """NLMSG_ERROR: a negative errno (0 for an ack), then the header of the request."""

    fields = (("error", "i"),)


class nlmsg_done(nlmsg):
    fields = ()


# The struct each message type carries, both ways. (The SA and policy multicast groups send
# DELSA/DELPOLICY with other bodies; pluto does not subscribe to them.)
MESSAGE_CLASSES: dict[int, type[nlmsg]] = {
    NLMSG_ERROR: nlmsg_error,
    NLMSG_DONE: nlmsg_done,
    XfrmMsg.NEWSA: usersa_info_msg,
    XfrmMsg.UPDSA: usersa_info_msg,
    XfrmMsg.DELSA: usersa_id_msg,
    XfrmMsg.GETSA: usersa_id_msg,
    XfrmMsg.ALLOCSPI: userspi_info_msg,
    XfrmMsg.NEWPOLICY: userpolicy_info_msg,
    XfrmMsg.UPDPOLICY: userpolicy_info_msg,
    XfrmMsg.DELPOLICY: userpolicy_id_msg,
    XfrmMsg.GETPOLICY: userpolicy_id_msg,
    XfrmMsg.ACQUIRE: user_acquire_msg,
    XfrmMsg.EXPIRE: user_expire_msg,
    XfrmMsg.POLEXPIRE: user_polexpire_msg,
}


def encode_request(msg_type: int, fields: dict[str, Any], attrs: list[tuple[str, Any]] = (),
                   flags: int = NLM_F_REQUEST | NLM_F_ACK, seq: int = 0, pid: int = 0,
                   ) -> bytes:
    """The bytes of one XFRM request: header, the struct, then the attributes in order."""
    msg = MESSAGE_CLASSES[msg_type]()
    for name, value in fields.items():
        msg[name] = value
    msg["attrs"] = [list(attr) for attr in attrs]
    msg["header"]["type"] = msg_type
    msg["header"]["flags"] = flags
    msg["header"]["sequence_number"] = seq
    msg["header"]["pid"] = pid
    msg.encode()
    return bytes(msg.data)


def decode_messages(data: bytes) -> list[nlmsg]:
    """Split one datagram from the kernel into decoded messages.

    Unknown message types come back as bare :class:`nlmsg` with only the header decoded. A
    truncated message raises ValueError.
    """
    messages: list[nlmsg] = []
    offset = 0
    while offset + 16 <= len(data):
        length, msg_type = struct.unpack_from("=IH", data, offset)
        if length < 16 or offset + length > len(data):
            raise ValueError(f"netlink message of length {length} at offset {offset} "
                             f"does not fit in {len(data)} bytes")
        cls = MESSAGE_CLASSES.get(msg_type)
        if cls is None:
            msg = nlmsg(data[offset:offset + length])
            msg.fields = ()
        else:
            msg = cls(data[offset:offset + length])
        msg.decode()
        messages.append(msg)
        offset += (length + 3) & ~3
    return messages


def algorithm_name(raw: bytes) -> str:
    """The kernel's algorithm name from a decoded ``alg_name`` (NUL padded)."""
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")
