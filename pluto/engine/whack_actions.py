"""The whack actions (pluto/whack_protocol.py): one handler per action, run in order.

A sync ``initiate`` keeps the reply stream open: the negotiation's log lines stream to whack
and the actions after it wait until it has succeeded or failed (see pluto/engine/outcome.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pluto.connections.connection import Kind
from pluto.engine import revival
from pluto.engine.host import WhackReply
from pluto.engine.states import ChildSa, IkeSa
from pluto.whack_protocol import (
    RC_BADWHACKMESSAGE,
    RC_COMMENT,
    RC_DEAF,
    RC_DUPNAME,
    RC_ORIENT,
    RC_RTBUSY,
    RC_UNKNOWN_NAME,
    RC_WILDCARD,
)

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


class _Request:
    """One whack request: its actions, where it is, and the stream it answers on."""

    def __init__(self, core: Pluto, actions: list[dict], reply: WhackReply) -> None:
        self.core, self.actions, self.reply = core, actions, reply
        self.index = 0
        self.rc = 0

    def line(self, rc: int, text: str) -> None:
        self.reply.line(rc, text)

    def done(self, rc: int = 0) -> None:
        """A pending action (sync initiate) finished: carry on with the next one."""
        if rc:
            self.rc = rc
        self.resume()

    def resume(self) -> None:
        while self.index < len(self.actions):
            action = self.actions[self.index]
            self.index += 1
            handler = HANDLERS.get(action.get("action"))
            if handler is None:
                self.reply.done(self.fail(RC_BADWHACKMESSAGE,
                                          f"unknown whack action {action.get('action')!r}"))
                return
            try:
                result = handler(self.core, action, self)
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                # a request whose fields have the wrong types: refused, and whack is answered
                self.reply.done(self.fail(RC_BADWHACKMESSAGE,
                                          f"bad {action.get('action')} request: {err}"))
                return
            if result == "pending":
                return
            if isinstance(result, int) and result:
                self.rc = result
                self.reply.done(result)
                return
        self.reply.done(self.rc)

    def fail(self, rc: int, text: str) -> int:
        self.core.logger.log(text)
        self.reply.line(rc, text)
        return rc


def run(core: Pluto, actions: list[dict], reply: WhackReply) -> None:
    _Request(core, actions, reply).resume()


Handler = Callable[["Pluto", dict, _Request], Any]


def _say(core: Pluto, req: _Request, text: str, rc: int = RC_COMMENT) -> None:
    core.logger.log(text)
    req.line(rc, text)


def _add(core: Pluto, action: dict, req: _Request):
    from pluto.connections.builder import ConnectionError as BadConnection
    from pluto.connections.builder import build_connection, legacy_not_implemented
    from pluto.connections.orient import orient

    desc = action["connection"]
    name = desc.get("name", "?") if isinstance(desc, dict) else "?"
    try:
        conn = build_connection(desc, warn=lambda text: _say(core, req, f'"{name}": {text}'))
    except BadConnection as err:
        return req.fail(RC_BADWHACKMESSAGE, f'"{name}": {err}')
    # whack's form could always ask for these; refuse rather than negotiate with a PSK.
    missing = legacy_not_implemented(conn)
    if not conn.policy.ikev2:
        from pluto.ikev1.whack import ikev1_refusal

        refusal = ikev1_refusal(core, conn)
        if refusal is not None:
            missing.insert(0, refusal)
    elif conn.left.v1cfg.any or conn.right.v1cfg.any:
        missing.insert(0, "XAUTH and Mode Config options (xauthserver=, modecfgclient=, "
                          "addresspool=, ...) are IKEv1 only (ikev2=no)")
    if missing:
        return req.fail(RC_BADWHACKMESSAGE, f'"{name}": {missing[0]}')
    from pluto.certs.bind import bind_certs

    cert_problem = bind_certs(conn, core.certs)
    if cert_problem is not None:
        return req.fail(RC_BADWHACKMESSAGE, f'"{name}": {cert_problem}')
    if core.connections.get(conn.name) is not None:
        return req.fail(RC_DUPNAME, f'attempt to redefine connection "{conn.name}"')
    try:
        orient(conn, core.options.listen)
    except BadConnection as err:
        return req.fail(RC_ORIENT, f'"{conn.name}": {err}')
    if conn.that.host is None:
        conn.kind = Kind.TEMPLATE
    core.connections.add(conn)
    _say(core, req, f'added IKEv{2 if conn.policy.ikev2 else 1} connection "{conn.name}"')
    return 0


def _named(core: Pluto, action: dict, req: _Request):
    name = action["name"]
    conn = core.connections.lookup(name)  # a name, or an instance: "road"[1]
    if conn is None:
        req.fail(RC_UNKNOWN_NAME, f'no connection named "{name}"')
    return conn


def _delete(core: Pluto, action: dict, req: _Request):
    from pluto.ikev2 import informational

    if action.get("if_exists") and core.connections.get(action["name"]) is None:
        return 0  # whack --delete with the connection form: replace, nothing to delete yet
    conn = _named(core, action, req)
    if conn is None:
        return RC_UNKNOWN_NAME
    from pluto.engine import routes

    if conn.kind is Kind.INSTANCE:  # "road"[1]: that instance only, the template stays
        informational.terminate_connection(core, conn)
        if core.connections.get_instance(conn.name, conn.instance_number) is conn:
            core.connections.remove_instance(conn)
        core.logger.log(f"{conn.label}: deleting connection instance")
        return 0
    revival.set_up(conn, False)
    routes.unroute(core, conn)
    informational.terminate_connection(core, conn)
    for instance in list(core.connections.instances_of(conn)) if conn.kind is Kind.TEMPLATE \
            else []:
        informational.terminate_connection(core, instance)
    core.connections.delete(conn.name)
    core.logger.log(f'"{conn.name}": deleting connection')
    return 0


def _initiate(core: Pluto, action: dict, req: _Request):
    from pluto.ikev2 import ike_sa_init

    conn = _named(core, action, req)
    if conn is None:
        return RC_UNKNOWN_NAME
    if not core.listening:
        return req.fail(RC_DEAF, "need --listen before --initiate")
    if conn.that.host is None:
        return req.fail(RC_WILDCARD, f'"{conn.name}": cannot initiate a connection whose '
                                     "peer is %any")
    revival.set_up(conn, True)  # meant to be up from now on: revived after a peer's Delete
    live = [s for s in core.states if s.conn is conn and isinstance(s, IkeSa)
            and s.kind.established]
    up = [s for s in core.states if s.conn is conn and isinstance(s, ChildSa)
          and s.kind.established]
    if live and up:
        _say(core, req, f'"{conn.name}": connection is already up with IKE SA '
                        f'#{live[0].serial}')
        return 0
    if not conn.policy.ikev2:
        from pluto.ikev1.whack import initiate as ikev1_initiate

        return ikev1_initiate(core, conn, None if action.get("async") else req,
                              xauth=(action.get("xauthuser"), action.get("xauthpass")))
    from pluto.ikev2 import create_child_sa

    ike = create_child_sa.usable_ike_sa(core, conn)
    if ike is not None:
        # The IKE SA to this peer exists (childless, or another connection's): only the
        # Child SA is negotiated, with CREATE_CHILD_SA.
        child = create_child_sa.initiate_child(core, ike, conn,
                                               whack=None if action.get("async") else req)
        if action.get("async"):
            return 0
        return "pending" if core.states.get(child.serial) is child and child.whack is req \
            else 0
    if action.get("async"):
        ike_sa_init.initiate(core, conn)
        return 0
    ike_sa_init.initiate(core, conn, whack=req)
    # The negotiation may already have ended (an immediate local failure).
    return "pending" if _still_following(core, req) else 0


def _still_following(core: Pluto, req: _Request) -> bool:
    return any(s.whack is req for s in core.states)


def _terminate(core: Pluto, action: dict, req: _Request):
    from pluto.ikev2 import informational

    conn = _named(core, action, req)
    if conn is None:
        return RC_UNKNOWN_NAME
    _say(core, req, f"{conn.label}: terminating SAs using this connection")
    revival.set_up(conn, False)  # taken down on purpose: no revival
    informational.terminate_connection(core, conn)
    return 0


def _deletestate(core: Pluto, action: dict, req: _Request):
    from pluto.ikev2 import informational

    state = core.states.get(int(action["serial"]))
    if state is None:
        return req.fail(RC_UNKNOWN_NAME, f"no state #{action['serial']}")
    revival.set_up(state.conn, False)  # whack took it down: libreswan does not revive it
    informational.delete_sa(core, state)
    return 0


def _status_lines(kind: str) -> Callable:
    def handler(core: Pluto, action: dict, req: _Request):
        from pluto.engine import status

        lines = status.lines(core, kind, json_form=bool(action.get("json")))
        for line in lines:
            req.line(RC_COMMENT, line)
        return 0

    return handler


def _shutdown(core: Pluto, action: dict, req: _Request):
    _say(core, req, "shutting down")
    core.shutdown()
    return 0


def _debug(core: Pluto, action: dict, req: _Request):
    from pluto.log import DebugError, apply_debug_option

    for option, value in action["options"]:
        try:
            apply_debug_option(core.logger.flags, option, value)
        except DebugError as err:
            return req.fail(RC_BADWHACKMESSAGE, str(err))
    return 0


def _impair(core: Pluto, action: dict, req: _Request):
    from pluto import impair

    for option, value in action["arguments"]:
        word = str(value).strip().lower()
        try:
            if option == "--impair" and word == "help":
                for line in impair.help_text().splitlines():
                    req.line(RC_COMMENT, line)
            elif option == "--impair" and word == "list":
                for line in core.impairs.list_lines():
                    req.line(RC_COMMENT, line)
            elif option == "--impair":
                for act in core.impairs.apply(value):
                    _impair_action(core, act, req)
            else:
                core.impairs.remove(value)
        except impair.ImpairError as err:
            return req.fail(RC_BADWHACKMESSAGE, str(err))
    return 0


def _impair_action(core: Pluto, act, req: _Request) -> None:
    from pluto.ikev2 import informational

    state = core.states.get(act.value) if act.value is not None else None
    name = act.spec.name
    if state is None:
        req.fail(RC_UNKNOWN_NAME, f"impair {name}: no state #{act.value}")
        return
    core.logger.impair(f"{name} #{state.serial}")
    if name in ("liveness", "send-liveness"):
        ike = state if isinstance(state, IkeSa) else core.states.ike(state.ike_serial)
        if ike is not None:
            informational.send_liveness(core, ike)
    elif name in ("rekey-ike", "rekey-child", "replace"):
        from pluto.ikev2 import create_child_sa

        error = create_child_sa.impair_action(core, name, state)
        if error is not None:
            req.fail(RC_UNKNOWN_NAME, f"impair {name}: {error}")
    elif name == "delete":
        informational.delete_sa(core, state)
    else:
        req.line(RC_COMMENT, f"impair {name} is not implemented yet")


def _rekey(what: str) -> Handler:
    """rekey-ike / rekey-child NAME: rekey the connection's newest SA of that kind."""

    def handler(core: Pluto, action: dict, req: _Request):
        from pluto.ikev2 import create_child_sa

        conn = _named(core, action, req)
        if conn is None:
            return RC_UNKNOWN_NAME
        cls = IkeSa if what == "ike" else ChildSa
        states = [s for s in core.states if isinstance(s, cls) and s.kind.established
                  and (s.conn is conn or s.conn.template is conn)
                  and not getattr(s, "rekeyed_to", None)]
        if not states:
            return req.fail(RC_UNKNOWN_NAME, f'"{conn.name}": no established '
                                             f'{"IKE" if what == "ike" else "Child"} SA to '
                                             "rekey")
        whack = None if action.get("async") else req
        old = states[-1]
        if not old.conn.policy.ikev2:  # IKEv1: a new Main Mode or Quick Mode
            from pluto.ikev1 import rekey as ikev1_rekey

            new = ikev1_rekey.start_rekey(core, old, whack=whack)
        elif what == "ike":
            new = create_child_sa.rekey_ike(core, old, whack=whack)
        else:
            new = create_child_sa.rekey_child(core, old, whack=whack)
        if new is None:
            return req.fail(RC_UNKNOWN_NAME, f"{old.label}: cannot rekey it now (a rekey is "
                                             "already in progress?)")
        if whack is None:
            _say(core, req, f"{old.label}: rekey started as #{new.serial}")
            return 0
        return "pending" if core.states.get(new.serial) is new and new.whack is req else 0

    return handler


