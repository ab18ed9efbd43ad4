"""whack's command lines -> the action list of pluto/whack_protocol.py (exact dicts)."""

import pytest

from pluto import impair
from pluto.whack_protocol import decode_request, encode_request
from whack import options
from whack.options import WhackUsageError, parse_command_line, parse_duration

WEST_EAST = ["--name", "west-east",
             "--id", "@west", "--host", "198.51.100.45", "--nexthop", "198.51.100.254",
             "--client", "198.18.1.0/24",
             "--to",
             "--id", "@east", "--host", "198.51.100.23", "--nexthop", "198.51.100.254",
             "--client", "198.18.2.0/24"]

WEST_EAST_DESCRIPTION = {
    "name": "west-east",
    "left": {"id": "@west", "host": "198.51.100.45", "nexthop": "198.51.100.254",
             "client": "198.18.1.0/24"},
    "right": {"id": "@east", "host": "198.51.100.23", "nexthop": "198.51.100.254",
              "client": "198.18.2.0/24"},
}



# whack(8): policy flags not given are sent as false (encrypt unless --authenticate).
POLICY_FLAGS_OFF = {"encrypt": True, "authenticate": False, "tunnel": False, "pfs": False,
                    "compress": False, "disablearrivalcheck": False}


def with_policy_flags(connection):
    return {**POLICY_FLAGS_OFF, **connection}

def actions(*argv):
    return parse_command_line(list(argv)).actions


def usage_error(*argv) -> str:
    with pytest.raises(WhackUsageError) as info:
        parse_command_line(list(argv))
    return str(info.value)


# --- the connection form -------------------------------------------------------------------

def test_connection_form_minimal():
    assert actions("--name", "a", "--host", "127.0.0.1", "--to", "--host", "127.0.0.2") == [
        {"action": "add", "connection": with_policy_flags({"name": "a", "left": {"host": "127.0.0.1"},
                                         "right": {"host": "127.0.0.2"}})}]


def test_connection_form_every_option():
    argv = [*WEST_EAST, "--psk", "--encrypt", "--authenticate", "--tunnel", "--pfs",
            "--compress", "--disablearrivalcheck", "--ikev2", "--ike", "aes_gcm256-sha2_512;dh19",
            "--esp", "aes_gcm128", "--ipv4", "--tunnelipv4", "--ikelifetime", "1h",
            "--ipseclifetime", "8h", "--rekeymargin", "9m", "--rekeyfuzz", "100%",
            "--keyingtries", "3", "--dontrekey"]
    expected = dict(WEST_EAST_DESCRIPTION, auth="psk", encrypt=True, authenticate=True,
                    tunnel=True, pfs=True, compress=True, disablearrivalcheck=True, ikev2=True,
                    ike="aes_gcm256-sha2_512;dh19", esp="aes_gcm128", host_family=4,
                    client_family=4, ikelifetime=3600, ipseclifetime=28800, rekeymargin=540,
                    rekeyfuzz=100, keyingtries=3, rekey=False)
    assert actions(*argv) == [{"action": "add", "connection": expected}]


def test_end_options_ikeport_updown_and_any():
    argv = ["--name", "rw", "--host", "198.51.100.23", "--ikeport", "4500", "--updown",
            "/usr/local/bin/updown --verbose", "--to", "--host", "%any", "--rsasig", "--ikev1"]
    assert actions(*argv) == [{"action": "add", "connection": with_policy_flags({
        "name": "rw",
        "left": {"host": "198.51.100.23", "ikeport": 4500,
                 "updown": "/usr/local/bin/updown --verbose"},
        "right": {"host": "%any"}, "auth": "rsasig", "ikev2": False})}]


