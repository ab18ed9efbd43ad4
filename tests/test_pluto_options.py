"""The pluto command line: every option of the issue, defaults, and errors that name the option."""

import ipaddress
import os

import pytest

from pluto import impair
from pluto.main import main
from pluto.server.options import OptionsError, effective_helpers, parse_options


def test_defaults_follow_the_manual():
    opts = parse_options([])
    assert (opts.nofork, opts.stderrlog, opts.logfile) == (False, False, None)
    assert opts.ctl_path == "/run/pluto/pluto.ctl"
    assert opts.pid_path == "/run/pluto/pluto.pid"
    assert opts.secretsfile == "/etc/ipsec.secrets"
    assert (opts.ikeport, opts.natikeport) == (500, 4500)
    assert (opts.interfaces, opts.listen) == ([], [])
    assert (opts.uniqueids, opts.force_busy, opts.noklips) == (False, False, False)


def test_every_option():
    opts = parse_options([
        "--nofork", "--stderrlog", "--logfile", "/tmp/pluto.log", "--rundir=/tmp/run",
        "--secretsfile", "/etc/ipsec.d/*.secrets", "--ikeport", "8500", "--natikeport=8501",
        "--interface", "eth0", "--interface=eth1", "--listen", "127.0.0.1",
        "--listen=2001:db8::1", "--uniqueids", "--force-busy", "--noklips", "--nhelpers", "0",
        "--debug", "base,parsing", "--debug-emitting", "--impair", "nonce:7",
    ])
    assert opts.nofork and opts.stderrlog and opts.uniqueids and opts.force_busy
    assert opts.noklips
    assert opts.logfile == "/tmp/pluto.log"
    assert opts.ctl_path == "/tmp/run/pluto.ctl" and opts.pid_path == "/tmp/run/pluto.pid"
    assert opts.secretsfile == "/etc/ipsec.d/*.secrets"  # globbed later, not by the parser
    assert (opts.ikeport, opts.natikeport, opts.nhelpers) == (8500, 8501, 0)
    assert opts.interfaces == ["eth0", "eth1"]
    assert opts.listen == [ipaddress.ip_address("127.0.0.1"),
                           ipaddress.ip_address("2001:db8::1")]
    assert set(opts.debug_impair.debug.names) == {"base", "parsing", "emitting"}
    assert opts.debug_impair.impairs.get("nonce") == 7


def test_ctlbase_gives_both_paths_and_natt_port_is_an_alias():
    opts = parse_options(["--ctlbase", "/tmp/west", "--natt-port", "0"])
    assert (opts.ctl_path, opts.pid_path) == ("/tmp/west.ctl", "/tmp/west.pid")
    assert opts.natikeport == 0


def test_ikeport_alone_does_not_move_the_nat_port():
    assert parse_options(["--ikeport", "600"]).natikeport == 4500


def test_relative_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opts = parse_options(["--rundir", "run", "--logfile", "log", "--secretsfile", "s/*"])
    opts.make_paths_absolute()
    assert opts.pid_path == os.path.join(tmp_path, "run", "pluto.pid")
    assert opts.logfile == os.path.join(tmp_path, "log")
    assert opts.secretsfile == os.path.join(tmp_path, "s/*")


@pytest.mark.parametrize("argv, named", [
    (["--ikeport", "0"], "--ikeport: 0 is out of range"),
    (["--ikeport", "65536"], "--ikeport: 65536 is out of range"),
    (["--ikeport", "five"], "--ikeport: 'five' is not a number"),
    (["--ikeport"], "--ikeport needs a value"),
    (["--natikeport", "500"], "--natikeport 500: the NAT-T port must differ"),
    (["--nhelpers", "-2"], "--nhelpers: -2 is out of range"),
    (["--listen", "east"], "--listen: 'east' is not an IP address"),
    (["--listen", "0.0.0.0"], "--listen: '0.0.0.0' is not a unicast address"),
    (["--listen", "ff02::1"], "--listen: 'ff02::1' is not a unicast address"),
    (["--interface", "a/b"], "--interface: 'a/b' is not an interface name"),
    (["--logfile="], "--logfile: the path is empty"),
    (["--nofork=yes"], "--nofork takes no value"),
    (["--rundir", "/a", "--rundir", "/b"], "--rundir given twice"),
    (["--ctlbase", "/a", "--rundir", "/b"], "--ctlbase and --rundir"),
    (["--frobnicate"], "unknown option '--frobnicate'"),
    (["east"], "unexpected argument 'east'"),
    (["--debug", "parsnip"], "'parsnip'"),
    (["--impair", "ke-payload:sideways"], "'sideways'"),
])
def test_bad_options_are_named(argv, named):
    with pytest.raises(OptionsError) as info:
        parse_options(argv)
    assert named in str(info.value)