def _listen(core: Pluto, action: dict, req: _Request):
    core.listening = True
    from pluto.engine.host import format_endpoint

    for endpoint in core.options.listen:
        _say(core, req, f"adding UDP interface {format_endpoint(endpoint)}")
    _say(core, req, "listening for IKE messages")
    return 0


def _unlisten(core: Pluto, action: dict, req: _Request):
    core.listening = False
    _say(core, req, "no longer listening for IKE messages")
    return 0


def _not_yet(core: Pluto, action: dict, req: _Request):
    return req.fail(RC_BADWHACKMESSAGE, f"whack action {action['action']} is not implemented "
                                        "yet")


def _rereadsecrets(core: Pluto, action: dict, req: _Request):
    """Reload the secrets files pluto started with; on an error the old secrets stay."""
    from pluto.connections.secrets import Secrets, SecretsError
    from pluto.whack_protocol import RC_LOG_SERIOUS

    patterns = list(core.options.secrets_patterns)
    for pattern in patterns:
        _say(core, req, f'loading secrets from "{pattern}"')
    try:
        secrets = Secrets.load(patterns, warn=lambda text: _say(core, req, text))
    except (SecretsError, OSError) as err:
        return req.fail(RC_LOG_SERIOUS, f"rereadsecrets failed, keeping the old secrets: {err}")
    core.secrets = secrets
    return 0


