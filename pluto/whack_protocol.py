"""The whack control protocol: one JSON request, a stream of reply lines.

pluto listens on ``<rundir>/pluto.ctl`` (mode 0600). whack connects, sends one request as a
single line of JSON, and reads reply lines until the last one, which has ``"done": true``.
Each reply line is a JSON object ``{"rc": N, "text": "..."}``; whack prints ``text`` and
derives its exit status from the ``rc`` of the stream (see :func:`exit_status`).

Request::

    {"version": 1, "actions": [ACTION, ...]}

The actions run in order (whack(8) lets one command line add a connection and initiate it).
Each action is an object with an ``"action"`` key:

==================  =====================================================================
action              other keys
==================  =====================================================================
add                 ``connection``: a connection description (below)
delete              ``name``, ``if_exists`` (bool): no error when it is not there
                    (whack's --delete with the connection form: replace)
deletestate         ``serial`` (int)
initiate            ``name``, ``async`` (bool): without async the reply stays open until
                    the negotiation succeeds or fails, streaming its progress lines;
                    ``xauthuser``, ``xauthpass``: an IKEv1 XAUTH client's credentials
xauth-answer        ``serial``, ``username`` or ``password``: the answer to an XAUTH
                    prompt (RC_USERPROMPT 41, RC_ENTERSECRET 40) of ISAKMP SA ``serial``
terminate           ``name``
rekey-ike           ``name``, ``async``
rekey-child         ``name``, ``async``
route / unroute     ``name``
listen / unlisten   (none)
status              ``json`` (bool)
showstates          ``json``
trafficstatus       ``json``
globalstatus        ``json``: DDoS settings, half-open IKE SAs, drops counted by reason
shutdown            (none)
debug               ``options``: list of [option, value-or-null] pairs, e.g.
                    [["--debug", "base"], ["--no-debug", "parsing"], ["--debug-all", null]]
impair              ``arguments``: list of [option, value] pairs, option being "--impair" or
                    "--no-impair" (value "help" and "list" ask for text)
myid                ``id``
addkey              ``id``, ``pubkey``: a public key as whack's --pubkeyrsa takes it (``0s``
                    base64 or ``0x`` hex in the RFC 3110 layout, or PEM) or null to forget
                    the ID's keys; ``replace`` (bool): drop the ID's other keys first
                    (whack --keyid ID --pubkeyrsa KEY, without --addkey)
rereadsecrets       (none)
==================  =====================================================================

A connection description, as whack's connection form produces it (every key optional unless
noted; absent keys take pluto's defaults)::

    {"name": "west-east",                                   # required
     "left":  {END}, "right": {END},                        # required; whack's first --host
                                                            # is left, the one after --to right
     "auth": "psk" | "rsasig",
     "encrypt": bool, "authenticate": bool, "tunnel": bool, "pfs": bool,
     "compress": bool, "disablearrivalcheck": bool,
     "ikev2": bool,                                        # --ikev2 (default) / --ikev1
     "aggressive": bool,                                   # --aggressive: IKEv1 Aggressive Mode
     "ike": "aes_gcm256-sha2_512;dh19", "esp": "aes_gcm128",  # proposal strings
     "ikelifetime": seconds, "ipseclifetime": seconds,
     "rekeymargin": seconds, "rekeyfuzz": percent, "keyingtries": int, "rekey": bool,
     "ipsec_max_bytes": int, "ipsec_max_packets": int,     # Child SA hard limits, 1..2^63
                                                           # (soft: 25%/50%, -12% fuzz)
     "host_family": 4 | 6, "client_family": 4 | 6,
     # ipsec.conf only (issue 4; whack's form has no options for these):
     "shunt": "passthrough" | "drop" | "reject",           # type=; refused until issue 5
     "dpddelay": seconds, "dpdtimeout": seconds,           # dead peer detection; refused
     "dpdaction": "hold" | "clear" | "restart",            #   for now
     "encapsulation": "auto" | "yes" | "no",               # yes (forced NAT-T) refused
     "narrowing": bool,                                    # false refused (we always narrow)
     "auto": "ignore" | "add" | "route" | "start"}         # what pluto --config does

    END = {"host": "198.51.100.45" | "%any",
           "id": "@west", "ikeport": 500, "nexthop": "198.51.100.254" | "%defaultroute",
           "client": "198.18.1.0/24", "updown": "/path/to/script",
           # ipsec.conf only (issue 4):
           "sourceip": "198.18.1.254",                     # leftsourceip: my_ip in --status
           "protoport": "tcp/22" | "17/1701",             # leftprotoport; refused for now
           "cert": "name",                                 # a certificate store nickname
           "ca": "C=XX, O=CA" | "%same",                   # the CA its cert must chain to
           "sendcert": "always" | "sendifasked" | "never",
           "rsasigkey": "0sAwEAA..." | PEM,                # the end's public key (RSA auth)
           "auth": "psk" | "rsasig" | ...}                 # leftauth; must match "auth"

ipsec.conf builds the same dict (pluto/config/conn_to_description.py) with libreswan's
defaults for a conn written out (ESP, tunnel, PFS, IKEv2, authby=rsasig), and
leftsubnets/rightsubnets become one description per pair of subnets, ``NAME/1x1`` ....

Durations are seconds (whack accepts the manual's ``1h``, ``30m`` and converts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1
MAX_REQUEST_BYTES = 64 * 1024

# Return codes, numbered as libreswan's whack knows them (rc_type), so that whack's exit
# status means the same thing.
RC_COMMENT = 0
RC_WHACK_PROBLEM = 1
RC_LOG = 2
RC_LOG_SERIOUS = 3
RC_SUCCESS = 4
RC_INFORMATIONAL = 5
RC_INFORMATIONAL_TRAFFIC = 6
RC_DUPNAME = 10  # a connection with this name exists
RC_UNKNOWN_NAME = 11  # no connection with this name
RC_ORIENT = 12  # cannot tell which end is ours
RC_CLASH = 13
RC_DEAF = 14  # need --listen before --initiate
RC_ROUTE = 15
RC_RTBUSY = 16
RC_BADID = 17
RC_NOKEY = 18  # no key or secret for the peer
RC_NOPEERIP = 19
RC_INITSHUNT = 20
RC_WILDCARD = 21  # cannot initiate a %any connection
RC_CRLERROR = 22
RC_BADWHACKMESSAGE = 30
# An IKEv1 XAUTH client asks whack (libreswan's numbers): whack reads the password (40, no
# echo) or username (41) and answers with an ``xauth-answer`` action.
RC_ENTERSECRET = 40
RC_USERPROMPT = 41
# A negotiation that ends reports RC_NEW_STATE + state number on success, and
# RC_NOTIFICATION + the notify type (sent or received) on failure.
RC_NEW_STATE = 100
RC_NOTIFICATION = 200

ACTIONS = frozenset({
    "add", "delete", "deletestate", "initiate", "terminate", "rekey-ike", "rekey-child",
    "route", "unroute", "listen", "unlisten", "status", "showstates", "trafficstatus",
    "shutdown", "debug", "impair", "myid", "rereadsecrets", "addkey", "globalstatus",
    "rereadcerts", "listcerts", "listcacerts", "listcrls",  # the certificate store (pluto/certs)
    "xauth-answer",  # IKEv1 XAUTH client: whack's answer to an RC_USERPROMPT/RC_ENTERSECRET
})


class ProtocolError(ValueError):
    """A request or reply line that does not follow this protocol."""


def encode_request(actions: list[dict[str, Any]]) -> bytes:
    return json.dumps({"version": PROTOCOL_VERSION, "actions": actions}).encode() + b"\n"


def decode_request(line: bytes) -> list[dict[str, Any]]:
    """The actions of a request; ProtocolError names what is wrong."""
    if len(line) > MAX_REQUEST_BYTES:
        raise ProtocolError(f"request longer than {MAX_REQUEST_BYTES} bytes")
    try:
        request = json.loads(line)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError(f"request is not JSON: {err}") from None
    if not isinstance(request, dict):
        raise ProtocolError("request is not a JSON object")
    if request.get("version") != PROTOCOL_VERSION:
        raise ProtocolError(f"request version {request.get('version')!r} is not "
                            f"{PROTOCOL_VERSION}; whack and pluto do not match")
    actions = request.get("actions")
    if not isinstance(actions, list) or not actions:
        raise ProtocolError("request has no actions")
    for action in actions:
        if not isinstance(action, dict) or action.get("action") not in ACTIONS:
            name = action.get("action") if isinstance(action, dict) else action
            raise ProtocolError(f"unknown action {name!r}")
    return actions


@dataclass(frozen=True)
class ReplyLine:
    rc: int
    text: str
    done: bool = False

    def encode(self) -> bytes:
        obj: dict[str, Any] = {"rc": self.rc, "text": self.text}
        if self.done:
            obj["done"] = True
        return json.dumps(obj).encode() + b"\n"

    @staticmethod
    def decode(line: bytes) -> ReplyLine:
        try:
            obj = json.loads(line)
            return ReplyLine(int(obj["rc"]), str(obj.get("text", "")), bool(obj.get("done")))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
            raise ProtocolError(f"bad reply line from pluto: {err}") from None


def exit_status(codes: list[int]) -> int:
    """whack's exit status from the return codes it received, as whack(8) says.

    Success (RC_SUCCESS, or a new-state code with nothing after it) counts as 0; otherwise the
    last code that is not a plain comment or log line is the status; with none of those, 0.
    """
    status = 0
    for rc in codes:
        if rc in (RC_COMMENT, RC_LOG, RC_INFORMATIONAL, RC_INFORMATIONAL_TRAFFIC):
            continue
        status = 0 if rc == RC_SUCCESS or RC_NEW_STATE <= rc < RC_NOTIFICATION else rc
    return min(status, 255)