def test_nhelpers_default_is_cpus_less_one():
    assert effective_helpers(-1) == max((os.cpu_count() or 1) - 1, 0)
    assert effective_helpers(3) == 3


def run_main(capsys, argv):
    # A stand-in core: these tests must not depend on the real one importing.
    code = main(argv, make_core=lambda **_kwargs: None)
    out, err = capsys.readouterr()
    return code, out, err


def test_main_answers_help_version_and_registries(capsys):
    code, out, _ = run_main(capsys, ["--help"])
    assert code == 0 and "--noklips" in out and "--natikeport" in out
    code, out, _ = run_main(capsys, ["--version"])
    assert code == 0 and out.startswith("pluto ")
    code, out, _ = run_main(capsys, ["--debug", "help"])
    assert code == 0 and "parsing" in out
    code, out, _ = run_main(capsys, ["--impair", "help"])
    assert code == 0 and "ke-payload" in out
    code, out, _ = run_main(capsys, ["--impair", "nonce:7", "--impair", "list"])
    assert code == 0 and out.splitlines() == ["nonce:7"]


def test_main_refuses_bad_options_with_exit_1(capsys):
    code, out, err = run_main(capsys, ["--ikeport", "x", "--noklips"])
    assert code == 1 and out == ""
    assert err == "pluto: --ikeport: 'x' is not a number\n"


def test_main_refuses_action_impairs_on_its_command_line(capsys, monkeypatch):
    spec = impair.ImpairSpec("rekey-now-test", impair.Kind.ACTION, "test action")
    monkeypatch.setitem(impair.REGISTRY, spec.name, spec)
    code, _, err = run_main(capsys, ["--noklips", "--impair", "rekey-now-test:1"])
    assert code == 1 and "--impair rekey-now-test" in err and "whack --impair" in err


def test_main_reports_an_interface_that_does_not_exist(capsys, tmp_path):
    code, _, err = run_main(capsys, ["--nofork", "--noklips", "--rundir", str(tmp_path),
                                     "--interface", "nosuchif0"])
    assert code == 1 and err == "pluto: --interface nosuchif0: no such interface\n"


def test_engine_options_fill_the_cores_own_class():
    from dataclasses import dataclass, field

    from pluto.main import engine_options
    from pluto.server.options import CoreOptions

    @dataclass
    class EngineOptions:
        listen: list = field(default_factory=list)
        force_busy: bool = False
        retransmit_interval: float = 0.5
        secrets_patterns: list = field(default_factory=list)

    endpoint = (ipaddress.ip_address("127.0.0.1"), 500)
    mine = CoreOptions(force_busy=True, uniqueids=True, listen=(endpoint,))
    opts = parse_options(["--secretsfile", "/etc/ipsec.d/*.secrets"])
    theirs = engine_options(mine, opts, EngineOptions)
    assert theirs == EngineOptions(listen=[endpoint], force_busy=True, retransmit_interval=0.5,
                                   secrets_patterns=["/etc/ipsec.d/*.secrets"])
    assert engine_options(mine, opts, None) is mine


def test_ikev1_policy_option_and_config_setup(tmp_path):
    assert parse_options([]).ikev1_policy == "drop"
    assert parse_options(["--ikev1-policy", "ACCEPT"]).ikev1_policy == "accept"
    with pytest.raises(OptionsError, match="--ikev1-policy maybe"):
        parse_options(["--ikev1-policy", "maybe"])
    conf = tmp_path / "ipsec.conf"
    conf.write_text("config setup\n  ikev1-policy=accept\n")
    assert parse_options(["--config", str(conf)]).ikev1_policy == "accept"
    assert parse_options(["--config", str(conf), "--ikev1-policy", "reject"]).ikev1_policy == \
        "reject"
