"""Sanitizers: replace what changes from run to run in a console transcript with fixed words.

Each rule is (what it stands for, pattern, replacement), applied in order. They cover the
values the issue names (SPIs, IKE cookies, times, ports, keys) in the shapes our tools, ``ip``,
``ping`` and tcpdump print them.
"""

from __future__ import annotations

import re

RULES: list[tuple[str, str, str]] = [
    # keys: ip xfrm state's "enc cbc(aes) 0x..." / "aead rfc4106(gcm(aes)) 0x... 128"
    ("keys", r"\b(enc|auth|auth-trunc|aead|comp) (\S+) 0x[0-9a-f]+", r"\1 \2 0xKEY"),
    ("keys", r"\bkey=[0-9a-f]+", "key=KEY"),
    # SPIs: ip xfrm's "spi 0x0000abcd", whack's "ESP=>0x1234abcd <0x...", "esp.1234abcd@"
    ("SPIs", r"\bspi[ =]0x[0-9a-f]{8}\b", "spi 0xSPISPI"),
    ("SPIs", r"(ESP=>|ESPinUDP=>|ESP/ESN=>|<)0x[0-9a-f]{8}", r"\g<1>0xSPISPI"),
    ("SPIs", r"\b(esp|ah|comp)\.[0-9a-f]+@", r"\1.SPISPI@"),
    ("SPIs", r"\bspi=[0-9a-f]{8}\b", "spi=SPISPI"),
    # pluto's log: "deleting Child SA (ESP SPI 0xb41cb00f)"
    ("SPIs", r"\b(ESP|AH|IPCOMP) SPI 0x[0-9a-f]{8}\b", r"\1 SPI 0xSPISPI"),
    # IKEv1: "received Delete SA(0x1833ff4f) payload"
    ("SPIs", r"\bDelete SA\(0x[0-9a-f]{8}\)", "Delete SA(0xSPISPI)"),
    # libreswan's IKEv1 Quick Mode message ID: "{using isakmp#3 msgid:621b55af ..."
    ("msgids", r"\bmsgid:[0-9a-f]{8}\b", "msgid:MSGID"),
    # IKE SPIs (cookies): 16 hex digits
    ("cookies", r"\b[0-9a-f]{16}\b", "IKESPI"),
    # times
    ("times", r"\btime=\d+(\.\d+)? ms", "time=X ms"),
    ("times", r"rtt min/avg/max/mdev = \S+ ms", "rtt min/avg/max/mdev = X ms"),
    ("times", r"(packet loss), time \d+ms", r"\1, time Xms"),
    ("times", r"add_time=\d+", "add_time=1234567890"),
    ("times", r"\b(REKEY|REPLACE|EXPIRE|RETRANSMIT) in \d+s", r"\1 in XXs"),
    ("times", r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "YYYY-MM-DD HH:MM:SS"),
    ("times", r"(?m)^\d\d:\d\d:\d\d\.\d{6} ", "HH:MM:SS.FFFFFF "),
    ("times", r"aged \d+(\.\d+)?s", "aged XXs"),
    # ports: anything but the IKE ports 500/4500 after an IPv4 address
    ("ports", r"(\b\d{1,3}(?:\.\d{1,3}){3})[:.](?!(?:500|4500)\b)\d{2,5}\b(?!\.)", r"\1:PORT"),
    ("ports", r"\b(sport|dport)=\d+", r"\1=PORT"),
    # interface indexes ("eth1@if4")
    ("ifindex", r"@if\d+\b", "@ifN"),
    # process ids
    ("pids", r"\bpid[:= ]\d+", "pid:PID"),
]

_COMPILED = [(re.compile(pattern), replacement) for _, pattern, replacement in RULES]


def sanitize(text: str, replacements: dict[str, str] | None = None) -> str:
    """Apply literal ``replacements`` first (work directory, name prefix), then RULES."""
    for old, new in (replacements or {}).items():
        if old:
            text = text.replace(old, new)
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text
