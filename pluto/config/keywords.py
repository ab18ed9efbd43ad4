"""The ipsec.conf keywords pluto knows, and their aliases.

Names beginning with ``x-`` or ``x_`` (any case) are the user's own (ipsec.conf(5)) and are
accepted and left alone; every other unknown keyword is an error.
"""

from __future__ import annotations

SETUP_KEYWORDS = frozenset({
    "plutodebug", "ikev1-policy", "uniqueids", "virtual-private", "virtual_private", "listen",
    "interfaces", "keep-alive", "keep_alive", "nhelpers", "protostack", "logfile", "logappend",
    "rundir", "secretsfile", "ikeport", "nat-ikeport",
    "ddos-mode", "ddos-ike-threshold", "max-halfopen-ike", "certdir", "crl-strict",
})

# Keywords written with a "left" or "right" prefix.
END_KEYWORDS = frozenset({
    "", "id", "subnet", "subnets", "nexthop", "updown", "protoport", "sourceip", "cert",
    "rsasigkey", "auth", "ikeport", "ca", "sendcert",
    # IKEv1 XAUTH / Mode Config (pluto/connections/xauth_modecfg.py)
    "xauthserver", "xauthclient", "xauthusername", "modecfgserver", "modecfgclient",
    "addresspool",
})

CONN_KEYWORDS = frozenset({
    "also", "authby", "ikev2", "keyexchange", "ike", "esp", "ah", "phase2", "phase2alg",
    "type", "pfs", "compress", "ikelifetime", "salifetime", "ipsec-lifetime", "lifetime",
    "keylife", "rekey", "rekeymargin", "margintime", "rekeyfuzz", "keyingtries", "dpddelay",
    "dpdtimeout", "dpdaction", "encapsulation", "narrowing", "auto",
    "ipsec-max-bytes", "ipsec-max-packets", "aggressive", "aggrmode",
    "modecfgpull",
}) | {side + key for side in ("left", "right") for key in END_KEYWORDS}

# Several spellings of one setting: the value in a conn is the first of these found; two of
# them in one conn are a duplicate.
CONN_ALIASES = {
    "salifetime": ("salifetime", "ipsec-lifetime", "lifetime", "keylife"),
    "rekeymargin": ("rekeymargin", "margintime"),
    "esp": ("esp", "phase2alg"),
    "aggressive": ("aggressive", "aggrmode"),  # aggrmode: libreswan's older spelling
}
SETUP_ALIASES = {
    "virtual-private": ("virtual-private", "virtual_private"),
    "keep-alive": ("keep-alive", "keep_alive"),
}


def is_user_keyword(key: str) -> bool:
    return key[:2].lower() in ("x-", "x_")


def canonical(key: str, aliases: dict[str, tuple[str, ...]]) -> str:
    for name, spellings in aliases.items():
        if key in spellings:
            return name
    return key
