"""The debug and impair options that pluto and whack share on their command lines.

Both programs accept, in any position: ``--debug X``, ``--debug=X``, ``--no-debug X``, the old
one-class spellings ``--debug-NAME`` (``--debug-parsing``, ``--debug-all``, ``--debug-none``),
``--impair X``, ``--impair=X`` and ``--no-impair X``. ``help`` and ``list`` are requests for
text rather than settings, and are returned as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pluto import impair
from pluto.log import DebugError, DebugFlags, apply_debug_option


class OptionError(ValueError):
    """A bad debug or impair option; the message names the option and the token."""


@dataclass
class DebugImpairOptions:
    debug: DebugFlags = field(default_factory=DebugFlags)
    impairs: impair.Impairs = field(default_factory=impair.Impairs)
    actions: list[impair.Action] = field(default_factory=list)
    debug_given: bool = False
    impair_given: bool = False
    wants_debug_help: bool = False
    wants_impair_help: bool = False
    wants_impair_list: bool = False


_VALUED = ("--debug", "--no-debug", "--impair", "--no-impair")


def extract(argv: list[str], opts: DebugImpairOptions | None = None
            ) -> tuple[DebugImpairOptions, list[str]]:
    """Apply the debug/impair options in ``argv``; return them and the other arguments."""
    opts = opts or DebugImpairOptions()
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, inline = arg.partition("=")
        if name in _VALUED:
            if eq:
                value = inline
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                raise OptionError(f"{name} needs a value")
            _apply(opts, name, value)
        elif arg.startswith("--debug-") and not eq:
            _apply(opts, arg, None)
        else:
            rest.append(arg)
        i += 1
    return opts, rest


def _apply(opts: DebugImpairOptions, option: str, value: str | None) -> None:
    try:
        if option in ("--impair", "--no-impair"):
            opts.impair_given = True
            assert value is not None
            word = value.strip().lower()
            if option == "--impair" and word == "help":
                opts.wants_impair_help = True
            elif option == "--impair" and word == "list":
                opts.wants_impair_list = True
            elif option == "--impair":
                opts.actions += opts.impairs.apply(value)
            else:
                opts.impairs.remove(value)
            return
        opts.debug_given = True
        if option == "--debug" and value is not None and value.strip().lower() == "help":
            opts.wants_debug_help = True
            return
        apply_debug_option(opts.debug, option, value)
    except (DebugError, impair.ImpairError) as err:
        raise OptionError(f"{option}{'' if value is None else ' ' + value}: {err}") from None
