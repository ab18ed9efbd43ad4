"""XAUTH (draft-ietf-ipsec-isakmp-xauth-06) over the Transaction exchange: the server asks
for a username and password after Main Mode, checks them against ipsec.secrets
(``@user : XAUTH "password"``) and tells the client the result; Quick Mode waits until then.

    server_start        -> REQUEST(XAUTH-TYPE, USER-NAME, USER-PASSWORD)    STATE_XAUTH_R0
    client_request_in   <- REPLY(XAUTH-TYPE, USER-NAME=..., USER-PASSWORD=...) STATE_XAUTH_I1
    server_reply_in     -> SET(XAUTH-STATUS)                                 STATE_XAUTH_R1
    client_status_in    <- ACK(XAUTH-STATUS), then Mode Config or Quick Mode
    server_ack_in       then Mode Config, or done (STATE_MAIN_R3); a failed client is deleted

The client's credentials come from whack (--xauthuser/--xauthpass) or leftxauthusername=.
When one is missing and whack follows the negotiation, whack is prompted as libreswan's is:
RC_USERPROMPT (41) for the username, RC_ENTERSECRET (40) for the password, and the answer
comes back with the ``xauth-answer`` whack action (:func:`answer`). The password is logged
only with the ``private`` debug class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pluto.connections.ids import IdentityError, parse_identity
from pluto.crypto.constant_time import bytes_equal
from pluto.engine import outcome
from pluto.ikev1 import transaction
from pluto.ikev1.states import IsakmpSa, V1StateKind
from pluto.packet.ikev1 import Attribute, ModeConfigPayload
from pluto.packet.ikev1_types import (
    ModeCfgAttribute,
    ModeCfgType,
    NotifyType,
    XauthStatus,
    XauthType,
)
from pluto.whack_protocol import RC_ENTERSECRET, RC_NOTIFICATION, RC_USERPROMPT

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

K = V1StateKind
A = ModeCfgAttribute
_XAUTH_TYPES = range(A.XAUTH_TYPE, A.XAUTH_ANSWER + 1)

Handler = Callable[["Pluto", IsakmpSa, int, ModeConfigPayload], None]


def _values(attr: ModeConfigPayload) -> dict[int, int | bytes]:
    return {a.type: a.value for a in attr.attributes}


def handler_for(isakmp: IsakmpSa, attr: ModeConfigPayload) -> Handler | None:
    """The XAUTH step ``attr`` continues in ``isakmp``'s state, or None."""
    values = _values(attr)
    if not any(t in _XAUTH_TYPES for t in values):
        return None
    kind, cfg = isakmp.kind, attr.cfg_type
    if kind is K.STATE_XAUTH_I0 and cfg == ModeCfgType.REQUEST:
        return client_request_in
    if kind is K.STATE_XAUTH_I1 and cfg == ModeCfgType.SET and A.XAUTH_STATUS in values:
        return client_status_in
    if kind is K.STATE_XAUTH_R0 and cfg == ModeCfgType.REPLY:
        return server_reply_in
    if kind is K.STATE_XAUTH_R1 and cfg == ModeCfgType.ACK:
        return server_ack_in
    return None


# --- server -------------------------------------------------------------------------------


def server_start(core: Pluto, isakmp: IsakmpSa) -> None:
    message_id = transaction.new_message_id(core, isakmp)
    isakmp.cfg_message_id = message_id
    isakmp.cfg_identifier = core.rand.randint(0, 0xFFFF)
    request = ModeConfigPayload(ModeCfgType.REQUEST, [
        Attribute(A.XAUTH_TYPE, XauthType.GENERIC),
        Attribute(A.XAUTH_USER_NAME, b""),
        Attribute(A.XAUTH_USER_PASSWORD, b""),
    ], isakmp.cfg_identifier)
    core.change_state(isakmp, K.STATE_XAUTH_R0)  # type: ignore[arg-type]
    transaction.send(core, isakmp, message_id, request, wait=True)
    core.log_new_state(isakmp, "XAUTH: sending request for username and password")


def server_reply_in(core: Pluto, isakmp: IsakmpSa, message_id: int,
                    attr: ModeConfigPayload) -> None:
    values = _values(attr)
    user_raw, password = values.get(A.XAUTH_USER_NAME), values.get(A.XAUTH_USER_PASSWORD)
    user = user_raw.decode("utf-8", "replace") if isinstance(user_raw, bytes) else ""
    ok = isinstance(password, bytes) and _check(core, isakmp, user, password)
    isakmp.xauth_ok = ok
    if ok:
        isakmp.logger.log(f"XAUTH: User {user}: Authentication Successful")
    else:
        isakmp.logger.log(f"XAUTH: User {user}: Authentication Failed: wrong password or "
                          "unknown user")
    new_id = transaction.new_message_id(core, isakmp)
    isakmp.cfg_message_id = new_id
    status = ModeConfigPayload(ModeCfgType.SET, [
        Attribute(A.XAUTH_STATUS, XauthStatus.OK if ok else XauthStatus.FAIL)],
        isakmp.cfg_identifier)
    core.change_state(isakmp, K.STATE_XAUTH_R1)  # type: ignore[arg-type]
    transaction.send(core, isakmp, new_id, status, wait=True)
    core.log_new_state(isakmp, f"XAUTH: sent status {'OK' if ok else 'FAIL'}")


