"""ipsec.conf syntax: sections, comments, quoting, includes, also=, %default and the errors."""

from __future__ import annotations

import os

import pytest

from pluto.config.ipsec_conf import from_text, load
from pluto.config.lexer import ConfigError


def values(conf, name):
    return {key: setting.value for key, setting in conf.conn(name).settings.items()}


def test_sections_comments_and_quoting():
    conf = from_text(
        "# a comment in the first column\n"
        "version 2\n"
        "config setup\n"
        "\tplutodebug=\"base parsing\"   # a comment after a value\n"
        "  # an indented comment\n"
        "\n"
        "conn one\n"
        "    left = 198.51.100.45\n"
        "    leftid=@#0a0b\n"                       # '#' inside a word is not a comment
        "    rightid=\"@a#b\"\n"                    # nor inside quotes
        "    leftsubnets={198.18.1.0/24 198.18.5.0/24}\n"
        "    right=%any\n"
        "    x-my-note=\"anything at all\"\n"
        "    ike=\n",                               # empty: the default, as if not there
        "f.conf")
    assert conf.setup["plutodebug"].value == "base parsing"
    assert str(conf.setup["plutodebug"].where) == "f.conf:4"
    assert values(conf, "one") == {"left": "198.51.100.45", "leftid": "@#0a0b",
                                   "rightid": "@a#b",
                                   "leftsubnets": "198.18.1.0/24 198.18.5.0/24",
                                   "right": "%any"}
    assert str(conf.conn("one").location("right")) == "f.conf:12"


def test_a_section_continues_over_indented_lines_until_the_first_column():
    conf = from_text("conn a\n  left=198.51.100.1\n\n  # gap\n  right=198.51.100.2\n"
                     "conn b\n  left=198.51.100.3\n")
    assert values(conf, "a") == {"left": "198.51.100.1", "right": "198.51.100.2"}
    assert values(conf, "b") == {"left": "198.51.100.3"}
    assert list(conf.conns) == ["a", "b"]


def test_default_fills_only_what_is_unset_and_the_last_default_wins():
    conf = from_text(
        "conn %default\n  ikelifetime=1h\n  authby=rsasig\n"
        "conn a\n  authby=secret\n  left=198.51.100.1\n"
        "conn %default\n  ikelifetime=2h\n")
    assert values(conf, "a") == {"authby": "secret", "left": "198.51.100.1",
                                 "ikelifetime": "2h"}
    assert "%default" not in conf.conns


def test_also_chains_append_in_order_and_recursively():
    conf = from_text(
        "conn main\n  also=hosts\n  also=algs\n  auto=add\n"
        "conn hosts\n  left=198.51.100.45\n  also=ids\n  right=198.51.100.23\n"
        "conn ids\n  leftid=@west\n  rightid=@east\n"
        "conn algs\n  ike=aes256-sha2\n  leftid=@west\n")  # the same value twice is fine
    assert values(conf, "main") == {"auto": "add", "left": "198.51.100.45",
                                    "right": "198.51.100.23", "leftid": "@west",
                                    "rightid": "@east", "ike": "aes256-sha2"}
    # where each value came from is kept, for error messages
    assert str(conf.conn("main").location("rightid")) == "ipsec.conf:11"


def test_aliases_are_one_setting():
    conf = from_text("conn a\n  keylife=1h\n  margintime=5m\n  phase2alg=aes128\n")
    assert values(conf, "a") == {"salifetime": "1h", "rekeymargin": "5m", "esp": "aes128"}


def test_include_globs_relative_to_the_including_file(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "b.conf").write_text("conn b\n  left=198.51.100.2\n")
    (tmp_path / "conf.d" / "a.conf").write_text("conn a\n  left=198.51.100.1\n"
                                               "include ../more/*.conf\n")
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "c.conf").write_text("conn c\n  also=a\n")
    main = tmp_path / "ipsec.conf"
    main.write_text("config setup\n  uniqueids=no\ninclude conf.d/*.conf\n"
                    "include nothing/*.conf\nconn z\n  left=198.51.100.9\n")
    conf = load(str(main))
    assert list(conf.conns) == ["a", "c", "b", "z"]  # sorted glob, depth first
    assert values(conf, "c") == {"left": "198.51.100.1"}
    assert str(conf.conn("b").where) == f"{tmp_path}/conf.d/b.conf:1"
    assert conf.warnings == [f"{main}:4: include nothing/*.conf: no file matched"]


def test_include_loop_is_an_error(tmp_path):
    path = tmp_path / "ipsec.conf"
    path.write_text("include ipsec.conf\n")
    with pytest.raises(ConfigError, match=r"ipsec.conf:1: include nested more than 10 deep"):
        load(str(path))


