"""Every conn and config setup keyword of issue 4: what it becomes, and its errors."""

from __future__ import annotations

import ipaddress

import pytest

from pluto.config.conn_to_description import auto_of, checked_descriptions, descriptions
from pluto.config.ipsec_conf import from_text
from pluto.config.lexer import ConfigError
from pluto.config.setup import setup_of
from pluto.connections.builder import build_connection
from pluto.connections.connection import AuthBy, Dpd
from pluto.connections.ids import parse_identity
from pluto.server.options import parse_options

BASE = "conn c\n  left=198.51.100.45\n  right=198.51.100.23\n  authby=secret\n"


def conf_of(*lines: str, base: str = BASE):
    return from_text(base + "".join(f"  {line}\n" for line in lines), "t.conf")


def desc_of(*lines: str, base: str = BASE):
    result = descriptions(conf_of(*lines, base=base).conn("c"))
    assert len(result) == 1
    return result[0]


def conn_of(*lines: str, base: str = BASE):
    return build_connection(desc_of(*lines, base=base))


def error_of(*lines: str, base: str = BASE) -> str:
    with pytest.raises(ConfigError) as err:
        checked_descriptions(conf_of(*lines, base=base), "c")
    return str(err.value)


def ip(text):
    return ipaddress.ip_address(text)


def net(text):
    return ipaddress.ip_network(text)


# --- defaults ---------------------------------------------------------------------------

def test_ipsec_conf_defaults_are_libreswans():
    conn = conn_of()
    assert conn.policy.encrypt and not conn.policy.authenticate
    assert conn.policy.tunnel and conn.policy.pfs and conn.policy.ikev2
    assert not conn.policy.compress
    assert conn.left.id is None and conn.left.client is None and conn.left.ikeport == 500
    assert conn.shunt is None and conn.dpd is None and conn.encapsulation == "auto"
    assert auto_of(conf_of().conn("c")) == "ignore"


def test_authby_defaults_to_rsasig_like_libreswan():
    base = "conn c\n  left=198.51.100.45\n  right=198.51.100.23\n"
    assert conn_of(base=base).policy.auth is AuthBy.RSASIG
    assert conn_of("leftauth=secret", "rightauth=secret", base=base).policy.auth is AuthBy.PSK


# --- left/right keywords ----------------------------------------------------------------

END_CASES = [
    ("left=198.51.100.1", "host", ip("198.51.100.1")),
    ("leftid=@west", "id", parse_identity("@west")),
    ("leftid=west@example.com", "id", parse_identity("west@example.com")),
    ("leftsubnet=198.18.1.0/24", "client", net("198.18.1.0/24")),
    ("leftnexthop=198.51.100.254", "nexthop", ip("198.51.100.254")),
    ("leftnexthop=%direct", "nexthop", None),
    ("leftnexthop=%defaultroute", "nexthop_default_route", True),
    ("leftupdown=\"/usr/local/bin/updown --route\"", "updown", "/usr/local/bin/updown --route"),
    ("leftsourceip=198.18.1.254", "sourceip", ip("198.18.1.254")),
    ("leftprotoport=0/0", "protoport", None),
    ("leftikeport=4500", "ikeport", 4500),
    ("leftauth=secret", "auth", "psk"),
]


@pytest.mark.parametrize(("line", "attribute", "expected"), END_CASES)
def test_end_keywords(line, attribute, expected):
    base = ("conn c\n  left=198.51.100.45\n  right=198.51.100.23\n  authby=secret\n"
            if not line.startswith("left=") else
            "conn c\n  right=198.51.100.23\n  authby=secret\n")
    conn = conn_of(line, base=base)
    assert getattr(conn.left, attribute) == expected
    # the same keyword on the right goes to the right end
    right_base = base.replace("left=", "LEFT=").replace("right=", "left=").replace(
        "LEFT=", "right=")
    mirrored = conn_of(line.replace("left", "right", 1), base=right_base)
    assert getattr(mirrored.right, attribute) == expected


