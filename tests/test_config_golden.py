"""Golden tests of issue 4: ipsec.conf and whack's connection form build the same connection,
and real-world configurations load and print the expected ``--status``.

The cores are the real ones (pluto/engine/core.py) with the in-memory kernel; the conns are
loaded the way ``pluto --config`` loads them (pluto/config/startup.py). Only the connection
lines of ``--status`` are compared with the golden files, so that changes to the global lines
around them do not matter here. ``PLUTO_UPDATE_GOLDEN=1`` rewrites the golden files.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
from pathlib import Path

import pytest

from pluto.config.ipsec_conf import from_text, load
from pluto.config.startup import load_connections
from pluto.crypto.rand import RandomSource
from pluto.engine.core import CoreOptions, Pluto
from pluto.engine.host import FakeClock
from pluto.kernel.nostack import NoStack
from pluto.log import Logger
from pluto.whack_protocol import RC_COMMENT
from whack.options import parse_command_line

HERE = Path(__file__).resolve().parent / "config_golden"
UPDATE = os.environ.get("PLUTO_UPDATE_GOLDEN") == "1"


class Reply:
    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self.rc: int | None = None

    def line(self, rc: int, text: str) -> None:
        self.lines.append((rc, text))

    def done(self, rc: int = 0) -> None:
        self.rc = rc


class Transport:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, object, object]] = []

    def send(self, data, local, remote) -> None:
        self.sent.append((data, local, remote))


def core_at(address: str) -> tuple[Pluto, list[str], Transport]:
    clock = FakeClock()
    log: list[str] = []
    transport = Transport()
    core = Pluto(clock=clock, rand=RandomSource("golden"), transport=transport,
                 kernel=NoStack(RandomSource("kernel"), clock), logger=Logger(log.append),
                 options=CoreOptions(listen=[(ipaddress.ip_address(address), 500)]))
    return core, log, transport


def connection_status(core: Pluto) -> list[str]:
    reply = Reply()
    core.whack([{"action": "status", "json": False}], reply)
    assert reply.rc == 0
    return [text for rc, text in reply.lines if rc == RC_COMMENT and text.startswith('"')]


# --- whack's connection form and ipsec.conf: the same connection ------------------------

WHACK_FORM = (
    "--name westnet-eastnet --id @west --host 198.51.100.45 --nexthop 198.51.100.254 "
    "--client 198.18.1.0/24 --updown /usr/local/bin/updown "
    "--to --id @east --host 198.51.100.23 --ikeport 4500 --client 198.18.2.0/24 "
    "--psk --encrypt --tunnel --pfs --ikev2 --ike aes256-sha2_256;modp2048 "
    "--esp aes_gcm128 --ikelifetime 2h --ipseclifetime 30m --rekeymargin 5m "
    "--rekeyfuzz 50% --keyingtries 3 --dontrekey")

CONF_FORM = """\
conn %default
\tauthby=secret
\tkeyingtries=3

conn westnet-eastnet
\tleft=198.51.100.45
\tleftid=@west
\tleftnexthop=198.51.100.254
\tleftsubnet=198.18.1.0/24
\tleftupdown=/usr/local/bin/updown
\tright=198.51.100.23
\trightid=@east
\trightikeport=4500
\trightsubnet=198.18.2.0/24
\tikev2=insist
\tike=aes256-sha2_256;modp2048
\tesp=aes_gcm128
\tikelifetime=2h
\tsalifetime=30m
\trekeymargin=5m
\trekeyfuzz=50%
\trekey=no
\tauto=add
"""


def test_whack_form_and_ipsec_conf_print_identically_in_status():
    (action,) = parse_command_line(shlex.split(WHACK_FORM)).actions
    whack_core, _, _ = core_at("198.51.100.45")
    reply = Reply()
    whack_core.whack([action], reply)
    assert reply.rc == 0, reply.lines

    conf_core, conf_log, _ = core_at("198.51.100.45")
    assert load_connections(conf_core, from_text(CONF_FORM), conf_log.append) == \
        ["westnet-eastnet"]

    from_whack, from_conf = connection_status(whack_core), connection_status(conf_core)
    assert from_whack == from_conf
    # and what they print is libreswan's shape for exactly what was configured
    assert from_conf[0] == (
        '"westnet-eastnet": 198.18.1.0/24===198.51.100.45[@west]---198.51.100.254...'
        '198.51.100.23:4500[@east]===198.18.2.0/24; unrouted; eroute owner: #0')
    assert '"westnet-eastnet":   policy: IKEv2+PSK+ENCRYPT+TUNNEL+PFS+DONT_REKEY;' in from_conf
    assert ('"westnet-eastnet":   ike_life: 7200s; ipsec_life: 1800s; rekey_margin: 300s; '
            'rekey_fuzz: 50%; keyingtries: 3;') in from_conf


# --- real-world configurations ----------------------------------------------------------

# Each configuration and the address of the host whose view the golden file shows.
CONFIGS = {
    "host-to-host": "198.51.100.45",
    "subnet-to-subnet": "198.51.100.23",
    "road-warrior": "198.51.100.23",
    "several-subnets": "2001:db8:1:2::45",
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_real_world_configuration_status(name):
    core, log, transport = core_at(CONFIGS[name])
    load_connections(core, load(str(HERE / f"{name}.conf")), log.append)
    text = "\n".join(connection_status(core)) + "\n"
    golden = HERE / f"{name}.status.txt"
    if UPDATE:
        golden.write_text(text)
    assert text == golden.read_text()
    assert not [line for line in log if "not loaded" in line]


def test_auto_start_initiates_and_auto_ignore_is_left_out():
    core, log, transport = core_at("198.51.100.23")
    added = load_connections(core, load(str(HERE / "subnet-to-subnet.conf")), log.append)
    # "west" and "east" are partial conns used through also=; auto=ignore by default
    assert added == ["westnet-eastnet"]
    assert '"westnet-eastnet" #1: initiating IKEv2 connection' in log
    assert len(transport.sent) == 1 and transport.sent[0][2] == (
        ipaddress.ip_address("198.51.100.45"), 500)


def test_several_subnets_load_as_four_connections():
    core, log, _ = core_at("2001:db8:1:2::45")
    added = load_connections(core, load(str(HERE / "several-subnets.conf")), log.append)
    assert added == ["multi/1x1", "multi/1x2", "multi/2x1", "multi/2x2"]


def test_auto_route_routes_and_bad_conns_do_not_stop_the_others():
    conf = from_text(
        "conn good\n  left=198.51.100.45\n  right=198.51.100.23\n  authby=secret\n"
        "  auto=route\n"
        "conn bad\n  left=198.51.100.45\n  right=198.51.100.23\n  authby=secret\n"
        "  leftcert=west\n  auto=add\n"
        "conn clash\n  left=198.51.100.45\n  right=198.51.100.23\n  authby=secret\n"
        "  auto=add\n  leftid=@x\n", "t.conf")
    core, log, _ = core_at("198.51.100.45")
    assert load_connections(core, conf, log.append) == ["good", "clash"]
    assert "good" in core.routes and len(core.kernel.installed_policies()) == 1
    # a certificate missing from the store is found at add time, and named with its file
    assert ("t.conf: conn bad not loaded: \"bad\": leftcert: no certificate 'west' in the "
            "certificate store (pluto has no --certdir)") in log
