"""The control socket: whack's requests in, streams of reply lines out.

pluto listens on ``pluto.ctl`` (mode 0600, so only root can command it), and checks each
client's credentials (SO_PEERCRED): a uid other than root's or pluto's own is refused and its
request never decoded, so a socket made reachable by mistake (a bind mount, a changed mode)
still lets nobody else in. A whack client sends
one request line (:func:`pluto.whack_protocol.decode_request`); the handler (the core's
``whack``) gets the actions and a :class:`StreamReply` that writes
:class:`~pluto.whack_protocol.ReplyLine` lines to that client until ``done()``. The reply may
stay open long after ``whack()`` returns: ``--initiate`` streams the negotiation's progress.

Nothing a client does can hurt pluto: a bad request is answered with RC_BADWHACKMESSAGE, an
error in the handler with RC_LOG_SERIOUS, and a client that goes away early only loses its
lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import stat
import struct
import traceback
from collections.abc import Callable
from typing import Any

from pluto.log import Logger, null_logger
from pluto.whack_protocol import (
    MAX_REQUEST_BYTES,
    RC_BADWHACKMESSAGE,
    RC_LOG_SERIOUS,
    ProtocolError,
    ReplyLine,
    decode_request,
)

Handler = Callable[[list[dict[str, Any]], "StreamReply"], None]

# A client that connects and says nothing is dropped after this long.
REQUEST_TIMEOUT = 10.0
# AF_UNIX paths are limited by sun_path (108 bytes on Linux, with the terminating NUL).
MAX_SOCKET_PATH = 107


class ControlSocketError(Exception):
    """The control socket cannot be created; the message names the path."""


class StreamReply:
    """The WhackReply of one client: ``line()`` and ``done()`` write JSON reply lines."""

    def __init__(self, writer: asyncio.StreamWriter | None) -> None:
        self._writer = writer
        self.finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.lines_dropped = 0

    @property
    def is_done(self) -> bool:
        return self.finished.done()

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    def line(self, rc: int, text: str) -> None:
        if self.is_done:
            return  # the stream is over; a late line has nowhere to go
        self._write(ReplyLine(rc, text))

    def done(self, rc: int = 0) -> None:
        if self.is_done:
            return
        self._write(ReplyLine(rc, "", done=True))
        self.finished.set_result(rc)

    def abandon(self) -> None:
        """The server is closing: end the wait without writing anything more."""
        if not self.is_done:
            self.finished.set_result(-1)

    def _write(self, reply: ReplyLine) -> None:
        if not self.connected:
            self.lines_dropped += 1
            return
        assert self._writer is not None
        self._writer.write(reply.encode())


class WhackServer:
    """Serves the control socket at ``path`` with ``handler`` (the core's ``whack``).

    ``after_request`` runs after every call of the handler: the server re-arms its timer and
    notices a ``shutdown`` request there.
    """

    def __init__(self, path: str, handler: Handler, *, logger: Logger | None = None,
                 after_request: Callable[[], None] = lambda: None,
                 request_timeout: float = REQUEST_TIMEOUT,
                 allowed_uids: frozenset[int] | None = None) -> None:
        self.path = path
        # Root and the user pluto runs as; tests may name others.
        self.allowed_uids = (frozenset({0, os.geteuid()}) if allowed_uids is None
                             else allowed_uids)
        self._handler = handler
        self._logger = logger or null_logger()
        self._after_request = after_request
        self._request_timeout = request_timeout
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.Task] = set()
        self._replies: set[StreamReply] = set()

    async def start(self) -> None:
        if len(os.fsencode(self.path)) > MAX_SOCKET_PATH:
            raise ControlSocketError(f'control socket path "{self.path}" is longer than '
                                     f"{MAX_SOCKET_PATH} bytes")
        _remove_stale_socket(self.path, self._logger)
        old_umask = os.umask(0o177)  # no window in which others could connect
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=self.path, limit=MAX_REQUEST_BYTES + 2)
            os.chmod(self.path, 0o600)
        except OSError as err:
            raise ControlSocketError(f'cannot create control socket "{self.path}": '
                                     f"{err.strerror or err}") from None
        finally:
            os.umask(old_umask)

    async def close(self, grace: float = 1.0) -> None:
        """Stop accepting, give pending replies ``grace`` seconds to flush, remove the socket."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for reply in list(self._replies):
            reply.abandon()
        if self._clients:
            _done, pending = await asyncio.wait(set(self._clients), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        reply = StreamReply(writer)
        self._replies.add(reply)
        try:
            uid = peer_uid(writer)
            if uid is None or uid not in self.allowed_uids:
                who = "a client whose uid is unknown" if uid is None else f"uid {uid}"
                self._logger.log(f"whack: refusing a request from {who}: only root and "
                                 "pluto's own user may command pluto")
                # Read the line away unseen: closing on unread data would reset the
                # connection and whack would not see why it was refused.
                with contextlib.suppress(TimeoutError, ValueError, ConnectionError):
                    await asyncio.wait_for(reader.readline(), self._request_timeout)
                reply.line(RC_BADWHACKMESSAGE, f"permission denied: {who} may not command "
                                               "pluto")
                reply.done(RC_BADWHACKMESSAGE)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
                return
            request = await self._read_request(reader, reply)
            if request is not None:
                self._dispatch(request, reply)
            await reply.finished
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        finally:
            self._replies.discard(reply)
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _read_request(self, reader: asyncio.StreamReader,
                            reply: StreamReply) -> list[dict[str, Any]] | None:
        try:
            line = await asyncio.wait_for(reader.readline(), self._request_timeout)
        except TimeoutError:
            return self._refuse(reply, f"no request within {self._request_timeout:g} seconds")
        except ValueError:  # the stream's limit: longer than any request may be
            return self._refuse(reply, f"request longer than {MAX_REQUEST_BYTES} bytes")
        except ConnectionError:
            reply.abandon()
            return None
        if not line.strip():
            reply.abandon()  # connected and left (whack checking that pluto runs)
            return None
        try:
            return decode_request(line)
        except ProtocolError as err:
            return self._refuse(reply, str(err))

    def _refuse(self, reply: StreamReply, why: str) -> None:
        self._logger.log(f"whack: bad message: {why}")
        reply.line(RC_BADWHACKMESSAGE, f"bad whack message: {why}")
        reply.done(RC_BADWHACKMESSAGE)
        return None

    def _dispatch(self, actions: list[dict[str, Any]], reply: StreamReply) -> None:
        self._logger.debug("whackwatch", f"whack request: {actions}")
        try:
            self._handler(actions, reply)
        except Exception as err:  # a bug in the handler must not take the daemon down
            log_internal_error(self._logger, "handling a whack request", err)
            reply.line(RC_LOG_SERIOUS, f"internal error handling this request: {err!r}")
            reply.done(RC_LOG_SERIOUS)
        finally:
            self._after_request()


def peer_uid(writer: asyncio.StreamWriter) -> int | None:
    """The uid of the process at the other end of a UNIX socket (SO_PEERCRED), or None."""
    sock = writer.get_extra_info("socket")
    if sock is None or getattr(sock, "family", None) != socket.AF_UNIX:
        return None
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


def log_internal_error(logger: Logger, doing: str, err: BaseException) -> None:
    """Log a bug with its traceback, so that tests and scenario runners see it."""
    logger.log(f"pluto: internal error while {doing}: {err!r}")
    for chunk in traceback.format_exception(err):
        for text in chunk.rstrip("\n").split("\n"):
            logger.log("  " + text)


def _remove_stale_socket(path: str, logger: Logger) -> None:
    # We hold the lock file, so a socket here was left by a pluto that is gone.
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ControlSocketError(f'"{path}" exists and is not a socket; not replacing it')
    logger.log(f'removing stale control socket "{path}"')
    try:
        os.unlink(path)
    except OSError as err:
        raise ControlSocketError(f'cannot remove stale control socket "{path}": '
                                 f"{err.strerror}") from None
