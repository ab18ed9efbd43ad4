"""ipsec.conf: files, includes, ``also=`` and ``conn %default``, as libreswan reads them.

:func:`load` reads a file (following ``include`` globs, relative to the including file's
directory, nested at most :data:`MAX_INCLUDE_DEPTH` deep) and returns an :class:`IpsecConf`:
the ``config setup`` settings and every conn with its settings resolved:

1. the conn's own lines (a keyword twice in one section is an error);
2. then, for each ``also=NAME`` in order, the lines of conn NAME, recursively, "as if they had
   been written as part of it" (ipsec.conf(5)); the same section twice, a loop, or a keyword
   given two different values along the way is an error naming both places;
3. then, for every keyword still unset, the value of the ``conn %default`` sections (the last
   one written wins). ``%default`` may not use ``also``.

Every keyword is checked against :mod:`pluto.config.keywords`: unknown keywords are errors
unless they begin with ``x-``. Values are checked later, when a conn is turned into a
connection description (:mod:`pluto.config.conn_to_description`).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

from pluto.config.keywords import (
    CONN_ALIASES,
    CONN_KEYWORDS,
    SETUP_ALIASES,
    SETUP_KEYWORDS,
    canonical,
    is_user_keyword,
)
from pluto.config.lexer import ConfigError, Include, Location, Section, Setting, parse_text

MAX_INCLUDE_DEPTH = 10
DEFAULT_CONFIG = "/etc/ipsec.conf"


@dataclass
class Conn:
    """One conn with its settings resolved (keys are the canonical spellings)."""

    name: str
    where: Location
    settings: dict[str, Setting] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        setting = self.settings.get(key)
        return None if setting is None else setting.value

    def location(self, key: str) -> Location:
        setting = self.settings.get(key)
        return self.where if setting is None else setting.where


@dataclass
class IpsecConf:
    path: str
    setup: dict[str, Setting] = field(default_factory=dict)
    conns: dict[str, Conn] = field(default_factory=dict)  # in file order, %default left out
    warnings: list[str] = field(default_factory=list)

    def conn(self, name: str) -> Conn:
        try:
            return self.conns[name]
        except KeyError:
            raise ConfigError(f"{self.path}: no conn '{name}'") from None


def load(path: str) -> IpsecConf:
    """Read ``path`` and its includes; ConfigError names the file and line of a problem."""
    reader = _Reader()
    reader.read_file(path, depth=0, where=None)
    return reader.resolve(path)


def from_text(text: str, source: str = "ipsec.conf") -> IpsecConf:
    """Parse configuration text; includes are relative to ``source``'s directory."""
    reader = _Reader()
    reader.read_text(text, source, depth=0)
    return reader.resolve(source)


