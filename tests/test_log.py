"""Debug classes and loggers: spellings of both manuals, secrets, line shapes."""

import pytest

from pluto.log import (
    DEBUG_CLASSES,
    CollectingLogger,
    DebugError,
    DebugFlags,
    apply_debug_option,
    debug_help,
)


def test_debug_lines_start_with_bar_and_only_when_on():
    log = CollectingLogger(DebugFlags(["base"]))
    log.debug("base", "hello")
    log.debug("parsing", "not shown")
    log.log("plain")
    log.impair("fired")
    assert log.lines == ["| hello", "plain", "IMPAIR: fired"]


def test_prefix_is_shared_sink_and_flags():
    log = CollectingLogger(DebugFlags())
    state = log.with_prefix('"westnet-eastnet" #1: ')
    state.log("sent IKE_SA_INIT request")
    log.flags.enable("control")
    state.debug("control", "x")
    assert log.lines == ['"westnet-eastnet" #1: sent IKE_SA_INIT request', "| x"]


def test_secrets_redacted_unless_private():
    log = CollectingLogger(DebugFlags(["all"]))
    assert "private" not in log.flags
    assert log.secret(b"\x01\x02") == "<2 secret bytes>"
    log.flags.enable("private")
    assert log.secret(b"\x01\x02") == "0102"


@pytest.mark.parametrize("option, value, expected", [
    ("--debug", "base", {"base"}),
    ("--debug", "parsing,emitting", {"parsing", "emitting"}),
    ("--debug", "parsing emitting", {"parsing", "emitting"}),
    ("--debug-raw", None, {"raw"}),
    ("--debug-parsing", None, {"parsing"}),
    ("--debug-emitting", None, {"emitting"}),
    ("--debug-control", None, {"control"}),
    ("--debug-lifecycle", None, {"lifecycle"}),
    ("--debug-kernel", None, {"kernel"}),
    ("--debug-klips", None, {"kernel"}),
    ("--debug-crypt", None, {"crypt"}),
    ("--debug-private", None, {"private"}),
    ("--debug-none", None, set()),
])
def test_option_spellings(option, value, expected):
    flags = DebugFlags()
    apply_debug_option(flags, option, value)
    assert set(flags.names) == expected


def test_all_none_and_no_debug():
    flags = DebugFlags()
    apply_debug_option(flags, "--debug-all")
    assert set(flags.names) == set(DEBUG_CLASSES) - {"private", "tmi"}
    apply_debug_option(flags, "--no-debug", "parsing")
    assert "parsing" not in flags and "emitting" in flags
    apply_debug_option(flags, "--debug", "none")
    assert not flags.names
    apply_debug_option(flags, "--debug", "all,private")
    assert "private" in flags


@pytest.mark.parametrize("option, value, token", [
    ("--debug", "parsnip", "parsnip"),
    ("--debug-bogus", None, "bogus"),
    ("--no-debug", "base,nope", "nope"),
])
def test_errors_name_the_token(option, value, token):
    with pytest.raises(DebugError, match=f"'{token}'"):
        apply_debug_option(DebugFlags(), option, value)


def test_help_lists_every_class():
    text = debug_help()
    for name, cls in DEBUG_CLASSES.items():
        assert f"  {name}" in text and cls.help in text