def test_right_any_makes_a_template():
    conn = conn_of(base="conn c\n  left=198.51.100.45\n  right=%any\n  authby=secret\n")
    assert conn.right.host is None and conn.kind.value == "template"


def test_protoport_is_stored_and_refused_as_not_implemented():
    assert desc_of("leftprotoport=udp/1701")["left"]["protoport"] == "udp/1701"
    assert error_of("leftprotoport=udp/1701") == (
        "t.conf:5: conn c: leftprotoport=udp/1701: protocol and port selectors are not implemented "
        "yet (traffic selectors cover every protocol)")


def test_leftcert_accepted_and_a_bad_rsasigkey_named_with_its_line():
    assert conn_of("leftcert=west").left.cert == "west"  # looked up in the store at add time
    assert error_of("rightrsasigkey=0sAwEAAQ") == (
        "t.conf:5: conn c: rightrsasigkey=0sAwEAAQ: the RSA key has no modulus after its "
        "exponent")


def test_leftauth_different_from_authby_is_refused():
    assert error_of("leftauth=rsasig") == (
        "t.conf:5: conn c: leftauth=rsasig: authentication that differs from the connection's (psk) "
        "is not implemented yet")


# --- connection keywords ----------------------------------------------------------------

def test_ike_version_keywords():
    assert conn_of("ikev2=insist").policy.ikev2
    assert not conn_of("ikev2=no").policy.ikev2
    assert not conn_of("keyexchange=ikev1").policy.ikev2
    assert conn_of("keyexchange=ike").policy.ikev2
    assert error_of("ikev2=no", "keyexchange=ikev2") == "t.conf:6: conn c: keyexchange=ikev2: " \
                                                       "conflicts with ikev2=no"


def test_proposals_and_phase2():
    conn = conn_of("ike=aes256-sha2_256;modp2048", "esp=aes128-sha2_256")
    assert (conn.ike, conn.esp) == ("aes256-sha2_256;modp2048", "aes128-sha2_256")
    assert conn_of("phase2alg=aes_gcm128").esp == "aes_gcm128"
    ah = conn_of("ah=sha2_256")
    assert ah.policy.authenticate and not ah.policy.encrypt and ah.esp == "sha2_256"
    assert conn_of("phase2=ah").policy.authenticate
    assert error_of("phase2=esp", "ah=sha1") == "t.conf:6: conn c: ah=sha1: ah= goes with phase2=ah"
    assert error_of("ike=aes999") .startswith("t.conf:5: conn c: ike=aes999: ")


def test_type():
    assert not conn_of("type=transport").policy.tunnel
    assert conn_of("type=tunnel").policy.tunnel
    assert error_of("type=passthrough") == (
        "t.conf:5: conn c: type=passthrough: shunt connections are kernel policies, not implemented "
        "yet (issue 5: the kernel back end)")
    assert desc_of("type=drop")["shunt"] == "drop"
    assert error_of("type=bogus") == ("t.conf:5: conn c: type=bogus: expected one of tunnel, "
                                      "transport, passthrough, drop, reject")


def test_transport_with_a_subnet_names_the_keyword():
    assert error_of("type=transport", "leftsubnet=198.18.1.0/24") == (
        "t.conf:6: conn c: leftsubnet=198.18.1.0/24: '198.18.1.0/24' needs --tunnel (transport mode "
        "protects only the hosts)")


def test_flags_and_lifetimes():
    conn = conn_of("pfs=no", "compress=yes", "ikelifetime=2h", "salifetime=30m",
                   "rekey=no", "rekeymargin=3m", "rekeyfuzz=50%", "keyingtries=%forever")
    assert not conn.policy.pfs and conn.policy.compress
    life = conn.lifetimes
    assert (life.ike, life.ipsec, life.rekeymargin, life.rekeyfuzz, life.keyingtries,
            life.rekey) == (7200, 1800, 180, 50, 0, False)
    assert conn_of("ipsec-lifetime=1d").lifetimes.ipsec == 86400
    assert conn_of("lifetime=3600s").lifetimes.ipsec == 3600
    assert conn_of("keylife=1.5h").lifetimes.ipsec == 5400
    assert conn_of("keyingtries=3").lifetimes.keyingtries == 3
    assert conn_of("margintime=1m").lifetimes.rekeymargin == 60


