"""IKEv1 XAUTH between an in-process client (west) and server (east): the Transaction
exchange's four messages and their attributes on the wire, the server's check against
ipsec.secrets, Quick Mode held back until XAUTH succeeded, a wrong password, whack's prompts
(RC 41 username, RC 40 password) and the password kept out of the logs."""

from __future__ import annotations

from pluto.packet.ikev1_types import ModeCfgAttribute as A
from pluto.packet.ikev1_types import ModeCfgType, NotifyType, XauthStatus
from pluto.whack_protocol import RC_ENTERSECRET, RC_NOTIFICATION, RC_USERPROMPT
from tests.inprocess.ikev1_xauth_pair import (
    PASSWORD,
    exchanges,
    transaction_payloads,
    xauth_pair,
)

CLIENT, SERVER = {"xauthclient": True}, {"xauthserver": True}


def _initiate(pair, **creds):
    reply = pair.west.whack({"action": "initiate", "name": "west-east", **creds})
    pair.pump()
    return reply


def _kinds(host) -> list[str]:
    return [s.kind.name for s in host.core.states]


def test_xauth_with_whack_credentials_then_quick_mode():
    pair = xauth_pair(west_end=CLIENT, east_end=SERVER)
    reply = _initiate(pair, xauthuser="alice", xauthpass=PASSWORD)
    assert reply.finished == 0, reply.lines
    assert _kinds(pair.west) == ["STATE_MAIN_I4", "STATE_QUICK_I2"]
    assert _kinds(pair.east) == ["STATE_MAIN_R3", "STATE_QUICK_R2"]
    assert pair.east.lines_with('"west-east" #1: XAUTH: User alice: Authentication Successful')
    assert pair.west.lines_with('"west-east" #1: XAUTH: Successfully Authenticated')
    wire = exchanges(pair)
    assert wire == ["IDENTITY_PROTECTION"] * 6 + ["TRANSACTION"] * 4 + ["QUICK"] * 3  # Quick Mode waits
    attrs = transaction_payloads(pair, pair.east)
    assert [(who, p.cfg_type) for who, p in attrs] == [
        ("east", ModeCfgType.REQUEST), ("west", ModeCfgType.REPLY),
        ("east", ModeCfgType.SET), ("west", ModeCfgType.ACK)]
    request, answer, status, ack = (p for _who, p in attrs)
    assert {a.type: a.value for a in request.attributes} == {
        A.XAUTH_TYPE: 0, A.XAUTH_USER_NAME: b"", A.XAUTH_USER_PASSWORD: b""}
    assert {a.type: a.value for a in answer.attributes} == {
        A.XAUTH_TYPE: 0, A.XAUTH_USER_NAME: b"alice",
        A.XAUTH_USER_PASSWORD: PASSWORD.encode()}
    assert answer.identifier == request.identifier
    assert [(a.type, a.value) for a in status.attributes] == [(A.XAUTH_STATUS, XauthStatus.OK)]
    assert [(a.type, a.value) for a in ack.attributes] == [(A.XAUTH_STATUS, XauthStatus.OK)]
    for host in (pair.west, pair.east):
        assert not [line for line in host.log if PASSWORD in line]
    assert len(pair.west.kernel.installed_sas()) == 2


def test_wrong_password_fails_without_quick_mode():
    pair = xauth_pair(west_end=CLIENT, east_end=SERVER)
    reply = _initiate(pair, xauthuser="alice", xauthpass="guess")
    assert reply.finished == RC_NOTIFICATION + NotifyType.AUTHENTICATION_FAILED
    assert reply.texts[-1] == ('"west-east" #1: XAUTH: the server refused our username or '
                               'password')
    assert pair.east.lines_with("XAUTH: User alice: Authentication Failed")
    assert pair.east.lines_with("XAUTH: deleting the ISAKMP SA of a client that failed")
    assert "QUICK" not in exchanges(pair)
    assert _kinds(pair.west) == [] and _kinds(pair.east) == []
    assert pair.west.kernel.installed_sas() == []


