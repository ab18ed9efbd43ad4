"""The impair registry: named, deliberate misbehaviour for tests and fault injection.

Each entry has a name, a kind and help text:

- boolean:  ``--impair NAME`` turns it on, ``NAME:no`` or ``--no-impair NAME`` off;
- unsigned: ``--impair NAME:N`` (decimal or 0x hex);
- keyword:  ``--impair NAME:WORD`` where WORD is one of the entry's keywords, or a number when
  the entry also takes one (``ke-payload:0x5a`` fills the KE payload with 0x5a);
- action:   ``--impair NAME[:N]`` does something once, now (rekey, send a keepalive...), and is
  handed back to the caller instead of being remembered.

``--impair none`` clears everything, ``--impair list`` shows what is set and ``--impair help``
shows the registry. The codecs and crypto honour the entries registered here; later parts of
pluto register theirs with :func:`register`. Every impair that fires logs an ``IMPAIR:`` line
(see :meth:`pluto.log.Logger.impair`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


class Kind(enum.Enum):
    BOOLEAN = "boolean"
    UNSIGNED = "unsigned"
    KEYWORD = "keyword"
    ACTION = "action"


@dataclass(frozen=True)
class ImpairSpec:
    name: str
    kind: Kind
    help: str
    keywords: tuple[str, ...] = ()
    takes_number: bool = False  # keyword entries that also accept a number

    def describe_value(self) -> str:
        if self.kind is Kind.BOOLEAN:
            return ""
        if self.kind is Kind.UNSIGNED:
            return ":N"
        if self.kind is Kind.ACTION:
            return "[:N]"
        choices = "|".join(self.keywords + (("N",) if self.takes_number else ()))
        return f":{choices}"


REGISTRY: dict[str, ImpairSpec] = {}


def register(spec: ImpairSpec) -> ImpairSpec:
    if spec.name in REGISTRY:
        raise ValueError(f"impair {spec.name!r} registered twice")
    if spec.kind is Kind.KEYWORD and not spec.keywords and not spec.takes_number:
        raise ValueError(f"keyword impair {spec.name!r} has no keywords")
    REGISTRY[spec.name] = spec
    return spec


def _reg(name: str, kind: Kind, help: str, keywords: Iterable[str] = (), number=False) -> None:
    register(ImpairSpec(name, kind, help, tuple(keywords), number))


_KEY_LENGTH_WORDS = ("omit", "empty", "duplicate")
_V2_EXCHANGES = ("IKE_SA_INIT", "IKE_AUTH", "CREATE_CHILD_SA", "INFORMATIONAL")

# Entries honoured by the wire codecs (pluto/packet/ikev2_impair.py, ikev1_impair.py).
_reg("major-version-bump", Kind.BOOLEAN, "send IKE messages with the major version plus one")
_reg("minor-version-bump", Kind.BOOLEAN, "send IKE messages with the minor version plus one")
_reg("send-bogus-isakmp-flag", Kind.BOOLEAN, "set an undefined flag bit in the IKE header")
_reg("send-bogus-payload-flag", Kind.BOOLEAN,
     "set a reserved bit in the flags of every generic payload header")
_reg("ke-payload", Kind.KEYWORD,
     "corrupt the emitted KE payload: omit it, send it empty, or fill it with byte N",
     ("omit", "empty"), number=True)
_reg("ike-key-length-attribute", Kind.KEYWORD,
     "corrupt the key-length attribute of IKE SA proposals: omit it, send it empty, "
     "duplicate it, or send value N", _KEY_LENGTH_WORDS, number=True)
_reg("child-key-length-attribute", Kind.KEYWORD,
     "corrupt the key-length attribute of Child SA proposals (as ike-key-length-attribute)",
     _KEY_LENGTH_WORDS, number=True)
_reg("add-unknown-v2-payload-to", Kind.KEYWORD,
     "add an unknown payload (type 255) to the next IKEv2 message of this exchange",
     _V2_EXCHANGES)
_reg("unknown-v2-payload-critical", Kind.BOOLEAN,
     "mark the payload added by add-unknown-v2-payload-to as critical")
_reg("corrupt-encrypted", Kind.BOOLEAN,
     "flip a bit in the ciphertext of every emitted SK or SKF payload")

# Entries honoured by crypto (pluto/crypto/rand.py).
_reg("ike-initiator-spi", Kind.UNSIGNED, "use N as the IKE initiator SPI (cookie)")
_reg("ike-responder-spi", Kind.UNSIGNED, "use N as the IKE responder SPI (cookie)")
_reg("nonce", Kind.UNSIGNED,
     "use N (big-endian, zero-padded to the nonce length) as every nonce we send; "
     "forces one side of a collision")


class ImpairError(ValueError):
    """A bad --impair argument; the message names the offending token."""


@dataclass(frozen=True)
class Action:
    """An action impair to perform once, now."""

    spec: ImpairSpec
    value: int | None


@dataclass
class Impairs:
    """The impairs currently set on one pluto (or one test)."""

    values: dict[str, bool | int | str] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default=None):
        if name not in REGISTRY:
            raise KeyError(f"unregistered impair {name!r}")
        return self.values.get(name, default)

    def apply(self, argument: str) -> list[Action]:
        """Apply one ``--impair`` argument (comma separated lists allowed).

        Returns the actions to perform now; remembered settings change in place. ``help`` and
        ``list`` are not handled here: see :func:`help_text` and :meth:`list_lines`.
        """
        actions: list[Action] = []
        for token in _split(argument):
            if token == "none":
                self.values.clear()
                continue
            if token.startswith("no-") and token[3:].split(":")[0] in REGISTRY:
                self.remove(token[3:])
                continue
            action = self._apply_one(token)
            if action is not None:
                actions.append(action)
        return actions

    def remove(self, argument: str) -> None:
        """``--no-impair NAME``."""
        for token in _split(argument):
            name = token.split(":", 1)[0]
            if name not in REGISTRY:
                raise ImpairError(f"unknown impair '{name}' (try --impair help)")
            self.values.pop(name, None)

    def _apply_one(self, token: str) -> Action | None:
        name, sep, raw = token.partition(":")
        spec = REGISTRY.get(name)
        if spec is None:
            raise ImpairError(f"unknown impair '{name}' (try --impair help)")
        value = raw if sep else None
        if spec.kind is Kind.BOOLEAN:
            word = None if value is None else value.lower()
            if word is None or word in ("yes", "true", "on", "1"):
                self.values[name] = True
            elif word in ("no", "false", "off", "0"):
                self.values.pop(name, None)
            else:
                raise ImpairError(f"impair '{name}' is boolean; '{value}' is not yes or no")
            return None
        if spec.kind is Kind.UNSIGNED:
            if value is None:
                raise ImpairError(f"impair '{name}' needs a value: {name}:N")
            self.values[name] = _unsigned(name, value)
            return None
        if spec.kind is Kind.KEYWORD:
            if value is None:
                raise ImpairError(f"impair '{name}' needs a value: {name}{spec.describe_value()}")
            keyword = _match_keyword(spec, value)
            if keyword is not None:
                self.values[name] = keyword
            elif spec.takes_number and value[:1].isdigit():
                self.values[name] = _unsigned(name, value)
            else:
                raise ImpairError(
                    f"impair '{name}' does not know '{value}' (expected "
                    f"{spec.describe_value()[1:]})"
                )
            return None
        return Action(spec, None if value is None else _unsigned(name, value))

    def list_lines(self) -> list[str]:
        """What ``--impair list`` prints: one ``name:value`` line per setting."""
        if not self.values:
            return ["no impairs are set"]
        lines = []
        for name in sorted(self.values):
            value = self.values[name]
            lines.append(name if value is True else f"{name}:{value}")
        return lines


def _split(argument: str) -> list[str]:
    tokens = []
    for raw in argument.split(","):
        # Names are case-blind and take _ for - (libreswan spells them both ways); values
        # keep their spelling here and are matched against keywords the same way below.
        name, sep, value = raw.strip().partition(":")
        name = name.lower().replace("_", "-")
        if name:
            tokens.append(name + sep + value)
    if not tokens:
        raise ImpairError("empty --impair argument (try --impair help)")
    return tokens


def _match_keyword(spec: ImpairSpec, value: str) -> str | None:
    """The registered spelling of ``value`` (case-blind, ``-`` and ``_`` alike), if any."""
    wanted = value.lower().replace("_", "-")
    for keyword in spec.keywords:
        if keyword.lower().replace("_", "-") == wanted:
            return keyword
    return None


def _unsigned(name: str, text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise ImpairError(f"impair '{name}': '{text}' is not an unsigned number") from None
    if value < 0:
        raise ImpairError(f"impair '{name}': '{text}' is negative")
    return value


def help_text() -> str:
    """What ``--impair help`` prints."""
    lines = ["impairs (--impair NAME[:VALUE], --no-impair NAME, --impair none|list|help):"]
    for spec in sorted(REGISTRY.values(), key=lambda s: s.name):
        lines.append(f"  {spec.name}{spec.describe_value()}  [{spec.kind.value}]")
        lines.append(f"      {spec.help}")
    return "\n".join(lines)
