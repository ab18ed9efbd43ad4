"""The minimal ipsec.secrets reader: PSK records, includes, lookup precedence, errors."""

from __future__ import annotations

import os

import pytest

from pluto.connections.ids import parse_identity
from pluto.connections.secrets import Secrets, SecretsError

WEST = parse_identity("@west")
EAST = parse_identity("@east")
ROAD = parse_identity("@road")
NORTH = parse_identity("@north")


def secrets(text: str) -> Secrets:
    return Secrets.from_text(text, "ipsec.secrets")


def failure(text: str) -> str:
    with pytest.raises(SecretsError) as info:
        secrets(text)
    return str(info.value)


# --- the forms of a record -----------------------------------------------------------------

def test_quoted_hex_and_base64_secrets():
    loaded = secrets(
        '@west @east : PSK "a quoted #secret"\n'
        "@west @road : PSK 0x7365637265742131\n"          # b"secret!1"
        "@west @north : PSK 0x7365_6372_6574_2132\n"      # '_' separates hex digits
        "@east @road : PSK 0sc2VjcmV0ITM=\n"              # b"secret!3"
        "@east @north: psk 'single quoted'\n"
    )
    assert loaded.psk_for(WEST, EAST) == b"a quoted #secret"
    assert loaded.psk_for(WEST, ROAD) == b"secret!1"
    assert loaded.psk_for(WEST, NORTH) == b"secret!2"
    assert loaded.psk_for(EAST, ROAD) == b"secret!3"
    assert loaded.psk_for(EAST, NORTH) == b"single quoted"
    assert [entry.where for entry in loaded.entries] == [
        f"ipsec.secrets:{n}" for n in range(1, 6)]


def test_comments_blank_lines_and_continuations():
    loaded = secrets(
        "# a comment\n"
        "\n"
        "@west\n"
        "    @east   # the peer\n"
        "\t: PSK\n"
        '  "joined over lines"\n'
        "   # an indented comment\n"
        '198.51.100.45 198.51.100.23 : PSK "by address" # trailing comment\n'
    )
    assert loaded.psk_for(WEST, EAST) == b"joined over lines"
    assert loaded.entries[0].where == "ipsec.secrets:3"
    assert loaded.psk_for(parse_identity("198.51.100.23"),
                          parse_identity("198.51.100.45")) == b"by address"


def test_ipv6_ids_and_key_ids_are_not_split_or_commented():
    loaded = secrets(
        '2001:db8:1:2::45 2001:db8:1:2::23: PSK "v6 secret"\n'
        '@#0a0b @west : PSK "key id secret"\n'
    )
    assert loaded.psk_for(parse_identity("2001:db8:1:2::23"),
                          parse_identity("2001:db8:1:2::45")) == b"v6 secret"
    assert loaded.psk_for(WEST, parse_identity("@#0a0b")) == b"key id secret"


def test_weak_secret_warns():
    loaded = secrets('@west @east : PSK "short"\n')
    assert loaded.warnings == ["ipsec.secrets:1: WARNING: using a weak secret (PSK)"]


# --- lookup precedence (libreswan's lsw_find_secret_by_id) ---------------------------------

PRECEDENCE = (
    ': PSK "default"\n'
    '@west : PSK "west alone"\n'
    '@west %any : PSK "west and any"\n'
    '%any @road : PSK "any and road"\n'
    '@west @east : PSK "west east"\n'
)


@pytest.mark.parametrize(("local", "remote", "expected"), [
    (WEST, EAST, b"west east"),        # both IDs named: the best
    (EAST, WEST, b"west east"),        # whichever side we are
    (WEST, NORTH, b"west and any"),    # ours with a wildcard beats ours alone
    (NORTH, ROAD, b"any and road"),    # a wildcard and the peer
    # libreswan counts a %any in an entry as a match of its own, even when the entry's other
    # IDs match neither side: it still beats the default.
    (NORTH, EAST, b"west and any"),
    (None, None, b"west and any"),
])
def test_precedence(local, remote, expected):
    assert secrets(PRECEDENCE).psk_for(local, remote) == expected