def test_missing_plain_include_is_an_error(tmp_path):
    path = tmp_path / "ipsec.conf"
    path.write_text("\n\ninclude missing.conf\n")
    with pytest.raises(ConfigError) as err:
        load(str(path))
    assert str(err.value) == f"{path}:3: include missing.conf: no such file"


def test_unreadable_file():
    with pytest.raises(ConfigError, match=r'cannot read "/nonexistent/ipsec.conf"'):
        load("/nonexistent/ipsec.conf")


ERRORS = [
    ("conn a\n  left=1.2.3.4\n  lefty=1\n",
     "f.conf:3: unknown keyword 'lefty' in conn a"),
    ("conn a\n  plutodebug=all\n",
     "f.conf:2: unknown keyword 'plutodebug' in conn a (it belongs in config setup)"),
    ("config setup\n  leftid=@x\n",
     "f.conf:2: unknown keyword 'leftid' in config setup (it belongs in a conn)"),
    ("conn a\n  left=1.2.3.4\n  left=1.2.3.5\n",
     "f.conf:3: duplicate keyword 'left' in conn a (first given at f.conf:2 as left)"),
    ("conn a\n  salifetime=1h\n  lifetime=2h\n",
     "f.conf:3: duplicate keyword 'lifetime' in conn a (first given at f.conf:2 as "
     "salifetime)"),
    ("conn a\n  also=b\n  left=1.2.3.4\nconn b\n  left=1.2.3.5\n",
     "f.conf:5: left=1.2.3.5 conflicts with left=1.2.3.4 given at f.conf:3 (conn a includes "
     "both through also=)"),
    ("conn a\n  also=nowhere\n", "f.conf:2: also=nowhere: no conn named 'nowhere'"),
    ("conn a\n  also=b\nconn b\n  also=a\n",
     "f.conf:4: also=a: conn a is already included in conn a (a -> b)"),
    ("conn %default\n  also=b\nconn b\n  left=1.2.3.4\n",
     "f.conf:2: also= is not allowed in conn %default"),
    ("conn a\n  left=1.2.3.4\nconn a\n  right=1.2.3.4\n",
     "f.conf:3: conn a is already defined at f.conf:1"),
    ("  left=1.2.3.4\n",
     "f.conf:1: indented line outside a section (a section starts in the first column: "
     "'conn NAME' or 'config setup')"),
    ("conn a\nleft=1.2.3.4\n",
     "f.conf:2: 'left=1.2.3.4' in the first column: expected 'conn NAME', 'config setup' or "
     "'include FILE' (settings are indented)"),
    ("conn a b\n", "f.conf:1: conn a b: a connection name is one word of letters, digits "
                   "and . _ - / + @ :"),
    ("config something\n", "f.conf:1: expected 'config setup'"),
    ("conn a\n  left\n", "f.conf:2: 'left': expected keyword=value"),
    ("conn a\n  leftid=\"@west\n", "f.conf:2: unterminated quoted string (values cannot "
                                   "continue on the next line)"),
    ("conn a\n  leftsubnets={1.2.3.0/24\n", "f.conf:2: unterminated braced list (values "
                                            "cannot continue on the next line)"),
    ("conn a\n  leftid=\"@west\"x\n", "f.conf:2: leftid: text after the closing \""),
    ("conn a\n  leftid=@west @east\n",
     "f.conf:2: leftid=@west @east: a value with spaces must be quoted"),
    ("include\n", "f.conf:1: include takes exactly one file name (a glob)"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors_name_file_line_and_keyword(text, message):
    with pytest.raises(ConfigError) as err:
        from_text(text, "f.conf")
    assert str(err.value) == message


def test_user_keywords_are_accepted_anywhere():
    conf = from_text("config setup\n  X_local=1\nconn a\n  x-owner=ops\n  left=1.2.3.4\n")
    assert values(conf, "a") == {"left": "1.2.3.4"}


def test_no_such_conn():
    with pytest.raises(ConfigError, match="f.conf: no conn 'b'"):
        from_text("conn a\n  left=1.2.3.4\n", "f.conf").conn("b")


def test_default_config_path_is_not_read_by_from_text(tmp_path):
    # from_text resolves includes relative to the source it is given, never the cwd
    (tmp_path / "inc.conf").write_text("conn i\n  left=198.51.100.7\n")
    conf = from_text("include inc.conf\n", os.path.join(tmp_path, "virtual.conf"))
    assert values(conf, "i") == {"left": "198.51.100.7"}
