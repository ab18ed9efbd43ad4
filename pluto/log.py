"""Loggers and debug classes.

Log lines are the stable output contract of DESIGN.md §8: plain lines carry the state or
connection prefix (``"conn" #N: text``), debug lines start with ``| `` and impair lines with
``IMPAIR: ``. Debug classes form a registry: every class has a name and help text, and the
option spellings of both the old pluto(8) manual (``--debug-parsing``) and libreswan
(``--debug parsing``, ``--no-debug parsing``, ``--debug all``) resolve through it.

Nothing secret is printed unless the ``private`` class is on: callers pass key material through
:meth:`Logger.secret`, which redacts it otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DebugClass:
    name: str
    help: str


DEBUG_CLASSES: dict[str, DebugClass] = {}

# Old manual spellings (--debug-NAME) that name a class under another name.
_OLD_ALIASES = {
    "klips": "kernel",
    "netkey": "kernel",
    "oppo": "oppoinfo",
    "natt": "nattraversal",
    "controlmore": "control",
}

# Classes that "all" leaves out: they either print secrets or drown everything else.
_NOT_IN_ALL = {"private", "tmi"}


def register_debug(name: str, help: str) -> DebugClass:
    """Add a debug class to the registry (later modules may add their own)."""
    if name in DEBUG_CLASSES:
        raise ValueError(f"debug class {name!r} registered twice")
    cls = DebugClass(name, help)
    DEBUG_CLASSES[name] = cls
    return cls


for _name, _help in (
    ("base", "the normal debug stream: decisions, state changes, timers"),
    ("raw", "raw packet bytes as they are sent and received"),
    ("parsing", "each payload's fields as it is parsed, one line per field"),
    ("emitting", "each payload's fields as it is emitted, one line per field"),
    ("control", "control flow inside pluto: state lookup, transitions"),
    ("lifecycle", "creation and deletion of states, connections and instances"),
    ("kernel", "messages to and from the kernel (XFRM) and the updown script"),
    ("routing", "routing and eroute (policy) decisions"),
    ("crypt", "crypto operations: algorithms chosen, KE and KDF steps (no secrets)"),
    ("proposal-parser", "how ike= and esp= proposal strings are parsed"),
    ("nattraversal", "NAT detection, port floating and keepalives"),
    ("retransmits", "retransmission timers and decisions"),
    ("dns", "name lookups"),
    ("oppoinfo", "opportunistic encryption decisions"),
    ("whackwatch", "whack requests as they arrive"),
    ("cpu-usage", "time spent in crypto helpers and handlers"),
    ("tmi", "too much information: very verbose internal detail"),
    ("private", "print secrets (keys, PSKs, nonces, DH values); never on in production"),
):
    register_debug(_name, _help)


class DebugError(ValueError):
    """A bad debug option or class name; the message names the offending token."""


class DebugFlags:
    """The set of debug classes that are on, shared by the loggers of one pluto."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._on: set[str] = set()
        for name in names:
            self.enable(name)

    def __contains__(self, name: str) -> bool:
        return name in self._on

    def __iter__(self):
        return iter(sorted(self._on))

    def __repr__(self) -> str:
        return f"DebugFlags({sorted(self._on)!r})"

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._on)

    def enable(self, spec: str) -> None:
        """Turn on the classes in a comma/space separated list (``all``, ``none`` allowed)."""
        for token in _tokens(spec):
            if token == "none":
                self._on.clear()
            elif token == "all":
                self._on |= set(DEBUG_CLASSES) - _NOT_IN_ALL
            elif token.startswith("no-") and _lookup(token[3:]) is not None:
                self._on.discard(_lookup(token[3:]))
            else:
                self._on.add(_resolve(token))

    def disable(self, spec: str) -> None:
        for token in _tokens(spec):
            if token == "all":
                self._on.clear()
            else:
                self._on.discard(_resolve(token))