def test_ipv6_hosts_and_clients_are_normalised():
    argv = ["--name", "v6", "--ipv6", "--tunnelipv6", "--host", "2001:DB8:1:2:0:0:0:45",
            "--client", "2001:db8:0:1::/64", "--to", "--host", "2001:db8:1:2::23",
            "--client", "2001:db8:0:2::/64"]
    assert actions(*argv) == [{"action": "add", "connection": with_policy_flags({
        "name": "v6",
        "left": {"host": "2001:db8:1:2::45", "client": "2001:db8:0:1::/64"},
        "right": {"host": "2001:db8:1:2::23", "client": "2001:db8:0:2::/64"},
        "host_family": 6, "client_family": 6})}]


def test_connection_options_may_stand_anywhere_and_equals_form():
    argv = ["--psk", "--name=a", "--host=127.0.0.1", "--ikelifetime=30", "--to",
            "--host=127.0.0.2", "--pfs"]
    assert actions(*argv) == [{"action": "add", "connection": with_policy_flags({
        "name": "a", "left": {"host": "127.0.0.1"}, "right": {"host": "127.0.0.2"},
        "auth": "psk", "ikelifetime": 30, "pfs": True})}]


@pytest.mark.parametrize(("text", "seconds"), [
    ("0", 0), ("3600", 3600), ("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400),
    (" 90 ", 90),
])
def test_durations(text, seconds):
    assert parse_duration("--ikelifetime", text) == seconds


@pytest.mark.parametrize("text", ["", "1.5h", "-3", "5 m", "1w", "h", "1h30m"])
def test_bad_durations_name_the_option(text):
    with pytest.raises(WhackUsageError, match=r"^--rekeymargin '"):
        parse_duration("--rekeymargin", text)


def test_keyingtries_forever_is_zero():
    argv = ["--name", "a", "--host", "127.0.0.1", "--to", "--host", "127.0.0.2",
            "--keyingtries", "%forever", "--rekeyfuzz", "50"]
    connection = actions(*argv)[0]["connection"]
    assert (connection["keyingtries"], connection["rekeyfuzz"]) == (0, 50)


# --- operations ----------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "expected"), [
    (["--listen"], [{"action": "listen"}]),
    (["--unlisten"], [{"action": "unlisten"}]),
    (["--name", "a", "--initiate"], [{"action": "initiate", "name": "a", "async": False}]),
    (["--name", "a", "--initiate", "--asynchronous"],
     [{"action": "initiate", "name": "a", "async": True}]),
    (["--initiate", "--async", "--name", "a"],
     [{"action": "initiate", "name": "a", "async": True}]),
    (["--name", "a", "--terminate"], [{"action": "terminate", "name": "a"}]),
    (["--name", "a", "--terminate", "--asynchronous"], [{"action": "terminate", "name": "a"}]),
    (["--name", "a", "--route"], [{"action": "route", "name": "a"}]),
    (["--name", "a", "--unroute"], [{"action": "unroute", "name": "a"}]),
    (["--name", "a", "--delete"], [{"action": "delete", "name": "a"}]),
    (["--deletestate", "7"], [{"action": "deletestate", "serial": 7}]),
    (["--deletestate", "#12"], [{"action": "deletestate", "serial": 12}]),
    (["--name", "a", "--rekey-ike"], [{"action": "rekey-ike", "name": "a", "async": False}]),
    (["--name", "a", "--rekey-child", "--async"],
     [{"action": "rekey-child", "name": "a", "async": True}]),
    (["--status"], [{"action": "status", "json": False}]),
    (["--showstates", "--json"], [{"action": "showstates", "json": True}]),
    (["--trafficstatus"], [{"action": "trafficstatus", "json": False}]),
    (["--shutdown"], [{"action": "shutdown"}]),
    (["--rereadsecrets"], [{"action": "rereadsecrets"}]),
    (["--myid", "@west"], [{"action": "myid", "id": "@west"}]),
    (["--myid", "198.51.100.45"], [{"action": "myid", "id": "198.51.100.45"}]),
])
def test_operations(argv, expected):
    assert actions(*argv) == expected


