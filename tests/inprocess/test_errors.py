"""Error paths of establishment, each answered as RFC 7296 says and reported to whack."""

from __future__ import annotations

from pluto.packet.ikev2 import parse_message
from pluto.packet.ikev2_types import NotifyType
from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import Pair, connection


def _no_retry(pair: Pair) -> None:
    for host in (pair.west, pair.east):
        host.impairs.apply("revival")


def test_wrong_psk_is_authentication_failed():
    pair = Pair(east_secrets='@west @east : PSK "a-different-secret-entirely"\n')
    _no_retry(pair)
    reply = pair.establish()
    assert reply.finished == RC_NOTIFICATION + NotifyType.AUTHENTICATION_FAILED
    assert reply.lines[-1][0] == RC_NOTIFICATION + NotifyType.AUTHENTICATION_FAILED
    assert "AUTHENTICATION_FAILED" in reply.texts[-1]
    assert pair.east.lines_with("does not verify with our PSK; responding with "
                                "AUTHENTICATION_FAILED")
    assert len(pair.west.core.states) == 0 and len(pair.east.core.states) == 0
    assert pair.west.kernel.installed_sas() == [] and pair.east.kernel.installed_sas() == []


def test_responder_without_psk():
    pair = Pair(east_secrets="")
    _no_retry(pair)
    reply = pair.establish()
    assert reply.finished == RC_NOTIFICATION + NotifyType.AUTHENTICATION_FAILED
    assert pair.east.lines_with("no PSK for '@east' and '@west'")


def test_initiator_without_psk_fails_locally():
    pair = Pair(west_secrets="")
    _no_retry(pair)
    reply = pair.establish()
    assert reply.finished == RC_NOTIFICATION + NotifyType.AUTHENTICATION_FAILED
    assert "no PSK" in reply.texts[-1]


def test_no_proposal_chosen_for_ike():
    pair = Pair()
    _no_retry(pair)
    pair.add(connection(ike="aes256-sha2;dh19"), connection(ike="aes_gcm128-sha2;dh20"))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == RC_NOTIFICATION + NotifyType.NO_PROPOSAL_CHOSEN
    assert "NO_PROPOSAL_CHOSEN" in reply.texts[-1]
    assert pair.east.lines_with("no acceptable IKE proposal")


def test_invalid_ke_payload_makes_initiator_retry_with_the_group_asked_for():
    pair = Pair()
    pair.add(connection(ike="aes_gcm256-sha2;dh19+dh20"), connection(ike="aes_gcm256-sha2;dh20"))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert any("received INVALID_KE_PAYLOAD response to DH19; resending IKE_SA_INIT request "
               "with DH20" in t for t in reply.texts)
    assert "group=DH20" in pair.west.lines_with("processed IKE_SA_INIT response")[0]
    sent = [parse_message(d.data) for d in pair.wire.sent]
    notify = sent[1].payloads[0]
    assert notify.notify_type == NotifyType.INVALID_KE_PAYLOAD
    assert notify.data == (20).to_bytes(2, "big")


def test_child_no_proposal_chosen_keeps_the_ike_sa():
    pair = Pair()
    pair.add(connection(esp="aes256-sha2"), connection(esp="aes_gcm128"))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == RC_NOTIFICATION + NotifyType.NO_PROPOSAL_CHOSEN
    assert [s.kind.name for s in pair.west.core.states] == ["STATE_V2_ESTABLISHED_IKE_SA"]
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_V2_ESTABLISHED_IKE_SA"]
    assert pair.west.kernel.installed_sas() == []


def test_ts_unacceptable():
    pair = Pair()
    pair.add(connection(), connection(west_client="198.18.7.0/24"))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == RC_NOTIFICATION + NotifyType.TS_UNACCEPTABLE
    assert pair.east.lines_with("responding with TS_UNACCEPTABLE")


def test_ts_narrowing_by_responder():
    pair = Pair()
    pair.add(connection(east_client="198.18.0.0/16"), connection(east_client="198.18.2.0/24"))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0
    assert "[198.18.1.0/24===198.18.2.0/24]" in reply.texts[-1]


def test_peer_id_mismatch():
    pair = Pair(west_secrets='@west @east : PSK "x-long-enough-secret"\n'
                             '@west @other : PSK "x-long-enough-secret"\n',
                east_secrets='@west @other : PSK "x-long-enough-secret"\n')
    _no_retry(pair)
    east_desc = connection()
    east_desc["right"] = dict(east_desc["right"], id="@other")
    pair.add(connection(), east_desc)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == RC_NOTIFICATION + NotifyType.AUTHENTICATION_FAILED
    assert "peer ID '@other' is not the expected '@east'" in reply.texts[-1]


def test_major_version_is_answered_with_invalid_major_version():
    pair = Pair()
    pair.add()
    pair.west.impairs.apply("major-version-bump")
    _no_retry(pair)
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    request = pair.drop_next()
    pair.wire.deliver(request)
    answer = parse_message(pair.drop_next().data)
    assert answer.is_response
    assert answer.payloads[0].notify_type == NotifyType.INVALID_MAJOR_VERSION
    assert pair.east.lines_with("major version 3 is not 2")


def test_malformed_ike_sa_init_is_answered_with_invalid_syntax():
    pair = Pair()
    pair.add()
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    request = bytearray(pair.drop_next().data)
    request[28 + 2:28 + 4] = (0xFFFF).to_bytes(2, "big")  # first payload's length
    pair.east.core.packet_received(bytes(request), pair.east.endpoint, pair.west.endpoint)
    answer = parse_message(pair.drop_next().data)
    assert answer.payloads[0].notify_type == NotifyType.INVALID_SYNTAX
    assert pair.east.lines_with("dropping malformed message")


def test_unknown_spi_is_ignored():
    pair = Pair()
    pair.establish()
    ike = pair.west.core.states.get(1)
    from pluto.ikev2 import informational
    informational.send_liveness(pair.west.core, ike)
    datagram = bytearray(pair.drop_next().data)
    datagram[0:8] = bytes(range(1, 9))
    pair.east.core.packet_received(bytes(datagram), pair.east.endpoint, pair.west.endpoint)
    assert not pair.wire.queue
    assert pair.east.lines_with("unknown IKE SPIs 0102030405060708")


def test_corrupted_encrypted_message_is_dropped():
    pair = Pair()
    pair.add()
    pair.west.impairs.apply("corrupt-encrypted")
    _no_retry(pair)
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    pair.pump()
    assert pair.east.lines_with("IKE_AUTH message failed its integrity check")
    assert pair.west.lines_with("IMPAIR: ")
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_V2_IKE_SA_INIT_R"]


def test_add_refuses_what_the_exchanges_cannot_do_yet():
    from tests.inprocess.harness import Pair, connection

    pair = Pair()
    for extra, word in (({"authenticate": True}, "AH"), ({"ikev2": False}, "IKEv1")):
        reply = pair.west.whack({"action": "add", "connection": connection(**extra)})
        assert reply.finished != 0 and word in reply.texts[-1], reply.lines
        assert pair.west.core.connections.get("west-east") is None


def test_delete_if_exists_is_quiet_about_a_missing_connection():
    from tests.inprocess.harness import Pair

    pair = Pair()
    reply = pair.west.whack({"action": "delete", "name": "nope", "if_exists": True})
    assert reply.finished == 0 and not reply.lines
    reply = pair.west.whack({"action": "delete", "name": "nope"})
    assert reply.finished == 11