def test_default_when_nothing_names_either_side():
    loaded = secrets(': PSK "default"\n@west @east : PSK "west east"\n')
    assert loaded.psk_for(NORTH, ROAD) == b"default"
    assert loaded.psk_for(None, None) == b"default"


def test_our_id_alone_serves_any_peer_and_beats_the_default():
    loaded = secrets(': PSK "default"\n@west : PSK "west alone"\n')
    assert loaded.psk_for(WEST, NORTH) == b"west alone"
    assert loaded.psk_for(NORTH, WEST) == b"default"  # naming only the peer is not enough


def test_our_id_alone_beats_the_peers_id_with_a_wildcard():
    loaded = secrets('%any @east : PSK "any and east"\n@west : PSK "west alone"\n')
    assert loaded.psk_for(WEST, EAST) == b"west alone"
    assert loaded.psk_for(NORTH, EAST) == b"any and east"


def test_peer_id_alone_among_several_is_not_a_match():
    loaded = secrets('@north @road : PSK "north road"\n')
    assert loaded.psk_for(WEST, ROAD) is None


def test_no_match_and_no_default():
    assert secrets('@west @east : PSK "west east"\n').psk_for(ROAD, NORTH) is None
    assert secrets("").psk_for(WEST, EAST) is None


def test_fqdn_ids_match_without_case_and_unspecified_address_is_any():
    loaded = secrets('@WEST 0.0.0.0 : PSK "upper west"\n')
    assert loaded.psk_for(WEST, NORTH) == b"upper west"
    assert secrets('@west :: : PSK "v6 any"\n').psk_for(WEST, NORTH) == b"v6 any"


def test_wildcard_local_id_does_not_match_a_named_entry():
    loaded = secrets('@west @east : PSK "west east"\n')
    assert loaded.psk_for(parse_identity("%any"), EAST) is None


def test_equal_matches_with_distinct_secrets_use_the_first_and_warn():
    warnings: list[str] = []
    loaded = Secrets.from_text('@west @east : PSK "first secret"\n'
                               '@east @west : PSK "second secret"\n'
                               '@west @east : PSK "first secret"\n', "f", warn=warnings.append)
    assert loaded.psk_for(WEST, EAST) == b"first secret"
    assert warnings == ["multiple secrets entries with distinct secrets match the IDs @west "
                        "and @east (f:1 and f:2): using f:1"]
    assert "first secret" not in warnings[0] and "second secret" not in warnings[0]


# --- files, includes and permissions -------------------------------------------------------

def write(path, text: str, mode: int = 0o600):
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_load_globs_includes_relative_to_the_including_file(tmp_path):
    conf = tmp_path / "conf"
    (conf / "peers").mkdir(parents=True)
    write(conf / "peers" / "b.secrets", '@west @north : PSK "north secret"\n')
    write(conf / "peers" / "a.secrets", '@west @road : PSK "road secret"\n')
    write(conf / "ipsec.secrets", 'include peers/*.secrets\n@west @east : PSK "east secret"\n')
    loaded = Secrets.load([str(conf / "ipsec.secrets")])
    assert [entry.psk for entry in loaded.entries] == [
        b"road secret", b"north secret", b"east secret"]
    assert loaded.entries[0].where == f"{conf}/peers/a.secrets:1"
    assert loaded.warnings == []


def test_load_several_patterns_in_sorted_order(tmp_path):
    write(tmp_path / "2.secrets", '@west @east : PSK "from two"\n')
    write(tmp_path / "1.secrets", '@west @east : PSK "from one"\n')
    loaded = Secrets.load([str(tmp_path / "*.secrets")])
    assert loaded.psk_for(WEST, EAST) == b"from one"


def test_group_or_other_readable_file_warns(tmp_path):
    path = write(tmp_path / "ipsec.secrets", '@west @east : PSK "secret secret"\n', 0o644)
    warnings: list[str] = []
    Secrets.load([str(path)], warn=warnings.append)
    assert warnings == [f"{path}: secrets file is readable by group or others (mode 0644); "
                        "chmod 600 it"]


