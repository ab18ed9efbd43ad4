"""whack's answer to pluto's XAUTH prompts, as libreswan's whack does it: RC_USERPROMPT (41)
asks for the username (read from the terminal, echoed), RC_ENTERSECRET (40) for the password
(read without echo). The answer goes back on a second connection as an ``xauth-answer``
action for the ISAKMP SA the prompt names (``"conn" #N: XAUTH username:``)."""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable

from pluto.whack_protocol import (
    RC_ENTERSECRET,
    RC_USERPROMPT,
    ProtocolError,
    ReplyLine,
    encode_request,
)

PROMPT_CODES = (RC_USERPROMPT, RC_ENTERSECRET)
_SERIAL = re.compile(r"#(\d+): [^#]*$")


class PromptError(Exception):
    """No answer could be read or delivered."""


def read_answer(rc: int, prompt: str, *, read_line: Callable[[str], str] = input,
                read_secret: Callable[[str], str] = getpass.getpass) -> dict:
    """The ``xauth-answer`` action for prompt line (``rc``, ``prompt``)."""
    found = _SERIAL.search(prompt)
    if found is None:
        raise PromptError(f"XAUTH prompt without a state number: {prompt!r}")
    try:
        if rc == RC_USERPROMPT:
            key, value = "username", read_line(prompt + " ")
        else:
            key, value = "password", read_secret(prompt + " ")
    except EOFError:
        raise PromptError("XAUTH prompt: no answer on standard input") from None
    return {"action": "xauth-answer", "serial": int(found.group(1)), key: value.strip("\n")}


def send_answer(connect: Callable, path: str, action: dict) -> None:
    """Deliver ``action`` to pluto and wait for its (empty) reply."""
    sock = connect(path)
    try:
        sock.sendall(encode_request([action]))
        with sock.makefile("rb") as stream:
            for raw in stream:
                try:
                    reply = ReplyLine.decode(raw)
                except ProtocolError as err:
                    raise PromptError(str(err)) from None
                if reply.done:
                    if reply.rc:
                        raise PromptError(reply.text or "pluto refused the XAUTH answer")
                    return
                if reply.rc:
                    raise PromptError(reply.text)
    finally:
        sock.close()
