"""``whack --showstates``, ``--trafficstatus`` and ``--status`` in libreswan 4.x's line shapes,
each with a ``--json`` form.

Human forms (the shapes of libreswan 4.x, whose transcripts tools already parse)::

    #1: "west-east":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in 3330s; REPLACE in 3600s; newest; idle;
    #2: "west-east":500 STATE_V2_ESTABLISHED_CHILD_SA (established Child SA); REKEY in 28530s; REPLACE in 28800s; newest; eroute owner; IKE SA #1; idle;
    #2: "west-east" esp.12345678@127.0.0.2 esp.9abcdef0@127.0.0.1 tun.0@127.0.0.2 tun.0@127.0.0.1 Traffic: ESPin=0B ESPout=0B ESPmax=2^63B
    #2: "west-east", type=ESP, add_time=1700000000, inBytes=0, outBytes=0, id='@east'

The port after the connection is the peer's IKE port; an instance shows as
``"conn"[1] 203.0.113.209:500``. Timers print in libreswan's order (RETRANSMIT, DISCARD,
LIVENESS, REKEY, REPLACE, EXPIRE); ``newest`` marks the connection's newest IKE SA and newest
Child SA, ``eroute owner`` the Child SA whose policy is installed (the newest). States are
listed by connection, then serial, as libreswan sorts them. Traffic amounts use B, KB, MB, GB
and TB steps of 1024, rounded down; ``tun.0@`` parts appear for tunnel mode only.

``--status`` prints, separated by empty lines: ``using kernel interface: NAME``; one
``interface [NAME ]UDP ADDR:PORT`` line per listened endpoint (the core knows no interface
names unless the host gives ``options.interface_names``, a dict endpoint -> name); the ``debug:``
classes joined by ``+`` and, when any are set, ``impair:`` settings; ``Connection list:`` and
each connection's lines (pluto/connections/status.py, plus ``IKEv2 algorithm newest:`` and
``ESP algorithm newest: ...; pfsgroup=...`` once an SA exists); the totals::

    Total IPsec connections: loaded N, active N
    State Information: DDoS cookies not required, Accepting new IKE connections
    IKE SAs: total(N), half-open(N), open(N), authenticated(N), anonymous(N)
    IPsec SAs: total(N), authenticated(N), anonymous(N)

then the states as ``--showstates`` prints them and an empty ``Bare Shunt list:``. "loaded"
counts connections including instances; "active" those with an established Child SA. An IKE SA
is half-open before its IKE_SA_INIT exchange completes, open until it is authenticated,
authenticated once established; PSK peers are never anonymous. With ``--force-busy`` the DDoS
part reads ``DDoS cookies REQUIRED``; after ``--unlisten`` ``NOT ACCEPTING new IKE connections``.

JSON forms: every line is one JSON object (keys sorted, so the text is stable).

``--showstates --json``: one object per state:
    ``serial`` (int), ``type`` ("IKE" or "CHILD"), ``connection`` (name), ``label`` (as in
    logs, ``"conn"[1] ADDR`` for instances), ``instance`` (N, 0 if not an instance),
    ``state`` (libreswan's name), ``story``, ``timers`` ({"rekey": seconds, ...}, lower case
    event names), ``newest`` (bool), ``local`` / ``remote`` ("ADDR:PORT" of the IKE SA), and
    for an IKE SA: ``initiator`` (bool), ``spi_i`` / ``spi_r`` (16 hex digits), ``peer_id``
    (str or null), ``algorithms`` (e.g. "AES_GCM_16_256-HMAC_SHA2_512-DH19" or null),
    ``children`` (serials); for a Child SA: ``ike_sa`` (serial), ``eroute_owner`` (bool),
    ``mode`` ("tunnel"/"transport"), ``inbound_spi`` / ``outbound_spi`` (8 hex digits),
    ``local_ts`` / ``remote_ts`` (subnets or null), ``algorithms``, ``in_bytes``,
    ``out_bytes``, ``add_time`` (int seconds since the epoch, 0 before install).
``--trafficstatus --json``: one object per established Child SA:
    ``serial``, ``connection``, ``label``, ``type`` ("ESP"), ``add_time``, ``in_bytes``,
    ``out_bytes``, ``peer_id`` (str or null), ``ike_sa``.
``--status --json``: one object:
    ``kernel`` (name), ``interfaces`` (["ADDR:PORT", ...]), ``debug`` ([class, ...]),
    ``impairs`` ({name: value}), ``connections`` ([{``name``, ``label``, ``kind``
    ("permanent"/"template"/"instance"), ``routing``, ``newest_ike``, ``newest_child``
    (serial or 0), ``policy``, ``ike_algorithm_newest``, ``esp_algorithm_newest`` (str or
    null), ``lines`` (the human lines)}]), ``totals`` ({``loaded``, ``active``,
    ``ddos_cookies_required``, ``accepting``, ``ike_sas``: {``total``, ``half_open``,
    ``open``, ``authenticated``, ``anonymous``}, ``ipsec_sas``: {``total``,
    ``authenticated``, ``anonymous``}}), ``states`` (the ``--showstates --json`` objects).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from pluto.connections.connection import Connection, Kind
from pluto.engine.host import Endpoint
from pluto.engine.states import ChildSa, IkeSa, State, StateKind

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

# Timer events as libreswan names them, in the order its state line prints them.
_TIMER_WORDS = (("retransmit", "RETRANSMIT"), ("discard", "DISCARD"), ("liveness", "LIVENESS"),
                ("rekey", "REKEY"), ("replace", "REPLACE"), ("expire", "EXPIRE"))
_HALF_OPEN = (StateKind.STATE_V2_IKE_SA_INIT_I, StateKind.STATE_V2_IKE_SA_INIT_R)
_UNITS = ("B", "KB", "MB", "GB", "TB")
ESP_MAX = "2^63B"  # the kernel's default byte limit: none worth printing


# --- small pieces ---------------------------------------------------------------------------


def readable_bytes(amount: int) -> str:
    """``84B``, ``29KB``, ``3MB``: steps of 1024, rounded down, as libreswan shows traffic."""
    unit = 0
    while amount >= 1024 and unit < len(_UNITS) - 1:
        amount //= 1024
        unit += 1
    return f"{amount}{_UNITS[unit]}"


def _endpoint_text(endpoint: Endpoint | None) -> str | None:
    if endpoint is None:
        return None
    address, port = endpoint
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def _timers(core: Pluto, state: State) -> dict[str, int]:
    """Seconds until each armed timer of ``state``, in libreswan's order."""
    left = {}
    now = core.clock.now()
    for event, _word in _TIMER_WORDS:
        timer = state.timers.get(event)
        if timer is not None and not timer.cancelled:
            left[event] = max(0, int(timer.when - now))
    return left


