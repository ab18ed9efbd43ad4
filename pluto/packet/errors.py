"""The one exception a codec may raise on bad input."""

from __future__ import annotations


class MalformedMessage(Exception):
    """A message (or payload) that cannot be parsed or must be rejected.

    ``notify`` is the notify message type to answer with, in the numbering of the IKE version
    being parsed (IKEv2: INVALID_SYNTAX = 7, UNSUPPORTED_CRITICAL_PAYLOAD = 1, ...; IKEv1:
    PAYLOAD_MALFORMED = 16, INVALID_PAYLOAD_TYPE = 1, ...). ``data`` is the notification data
    (for UNSUPPORTED_CRITICAL_PAYLOAD, the one-octet payload type). ``reason`` says, for the
    log, what exactly was wrong.
    """

    def __init__(self, reason: str, notify: int, data: bytes = b"") -> None:
        super().__init__(reason)
        self.reason = reason
        self.notify = notify
        self.data = data

    def __repr__(self) -> str:
        return f"MalformedMessage({self.reason!r}, notify={self.notify}, data={self.data!r})"