def _tokens(spec: str) -> list[str]:
    tokens = [t.strip().lower() for t in spec.replace(",", " ").split()]
    if not tokens:
        raise DebugError("empty debug class list")
    return tokens


def _lookup(token: str) -> str | None:
    token = token.replace("_", "-")
    token = _OLD_ALIASES.get(token, token)
    return token if token in DEBUG_CLASSES else None


def _resolve(token: str) -> str:
    name = _lookup(token)
    if name is None:
        raise DebugError(
            f"unknown debug class '{token}' (known: all, none, {', '.join(DEBUG_CLASSES)})"
        )
    return name


def apply_debug_option(flags: DebugFlags, option: str, value: str | None = None) -> None:
    """Apply one command-line debug option to ``flags``.

    Accepted: ``--debug X``, ``--no-debug X``, ``--debug-all``, ``--debug-none`` and the old
    one-class spellings ``--debug-NAME`` (``--debug-parsing``, ``--debug-klips``...).
    """
    opt = option.lstrip("-")
    if opt == "debug":
        if value is None:
            raise DebugError("--debug needs a class name (try --debug help)")
        flags.enable(value)
    elif opt == "no-debug":
        if value is None:
            raise DebugError("--no-debug needs a class name")
        flags.disable(value)
    elif opt.startswith("debug-"):
        name = opt[len("debug-"):]
        if value is not None:
            raise DebugError(f"--{opt} takes no value")
        flags.enable(name)
    else:
        raise DebugError(f"not a debug option: {option}")


def debug_help() -> str:
    """The text of ``--debug help``: one line per class."""
    width = max(len(n) for n in DEBUG_CLASSES)
    lines = ["debug classes (--debug NAME, --no-debug NAME, --debug all, --debug none):"]
    for cls in DEBUG_CLASSES.values():
        lines.append(f"  {cls.name:<{width}}  {cls.help}")
    lines.append(f"  {'all':<{width}}  every class except {', '.join(sorted(_NOT_IN_ALL))}")
    lines.append(f"  {'none':<{width}}  turn everything off")
    return "\n".join(lines)


Sink = Callable[[str], None]


class Logger:
    """Writes log, debug and impair lines to a sink, with an optional prefix.

    The protocol core receives a Logger rather than printing, so tests collect the lines and
    the server forwards them to the log file and to whack.
    """

    def __init__(self, sink: Sink, flags: DebugFlags | None = None, prefix: str = "") -> None:
        self.sink = sink
        self.flags = flags if flags is not None else DebugFlags()
        self.prefix = prefix

    def with_prefix(self, prefix: str) -> Logger:
        """A logger for one connection or state (``"conn" #3: ``), sharing sink and flags."""
        return Logger(self.sink, self.flags, prefix)

    def log(self, text: str) -> None:
        self.sink(self.prefix + text)

    def debugging(self, cls: str) -> bool:
        return cls in self.flags

    def debug(self, cls: str, text: str) -> None:
        if cls in self.flags:
            self.sink("| " + text)

    def impair(self, text: str) -> None:
        self.sink("IMPAIR: " + text)

    def secret(self, data: bytes) -> str:
        """Key material for a log line: shown only with the ``private`` class on."""
        if "private" in self.flags:
            return data.hex()
        return f"<{len(data)} secret bytes>"


class CollectingLogger(Logger):
    """A logger that keeps its lines in memory (tests, and whack replies)."""

    def __init__(self, flags: DebugFlags | None = None, prefix: str = "") -> None:
        self.lines: list[str] = []
        super().__init__(self.lines.append, flags, prefix)


def null_logger() -> Logger:
    """A logger that drops everything (debug classes off)."""
    return Logger(lambda _line: None)


# --- rate limiting ------------------------------------------------------------------------

# Lines that any datagram from anywhere can cause: a flood of them must not fill the disk.
_DROP_ENDINGS = ("; dropping it", "; ignoring it", "; dropping")
_VARIABLE = re.compile(r"[0-9a-fA-F]{6,}|\d+")