def test_unknown_user_fails():
    pair = xauth_pair(west_end=CLIENT, east_end=SERVER)
    reply = _initiate(pair, xauthuser="mallory", xauthpass=PASSWORD)
    assert reply.finished == RC_NOTIFICATION + NotifyType.AUTHENTICATION_FAILED
    assert pair.east.lines_with("XAUTH: no XAUTH secret for user 'mallory' in ipsec.secrets")


def test_whack_is_prompted_for_username_then_password():
    pair = xauth_pair(west_end=CLIENT, east_end=SERVER)
    reply = _initiate(pair)
    assert reply.finished is None
    assert reply.lines[-1] == (RC_USERPROMPT, '"west-east" #1: XAUTH username:')
    answer = pair.west.whack({"action": "xauth-answer", "serial": 1, "username": "alice"})
    assert answer.finished == 0 and answer.lines == []
    assert reply.lines[-1] == (RC_ENTERSECRET, '"west-east" #1: XAUTH password:')
    pair.west.whack({"action": "xauth-answer", "serial": 1, "password": PASSWORD})
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert _kinds(pair.west) == ["STATE_MAIN_I4", "STATE_QUICK_I2"]


def test_xauthusername_from_the_connection_and_answer_to_a_state_not_waiting():
    pair = xauth_pair(west_end={**CLIENT, "xauthusername": "alice"}, east_end=SERVER)
    reply = _initiate(pair)
    assert reply.lines[-1] == (RC_ENTERSECRET, '"west-east" #1: XAUTH password:')
    wrong = pair.west.whack({"action": "xauth-answer", "serial": 7, "password": "x"})
    assert wrong.finished is not None and "no IKEv1 ISAKMP SA #7" in wrong.texts[-1]


def test_without_credentials_or_whack_the_client_gives_up():
    pair = xauth_pair(west_end=CLIENT, east_end=SERVER)
    _initiate(pair, **{"async": True})
    assert pair.west.lines_with("XAUTH: no username or password for the server's request "
                                "(give them with whack --xauthuser and --xauthpass)")
    assert _kinds(pair.west) == []


def test_lost_request_is_retransmitted_and_duplicate_reply_answered():
    pair = xauth_pair(west_end=CLIENT, east_end=SERVER)
    pair.west.whack({"action": "initiate", "name": "west-east", "xauthuser": "alice",
                     "xauthpass": PASSWORD})
    for _ in range(6):  # Main Mode
        pair.wire.deliver(pair.wire.queue.popleft())
    pair.drop_next()  # the XAUTH request
    pair.pump()
    assert _kinds(pair.east) == ["STATE_XAUTH_R0"]
    pair.advance(pair.east.core.options.retransmit_interval)
    assert pair.east.lines_with("STATE_XAUTH_R0: retransmission")
    assert _kinds(pair.west) == ["STATE_MAIN_I4", "STATE_QUICK_I2"]


def test_client_gives_up_when_the_server_never_asks():
    pair = xauth_pair(west_end=CLIENT)  # east is no XAUTH server: it never asks
    reply = _initiate(pair, xauthuser="alice", xauthpass=PASSWORD)
    assert _kinds(pair.west) == ["STATE_XAUTH_I0"] and reply.finished is None
    pair.advance(pair.west.core.options.retransmit_timeout)
    assert reply.finished is not None and reply.finished != 0
    assert reply.texts[-1].endswith("STATE_XAUTH_I0: 60 seconds without XAUTH or Mode Config "
                                    "from the server; giving up")
    assert _kinds(pair.west) == []


def test_xauth_client_with_aggressive_mode_is_refused_as_not_implemented():
    pair = xauth_pair()
    from tests.inprocess.harness import connection

    desc = connection("aggr", ikev2=False, aggressive=True)
    desc["left"].update(CLIENT)
    reply = pair.west.whack({"action": "add", "connection": desc})
    assert reply.finished != 0
    assert "an XAUTH or Mode Config client with Aggressive Mode is not implemented yet" \
        in reply.texts[-1]
