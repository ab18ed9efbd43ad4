"""The ``whack --status`` lines of one connection, in libreswan 4.x's shapes.

The first line is the topology, our end first once oriented::

    "westnet-eastnet": 198.18.1.0/24===198.51.100.45[@west]...198.51.100.23[@east]===198.18.2.0/24; unrouted; eroute owner: #0

Each end is ``CLIENT===HOST[ID]---NEXTHOP`` (mirrored for the peer), leaving out what is
default, as libreswan's connection_status.c does: the client when it is just the host, the ID
when it is the host's address (or unset), the IKE port when it is 500 (with a port an IPv6
address is bracketed: ``[2001:db8::1]:4500``), and the next hop when unset or the peer itself;
the peer's next hop is not shown once the connection is oriented. An instance is labelled
``"conn"[N]``. The other lines follow the first, indented like libreswan's, in a fixed order; ``my_ip`` and
``their_ip`` are the ends' ``sourceip`` (ipsec.conf's leftsourceip/rightsourceip).
"""

from __future__ import annotations

import ipaddress

from pluto.connections.connection import AuthBy, Connection, End, Kind
from pluto.connections.ids import Identity
from pluto.crypto.proposals import format_proposals, parse_ah, parse_esp, parse_ike
from pluto.kernel.volume_limits import format_limit

IKE_PORT = 500


def status_label(conn: Connection) -> str:
    """``"conn"`` or, for an instance, ``"conn"[N]`` (status omits the peer address)."""
    if conn.kind is Kind.INSTANCE:
        return f'"{conn.name}"[{conn.instance_number}]'
    return f'"{conn.name}"'


def connection_status_lines(conn: Connection, *, newest_ike: int | None,
                            newest_child: int | None, routing: str | None = None,
                            eroute_owner: int | None = None) -> list[str]:
    """The status lines for ``conn``; ``newest_*`` are state serial numbers (None: none).

    ``routing`` is libreswan's routing story ("unrouted", "prospective erouted", "erouted");
    by default "erouted" with the newest Child SA as owner when there is one, else "unrouted".
    """
    if routing is None:
        routing = "erouted" if newest_child else "unrouted"
    if eroute_owner is None:
        eroute_owner = newest_child or 0
    label = status_label(conn)
    ours, theirs = _our_end(conn), _their_end(conn)
    ike_sa, child_sa = ("IKE SA", "Child SA") if conn.policy.ikev2 else ("ISAKMP SA",
                                                                          "IPsec SA")
    auth = _auth_name(conn.policy.auth)
    lines = [
        f"{label}: {connection_topology(conn)}; {routing}; eroute owner: #{eroute_owner}",
        f"{label}:     {'oriented' if conn.oriented else 'unoriented'}; "
        f"my_ip={ours.sourceip or 'unset'}; their_ip={theirs.sourceip or 'unset'};"
        + (f" my_updown={ours.updown};" if ours.updown else ""),
        f"{label}:   our auth:{auth}, their auth:{auth};",
        f"{label}:   {_lifetimes(conn)}",
        f"{label}:   policy: {policy_string(conn)};",
        f"{label}:   our idtype: {_id_type(ours)}; our id={_id_text(ours)}; "
        f"their idtype: {_id_type(theirs)}; their id={_id_text(theirs)}",
        f"{label}:   newest {ike_sa}: #{newest_ike or 0}; newest {child_sa}: "
        f"#{newest_child or 0};",
    ]
    if conn.ike is not None:
        lines.append(f"{label}:   IKE algorithms: {format_proposals(parse_ike(conn.ike))}")
    if conn.esp is not None:
        if conn.policy.encrypt:
            child = format_proposals(parse_esp(conn.esp, pfs=conn.policy.pfs))
            lines.append(f"{label}:   ESP algorithms: {child}")
        else:
            child = format_proposals(parse_ah(conn.esp, pfs=conn.policy.pfs))
            lines.append(f"{label}:   AH algorithms: {child}")
    return lines