def _rereadcerts(core: Pluto, action: dict, req: _Request):
    """Reload the certificate store (and the keys the secrets name for it)."""
    from pluto.certs.loading import load

    load(core.certs, core.secrets, lambda text: _say(core, req, text), always=True)
    return 0


def _cert_listing(kind: str) -> Callable:
    def handler(core: Pluto, action: dict, req: _Request):
        from pluto.certs import loading

        for line in getattr(loading, f"list_{kind}")(core.certs):
            req.line(RC_COMMENT, line)
        return 0

    return handler


def _route(core: Pluto, action: dict, req: _Request):
    """Install the connection's trap policy: its first packet starts the negotiation."""
    from pluto.engine import routes
    from pluto.whack_protocol import RC_ROUTE

    conn = _named(core, action, req)
    if conn is None:
        return RC_UNKNOWN_NAME
    failure = routes.route(core, conn)
    if failure is not None:
        return req.fail(RC_ROUTE, failure)
    return 0


def _unroute(core: Pluto, action: dict, req: _Request):
    from pluto.engine import routes

    conn = _named(core, action, req)
    if conn is None:
        return RC_UNKNOWN_NAME
    route = core.routes.get(conn.name)
    busy = None if route is None else routes.child_owning(core, route.policy)
    if busy is not None:
        # pluto(8): unrouting is refused while an IPsec SA uses the route
        return req.fail(RC_RTBUSY, f"{conn.label}: cannot unroute: route busy (IPsec SA "
                                   f"#{busy.serial} uses it; --terminate it first)")
    routes.unroute(core, conn)
    return 0


