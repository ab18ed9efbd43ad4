"""The control socket server: requests in, reply streams out, nothing a client does hurts pluto."""

import asyncio
import json
import os
import socket
import stat

import pytest

from pluto.log import CollectingLogger, DebugFlags
from pluto.server.whack_server import ControlSocketError, WhackServer
from pluto.whack_protocol import (
    MAX_REQUEST_BYTES,
    RC_BADWHACKMESSAGE,
    RC_LOG_SERIOUS,
    RC_NEW_STATE,
    ReplyLine,
    encode_request,
)


class Recorder:
    """A handler that records requests and answers per a script keyed by the action."""

    def __init__(self):
        self.requests = []
        self.open_replies = []
        self.after = 0

    def __call__(self, actions, reply):
        self.requests.append(actions)
        action = actions[0]["action"]
        if action == "status":
            reply.line(0, "line one")
            reply.line(5, "line two")
            reply.done()
        elif action == "initiate":
            reply.line(0, "initiating")
            self.open_replies.append(reply)  # answered later, outside whack()
        elif action == "myid":
            raise RuntimeError("scripted bug")
        else:
            reply.done(4)

    def after_request(self):
        self.after += 1


async def talk(path, payload: bytes, *, read=True):
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(payload)
    await writer.drain()
    lines = []
    if read:
        while line := await reader.readline():
            lines.append(ReplyLine.decode(line))
    writer.close()
    return lines


def run_with_server(tmp_path, body, *, handler=None, **kwargs):
    """Start a server in tmp_path, run body(server, path, handler), close the server."""
    handler = handler or Recorder()
    logger = CollectingLogger(DebugFlags(["whackwatch"]))
    path = str(tmp_path / "pluto.ctl")

    async def main():
        server = WhackServer(path, handler, logger=logger, after_request=handler.after_request,
                             **kwargs)
        await server.start()
        try:
            return await body(server, path, handler)
        finally:
            await server.close(grace=0.5)

    result = asyncio.run(main())
    return result, logger.lines


def test_socket_is_private_and_removed_on_close(tmp_path):
    async def body(server, path, handler):
        return stat.S_IMODE(os.stat(path).st_mode), stat.S_ISSOCK(os.stat(path).st_mode)

    (mode, is_socket), _ = run_with_server(tmp_path, body)
    assert mode == 0o600 and is_socket
    assert not (tmp_path / "pluto.ctl").exists()


def test_a_request_gets_its_lines_then_done(tmp_path):
    async def body(server, path, handler):
        return await talk(path, encode_request([{"action": "status", "json": False}]))

    replies, log = run_with_server(tmp_path, body)
    assert replies == [ReplyLine(0, "line one"), ReplyLine(5, "line two"),
                       ReplyLine(0, "", done=True)]
    assert "| whack request: [{'action': 'status', 'json': False}]" in log


def test_a_reply_may_end_long_after_whack_returned(tmp_path):
    async def body(server, path, handler):
        client = asyncio.ensure_future(talk(path, encode_request([{"action": "initiate",
                                                                    "name": "west-east"}])))
        while not handler.open_replies:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert not client.done()  # still streaming
        reply = handler.open_replies[0]
        reply.line(0, "established")
        reply.done(RC_NEW_STATE + 2)
        reply.line(0, "too late")  # after done: goes nowhere, raises nothing
        return await client

    replies, _ = run_with_server(tmp_path, body)
    assert replies == [ReplyLine(0, "initiating"), ReplyLine(0, "established"),
                       ReplyLine(RC_NEW_STATE + 2, "", done=True)]


@pytest.mark.parametrize("payload, why", [
    (b"this is not json\n", "request is not JSON"),
    (b"[1, 2]\n", "request is not a JSON object"),
    (json.dumps({"version": 99, "actions": [{"action": "status"}]}).encode() + b"\n",
     "request version 99"),
    (json.dumps({"version": 1, "actions": [{"action": "reboot"}]}).encode() + b"\n",
     "unknown action 'reboot'"),
    (b"\xff\xfe\n", "request is not JSON"),
    (b"{" + b" " * (MAX_REQUEST_BYTES + 10) + b"}\n", "request longer than"),
])
def test_bad_requests_are_answered_and_the_server_goes_on(tmp_path, payload, why):
    async def body(server, path, handler):
        bad = await talk(path, payload)
        good = await talk(path, encode_request([{"action": "status"}]))
        return bad, good

    (bad, good), log = run_with_server(tmp_path, body)
    assert len(bad) == 2
    assert bad[0].rc == RC_BADWHACKMESSAGE and why in bad[0].text
    assert bad[1] == ReplyLine(RC_BADWHACKMESSAGE, "", done=True)
    assert good[-1].done and good[0].text == "line one"
    assert any(line.startswith("whack: bad message: ") and why in line for line in log)