def test_debug_options_pass_on_in_order():
    argv = ["--debug", "base", "--no-debug", "parsing", "--debug-all", "--debug=crypt,private",
            "--debug-klips"]
    assert actions(*argv) == [{"action": "debug", "options": [
        ["--debug", "base"], ["--no-debug", "parsing"], ["--debug-all", None],
        ["--debug", "crypt,private"], ["--debug-klips", None]]}]


def test_impair_arguments_pass_on_as_written():
    argv = ["--impair", "ke-payload:omit", "--no-impair", "ke-payload", "--impair", "none",
            "--impair", "Nonce:7,corrupt_encrypted", "--impair", "list"]
    assert actions(*argv) == [{"action": "impair", "arguments": [
        ["--impair", "ke-payload:omit"], ["--no-impair", "ke-payload"], ["--impair", "none"],
        ["--impair", "Nonce:7,corrupt_encrypted"], ["--impair", "list"]]}]


def test_help_texts_are_local():
    command = parse_command_line(["--debug", "help", "--impair", "help"])
    assert command.actions == []
    assert command.wants_debug_help and command.wants_impair_help
    assert parse_command_line(["--help"]).wants_help
    assert parse_command_line(["-h"]).wants_help
    assert parse_command_line(["--version"]).wants_version


def test_everything_at_once_runs_in_libreswans_order():
    argv = ["--shutdown", "--status", "--trafficstatus", "--showstates", "--rekey-child",
            "--rekey-ike", "--terminate", "--initiate", "--unroute", "--route",
            "--rereadsecrets", "--unlisten", "--listen", "--deletestate", "3", "--delete",
            "--myid", "@west", "--impair", "none", "--debug", "base",
            "--name", "a", "--host", "127.0.0.1", "--to", "--host", "127.0.0.2"]
    assert [a["action"] for a in actions(*argv)] == [
        "debug", "impair", "myid", "delete", "deletestate", "add", "listen", "unlisten",
        "rereadsecrets", "route", "unroute", "initiate", "terminate", "rekey-ike",
        "rekey-child", "status", "trafficstatus", "showstates", "shutdown"]


def test_delete_with_the_connection_form_is_replace():
    got = actions("--delete", "--name", "a", "--host", "127.0.0.1", "--to", "--host",
                  "127.0.0.2", "--listen", "--initiate")
    assert got == [
        {"action": "delete", "name": "a", "if_exists": True},
        {"action": "add", "connection": with_policy_flags({"name": "a", "left": {"host": "127.0.0.1"},
                                         "right": {"host": "127.0.0.2"}})},
        {"action": "listen"},
        {"action": "initiate", "name": "a", "async": False},
    ]


def test_requests_pass_the_protocol_check():
    command = parse_command_line([*WEST_EAST, "--psk", "--listen", "--initiate", "--debug",
                                  "all", "--impair", "nonce:1", "--status"])
    assert decode_request(encode_request(command.actions)) == command.actions


# --- where pluto is ------------------------------------------------------------------------

def test_socket_paths():
    assert parse_command_line(["--status"]).socket_path == "/run/pluto/pluto.ctl"
    assert parse_command_line(["--status", "--rundir", "/tmp/w"]).socket_path == \
        "/tmp/w/pluto.ctl"
    assert parse_command_line(["--ctlbase", "/tmp/east/pluto", "--status"]).socket_path == \
        "/tmp/east/pluto.ctl"


def test_label_is_kept():
    assert parse_command_line(["--label", "west:", "--status"]).label == "west:"


# --- --optionsfrom ---------------------------------------------------------------------------

def test_optionsfrom_splices_words_in_place(tmp_path):
    ends = tmp_path / "ends"
    ends.write_text("# west and east\n--host 198.51.100.45   # west\n--to\n"
                    "\t--host 198.51.100.23\n--updown '/bin/updown two words'\n")
    got = actions("--name", "a", "--optionsfrom", str(ends), "--psk")
    assert got == [{"action": "add", "connection": with_policy_flags({
        "name": "a", "left": {"host": "198.51.100.45"},
        "right": {"host": "198.51.100.23", "updown": "/bin/updown two words"},
        "auth": "psk"})}]


