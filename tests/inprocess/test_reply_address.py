"""RFC 7296 §2.11: a response goes back to the address and port the request came from."""

from __future__ import annotations

from tests.inprocess.harness import Pair


def test_responder_answers_the_port_a_request_came_from():
    pair = Pair()
    pair.add()
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.wire.deliver(pair.drop_next())  # IKE_SA_INIT request
    pair.wire.deliver(pair.drop_next())  # IKE_SA_INIT response
    auth = pair.drop_next()  # IKE_AUTH request: pretend it floated to another source port
    floated = (auth.src[0], 4500)
    pair.west.core.options.listen.append(floated)
    pair.wire.owners[floated] = pair.west.core
    pair.east.core.packet_received(auth.data, auth.dst, floated)
    answer = pair.wire.queue[0]
    assert (answer.src, answer.dst) == (auth.dst, floated)
    pair.pump()
    assert reply.finished == 0, reply.texts
    # A retransmitted request is answered the same way, from the cache.
    pair.east.core.packet_received(auth.data, auth.dst, floated)
    assert pair.wire.queue[-1].dst == floated