def _check(core: Pluto, isakmp: IsakmpSa, user: str, password: bytes) -> bool:
    if not user or core.secrets is None:
        return False
    expected = None
    # ipsec.secrets names the user as @alice (a name needs the @); the client sends "alice"
    for text in (user, "@" + user):
        try:
            expected = core.secrets.xauth_password_for(parse_identity(text))
        except (IdentityError, ValueError):
            continue
        if expected is not None:
            break
    if expected is None:
        isakmp.logger.log(f"XAUTH: no XAUTH secret for user '{user}' in ipsec.secrets")
        return False
    isakmp.logger.debug("private", f"XAUTH: user '{user}' sent password {password!r}")
    return bytes_equal(expected, password)


def server_ack_in(core: Pluto, isakmp: IsakmpSa, message_id: int,
                  attr: ModeConfigPayload) -> None:
    if isakmp.xauth_ok:
        transaction.server_step_done(core, isakmp, after_xauth=True)
        return
    isakmp.logger.log("XAUTH: deleting the ISAKMP SA of a client that failed authentication")
    outcome.delete_state(core, isakmp)


# --- client -------------------------------------------------------------------------------


def client_request_in(core: Pluto, isakmp: IsakmpSa, message_id: int,
                      attr: ModeConfigPayload) -> None:
    isakmp.cfg_message_id = message_id
    isakmp.cfg_identifier = attr.identifier
    if isakmp.xauth_user is None:
        isakmp.xauth_user = isakmp.conn.this.v1cfg.xauthusername
    if isakmp.xauth_user is None:
        _prompt(core, isakmp, RC_USERPROMPT, "XAUTH username:")
        return
    if isakmp.xauth_password is None:
        _prompt(core, isakmp, RC_ENTERSECRET, "XAUTH password:")
        return
    _send_credentials(core, isakmp)


def _prompt(core: Pluto, isakmp: IsakmpSa, rc: int, text: str) -> None:
    """Ask the whack following us; without one the client cannot go on."""
    if isakmp.whack is None:
        _client_failed(core, isakmp, "XAUTH: no username or password for the server's "
                                     "request (give them with whack --xauthuser and "
                                     "--xauthpass)")
        return
    isakmp.whack.line(rc, f"{isakmp.logger.prefix}{text}")


def answer(core: Pluto, isakmp: IsakmpSa, username: str | None,
           password: str | None) -> str | None:
    """whack's answer to a prompt; an error text when the state does not wait for one."""
    if isakmp.kind is not K.STATE_XAUTH_I0 or not isakmp.cfg_message_id:
        return f"#{isakmp.serial} is not waiting for XAUTH credentials"
    if username is not None:
        isakmp.xauth_user = username
    if password is not None:
        isakmp.xauth_password = password.encode("utf-8")
    if isakmp.xauth_user is None:
        _prompt(core, isakmp, RC_USERPROMPT, "XAUTH username:")
    elif isakmp.xauth_password is None:
        _prompt(core, isakmp, RC_ENTERSECRET, "XAUTH password:")
    else:
        _send_credentials(core, isakmp)
    return None


def _send_credentials(core: Pluto, isakmp: IsakmpSa) -> None:
    assert isakmp.xauth_user is not None and isakmp.xauth_password is not None
    reply = ModeConfigPayload(ModeCfgType.REPLY, [
        Attribute(A.XAUTH_TYPE, XauthType.GENERIC),
        Attribute(A.XAUTH_USER_NAME, isakmp.xauth_user.encode("utf-8")),
        Attribute(A.XAUTH_USER_PASSWORD, isakmp.xauth_password),
    ], isakmp.cfg_identifier)
    core.change_state(isakmp, K.STATE_XAUTH_I1)  # type: ignore[arg-type]
    transaction.send(core, isakmp, isakmp.cfg_message_id, reply, wait=False)
    core.log_new_state(isakmp, f"XAUTH: answered the request as user '{isakmp.xauth_user}'")


def client_status_in(core: Pluto, isakmp: IsakmpSa, message_id: int,
                     attr: ModeConfigPayload) -> None:
    status = _values(attr).get(A.XAUTH_STATUS)
    ok = status == XauthStatus.OK
    isakmp.xauth_ok = ok
    ack = ModeConfigPayload(ModeCfgType.ACK, [
        Attribute(A.XAUTH_STATUS, XauthStatus.OK if ok else XauthStatus.FAIL)], attr.identifier)
    transaction.send(core, isakmp, message_id, ack, wait=False)
    if not ok:
        _client_failed(core, isakmp, "XAUTH: the server refused our username or password")
        return
    isakmp.logger.log("XAUTH: Successfully Authenticated")
    transaction.client_step_done(core, isakmp, after_xauth=True)


def _client_failed(core: Pluto, isakmp: IsakmpSa, reason: str) -> None:
    """No retry: the same credentials would fail again."""
    core.logger.sink(isakmp.logger.prefix + reason)
    outcome.release_whack(core, isakmp, RC_NOTIFICATION + NotifyType.AUTHENTICATION_FAILED,
                          isakmp.logger.prefix + reason)
    outcome.delete_state(core, isakmp)