def test_unmatched_patterns_warn(tmp_path):
    path = write(tmp_path / "ipsec.secrets", "include missing/*.secrets\n")
    loaded = Secrets.load([str(path), str(tmp_path / "nothing-here")])
    assert loaded.warnings == [
        f'{path}:1: no secrets filename matched "{tmp_path}/missing/*.secrets"',
        f'no secrets filename matched "{tmp_path}/nothing-here"']


def test_include_loop_is_stopped(tmp_path):
    path = write(tmp_path / "loop.secrets", "include loop.secrets\n")
    with pytest.raises(SecretsError, match=r"loop\.secrets:1: include nested more than 10"):
        Secrets.load([str(path)])


def test_unreadable_file_is_an_error(tmp_path):
    (tmp_path / "dir.secrets").mkdir()
    with pytest.raises(SecretsError, match="cannot read secrets file"):
        Secrets.load([str(tmp_path / "dir.secrets")])


def test_errors_in_included_files_name_that_file(tmp_path):
    write(tmp_path / "bad.secrets", "\n\n@west @east : PSK nonsense\n")
    path = write(tmp_path / "ipsec.secrets", "include bad.secrets\n")
    with pytest.raises(SecretsError) as info:
        Secrets.load([str(path)])
    assert str(info.value) == (f"{tmp_path}/bad.secrets:3: the PSK must be a quoted string, "
                               "0x hex or 0s base64")
    assert "nonsense" not in str(info.value)


# --- errors name the line and never show the secret ---------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ('@west @east PSK "hidden-value"\n', "ipsec.secrets:1: expected 'ID ... : PSK \"secret\"'"),
    ("\n@west @east :\n", "ipsec.secrets:2: nothing after ':' (expected PSK)"),
    ('@west : PASSWORD "hidden-value"\n', "ipsec.secrets:1: unknown secret kind 'PASSWORD'"),
    ("@west : PSK\n", "ipsec.secrets:1: PSK without a secret"),
    ('@west : PSK "hidden-value" extra\n', "ipsec.secrets:1: unexpected text after the PSK"),
    ('@west : PSK ""\n', "ipsec.secrets:1: the PSK is empty"),
    ('@west : PSK "hidden-value\n', "ipsec.secrets:1: unterminated quoted string"),
    ('@west : PSK "hidden"value\n', "ipsec.secrets:1: text right after a closing quote"),
    ("@west : PSK 0xhiddenvalue\n", "ipsec.secrets:1: PSK data malformed (0x needs an even"),
    ("@west : PSK 0xabc\n", "ipsec.secrets:1: PSK data malformed (0x needs an even"),
    ("@west : PSK 0x\n", "ipsec.secrets:1: PSK data malformed (0x needs an even"),
    ("@west : PSK 0shidden-value!\n", "ipsec.secrets:1: PSK data malformed (bad base64"),
    ("@west : PSK 0s\n", "ipsec.secrets:1: the PSK is empty"),
    ("@west : PSK hiddenvalue\n", "ipsec.secrets:1: the PSK must be a quoted string"),
    ('west.example : PSK "hidden-value"\n', "ipsec.secrets:1: identity 'west.example': write"),
    ('  : PSK "hidden-value"\n', "ipsec.secrets:1: indented line outside a record"),
    ("include\n", "ipsec.secrets:1: include needs exactly one file name"),
    ("include a b\n", "ipsec.secrets:1: include needs exactly one file name"),
])
def test_errors(text, expected):
    message = failure(text)
    assert message.startswith(expected)
    assert "hidden" not in message


def test_repr_hides_secrets():
    loaded = secrets('@west @east : PSK "hidden-value"\n: PSK 0x68696464656e2d76616c7565\n')
    texts = [repr(loaded), repr(loaded.entries), str(loaded.entries[0])]
    assert all("hidden" not in text and "68696464656e" not in text for text in texts)
    assert repr(loaded.entries[0]) == \
        "PskEntry(@west @east : PSK <12 bytes> at ipsec.secrets:1)"
    assert repr(loaded.entries[1]) == "PskEntry((default) : PSK <12 bytes> at ipsec.secrets:2)"