def _ike_of(core: Pluto, state: State) -> IkeSa | None:
    return state if isinstance(state, IkeSa) else core.states.ike(state.ike_serial)


def _newest(core: Pluto, conn: Connection, cls: type) -> int:
    """The serial of ``conn``'s newest established IKE (or Child) SA, 0 if none."""
    return max((s.serial for s in core.states
                if s.conn is conn and type(s) is cls and s.kind.established), default=0)


def _sorted_states(core: Pluto) -> list[State]:
    return sorted(core.states, key=lambda s: (s.conn.name, s.conn.instance_number, s.serial))


def _algorithms(chosen) -> str | None:
    return chosen.describe() if chosen is not None else None


def _counters(core: Pluto, child: ChildSa) -> tuple[int, int]:
    """(inbound bytes, outbound bytes) as the kernel counts them."""
    from pluto.kernel.ops import KernelError

    ins = outs = 0
    for sa in child.sas:
        try:
            counters = core.kernel.sa_counters(sa.id)
        except KernelError:  # the SA is already gone: nothing to count
            continue
        if sa.id.spi == child.inbound_spi:
            ins = counters.bytes
        else:
            outs = counters.bytes
    return ins, outs


# --- showstates -----------------------------------------------------------------------------


def state_line(core: Pluto, state: State) -> str:
    """``#N: "conn":PORT STATE (story); TIMER in Ns; ...; newest; ...; idle;``"""
    ike = _ike_of(core, state)
    port = ike.remote[1] if ike is not None and ike.remote is not None \
        else state.conn.that.ikeport
    parts = [f"#{state.serial}: {state.conn.label}:{port} {state.kind.name} "
             f"({state.kind.story})"]
    words = dict(_TIMER_WORDS)
    parts += [f"{words[event]} in {left}s" for event, left in _timers(core, state).items()]
    newest = _newest(core, state.conn, type(state)) == state.serial
    if newest:
        parts.append("newest")
    if isinstance(state, ChildSa):
        if newest and state.sas:
            parts.append("eroute owner")
        parts.append(f"IKE SA #{state.ike_serial}")
    # libreswan says "idle" unless a crypto helper is working for the state; ours never is
    # once the handler has returned.
    parts.append("idle")
    return "; ".join(parts) + ";"