def test_optionsfrom_nests(tmp_path):
    inner = tmp_path / "inner"
    inner.write_text("--to --host 127.0.0.2\n")
    outer = tmp_path / "outer"
    outer.write_text(f"--host 127.0.0.1 --optionsfrom {inner} --pfs\n")
    got = actions("--name", "a", f"--optionsfrom={outer}", "--initiate")
    assert got == [
        {"action": "add", "connection": with_policy_flags({"name": "a", "left": {"host": "127.0.0.1"},
                                         "right": {"host": "127.0.0.2"}, "pfs": True})},
        {"action": "initiate", "name": "a", "async": False},
    ]


def test_optionsfrom_depth_limit(tmp_path):
    loop = tmp_path / "loop"
    loop.write_text(f"--listen --optionsfrom {loop}\n")
    assert "nested more than 10 deep" in usage_error("--optionsfrom", str(loop))
    # ten levels are fine
    for level in range(10):
        nxt = f"--optionsfrom {tmp_path / f'f{level + 1}'}" if level < 9 else "--listen"
        (tmp_path / f"f{level}").write_text(nxt + "\n")
    assert actions("--optionsfrom", str(tmp_path / "f0")) == [{"action": "listen"}]


def test_optionsfrom_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing"
    assert usage_error("--optionsfrom", str(missing)) == \
        f"--optionsfrom {missing}: No such file or directory"
    quote = tmp_path / "quote"
    quote.write_text("--label 'unclosed\n")
    assert usage_error("--optionsfrom", str(quote)).startswith(f"--optionsfrom {quote}: ")
    bad = tmp_path / "bad"
    bad.write_text("--listen --bogus\n")
    assert usage_error("--optionsfrom", str(bad)) == "unknown option '--bogus' (try --help)"


