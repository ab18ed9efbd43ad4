"""``pluto --config FILE`` at start-up: add the conns that ask for it, through whack's API.

Each conn with ``auto=add``, ``route``/``ondemand`` or ``start``/``up`` is sent to the core as
the same ``add`` action ``ipsec add`` sends (one per sub-connection of leftsubnets); ``start``
then initiates it (asynchronously: pluto does not wait for the peer); ``route`` installs the
trap policy whose first packet starts the negotiation (the same ``route`` action as
``ipsec route``). A conn that cannot be used is logged with its file and line, and the others
still load, as libreswan does.
"""

from __future__ import annotations

from typing import Any, Protocol

from pluto.config.conn_to_description import auto_of, checked_descriptions
from pluto.config.ipsec_conf import IpsecConf
from pluto.config.lexer import ConfigError


class WhackCore(Protocol):
    def whack(self, actions: list[dict[str, Any]], reply: Any) -> None: ...


class LoggedReply:
    """The reply of a start-up request: the core logs each line itself, so this only keeps
    the return codes (a start-up add has no whack to answer)."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self.rc: int | None = None

    def line(self, rc: int, text: str) -> None:
        self.lines.append((rc, text))

    def done(self, rc: int = 0) -> None:
        self.rc = rc


def load_connections(core: WhackCore, conf: IpsecConf, log) -> list[str]:
    """Add (and route or initiate) every conn whose auto= asks for it; the names added."""
    added: list[str] = []
    for conn in conf.conns.values():
        try:
            auto = auto_of(conn)
            if auto == "ignore":
                continue
            descriptions = checked_descriptions(conf, conn.name)
        except ConfigError as err:
            log(f"{conf.path}: conn {conn.name} not loaded: {err}")
            continue
        for desc in descriptions:
            name = desc["name"]
            reply = LoggedReply()
            core.whack([{"action": "add", "connection": desc}], reply)
            if reply.rc:
                # the core has logged why; say which file the refused conn came from
                why = reply.lines[-1][1] if reply.lines else f"error {reply.rc}"
                log(f"{conf.path}: conn {conn.name} not loaded: {why}")
                continue
            added.append(name)
            if auto == "route":
                core.whack([{"action": "route", "name": name}], LoggedReply())
            elif auto == "start":
                core.whack([{"action": "initiate", "name": name, "async": True}],
                           LoggedReply())
    return added
