"""whack's side of the control socket: send one request, print the reply stream.

Each reply line's text goes to stdout as it arrives (an ``--initiate`` shows its progress
while the negotiation runs); the stream ends with the line marked done, and the exit status
comes from the return codes received (:func:`pluto.whack_protocol.exit_status`).
"""

from __future__ import annotations

import errno
import socket
from typing import Any, TextIO

from pluto.whack_protocol import (
    MAX_REQUEST_BYTES,
    ProtocolError,
    ReplyLine,
    encode_request,
    exit_status,
)
from whack.xauth_prompt import PROMPT_CODES, PromptError, read_answer, send_answer

# Actions whose work goes on in pluto when whack stops listening.
_BACKGROUND_WORK = ("initiate", "rekey-ike", "rekey-child")


class WhackClientError(Exception):
    """whack could not do its part (no pluto, a broken stream, Ctrl-C); exit status 1."""


class PlutoNotRunning(WhackClientError):
    pass


class OutputClosed(Exception):
    """whack's stdout went away (``whack --status | head``); not an OSError on purpose, so
    that it is not mistaken for trouble on the socket."""


def connect(path: str) -> socket.socket:
    """A connected stream socket to pluto's control socket at ``path``."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as err:
        sock.close()
        if err.errno == errno.ENOENT:
            raise PlutoNotRunning(f'Pluto is not running (no "{path}")') from None
        if err.errno == errno.ECONNREFUSED:
            raise PlutoNotRunning(f'Pluto is not running (nothing listens on "{path}")'
                                  ) from None
        raise WhackClientError(f'cannot connect to "{path}": {err.strerror or err}') from None
    return sock


def send_request(path: str, actions: list[dict[str, Any]], out: TextIO) -> int:
    """Run ``actions`` in the pluto at ``path``, printing its replies to ``out``.

    Returns whack's exit status; raises WhackClientError for whack's own problems.
    """
    request = encode_request(actions)
    if len(request) > MAX_REQUEST_BYTES:
        raise WhackClientError(f"request of {len(request)} bytes is longer than pluto "
                               f"accepts ({MAX_REQUEST_BYTES})")
    sock = connect(path)
    try:
        sock.sendall(request)
        return _print_replies(sock, out, shutting_down=_asks(actions, "shutdown"), path=path)
    except KeyboardInterrupt:
        if any(_asks(actions, name) for name in _BACKGROUND_WORK):
            raise WhackClientError("interrupted; the negotiation continues in pluto") from None
        raise WhackClientError("interrupted") from None
    except OSError as err:
        raise WhackClientError(f'talking to pluto on "{path}": {err.strerror or err}'
                               ) from None
    finally:
        sock.close()


def _print_replies(sock: socket.socket, out: TextIO, shutting_down: bool,
                   path: str | None = None) -> int:
    codes: list[int] = []
    with sock.makefile("rb") as stream:
        for raw in stream:
            if not raw.endswith(b"\n"):
                break  # a partial last line: pluto went away in mid-line
            try:
                reply = ReplyLine.decode(raw)
            except ProtocolError as err:
                raise WhackClientError(str(err)) from None
            if reply.rc in PROMPT_CODES and path is not None and not reply.done:
                _answer_prompt(path, reply)  # an XAUTH client asks for its credentials
                continue
            codes.append(reply.rc)
            if not (reply.done and not reply.text):
                _print(out, reply.text)
            if reply.done:
                return exit_status(codes)
    if shutting_down:
        # pluto closes every channel as it exits; that ends a --shutdown normally.
        return exit_status(codes)
    raise WhackClientError("pluto closed the connection before the request was done")


def _answer_prompt(path: str, reply: ReplyLine) -> None:
    try:
        send_answer(connect, path, read_answer(reply.rc, reply.text))
    except PromptError as err:
        raise WhackClientError(str(err)) from None


def _print(out: TextIO, text: str) -> None:
    try:
        out.write(text + "\n")
        out.flush()  # line by line: progress shows while pluto works
    except BrokenPipeError:
        raise OutputClosed() from None


def _asks(actions: list[dict[str, Any]], name: str) -> bool:
    return any(action.get("action") == name for action in actions)