def traffic_line(core: Pluto, child: ChildSa) -> str:
    """``#N: "conn" esp.OUT@PEER esp.IN@US [tun.0@PEER tun.0@US] Traffic: ...``"""
    ike = core.states.ike(child.ike_serial)
    local = ike.local[0] if ike is not None and ike.local is not None else "?"
    remote = ike.remote[0] if ike is not None and ike.remote is not None else "?"
    ins, outs = _counters(core, child)
    limit = child.conn.lifetimes.ipsec_max_bytes
    esp_max = readable_bytes(limit) if limit else ESP_MAX
    proto = _protocol(child)
    said = f"{proto}.{child.outbound_spi:x}@{remote} {proto}.{child.inbound_spi:x}@{local}"
    if child.conn.policy.tunnel:
        said += f" tun.0@{remote} tun.0@{local}"
    return (f"#{child.serial}: {child.conn.label} {said} Traffic: "
            f"{proto.upper()}in={readable_bytes(ins)} {proto.upper()}out={readable_bytes(outs)} "
            f"{proto.upper()}max={esp_max}")


def state_json(core: Pluto, state: State) -> dict:
    ike = _ike_of(core, state)
    obj: dict = {
        "serial": state.serial, "connection": state.conn.name, "label": state.conn.label,
        "instance": state.conn.instance_number if state.conn.kind is Kind.INSTANCE else 0,
        "state": state.kind.name, "story": state.kind.story, "timers": _timers(core, state),
        "newest": _newest(core, state.conn, type(state)) == state.serial,
        "local": _endpoint_text(ike.local) if ike is not None else None,
        "remote": _endpoint_text(ike.remote) if ike is not None else None,
    }
    if isinstance(state, IkeSa):
        obj.update(type="IKE", initiator=state.initiator, spi_i=state.spi_i.hex(),
                   spi_r=state.spi_r.hex(),
                   peer_id=None if state.peer_id is None else str(state.peer_id),
                   algorithms=_algorithms(state.chosen), children=list(state.children))
    else:
        assert isinstance(state, ChildSa)
        ins, outs = _counters(core, state)
        obj.update(type="CHILD", ike_sa=state.ike_serial,
                   eroute_owner=obj["newest"] and bool(state.sas),
                   mode="tunnel" if state.conn.policy.tunnel else "transport",
                   inbound_spi=f"{state.inbound_spi:08x}",
                   outbound_spi=f"{state.outbound_spi:08x}",
                   local_ts=None if state.local_ts is None else str(state.local_ts),
                   remote_ts=None if state.remote_ts is None else str(state.remote_ts),
                   algorithms=_algorithms(state.chosen), in_bytes=ins, out_bytes=outs,
                   add_time=int(state.add_time))
    return obj


def _dumps(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True)


def showstates(core: Pluto, json_form: bool = False) -> list[str]:
    out = []
    for state in _sorted_states(core):
        if json_form:
            out.append(_dumps(state_json(core, state)))
            continue
        out.append(state_line(core, state))
        if isinstance(state, ChildSa) and state.sas:
            out.append(traffic_line(core, state))
    return out


# --- trafficstatus --------------------------------------------------------------------------


def _protocol(child: ChildSa) -> str:
    """"esp" or "ah": the Child SA's innermost protocol, as the kernel names it."""
    from pluto.engine.child_sas import protocol

    return protocol(child)


def trafficstatus_line(core: Pluto, child: ChildSa) -> str:
    """``#N: "conn", type=ESP, add_time=T, inBytes=N, outBytes=N, id='PEER'``"""
    ike = core.states.ike(child.ike_serial)
    ins, outs = _counters(core, child)
    peer = f", id='{ike.peer_id}'" if ike is not None and ike.peer_id is not None else ""
    return (f"#{child.serial}: {child.conn.label}, type={_protocol(child).upper()}, "
            f"add_time={int(child.add_time)}, "
            f"inBytes={ins}, outBytes={outs}{peer}")


