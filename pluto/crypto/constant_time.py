"""Constant-time comparison of MAC, AUTH and HASH values.

An ordinary ``==`` stops at the first differing byte, so the time it takes tells an attacker
how much of a forged ICV or AUTH payload was right. Every check of a received authenticator
goes through :func:`bytes_equal` instead.
"""

from __future__ import annotations

import hmac


def bytes_equal(expected: bytes, received: bytes) -> bool:
    """True when both values are identical; the time taken does not depend on where they differ.

    Values of different length compare unequal (the length itself is not secret).
    """
    return hmac.compare_digest(bytes(expected), bytes(received))
