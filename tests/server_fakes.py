"""A stand-in for the protocol core, for testing the server (sockets, whack, timers, signals).

It has the methods the server drives (pluto/engine/host.py documents the real ones) and a few
scripted behaviours that tests trigger through whack actions and datagrams:

- datagram ``b"ECHO..."``: sent back to where it came from, through the transport;
- whack ``status``: two lines, then done;
- whack ``initiate``: the reply stays open; a timer 0.2 s later writes "established" and ends
  it with RC_NEW_STATE + 2 (the timer loop and a late reply);
- whack ``listen``: one line per IKE endpoint in the options;
- whack ``myid``: raises (a bug in the core must not take the server down);
- whack ``shutdown``: ``shutdown()``, then ``stopping = True`` and done, as agreed with the
  core;
- ``shutdown()``: sends ``b"DELETE"`` to every peer seen.
"""

from __future__ import annotations

from pluto.engine.host import SystemClock, format_endpoint
from pluto.whack_protocol import RC_COMMENT, RC_NEW_STATE

RUNNER = ("import sys; sys.path.insert(0, sys.argv.pop(1)); import server_fakes; "
          "from pluto.main import main; "
          "sys.exit(main(sys.argv[1:], make_core=server_fakes.FakeCore.make))")


class FakeCore:
    def __init__(self, *, transport, logger, options, clock=None) -> None:
        self.transport = transport
        self.logger = logger
        self.options = options
        self.clock = clock or SystemClock()
        self.packets: list[tuple[bytes, object, object]] = []
        self.peers: dict[object, object] = {}  # remote -> local
        self.timers: list[tuple[float, object]] = []
        self.stopping = False
        self.shutdown_calls = 0
        self.requests: list[list[dict]] = []

    @classmethod
    def make(cls, *, opts, transport, logger, core_options):
        return cls(transport=transport, logger=logger, options=core_options)

    # --- the API the server drives -------------------------------------------------------

    def packet_received(self, data, local, remote) -> None:
        self.packets.append((data, local, remote))
        self.peers[remote] = local
        self.logger.log(f"received {len(data)} bytes from {format_endpoint(remote)} "
                        f"on {format_endpoint(local)}")
        if data.startswith(b"ECHO"):
            self.transport.send(data, local, remote)

    def whack(self, actions, reply) -> None:
        self.requests.append(actions)
        for action in actions:
            name = action["action"]
            if name == "status":
                reply.line(RC_COMMENT, "fake status line 1")
                reply.line(RC_COMMENT, "fake status line 2")
            elif name == "listen":
                for endpoint in self.options.listen:
                    reply.line(RC_COMMENT, f"listening on {format_endpoint(endpoint)}")
            elif name == "initiate":
                reply.line(RC_COMMENT, "initiating")
                self.timers.append((self.clock.now() + 0.2, lambda r=reply: self._done(r)))
                return  # the reply stays open
            elif name == "myid":
                raise RuntimeError("scripted failure")
            elif name == "shutdown":
                self.shutdown()
                self.stopping = True
        reply.done()

    def next_deadline(self):
        return min((when for when, _ in self.timers), default=None)

    def run_timers(self) -> None:
        now = self.clock.now()
        due = [t for t in self.timers if t[0] <= now]
        self.timers = [t for t in self.timers if t[0] > now]
        for _, callback in due:
            callback()

    def shutdown(self) -> None:
        self.shutdown_calls += 1
        self.logger.log("fake core shutting down")
        for remote, local in self.peers.items():
            self.transport.send(b"DELETE", local, remote)

    # --- scripted behaviour --------------------------------------------------------------

    def _done(self, reply) -> None:
        reply.line(RC_COMMENT, "established")
        reply.done(RC_NEW_STATE + 2)