def _drop_notice_kind(text: str) -> str | None:
    """The kind of a per-packet drop notice (numbers and SPIs made equal), else None."""
    if text.startswith("packet from "):
        _, _, text = text.partition(": ")  # the sender's address and port do not count
    elif not text.endswith(_DROP_ENDINGS):
        return None
    return _VARIABLE.sub("#", text)


class LogRateLimiter:
    """At most ``burst`` drop notices of one kind per ``window`` seconds of ``now()``.

    What is held back is counted; when the kind's window ends, the next notice of that kind
    is preceded by ``N messages suppressed ...``, so the log says a flood happened without
    holding it. Other lines (and debug lines) always pass. The table of kinds is bounded:
    beyond ``max_kinds`` new kinds share one slot.
    """

    def __init__(self, now: Callable[[], float], burst: int = 50, window: float = 60.0,
                 max_kinds: int = 1000) -> None:
        if burst < 1 or window <= 0:
            raise ValueError("rate limit: burst must be at least 1 and window positive")
        self._now = now
        self.burst = burst
        self.window = window
        self.max_kinds = max_kinds
        self._kinds: dict[str, list[float | int]] = {}  # kind -> [window start, shown, held]
        self.suppressed_total = 0

    def filter(self, text: str) -> list[str]:
        """The lines to write for ``text``: none, the line, or a summary and the line."""
        kind = _drop_notice_kind(text)
        if kind is None:
            return [text]
        now = self._now()
        entry = self._entry(kind, now)
        out = []
        if now - entry[0] >= self.window:
            out += self._summary(kind, entry)
            entry[:] = [now, 0, 0]
        if entry[1] < self.burst:
            entry[1] += 1
            out.append(text)
        else:
            entry[2] += 1
            self.suppressed_total += 1
        return out

    def flush(self) -> list[str]:
        """Summaries of every kind still holding lines back (at shutdown, say)."""
        out = []
        for kind, entry in self._kinds.items():
            out += self._summary(kind, entry)
            entry[2] = 0
        return out

    def _entry(self, kind: str, now: float) -> list[float | int]:
        entry = self._kinds.get(kind)
        if entry is not None:
            return entry
        if len(self._kinds) >= self.max_kinds:
            # Forget kinds whose window is over and that hold nothing back.
            for old in [k for k, e in self._kinds.items()
                        if now - e[0] >= self.window and not e[2]]:
                del self._kinds[old]
            if len(self._kinds) >= self.max_kinds:
                kind = "(other kinds)"
                return self._kinds.setdefault(kind, [now, 0, 0])
        entry = self._kinds[kind] = [now, 0, 0]
        return entry

    def _summary(self, kind: str, entry: list[float | int]) -> list[str]:
        held = int(entry[2])
        if not held:
            return []
        return [f"{held} messages suppressed (more than {self.burst} in {self.window:g} "
                f"seconds) like: {kind}"]


class RateLimitedSink:
    """A sink that passes its lines through a :class:`LogRateLimiter` to another sink."""

    def __init__(self, sink: Sink, limiter: LogRateLimiter) -> None:
        self.inner = sink
        self.limiter = limiter

    def __call__(self, line: str) -> None:
        if line.startswith("| "):  # debug output is asked for explicitly: never limited
            self.inner(line)
            return
        for out in self.limiter.filter(line):
            self.inner(out)


def rate_limited(logger: Logger, now: Callable[[], float], **limits: float) -> Logger:
    """``logger`` with its drop notices rate-limited (same flags and prefix)."""
    if isinstance(logger.sink, RateLimitedSink):
        return logger
    limiter = LogRateLimiter(now, **limits)  # type: ignore[arg-type]
    return Logger(RateLimitedSink(logger.sink, limiter), logger.flags, logger.prefix)