def test_dpd_encapsulation_narrowing_auto_are_stored():
    conf = conf_of("dpddelay=30", "dpdtimeout=120", "dpdaction=restart",
                   "encapsulation=yes", "narrowing=no", "auto=ondemand")
    (desc,) = descriptions(conf.conn("c"))
    assert {key: desc[key] for key in ("dpddelay", "dpdtimeout", "dpdaction",
                                       "encapsulation", "narrowing", "auto")} == {
        "dpddelay": 30, "dpdtimeout": 120, "dpdaction": "restart", "encapsulation": "yes",
        "narrowing": False, "auto": "route"}
    dpd = conn_of("dpddelay=30s", "dpdtimeout=2m", "dpdaction=clear").dpd
    assert (dpd.delay, dpd.timeout, dpd.action) == (30, 120, "clear")
    assert conn_of("encapsulation=yes").encapsulation == "yes"  # forced ESP in UDP (NAT-T)
    assert error_of("narrowing=no").startswith("t.conf:5: conn c: narrowing=no: the responder always")
    accepted = conn_of("encapsulation=no", "narrowing=yes", "auto=start")
    assert (accepted.encapsulation, accepted.narrowing, accepted.auto) == ("no", True, "start")
    assert accepted.dpd is None


def test_dpd_model():
    desc = desc_of("dpddelay=10", "dpdaction=clear")
    from pluto.connections.builder import _Builder
    assert _Builder(desc, lambda _t: None).build().dpd == Dpd(10.0, None, "clear")


@pytest.mark.parametrize(("value", "auto"), [("ignore", "ignore"), ("add", "add"),
                                             ("ondemand", "route"), ("route", "route"),
                                             ("start", "start"), ("up", "start")])
def test_auto_values(value, auto):
    assert auto_of(conf_of(f"auto={value}").conn("c")) == auto


@pytest.mark.parametrize(("line", "message"), [
    ("pfs=maybe", "t.conf:5: conn c: pfs=maybe: expected yes or no"),
    ("ikelifetime=1w", "t.conf:5: conn c: ikelifetime=1w: not a duration (seconds, or a number "
                       "followed by s, m, h or d)"),
    ("keyingtries=many", "t.conf:5: conn c: keyingtries=many: not a count (a number; 0 or %forever: "
                         "keep trying)"),
    ("rekeyfuzz=x%", "t.conf:5: conn c: rekeyfuzz=x%: not a percentage"),
    ("leftikeport=0", "t.conf:5: conn c: leftikeport=0: not a port number (1-65535)"),
    ("auto=sometimes", "t.conf:5: conn c: auto=sometimes: expected one of ignore, add, ondemand, "
                       "route, start, up"),
    ("authby=secret,rsasig", None),
    ("leftsubnet=198.18.1.1/24", "t.conf:5: conn c: leftsubnet=198.18.1.1/24: '198.18.1.1/24' has "
                                 "host bits set; did you mean 198.18.1.0/24?"),
    ("leftsubnet=vhost:", "t.conf:5: conn c: leftsubnet=vhost:: 'vhost:' names nothing after "
                          "'vhost:'"),
    ("leftid=west", "t.conf:5: conn c: leftid=west: identity 'west': write a name as @west, or give "
                    "an IP address"),
    ("leftsourceip=%any", "t.conf:5: conn c: leftsourceip=%any: '%any' is not a unicast IP address"),
    ("rekeymargin=10h", None),  # adjusted with a warning, not an error
])
def test_value_errors(line, message):
    if line == "authby=secret,rsasig":
        base = "conn c\n  left=198.51.100.45\n  right=198.51.100.23\n"
        assert error_of(line, base=base) == ("t.conf:4: conn c: authby=secret,rsasig: several "
                                             "authentication methods in one conn are not "
                                             "implemented yet")
    elif message is None:
        checked_descriptions(conf_of(line), "c")
    else:
        assert error_of(line) == message


