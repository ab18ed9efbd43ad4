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

    @property
    def established(self) -> bool:
        return self in ESTABLISHED


ESTABLISHED = frozenset({V1StateKind.STATE_MAIN_R3, V1StateKind.STATE_MAIN_I4,
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


@dataclass
class QuickSa(ChildSa):
    """One Quick Mode exchange and the IPsec SA it makes."""

    message_id: int = 0
    exchange: Exchange = field(default_factory=Exchange)
    offered: Any = None  # our SA payload (initiator)
    keypair: Any = None  # PFS
    g_qm_xy: bytes | None = None
    proposals: list = field(default_factory=list)
