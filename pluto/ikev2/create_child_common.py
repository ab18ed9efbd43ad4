"""What the two halves of CREATE_CHILD_SA (Child SAs in create_child_sa.py, the IKE SA rekey
in rekey_ike.py) share: finding payloads in a request or response, refusing a request with a
notify, whether a rekey is under way, and the nonce rule for simultaneous rekeys (§2.8.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.engine.states import ChildSa, IkeSa, State
from pluto.ikev2 import messages
from pluto.packet.ikev2 import Message, NotifyPayload, Payload

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


def find(payloads: list[Payload], cls):
    return next((p for p in payloads if isinstance(p, cls)), None)


def find_notify(payloads: list[Payload], notify_type: int) -> NotifyPayload | None:
    return next((p for p in payloads if isinstance(p, NotifyPayload)
                 and p.notify_type == notify_type), None)


def first_error(payloads: list[Payload]) -> NotifyPayload | None:
    return next((p for p in payloads if isinstance(p, NotifyPayload)
                 and p.notify_type < 16384), None)


def suggested_group(notify: NotifyPayload) -> int | None:
    """The group an INVALID_KE_PAYLOAD notify asks for."""
    return int.from_bytes(notify.data[:2], "big") if len(notify.data) >= 2 else None


def refuse(core: Pluto, ike: IkeSa, msg: Message, notify_type: int, reason: str,
           data: bytes = b"") -> None:
    """Answer ``msg`` with one error notify (the IKE SA stays), logging why."""
    ike.logger.log(f"{reason}; responding with {messages.notify_name(notify_type)}")
    messages.send_response(core, ike, msg, [messages.notify(notify_type, data)],
                           encrypted=True)


def rekey_in_progress(core: Pluto, old: State) -> bool:
    """Whether our own rekey of ``old`` (Child or IKE SA) is under way."""
    if any(not ike.kind.established for ike in core.states.rekeys_of(old.serial)):
        return True
    return any(isinstance(state, ChildSa) and state.replacing == old.serial
               and not state.kind.established and state.initiator
               for state in core.states.for_connection(old.conn))


def nonce_key(ni: bytes, nr: bytes) -> tuple[bytes, bytes]:
    """Orders exchanges by their lowest nonce (octet by octet, §2.8.1); the other breaks ties."""
    return (min(ni, nr), max(ni, nr))
