"""IKEv1 states: libreswan's Main Mode and Quick Mode names with their stories, and the two
state records (an ISAKMP SA, a Quick Mode / IPsec SA) built on the engine's IkeSa/ChildSa so
the state table, whack streams, status and the kernel code treat them like IKEv2 states.

Main Mode (RFC 2409 §5, PSK)              Quick Mode (RFC 2409 §5.5, PFS)
  I1 --HDR,SA-->              R0            I1 --HDR*,HASH(1),SA,Ni,KE,IDci,IDcr-->   R0
  I2 <--HDR,SA--              R1            I2 <--HDR*,HASH(2),SA,Nr,KE,IDci,IDcr--   R1
  I2 --HDR,KE,Ni-->           R1            I2 --HDR*,HASH(3)-->                      R2
  I3 <--HDR,KE,Nr--           R2
  I3 --HDR*,IDii,HASH_I-->    R2
  I4 <--HDR*,IDir,HASH_R--    R3

XAUTH and Mode Config (pluto/ikev1/transaction.py) move an established ISAKMP SA through
STATE_XAUTH_* and STATE_MODE_CFG_* (not established: no Quick Mode meanwhile) and back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from pluto.engine.states import ChildSa, IkeSa, StoryMixin


class V1StateKind(StoryMixin, enum.Enum):
    """(number, story); numbers continue after the IKEv2 ones (whack's RC_NEW_STATE + n)."""

    STATE_MAIN_R0 = (20, "expecting MI1")
    STATE_MAIN_I1 = (21, "sent MI1, expecting MR1")
    STATE_MAIN_R1 = (22, "sent MR1, expecting MI2")
    STATE_MAIN_I2 = (23, "sent MI2, expecting MR2")
    STATE_MAIN_R2 = (24, "sent MR2, expecting MI3")
    STATE_MAIN_I3 = (25, "sent MI3, expecting MR3")
    STATE_MAIN_R3 = (26, "sent MR3, ISAKMP SA established")
    STATE_MAIN_I4 = (27, "ISAKMP SA established")
    STATE_QUICK_R0 = (28, "expecting QI1")
    STATE_QUICK_I1 = (29, "sent QI1, expecting QR1")
    STATE_QUICK_R1 = (30, "sent QR1, expecting QI2")
    STATE_QUICK_I2 = (31, "sent QI2, IPsec SA established")
    STATE_QUICK_R2 = (32, "IPsec SA established")
    # XAUTH and Mode Config run on the ISAKMP SA between Main Mode and Quick Mode
    STATE_XAUTH_R0 = (33, "XAUTH server: sent request, expecting reply")
    STATE_XAUTH_R1 = (34, "XAUTH server: sent status, expecting ack")
    STATE_XAUTH_I0 = (35, "XAUTH client: expecting request")
    STATE_XAUTH_I1 = (36, "XAUTH client: sent reply, expecting status")
    STATE_MODE_CFG_R1 = (37, "ModeCfg server: sent set, expecting ack")
    STATE_MODE_CFG_I0 = (38, "ModeCfg client: expecting set")
    STATE_MODE_CFG_I1 = (39, "ModeCfg client: sent request, expecting reply")
    # Aggressive Mode (RFC 2409 §5, pluto/ikev1/aggressive_mode.py)
    STATE_AGGR_R0 = (40, "expecting AI1")
    STATE_AGGR_I1 = (41, "sent AI1, expecting AR1")
    STATE_AGGR_R1 = (42, "sent AR1, expecting AI2")
    STATE_AGGR_I2 = (43, "sent AI2, ISAKMP SA established")
    STATE_AGGR_R2 = (44, "ISAKMP SA established")

    @property
    def established(self) -> bool:
        return self in ESTABLISHED


ESTABLISHED = frozenset({V1StateKind.STATE_MAIN_R3, V1StateKind.STATE_MAIN_I4,
                         V1StateKind.STATE_AGGR_I2, V1StateKind.STATE_AGGR_R2,
                         V1StateKind.STATE_QUICK_I2, V1StateKind.STATE_QUICK_R2})


@dataclass
class Exchange:
    """Retransmit and duplicate bookkeeping of one state (RFC 2408 has no message window:
    a state resends its answer when the peer repeats the message it answered, and while it
    waits for the next message it resends on a timer)."""

    last_received: bytes = b""
    last_sent: bytes = b""
    waiting: bool = False  # a reply is expected: retransmit last_sent on the timer
    # last_sent answered last_received: only then does a repeat of last_received get it
    # again (MR3 repeated to an initiator that has nothing to answer must not start a loop)
    answered: bool = False
    first_sent: float = 0.0
    retransmits: int = 0


@dataclass
class DpdState:
    """RFC 3706 bookkeeping of one ISAKMP SA: whether the peer announced DPD, our next
    R-U-THERE sequence number, the one we wait an ACK for, and the last one the peer sent."""

    peer_supports: bool = False
    next_seq: int = 0  # 0: not chosen yet (the first is random, RFC 3706 §7)
    outstanding: int | None = None
    peer_seq: int | None = None


@dataclass
class IsakmpSa(IkeSa):
    """A phase 1 (ISAKMP) SA. ``spi_i``/``spi_r`` are CKY-I and CKY-R."""

    exchange: Exchange = field(default_factory=Exchange)
    sa_i_b: bytes = b""  # body of the initiator's SA payload (HASH_I, HASH_R)
    g_xi: bytes = b""
    g_xr: bytes = b""
    g_xy: bytes = b""
    psk: bytes = b""
    crypto: Any = None  # crypt.Phase1Crypto once SKEYID exists
    phase2: dict[int, int] = field(default_factory=dict)  # message ID -> Quick Mode serial
    seen_ids: set[int] = field(default_factory=set)  # phase-2 message IDs used either way
    dpd: DpdState = field(default_factory=lambda: DpdState())
    # XAUTH client credentials (whack --xauthuser/--xauthpass); the password never logged
    xauth_user: str | None = None
    xauth_password: bytes | None = field(default=None, repr=False)
    xauth_ok: bool | None = None  # server: the status sent; client: the status received
    cfg_message_id: int = 0  # the Transaction exchange under way
    phase1_kind: Any = None  # the established kind XAUTH / Mode Config return to
    cfg_identifier: int = 0
    peer_asked_cert: bool = False  # the peer sent a CR (leftsendcert=sendifasked)


@dataclass
class QuickSa(ChildSa):
    """One Quick Mode exchange and the IPsec SA it makes."""

    message_id: int = 0
    exchange: Exchange = field(default_factory=Exchange)
    offered: Any = None  # our SA payload (initiator)
    keypair: Any = None  # PFS
    g_qm_xy: bytes | None = None
    proposals: list = field(default_factory=list)
    ah_inbound_spi: int = 0  # our AH SPI in an ESP+AH bundle (inbound_spi is ESP's)
