"""The IKEv2 transition table: which handler answers which request in which state.

Responses are not in this table: each request remembers its own response handler
(see :mod:`pluto.ikev2.messages`), since the answer to an INFORMATIONAL request means
something different after a Delete than after a liveness probe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pluto.engine.states import StateKind
from pluto.ikev2 import create_child_sa, ike_auth, informational
from pluto.packet.ikev2_types import ExchangeType


@dataclass(frozen=True)
class Transition:
    from_states: tuple[StateKind, ...]
    exchange: ExchangeType
    story: str
    handler: Callable  # (core, ike, msg, payloads, data)


ESTABLISHED = (StateKind.STATE_V2_ESTABLISHED_IKE_SA,)

# IKE_SA_INIT requests create their state and are dispatched before this table.
TRANSITIONS: tuple[Transition, ...] = (
    Transition((StateKind.STATE_V2_IKE_SA_INIT_R,), ExchangeType.IKE_AUTH,
               "process IKE_AUTH request, send IKE_AUTH response", ike_auth.process_request),
    Transition(ESTABLISHED, ExchangeType.CREATE_CHILD_SA,
               "process CREATE_CHILD_SA request (new Child SA, Child or IKE SA rekey), send "
               "response", create_child_sa.process_request),
    Transition(ESTABLISHED, ExchangeType.INFORMATIONAL,
               "process INFORMATIONAL request (Delete, liveness), send response",
               informational.process_request),
)

_INDEX = {(kind, t.exchange): t for t in TRANSITIONS for kind in t.from_states}


def find(kind: StateKind, exchange: int) -> Transition | None:
    return _INDEX.get((kind, exchange))
