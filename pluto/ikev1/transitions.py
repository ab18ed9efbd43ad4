"""The IKEv1 transition table: (state, exchange, encrypted?) -> handler -> next state.

MI1 (no state yet) and a Quick Mode request (a new message ID on an established ISAKMP SA)
create their states and are dispatched before this table; Informational messages go to
:func:`pluto.ikev1.informational.informational_in` in any state of the ISAKMP SA, and
Transaction messages (XAUTH, Mode Config) to :func:`pluto.ikev1.transaction.message_in`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pluto.ikev1 import aggressive_mode, main_mode, quick_mode, transaction
from pluto.ikev1.states import V1StateKind as K
from pluto.packet.ikev1_types import ExchangeType


@dataclass(frozen=True)
class Transition:
    state: K
    exchange: ExchangeType
    encrypted: bool
    next_state: K
    story: str
    handler: Callable  # (core, isakmp, msg, data) or, for Quick Mode, (core, isakmp, quick, ...)


MAIN, QUICK, AGGR = ExchangeType.MAIN, ExchangeType.QUICK, ExchangeType.AGGRESSIVE

TRANSITIONS: tuple[Transition, ...] = (
    Transition(K.STATE_MAIN_I1, MAIN, False, K.STATE_MAIN_I2,
               "process MR1 (SA), send MI2 (KE, Ni)", main_mode.main_inR1_outI2),
    Transition(K.STATE_MAIN_R1, MAIN, False, K.STATE_MAIN_R2,
               "process MI2 (KE, Ni), send MR2 (KE, Nr)", main_mode.main_inI2_outR2),
    Transition(K.STATE_MAIN_I2, MAIN, False, K.STATE_MAIN_I3,
               "process MR2 (KE, Nr), send MI3 (IDii, HASH_I)", main_mode.main_inR2_outI3),
    Transition(K.STATE_MAIN_R2, MAIN, True, K.STATE_MAIN_R3,
               "process MI3 (IDii, HASH_I), send MR3 (IDir, HASH_R)",
               main_mode.main_inI3_outR3),
    Transition(K.STATE_MAIN_I3, MAIN, True, K.STATE_MAIN_I4,
               "process MR3 (IDir, HASH_R), start XAUTH/ModeCfg or Quick Mode",
               transaction.main_inR3),
    Transition(K.STATE_AGGR_I1, AGGR, False, K.STATE_AGGR_I2,
               "process AR1 (SA, KE, Nr, IDir, HASH_R), send AI2 (HASH_I), start Quick Mode",
               aggressive_mode.aggr_inR1_outI2),
    Transition(K.STATE_AGGR_R1, AGGR, True, K.STATE_AGGR_R2,
               "process AI2 (HASH_I)", aggressive_mode.aggr_inI2),
    Transition(K.STATE_QUICK_I1, QUICK, True, K.STATE_QUICK_I2,
               "process QR1 (HASH(2), SA, Nr, KE), send QI2 (HASH(3)), install SAs",
               quick_mode.quick_inR1_outI2),
    Transition(K.STATE_QUICK_R1, QUICK, True, K.STATE_QUICK_R2,
               "process QI2 (HASH(3)), install SAs", quick_mode.quick_inI2),
)

_INDEX = {(t.state, t.exchange): t for t in TRANSITIONS}


def find(state: K, exchange: int, encrypted: bool) -> Transition | None:
    transition = _INDEX.get((state, exchange))
    if transition is None or transition.encrypted != encrypted:
        return None
    return transition