def _traffic_json(core: Pluto, child: ChildSa) -> dict:
    ike = core.states.ike(child.ike_serial)
    ins, outs = _counters(core, child)
    peer = None if ike is None or ike.peer_id is None else str(ike.peer_id)
    return {"serial": child.serial, "connection": child.conn.name, "label": child.conn.label,
            "type": _protocol(child).upper(), "add_time": int(child.add_time), "in_bytes": ins,
            "out_bytes": outs, "peer_id": peer, "ike_sa": child.ike_serial}


def trafficstatus(core: Pluto, json_form: bool = False) -> list[str]:
    out = []
    for state in _sorted_states(core):
        if isinstance(state, ChildSa) and state.kind.established:
            out.append(_dumps(_traffic_json(core, state)) if json_form
                       else trafficstatus_line(core, state))
    return out


# --- status ---------------------------------------------------------------------------------


def _interfaces(core: Pluto) -> list[str]:
    names = getattr(core.options, "interface_names", None) or {}
    lines = []
    for endpoint in core.options.listen:
        name = names.get(endpoint)
        lines.append(f"interface {name + ' ' if name else ''}UDP {_endpoint_text(endpoint)}")
    return lines


def _impair_text(core: Pluto) -> str | None:
    values = core.impairs.values
    if not values:
        return None
    return "+".join(name if value is True else f"{name}:{value}"
                    for name, value in sorted(values.items()))


def _newest_algorithms(core: Pluto, conn: Connection) -> tuple[str | None, str | None]:
    """(IKE algorithms of the newest IKE SA, "ESP...; pfsgroup=..." of the newest Child SA)."""
    ike = core.states.ike(_newest(core, conn, IkeSa))
    child = core.states.get(_newest(core, conn, ChildSa))
    ike_text = _algorithms(ike.chosen) if ike is not None else None
    esp_text = None
    if isinstance(child, ChildSa) and child.chosen is not None:
        chosen = child.chosen
        integ = "NONE" if chosen.integ is None or chosen.integ.is_none else chosen.integ.fqn
        cipher = replace(chosen, integ=None, ke=None).describe()
        pfs = chosen.ke.fqn if chosen.ke is not None else "<Phase1>"
        esp_text = f"{cipher}-{integ}; pfsgroup={pfs}"
    return ike_text, esp_text


def _connection_lines(core: Pluto, conn: Connection) -> tuple[list[str], dict]:
    from pluto.connections.status import connection_status_lines, policy_string, status_label

    newest_ike, newest_child = _newest(core, conn, IkeSa), _newest(core, conn, ChildSa)
    lines = connection_status_lines(conn, newest_ike=newest_ike or None,
                                    newest_child=newest_child or None)
    ike_text, esp_text = _newest_algorithms(core, conn)
    label = status_label(conn)
    if ike_text is not None:
        at = next((i + 1 for i, line in enumerate(lines)
                   if line.startswith(f"{label}:   IKE algorithms: ")), len(lines))
        lines.insert(at, f"{label}:   IKEv2 algorithm newest: {ike_text}")
    if esp_text is not None:
        lines.append(f"{label}:   ESP algorithm newest: {esp_text}")
    obj = {"name": conn.name, "label": conn.label, "kind": conn.kind.value,
           "routing": "erouted" if newest_child else "unrouted", "newest_ike": newest_ike,
           "newest_child": newest_child, "policy": policy_string(conn),
           "ike_algorithm_newest": ike_text, "esp_algorithm_newest": esp_text,
           "lines": lines}
    return lines, obj


def _totals(core: Pluto) -> dict:
    ikes = [s for s in core.states if isinstance(s, IkeSa)]
    children = [s for s in core.states if isinstance(s, ChildSa) and s.kind.established]
    half_open = sum(1 for s in ikes if s.kind in _HALF_OPEN)
    authenticated = sum(1 for s in ikes if s.kind.established)
    connections = list(core.connections)
    active = sum(1 for c in connections if _newest(core, c, ChildSa))
    return {
        "loaded": len(connections), "active": active,
        "ddos_cookies_required": _cookies_required(core),
        "accepting": bool(core.listening),
        "ike_sas": {"total": len(ikes), "half_open": half_open,
                    "open": len(ikes) - half_open - authenticated,
                    "authenticated": authenticated, "anonymous": 0},
        "ipsec_sas": {"total": len(children), "authenticated": len(children),
                      "anonymous": 0},
    }