def test_host_errors_name_the_conn_header_when_no_line_fits():
    base = "conn c\n  left=%any\n  right=%any\n  authby=secret\n"
    assert error_of(base=base) == ("t.conf:2: conn c: left=%any: both ends are %any; at least "
                                   "one end must be an address of this host")
    assert error_of(base="conn c\n  left=198.51.100.45\n") == (
        "t.conf:1: conn c: right: the conn has no right= (an IP address or %any)")
    assert error_of(base="conn c\n  left=%defaultroute\n  right=198.51.100.1\n"
                         "  authby=secret\n").startswith(
        "t.conf:2: conn c: left=%defaultroute: %defaultroute (the address of the default "
        "route's interface) is not implemented yet (issue 5")


def test_authby_values():
    assert conn_of().policy.auth is AuthBy.PSK
    base = "conn c\n  left=198.51.100.45\n  right=198.51.100.23\n"
    assert conn_of("authby=rsasig", base=base).policy.auth is AuthBy.RSASIG
    assert conn_of("authby=psk", base=base).policy.auth is AuthBy.PSK
    assert error_of("authby=null", base=base) == (
        "t.conf:4: conn c: authby=null: NULL authentication (RFC 7619) is not implemented yet")


# --- leftsubnets ------------------------------------------------------------------------

def test_subnets_expand_into_one_connection_per_pair():
    conf = conf_of("leftsubnets=\"198.18.1.0/24, 198.18.5.0/24\"",
                   "rightsubnets={198.18.2.0/24 198.18.6.0/24}")
    result = checked_descriptions(conf, "c")
    pairs = [(d["name"], d["left"]["client"], d["right"]["client"]) for d in result]
    assert pairs == [("c/1x1", "198.18.1.0/24", "198.18.2.0/24"),
                     ("c/1x2", "198.18.1.0/24", "198.18.6.0/24"),
                     ("c/2x1", "198.18.5.0/24", "198.18.2.0/24"),
                     ("c/2x2", "198.18.5.0/24", "198.18.6.0/24")]


def test_subnets_with_a_single_subnet_on_the_other_side():
    result = checked_descriptions(conf_of("leftsubnets={198.18.1.0/24 198.18.5.0/24}",
                                          "rightsubnet=198.18.2.0/24"), "c")
    assert [(d["name"], d["right"]["client"]) for d in result] == [
        ("c/1x1", "198.18.2.0/24"), ("c/2x1", "198.18.2.0/24")]


def test_subnet_and_subnets_together_is_an_error():
    assert error_of("leftsubnet=198.18.1.0/24", "leftsubnets=198.18.5.0/24") == (
        "t.conf:6: conn c: leftsubnets=198.18.5.0/24: give leftsubnet or leftsubnets, not both")


# --- config setup -----------------------------------------------------------------------

def write(tmp_path, text):
    path = tmp_path / "ipsec.conf"
    path.write_text(text)
    return str(path)


