"""``whack --showstates``, ``--trafficstatus`` and ``--status`` in libreswan's line shapes,
each with a JSON form (one JSON object per line)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pluto.engine.states import ChildSa, IkeSa, State

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


def _timer_in(core: Pluto, state: State, event: str) -> int | None:
    timer = state.timers.get(event)
    if timer is None or timer.cancelled:
        return None
    return max(0, int(timer.when - core.clock.now()))


def _newest(core: Pluto, state: State) -> bool:
    same = [s for s in core.states if s.conn is state.conn and type(s) is type(state)
            and s.kind.established]
    return bool(same) and max(s.serial for s in same) == state.serial


def state_line(core: Pluto, state: State) -> str:
    port = state.conn.this.ikeport
    parts = [f"#{state.serial}: {state.conn.label}:{port} {state.kind.name} "
             f"({state.kind.story})"]
    for event, word in (("rekey", "REKEY"), ("replace", "REPLACE"), ("discard", "DISCARD"),
                        ("retransmit", "RETRANSMIT")):
        left = _timer_in(core, state, event)
        if left is not None:
            parts.append(f"{word} in {left}s")
    if state.kind.established and _newest(core, state):
        parts.append("newest")
    if isinstance(state, ChildSa):
        parts.append(f"IKE SA #{state.ike_serial}")
    if isinstance(state, IkeSa) and state.outstanding is None or isinstance(state, ChildSa):
        parts.append("idle")
    return "; ".join(parts) + ";"


def _counters(core: Pluto, child: ChildSa) -> tuple[int, int]:
    ins = outs = 0
    for sa in child.sas:
        try:
            counters = core.kernel.sa_counters(sa.id)
        except Exception:  # noqa: BLE001 - the SA may already be gone
            continue
        if sa.id.spi == child.inbound_spi:
            ins = counters.bytes
        else:
            outs = counters.bytes
    return ins, outs


def traffic_line(core: Pluto, child: ChildSa) -> str:
    ike = core.states.ike(child.ike_serial)
    local, remote = (ike.local[0], ike.remote[0]) if ike else ("?", "?")
    ins, outs = _counters(core, child)
    return (f"#{child.serial}: {child.conn.label} esp.{child.outbound_spi:x}@{remote} "
            f"esp.{child.inbound_spi:x}@{local} tun.0@{remote} tun.0@{local} "
            f"Traffic: ESPin={ins}B ESPout={outs}B ESPmax=2^63B")


def trafficstatus_line(core: Pluto, child: ChildSa) -> str:
    ike = core.states.ike(child.ike_serial)
    ins, outs = _counters(core, child)
    peer = f", id='{ike.peer_id}'" if ike is not None and ike.peer_id is not None else ""
    return (f"#{child.serial}: {child.conn.label}, type=ESP, add_time={int(child.add_time)}, "
            f"inBytes={ins}, outBytes={outs}{peer}")


def _state_json(core: Pluto, state: State) -> dict:
    obj = {"serial": state.serial, "connection": state.conn.name, "state": state.kind.name,
           "story": state.kind.story}
    for event in ("rekey", "replace"):
        left = _timer_in(core, state, event)
        if left is not None:
            obj[event] = left
    if isinstance(state, ChildSa):
        ins, outs = _counters(core, state)
        obj.update(ike_sa=state.ike_serial, inbound_spi=f"{state.inbound_spi:08x}",
                   outbound_spi=f"{state.outbound_spi:08x}", in_bytes=ins, out_bytes=outs,
                   add_time=int(state.add_time))
    return obj


def showstates(core: Pluto, json_form: bool = False) -> list[str]:
    out = []
    for state in core.states:
        if json_form:
            out.append(json.dumps(_state_json(core, state)))
            continue
        out.append(state_line(core, state))
        if isinstance(state, ChildSa) and state.sas:
            out.append(traffic_line(core, state))
    return out


def trafficstatus(core: Pluto, json_form: bool = False) -> list[str]:
    out = []
    for state in core.states:
        if isinstance(state, ChildSa) and state.kind.established:
            if json_form:
                out.append(json.dumps(_state_json(core, state)))
            else:
                out.append(trafficstatus_line(core, state))
    return out


def status(core: Pluto, json_form: bool = False) -> list[str]:
    if json_form:
        return [json.dumps({"connections": [c.name for c in core.connections],
                            "states": [_state_json(core, s) for s in core.states]})]
    out = [f"using kernel interface: {getattr(core.kernel, 'name', 'unknown')}", ""]
    try:
        from pluto.connections.status import connection_status_lines
    except ImportError:  # part A's status lines not there yet
        connection_status_lines = None
    for conn in core.connections:
        if connection_status_lines is None:
            out.append(f"{conn.label}: {conn.this.selector()}==={conn.that.selector()}")
            continue
        ikes = [s.serial for s in core.states if isinstance(s, IkeSa) and s.conn is conn
                and s.kind.established]
        children = [s.serial for s in core.states if isinstance(s, ChildSa) and s.conn is conn
                    and s.kind.established]
        out += connection_status_lines(conn, newest_ike=max(ikes, default=None),
                                       newest_child=max(children, default=None))
    out.append("")
    out += showstates(core)
    return out


def lines(core: Pluto, kind: str, json_form: bool = False) -> list[str]:
    return {"status": status, "showstates": showstates,
            "trafficstatus": trafficstatus}[kind](core, json_form)