def _cookies_required(core: Pluto) -> bool:
    guard = getattr(core, "ddos", None)  # pluto/engine/ddos.py: busy, or auto over threshold
    return guard.cookies_required(core) if guard is not None else bool(core.options.force_busy)


def globalstatus(core: Pluto, json_form: bool = False) -> list[str]:
    """``whack --globalstatus``: ``name=value`` lines (libreswan's shape) of the DDoS
    settings, the half-open IKE SAs, and the datagrams dropped unanswered, by reason."""
    guard = core.ddos
    ddos = guard.status(core)
    limiter = getattr(core.logger.sink, "limiter", None)
    suppressed = limiter.suppressed_total if limiter is not None else 0
    if json_form:
        return [_dumps({**ddos, "log_lines_suppressed": suppressed})]
    out = [f"config.setup.ddos_mode={ddos['ddos_mode']}",
           f"config.setup.ddos_ike_threshold={ddos['ddos_ike_threshold']}",
           f"config.setup.max_halfopen_ike={ddos['max_halfopen_ike']}",
           f"config.setup.max_halfopen_ike_per_peer={ddos['max_halfopen_ike_per_peer']}",
           f"current.ddos.cookies_required={'yes' if ddos['cookies_required'] else 'no'}",
           f"current.states.ike.halfopen={ddos['half_open']}",
           f"current.states.ike.halfopen_peers={ddos['half_open_peers']}",
           f"total.ike.cookies_sent={ddos['cookies_sent']}"]
    out += [f"total.ike.dropped.{reason.replace('-', '_')}={count}"
            for reason, count in ddos["dropped"].items()]
    out.append(f"total.log.suppressed={suppressed}")
    return out


def _totals_lines(totals: dict) -> list[str]:
    ike, ipsec = totals["ike_sas"], totals["ipsec_sas"]
    cookies = "REQUIRED" if totals["ddos_cookies_required"] else "not required"
    accepting = "Accepting" if totals["accepting"] else "NOT ACCEPTING"
    return [
        f"Total IPsec connections: loaded {totals['loaded']}, active {totals['active']}",
        "",
        f"State Information: DDoS cookies {cookies}, {accepting} new IKE connections",
        f"IKE SAs: total({ike['total']}), half-open({ike['half_open']}), open({ike['open']}), "
        f"authenticated({ike['authenticated']}), anonymous({ike['anonymous']})",
        f"IPsec SAs: total({ipsec['total']}), authenticated({ipsec['authenticated']}), "
        f"anonymous({ipsec['anonymous']})",
    ]


def status(core: Pluto, json_form: bool = False) -> list[str]:
    kernel = getattr(core.kernel, "name", "unknown")
    connections = [_connection_lines(core, conn) for conn in core.connections]
    totals = _totals(core)
    if json_form:
        return [_dumps({
            "kernel": kernel,
            "interfaces": [_endpoint_text(e) for e in core.options.listen],
            "debug": sorted(core.logger.flags.names),
            "impairs": dict(sorted(core.impairs.values.items())),
            "connections": [obj for _lines, obj in connections],
            "totals": totals,
            "states": [state_json(core, s) for s in _sorted_states(core)],
        })]
    out = [f"using kernel interface: {kernel}", ""]
    interfaces = _interfaces(core)
    if interfaces:
        out += interfaces + [""]
    out.append("debug: " + "+".join(sorted(core.logger.flags.names)) if core.logger.flags.names
               else "debug:")
    impairs = _impair_text(core)
    if impairs is not None:
        out.append(f"impair: {impairs}")
    out += ["", "Connection list:", ""]
    for lines, _obj in connections:
        out += lines
    if connections:
        out.append("")
    out += _totals_lines(totals)
    out.append("")
    states = showstates(core)
    if states:
        out += states + [""]
    out += ["Bare Shunt list:", ""]
    return out


def lines(core: Pluto, kind: str, json_form: bool = False) -> list[str]:
    """What whack's ``status``, ``showstates`` or ``trafficstatus`` action prints."""
    return {"status": status, "showstates": showstates, "trafficstatus": trafficstatus,
            "globalstatus": globalstatus}[kind](core, json_form)
