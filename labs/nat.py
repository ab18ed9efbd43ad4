"""nic's NAT: an nftables ruleset masquerading road-north's traffic as it leaves for east-west.

The ruleset lives in nic's own namespace, so it can never touch the host's nftables.
"""

from __future__ import annotations

from labs.hosts import HOSTS, LANS, NAT_MODES, NAT_PORTS


def nat_ruleset(mode: str) -> str:
    """The ``nft -f`` text for ``mode`` (one of NAT_MODES); empty for "none"."""
    if mode not in NAT_MODES:
        raise ValueError(f"unknown NAT mode {mode!r}: one of {', '.join(NAT_MODES)}")
    if mode == "none":
        return ""
    nic = HOSTS["nic"]
    inside = LANS["road-north"].networks[0]
    outside_if = next(a.ifname for a in nic.attachments if a.lan == "east-west")
    rules = []
    if mode == "masquerade-ports":
        # TCP and UDP get their source ports rewritten too; everything else (ICMP) only
        # its address.
        rules.append(f'ip saddr {inside} oifname "{outside_if}" meta l4proto {{ tcp, udp }} '
                     f"masquerade to :{NAT_PORTS}")
    rules.append(f'ip saddr {inside} oifname "{outside_if}" masquerade')
    body = "\n".join(f"        {rule}" for rule in rules)
    return ("table ip lab_nat {\n"
            "    chain postrouting {\n"
            "        type nat hook postrouting priority srcnat; policy accept;\n"
            f"{body}\n"
            "    }\n"
            "}\n")