def connection_topology(conn: Connection) -> str:
    """``CLIENT===HOST[ID]---HOP...HOP---HOST[ID]===CLIENT``, our end first once oriented."""
    first, second = _our_end(conn), _their_end(conn)
    return (_left_side(first, second) + "..."
            + _right_side(second, first, skip_next_hop=conn.oriented))


def policy_string(conn: Connection) -> str:
    """``IKEv2+PSK+ENCRYPT+TUNNEL+PFS``: libreswan's policy bits that apply here, in its order."""
    policy = conn.policy
    parts = ["IKEv2" if policy.ikev2 else "IKEv1", policy.auth.name]
    if policy.encrypt:
        parts.append("ENCRYPT")
    if policy.authenticate:
        parts.append("AUTHENTICATE")
    if policy.compress:
        parts.append("COMPRESS")
    parts.append("TUNNEL" if policy.tunnel else "TRANSPORT")
    if policy.pfs:
        parts.append("PFS")
    if policy.disablearrivalcheck:
        parts.append("DISABLEARRIVALCHECK")
    if not conn.lifetimes.rekey:
        parts.append("DONT_REKEY")
    if policy.aggressive:  # IKEv1 Aggressive Mode; libreswan names it after DONT_REKEY
        parts.append("AGGRESSIVE")
    return "+".join(parts)


# --- pieces --------------------------------------------------------------------------------

def _our_end(conn: Connection) -> End:
    return conn.this if conn.oriented else conn.left


def _their_end(conn: Connection) -> End:
    return conn.that if conn.oriented else conn.right


def _left_side(end: End, other: End) -> str:
    return _client(end, "{}===") + _host(end) + _id(end) + _next_hop(end, other, "---{}")


def _right_side(end: End, other: End, *, skip_next_hop: bool) -> str:
    hop = "" if skip_next_hop else _next_hop(end, other, "{}---")
    return hop + _host(end) + _id(end) + _client(end, "==={}")


def _host(end: End) -> str:
    if end.host is None:
        return "%any" if end.ikeport == IKE_PORT else f"%any:{end.ikeport}"
    if end.ikeport == IKE_PORT:
        return str(end.host)
    address = f"[{end.host}]" if end.host.version == 6 else str(end.host)
    return f"{address}:{end.ikeport}"


def _client(end: End, shape: str) -> str:
    if end.client is None:
        return ""
    if end.host is not None and end.client == ipaddress.ip_network(end.host):
        return ""  # just the host: nothing to add
    return shape.format(end.client)


def _id(end: End) -> str:
    identity = end.id
    if identity is None or identity.is_any:
        return ""
    if end.host is not None and identity == Identity.from_address(end.host):
        return ""
    return f"[{identity}]"


def _next_hop(end: End, other: End, shape: str) -> str:
    if end.nexthop is None or end.nexthop == other.host:
        return ""
    return shape.format(end.nexthop)


def _id_type(end: End) -> str:
    identity = end.identity()
    if identity is None or identity.type is None:
        return "%none"
    return identity.type.name


def _id_text(end: End) -> str:
    identity = end.identity()
    if identity is None or identity.type is None:
        return "(none)"
    return str(identity)


def _auth_name(auth: AuthBy) -> str:
    return "secret" if auth is AuthBy.PSK else "rsasig"


def _secs(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _lifetimes(conn: Connection) -> str:
    life = conn.lifetimes
    # libreswan always shows ipsec_max_bytes/packets (2^63 by default); shown here only when
    # set, so the status of connections without them keeps its shape.
    volume = ""
    if life.ipsec_max_bytes or life.ipsec_max_packets:
        volume = (f"ipsec_max_bytes: {format_limit(life.ipsec_max_bytes, 'B')}; "
                  f"ipsec_max_packets: {format_limit(life.ipsec_max_packets)}; ")
    return (f"ike_life: {_secs(life.ike)}s; ipsec_life: {_secs(life.ipsec)}s; {volume}"
            f"rekey_margin: {_secs(life.rekeymargin)}s; rekey_fuzz: {_secs(life.rekeyfuzz)}%; "
            f"keyingtries: {life.keyingtries};")