def test_config_setup_becomes_pluto_options(tmp_path):
    path = write(tmp_path,
                 "config setup\n  plutodebug=\"base, parsing\"\n  uniqueids=no\n"
                 "  listen=127.0.0.1\n  interfaces=\"ipsec0=eth0 eth1\"\n  nhelpers=2\n"
                 "  protostack=none\n  logfile=/tmp/p.log\n  logappend=no\n"
                 "  rundir=/tmp/run\n  secretsfile=/tmp/s\n  ikeport=5500\n"
                 "  nat-ikeport=0\n  ikev1-policy=accept\n"
                 "  virtual-private=%v4:198.18.0.0/15,%v4:!198.18.1.0/24\n"
                 "  keep-alive=30\n")
    opts = parse_options(["--config", path])
    assert not opts.uniqueids and opts.noklips
    assert opts.listen == [ip("127.0.0.1")] and opts.interfaces == ["eth0", "eth1"]
    assert (opts.nhelpers, opts.logfile, opts.rundir, opts.secretsfile, opts.ikeport,
            opts.natikeport) == (2, "/tmp/p.log", "/tmp/run", "/tmp/s", 5500, 0)
    assert not opts.logappend
    assert {"base", "parsing"} <= set(opts.debug_impair.debug)
    assert opts.ikev1_policy == "accept"
    assert opts.setup_notes == []
    assert opts.virtual_private == "%v4:198.18.0.0/15,%v4:!198.18.1.0/24"
    assert opts.keep_alive == 30
    setup = setup_of(opts.conf)
    assert setup.virtual_private == ["%v4:198.18.0.0/15", "%v4:!198.18.1.0/24"]
    assert setup.keep_alive == 30 and setup.ikev1_policy == "accept"


def test_ddos_keywords_become_pluto_options(tmp_path):
    path = write(tmp_path, "config setup\n  ddos-mode=BUSY\n  ddos-ike-threshold=100\n"
                           "  max-halfopen-ike=200\n")
    from pluto.server.options import OptionsError

    opts = parse_options(["--config", path])
    assert (opts.ddos_mode, opts.ddos_ike_threshold, opts.max_halfopen_ike) == ("busy", 100, 200)
    bad = write(tmp_path, "config setup\n  ddos-mode=sometimes\n")
    with pytest.raises(OptionsError, match="ddos-mode=sometimes: expected auto, busy or"):
        parse_options(["--config", bad])


def test_command_line_wins_over_config_setup(tmp_path):
    path = write(tmp_path, "config setup\n  listen=127.0.0.1\n  rundir=/tmp/run\n"
                           "  ikeport=5500\n  nat-ikeport=0\n")
    opts = parse_options(["--config", path, "--listen", "127.0.0.2", "--rundir", "/tmp/x",
                          "--ikeport", "600"])
    assert opts.listen == [ip("127.0.0.2")] and opts.rundir == "/tmp/x"
    assert opts.ikeport == 600 and opts.natikeport == 0
    assert opts.uniqueids  # libreswan's default for ipsec.conf


@pytest.mark.parametrize(("line", "message"), [
    ("plutodebug=nonsense", "t.conf:2: plutodebug=nonsense: "),
    ("uniqueids=perhaps", "t.conf:2: uniqueids=perhaps: expected yes or no"),
    ("listen=here", "t.conf:2: listen=here: not an IP address"),
    ("nhelpers=lots", "t.conf:2: nhelpers=lots: not a number"),
    ("protostack=klips", "t.conf:2: protostack=klips: expected none (in memory), xfrm, "
                         "netkey or auto"),
    ("ikeport=0", "t.conf:2: ikeport=0: out of range (1-65535)"),
    ("ikev1-policy=maybe", "t.conf:2: ikev1-policy=maybe: expected accept, drop or reject"),
    ("virtual-private=10.0.0.0/8", "t.conf:2: virtual-private=10.0.0.0/8: '10.0.0.0/8' is not "
                                   "%v4:NET, %v6:NET or %vN:!NET"),
    ("interfaces=%none", "t.conf:2: interfaces=%none: %none (no interfaces at all) is not "
                         "implemented yet"),
])
def test_config_setup_errors(line, message):
    with pytest.raises(ConfigError) as err:
        setup_of(from_text(f"config setup\n  {line}\n", "t.conf"))
    assert str(err.value).startswith(message)


def test_bad_config_is_a_pluto_option_error(tmp_path):
    from pluto.server.options import OptionsError

    path = write(tmp_path, "config setup\n  bogus=1\n")
    with pytest.raises(OptionsError) as err:
        parse_options(["--config", path])
    assert str(err.value) == f"--config: {path}:2: unknown keyword 'bogus' in config setup"
