"""The lines of one ipsec.conf file, as libreswan's ipsec.conf(5) writes them.

- A section starts in the first column: ``config setup`` or ``conn NAME``. Every following
  line that starts with white space belongs to it (this indentation is how a section
  continues over many lines); ``include PATTERN`` and ``version N`` also start in the first
  column, and a first-column line ends the section before it.
- Inside a section: ``keyword=value`` (white space around ``=`` allowed). A value is a
  word, a ``"quoted string"`` (may hold spaces, not quotes) or a ``{braced list}``; an empty
  value means "the default", as if the line were not there.
- ``#`` at the start of a line or after white space starts a comment (``leftid=@#0a0b``
  keeps its ``#``, as in libreswan, because there it is inside a word).

This module only splits text into :class:`Section` and :class:`Include` items, with the
file and line of everything; :mod:`pluto.config.ipsec_conf` resolves includes, ``also=``
and ``%default``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A configuration that cannot be used; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    where: Location

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


@dataclass
class Section:
    kind: str  # "config" or "conn"
    name: str  # "setup" for config
    where: Location
    settings: list[Setting] = field(default_factory=list)


@dataclass(frozen=True)
class Include:
    pattern: str
    where: Location


# Section and keyword names: ipsec.conf(5) says letters, digits, '.', '_' and '-'; libreswan
# also accepts a leading digit and '/', '+', '@' and ':' in connection names.
_NAME = re.compile(r"%default|[A-Za-z0-9][A-Za-z0-9._/+@:-]*")
_KEYWORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_SPACE = " \t\r\f\v"


def parse_text(text: str, source: str) -> list[Section | Include]:
    """Split the text of one file into sections and include lines (not followed)."""
    items: list[Section | Include] = []
    current: Section | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        where = Location(source, number)
        line = _strip_comment(raw, where)
        if not line.strip():
            continue
        if line[0] in _SPACE:
            if current is None:
                raise ConfigError(f"{where}: indented line outside a section (a section starts "
                                  "in the first column: 'conn NAME' or 'config setup')")
            current.settings.append(_setting(line.strip(), where))
            continue
        current = None
        words = line.split()
        head = words[0]
        if head == "include":
            if len(words) != 2:
                raise ConfigError(f"{where}: include takes exactly one file name (a glob)")
            items.append(Include(words[1], where))
        elif head == "version":
            if len(words) != 2:
                raise ConfigError(f"{where}: version takes one number")
        elif head == "config":
            if words[1:] != ["setup"]:
                raise ConfigError(f"{where}: expected 'config setup'")
            current = Section("config", "setup", where)
            items.append(current)
        elif head == "conn":
            if len(words) != 2 or not _NAME.fullmatch(words[1]):
                name = " ".join(words[1:]) or "(nothing)"
                raise ConfigError(f"{where}: conn {name}: a connection name is one word of "
                                  "letters, digits and . _ - / + @ :")
            current = Section("conn", words[1], where)
            items.append(current)
        else:
            raise ConfigError(f"{where}: '{head}' in the first column: expected 'conn NAME', "
                              "'config setup' or 'include FILE' (settings are indented)")
    return items


def _strip_comment(line: str, where: Location) -> str:
    """The line without its comment; quotes and braces protect a '#'."""
    closing = {'"': '"', "{": "}"}
    position = 0
    while position < len(line):
        char = line[position]
        if char in closing:
            end = line.find(closing[char], position + 1)
            if end < 0:
                what = "quoted string" if char == '"' else "braced list"
                raise ConfigError(f"{where}: unterminated {what} (values cannot continue on "
                                  "the next line)")
            position = end + 1
            continue
        if char == "#" and (position == 0 or line[position - 1] in _SPACE):
            return line[:position].rstrip()
        position += 1
    return line.rstrip()


def _setting(text: str, where: Location) -> Setting:
    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals:
        raise ConfigError(f"{where}: '{text}': expected keyword=value")
    if not _KEYWORD.fullmatch(key):
        raise ConfigError(f"{where}: '{key}' is not a keyword")
    value = value.strip()
    if value[:1] in ('"', "{"):
        close = '"' if value[0] == '"' else "}"
        end = value.find(close, 1)
        if end != len(value) - 1:
            raise ConfigError(f"{where}: {key}: text after the closing {close}")
        inner = value[1:-1]
        if '"' in inner:
            raise ConfigError(f"{where}: {key}: a value cannot contain a double quote")
        return Setting(key, inner.strip(), where)
    if any(char in value for char in _SPACE) or '"' in value:
        raise ConfigError(f"{where}: {key}={value}: a value with spaces must be quoted")
    return Setting(key, value, where)