# --- errors name the option -------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "message"), [
    (["--bogus"], "unknown option '--bogus' (try --help)"),
    (["initiate"], "unexpected argument 'initiate'"),
    (["--name"], "--name needs a value"),
    (["--name", "--initiate"], "--name needs a value (found the option --initiate)"),
    (["--listen=yes"], "--listen takes no value"),
    (["--debug-all=1"], "--debug-all takes no value"),
    (["--to=x"], "--to takes no value"),
    ([], "nothing to do"),
    (["--initiate"], "--initiate needs --name"),
    (["--rekey-ike"], "--rekey-ike needs --name"),
    (["--delete"], "--delete needs --name"),
    (["--host", "127.0.0.1"], "--host needs --name"),
    (["--psk"], "--psk needs --name"),
    (["--to"], "--to needs --name"),
    (["--name", "a", "--host", "127.0.0.1"], "the connection form needs --to"),
    (["--name", "a", "--host", "127.0.0.1", "--to", "--to"], "--to given twice"),
    (["--name", "a", "--host", "127.0.0.1", "--host", "127.0.0.2"],
     "--host given twice for the left end (is --to missing?)"),
    (["--name", "a", "--to", "--host", "127.0.0.2", "--id", "@a", "--id", "@b"],
     "--id given twice for the right end"),
    (["--name", "a", "--to", "--host", "127.0.0.2"], "the left end has no --host"),
    (["--name", "a", "--host", "127.0.0.2", "--to", "--id", "@b"],
     "the right end (after --to) has no --host"),
    (["--name", "a", "--name", "b"], "--name given twice"),
    (["--name", "a b", "--listen"], "--name 'a b': a connection name"),
    (["--name", "a"], "--name a: nothing to do with it"),
    (["--name", "a", "--status"], "--name a: nothing to do with it"),
    (["--name", "a", "--host", "west", "--to", "--host", "127.0.0.2"],
     "--host 'west': not an IP address"),
    (["--name", "a", "--host", "127.0.0.1", "--nexthop", "gw", "--to", "--host", "127.0.0.2"],
     "--nexthop 'gw': not an IP address"),
    (["--name", "a", "--host", "127.0.0.1", "--client", "198.18.1.0/33"],
     "--client '198.18.1.0/33': not a subnet"),
    (["--name", "a", "--host", "127.0.0.1", "--client", "198.18.1.1/24"],
     "--client '198.18.1.1/24': not a subnet"),
    (["--name", "a", "--host", "127.0.0.1", "--ikeport", "0"], "--ikeport '0': not a port"),
    (["--name", "a", "--host", "127.0.0.1", "--ikeport", "65536"], "--ikeport '65536'"),
    (["--name", "a", "--id", "west"], "--id: identity 'west': write a name as @west"),
    (["--myid", "@#xyz"], "--myid: identity '@#xyz'"),
    (["--name", "a", "--updown", " "], "--updown: empty command"),
    (["--name", "a", "--ikelifetime", "soon"], "--ikelifetime 'soon': not a duration"),
    (["--name", "a", "--rekeyfuzz", "lots"], "--rekeyfuzz 'lots': not a percentage"),
    (["--name", "a", "--keyingtries", "-1"], "--keyingtries '-1': not a count"),
    (["--name", "a", "--ike", "aes999"], "--ike 'aes999': encryption algorithm"),
    (["--name", "a", "--esp", ""], "--esp '': ESP proposal is empty"),
    (["--name", "a", "--ike", "aes", "--ike", "aes"], "--ike given twice"),
    (["--name", "a", "--ikelifetime", "1h", "--ikelifetime", "2h"], "--ikelifetime given twice"),
    (["--psk", "--rsasig"], "--rsasig conflicts with --psk"),
    (["--ikev1", "--ikev2"], "--ikev2 conflicts with --ikev1"),
    (["--ipv4", "--ipv6"], "--ipv6 conflicts with --ipv4"),
    (["--name", "a", "--ipv6", "--host", "127.0.0.1", "--to", "--host", "127.0.0.2"],
     "--host 127.0.0.1: not IPv6 (--ipv6 given)"),
    (["--name", "a", "--host", "127.0.0.1", "--to", "--host", "2001:db8::1"],
     "--host 2001:db8::1: IPv6, but 127.0.0.1 is IPv4"),
    (["--name", "a", "--host", "127.0.0.1", "--nexthop", "2001:db8::1", "--to", "--host",
      "127.0.0.2"], "--nexthop 2001:db8::1: IPv6, but 127.0.0.1 is IPv4"),
    (["--name", "a", "--tunnelipv4", "--host", "127.0.0.1", "--client", "2001:db8::/64",
      "--to", "--host", "127.0.0.2"], "--client 2001:db8::/64: not IPv4 (--tunnelipv4 given)"),
    (["--name", "a", "--host", "127.0.0.1", "--client", "198.18.1.0/24", "--to", "--host",
      "127.0.0.2", "--client", "2001:db8::/64"], "--client 2001:db8::/64: IPv6, but"),
    (["--deletestate", "x"], "--deletestate 'x': not a state number"),
    (["--deletestate", "0"], "--deletestate '0': not a state number"),
    (["--deletestate", "1", "--deletestate", "2"], "--deletestate given twice"),
    (["--status", "--asynchronous"], "--asynchronous goes with --initiate"),
    (["--listen", "--json"], "--json goes with --status"),
    (["--status", "--rundir", "/a", "--ctlbase", "/b"], "--ctlbase and --rundir both"),
    (["--rundir", "/a", "--rundir", "/b", "--status"], "--rundir given twice"),
    (["--debug", "parsnip"], "--debug parsnip: unknown debug class 'parsnip'"),
    (["--no-debug", "parsnip"], "--no-debug parsnip: unknown debug class 'parsnip'"),
    (["--debug-parsnip"], "--debug-parsnip: unknown debug class 'parsnip'"),
    (["--debug"], "--debug needs a value"),
    (["--impair=ke-payload:sideways"], "--impair ke-payload:sideways: impair 'ke-payload' "
                                       "does not know 'sideways'"),
    (["--impair", "nonce"], "--impair nonce: impair 'nonce' needs a value"),
    (["--impair", ""], "--impair : empty --impair argument"),
])
def test_usage_errors_name_the_option(argv, message):
    assert message in usage_error(*argv)


