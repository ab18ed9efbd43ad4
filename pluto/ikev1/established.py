"""What starts when an IKEv1 state has just become established: its lifetime timers
(:mod:`pluto.ikev1.rekey`), and for an ISAKMP SA Dead Peer Detection (:mod:`pluto.ikev1.dpd`)
and XAUTH / Mode Config (:mod:`pluto.ikev1.transaction`). dispatch calls
:func:`after_transition` after every Main Mode and Quick Mode transition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.ikev1 import dpd, rekey, transaction
from pluto.ikev1.states import IsakmpSa, QuickSa, V1StateKind

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


def after_transition(core: Pluto, state: IsakmpSa | QuickSa, before: V1StateKind) -> None:
    if core.states.get(state.serial) is not state or before.established \
            or not state.kind.established:
        return
    if isinstance(state, QuickSa):
        rekey.quick_established(core, state)
        return
    rekey.isakmp_established(core, state)
    dpd.start(core, state)
    transaction.after_phase1(core, state)