def test_a_silent_client_is_dropped_after_the_timeout(tmp_path):
    async def body(server, path, handler):
        reader, writer = await asyncio.open_unix_connection(path)
        lines = [ReplyLine.decode(line) async for line in reader]
        writer.close()
        return lines

    replies, _ = run_with_server(tmp_path, body, request_timeout=0.1)
    assert replies[0].rc == RC_BADWHACKMESSAGE and "no request within 0.1 seconds" in \
        replies[0].text


def test_a_handler_bug_is_answered_and_logged_with_its_traceback(tmp_path):
    async def body(server, path, handler):
        bug = await talk(path, encode_request([{"action": "myid", "id": "@west"}]))
        after = await talk(path, encode_request([{"action": "status"}]))
        return bug, after, handler.after

    (bug, after, after_count), log = run_with_server(tmp_path, body)
    assert bug[0].rc == RC_LOG_SERIOUS and "scripted bug" in bug[0].text
    assert bug[-1] == ReplyLine(RC_LOG_SERIOUS, "", done=True)
    assert after[0].text == "line one"
    assert after_count == 2  # after_request runs even when the handler raised
    assert any("internal error while handling a whack request" in line for line in log)
    assert any("Traceback" in line for line in log)


def test_a_client_that_leaves_early_only_loses_its_lines(tmp_path):
    async def body(server, path, handler):
        await talk(path, encode_request([{"action": "initiate", "name": "x"}]), read=False)
        while not handler.open_replies:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        reply = handler.open_replies[0]
        for i in range(50):  # the peer is gone: the writes fail and are then dropped
            reply.line(0, f"progress {i}")
            await asyncio.sleep(0)
        reply.done(0)
        dropped = reply.lines_dropped
        return dropped, await talk(path, encode_request([{"action": "status"}]))

    (dropped, replies), _ = run_with_server(tmp_path, body)
    assert dropped > 0
    assert replies[-1].done and replies[0].text == "line one"


def test_connect_and_leave_is_harmless(tmp_path):
    async def body(server, path, handler):
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(path)
        sock.close()
        await asyncio.sleep(0.05)
        return await talk(path, encode_request([{"action": "status"}])), handler.requests

    (replies, requests), _ = run_with_server(tmp_path, body)
    assert replies[-1].done and len(requests) == 1


def test_close_ends_replies_still_open(tmp_path):
    async def body(server, path, handler):
        client = asyncio.ensure_future(talk(path, encode_request([{"action": "initiate",
                                                                    "name": "x"}])))
        while not handler.open_replies:
            await asyncio.sleep(0.01)
        await server.close(grace=0.5)
        return await asyncio.wait_for(client, 2)

    replies, _ = run_with_server(tmp_path, body)
    assert replies == [ReplyLine(0, "initiating")]  # the stream ends without a done line


def test_a_stale_socket_is_replaced(tmp_path):
    path = tmp_path / "pluto.ctl"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens

    async def body(server, path, handler):
        return await talk(path, encode_request([{"action": "status"}]))

    replies, log = run_with_server(tmp_path, body)
    assert replies[-1].done
    assert f'removing stale control socket "{path}"' in log


def test_a_file_that_is_not_a_socket_is_left_alone(tmp_path):
    path = tmp_path / "pluto.ctl"
    path.write_text("precious")
    server = WhackServer(str(path), Recorder())
    with pytest.raises(ControlSocketError, match="exists and is not a socket"):
        asyncio.run(server.start())
    assert path.read_text() == "precious"


def test_paths_too_long_for_a_unix_socket_are_refused(tmp_path):
    server = WhackServer(str(tmp_path / ("x" * 120)), Recorder())
    with pytest.raises(ControlSocketError, match="is longer than 107 bytes"):
        asyncio.run(server.start())


def test_a_missing_directory_is_named(tmp_path):
    path = tmp_path / "nodir" / "pluto.ctl"
    server = WhackServer(str(path), Recorder())
    with pytest.raises(ControlSocketError, match=f'cannot create control socket "{path}"'):
        asyncio.run(server.start())