def test_error_carries_the_label_even_before_it_is_read():
    with pytest.raises(WhackUsageError) as info:
        parse_command_line(["--bogus", "--label", "east"])
    assert info.value.label == "east"
    with pytest.raises(WhackUsageError) as info:
        parse_command_line(["--label=west", "--bogus"])
    assert info.value.label == "west"


# --- impairs the daemon registers ------------------------------------------------------------

def test_unknown_impair_is_left_to_pluto_when_the_daemon_modules_are_absent(monkeypatch):
    monkeypatch.setattr(options, "DAEMON_IMPAIR_MODULES", ("pluto.no_such_module",))
    monkeypatch.setattr(options, "_daemon_impairs_loaded", None)
    assert actions("--impair", "suppress-retransmits,nonce:3") == [
        {"action": "impair", "arguments": [["--impair", "suppress-retransmits,nonce:3"]]}]
    # the names whack does know are still checked
    assert "'nonce' needs a value" in usage_error("--impair", "suppress-retransmits,nonce")


def test_unknown_impair_is_refused_once_the_whole_registry_is_loaded(monkeypatch):
    name = "test-whack-daemon-only"
    monkeypatch.setitem(impair.REGISTRY, name,
                        impair.ImpairSpec(name, impair.Kind.UNSIGNED, "for this test"))
    monkeypatch.setattr(options, "DAEMON_IMPAIR_MODULES", ("pluto.impair",))
    monkeypatch.setattr(options, "_daemon_impairs_loaded", None)
    assert actions("--impair", f"{name}:5") == [
        {"action": "impair", "arguments": [["--impair", f"{name}:5"]]}]
    assert f"impair '{name}': 'x' is not an unsigned number" in \
        usage_error("--impair", f"{name}:x")
    assert "unknown impair 'nonse'" in usage_error("--impair", "nonse:3")


def test_policy_flags_not_given_are_off_and_encrypt_is_the_fallback():
    base = ["--name", "a", "--host", "127.0.0.1", "--to", "--host", "127.0.0.2"]
    (add,) = actions(*base)
    assert {k: add["connection"][k] for k in POLICY_FLAGS_OFF} == POLICY_FLAGS_OFF
    (add,) = actions(*base, "--authenticate", "--tunnel")
    connection = add["connection"]
    assert (connection["encrypt"], connection["authenticate"], connection["tunnel"]) == \
        (False, True, True)
    (add,) = actions(*base, "--encrypt", "--authenticate", "--pfs")
    assert add["connection"]["encrypt"] and add["connection"]["pfs"]


def test_an_instance_is_named_as_pluto_prints_it():
    command = parse_command_line(["--name", '"road"[1]', "--terminate"])
    assert command.actions == [{"action": "terminate", "name": "road[1]"}]
    with pytest.raises(WhackUsageError, match="no spaces or quotes"):
        parse_command_line(["--name", '"road"', "--terminate"])


def test_a_virtual_client_is_passed_to_pluto_unchecked():
    command = parse_command_line(["--name", "rw", "--host", "198.51.100.1", "--client",
                                  "vhost:%priv,%no", "--to", "--host", "%any", "--psk"])
    assert command.actions[0]["connection"]["left"]["client"] == "vhost:%priv,%no"