def _addkey(core: Pluto, action: dict, req: _Request):
    """whack --keyid ID [--pubkeyrsa KEY] [--addkey]: the peer keys IKE_AUTH verifies with."""
    from pluto.certs.pubkeys import store_of
    from pluto.connections.ids import IdentityError, parse_identity
    from pluto.crypto.hostkey import HostKeyError, parse_public_key

    if not isinstance(action.get("id"), str):
        return req.fail(RC_BADWHACKMESSAGE, "--keyid: the ID must be a string")
    try:
        identity = parse_identity(action["id"])
        key = None if action.get("pubkey") is None else parse_public_key(action["pubkey"])
    except (IdentityError, HostKeyError) as err:
        return req.fail(RC_BADWHACKMESSAGE, f"--keyid {action['id']}: {err}")
    store = store_of(core)
    if key is None:
        store.forget(identity)
        core.logger.log(f"forgot the public keys of '{identity}'")
        return 0
    store.add(identity, key, replace=bool(action.get("replace", True)))
    core.logger.log(f"added public key for '{identity}'")
    return 0


def _xauth_answer(core: Pluto, action: dict, req: _Request):
    """whack's answer to an XAUTH prompt of state ``serial`` (pluto/ikev1/xauth.py)."""
    from pluto.ikev1.whack import xauth_answer

    problem = xauth_answer(core, int(action["serial"]), action.get("username"),
                           action.get("password"))
    return 0 if problem is None else req.fail(RC_BADWHACKMESSAGE, problem)


HANDLERS: dict[str, Handler] = {
    "xauth-answer": _xauth_answer,
    "addkey": _addkey,
    "add": _add,
    "delete": _delete,
    "deletestate": _deletestate,
    "initiate": _initiate,
    "terminate": _terminate,
    "status": _status_lines("status"),
    "showstates": _status_lines("showstates"),
    "trafficstatus": _status_lines("trafficstatus"),
    "globalstatus": _status_lines("globalstatus"),
    "shutdown": _shutdown,
    "debug": _debug,
    "impair": _impair,
    "listen": _listen,
    "unlisten": _unlisten,
    "route": _route,
    "unroute": _unroute,
    "rekey-ike": _rekey("ike"),
    "rekey-child": _rekey("child"),
    "myid": _not_yet,
    "rereadsecrets": _rereadsecrets,
    "rereadcerts": _rereadcerts,
    "listcerts": _cert_listing("certs"),
    "listcacerts": _cert_listing("cacerts"),
    "listcrls": _cert_listing("crls"),
}