class _Reader:
    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.warnings: list[str] = []

    # -- files and includes

    def read_file(self, path: str, depth: int, where: Location | None) -> None:
        prefix = f"{where}: " if where else ""
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as err:
            raise ConfigError(f"{prefix}cannot read \"{path}\": {err.strerror or err}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{prefix}\"{path}\" is not UTF-8 text") from None
        self.read_text(text, path, depth)

    def read_text(self, text: str, source: str, depth: int) -> None:
        for item in parse_text(text, source):
            if isinstance(item, Include):
                self.include(item, source, depth)
            else:
                self.check_keywords(item)
                self.sections.append(item)

    def include(self, item: Include, source: str, depth: int) -> None:
        if depth >= MAX_INCLUDE_DEPTH:
            raise ConfigError(f"{item.where}: include nested more than {MAX_INCLUDE_DEPTH} "
                              "deep (does a file include itself?)")
        pattern = item.pattern
        if not os.path.isabs(pattern):
            pattern = os.path.join(os.path.dirname(source) or ".", pattern)
        paths = sorted(glob.glob(pattern))
        if not paths:
            # libreswan only notes a glob that matches nothing; a missing plain file is an
            # error, since a typo there would silently drop connections.
            if glob.has_magic(pattern):
                self.warnings.append(f"{item.where}: include {item.pattern}: no file matched")
                return
            raise ConfigError(f"{item.where}: include {item.pattern}: no such file")
        for path in paths:
            self.read_file(path, depth + 1, item.where)

    # -- keywords

    def check_keywords(self, section: Section) -> None:
        known, other = ((SETUP_KEYWORDS, CONN_KEYWORDS) if section.kind == "config"
                        else (CONN_KEYWORDS, SETUP_KEYWORDS))
        aliases = SETUP_ALIASES if section.kind == "config" else CONN_ALIASES
        seen: dict[str, Setting] = {}
        for setting in section.settings:
            key = setting.key
            if is_user_keyword(key):
                continue
            if key not in known:
                where_it_goes = ""
                if key in other:
                    where_it_goes = (" (it belongs in a conn)" if section.kind == "config"
                                     else " (it belongs in config setup)")
                raise ConfigError(f"{setting.where}: unknown keyword '{key}' in "
                                  f"{_describe(section)}{where_it_goes}")
            if key == "also":
                if section.name == "%default":
                    raise ConfigError(f"{setting.where}: also= is not allowed in conn %default")
                continue
            name = canonical(key, aliases)
            if name in seen:
                first = seen[name]
                raise ConfigError(f"{setting.where}: duplicate keyword '{key}' in "
                                  f"{_describe(section)} (first given at {first.where} as "
                                  f"{first.key})")
            seen[name] = setting

    # -- putting it together

    def resolve(self, path: str) -> IpsecConf:
        conf = IpsecConf(path, warnings=self.warnings)
        by_name: dict[str, Section] = {}
        defaults: dict[str, Setting] = {}
        for section in self.sections:
            if section.kind == "config":
                for setting in section.settings:
                    name = canonical(setting.key, SETUP_ALIASES)
                    if name in conf.setup:
                        raise ConfigError(f"{setting.where}: duplicate keyword '{setting.key}' "
                                          f"in config setup (first given at "
                                          f"{conf.setup[name].where})")
                    if setting.value:
                        conf.setup[name] = setting
            elif section.name == "%default":
                for setting in section.settings:
                    if setting.value:
                        defaults[canonical(setting.key, CONN_ALIASES)] = setting
            else:
                if section.name in by_name:
                    raise ConfigError(f"{section.where}: conn {section.name} is already defined "
                                      f"at {by_name[section.name].where}")
                by_name[section.name] = section
        for name, section in by_name.items():
            conn = Conn(name, section.where)
            _append(conn, section, by_name, chain=[name])
            for key, setting in defaults.items():
                conn.settings.setdefault(key, setting)
            conf.conns[name] = conn
        return conf


def _append(conn: Conn, section: Section, by_name: dict[str, Section], chain: list[str]) -> None:
    """Add ``section``'s settings to ``conn``, then those of its also= sections."""
    alsos: list[Setting] = []
    for setting in section.settings:
        if setting.key == "also":
            alsos.append(setting)
            continue
        if is_user_keyword(setting.key) or not setting.value:
            continue
        key = canonical(setting.key, CONN_ALIASES)
        earlier = conn.settings.get(key)
        if earlier is None:
            conn.settings[key] = setting
        elif earlier.value != setting.value:
            raise ConfigError(f"{setting.where}: {setting} conflicts with {earlier} given at "
                              f"{earlier.where} (conn {conn.name} includes both through "
                              "also=)")
    for also in alsos:
        target = also.value
        if target not in by_name:
            raise ConfigError(f"{also.where}: also={target}: no conn named '{target}'")
        if target in chain:
            raise ConfigError(f"{also.where}: also={target}: conn {target} is already included "
                              f"in conn {conn.name} ({' -> '.join(chain)})")
        chain.append(target)
        _append(conn, by_name[target], by_name, chain)


def _describe(section: Section) -> str:
    return "config setup" if section.kind == "config" else f"conn {section.name}"
