"""Every codec pluto has, as a fuzz target: seed inputs and a check of one input.

A check parses the input and returns True if it parsed, False if the codec refused it with its
own error; anything else (another exception, a round trip that changes the bytes of a
canonical format) escapes as an exception or AssertionError and fails the test.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import ikev1_samples
import ikev2_samples

from pluto.config.conn_to_description import checked_descriptions
from pluto.config.ipsec_conf import from_text as conf_from_text
from pluto.config.lexer import ConfigError
from pluto.connections.secrets import Secrets, SecretsError
from pluto.crypto.proposals import ProposalError, parse_esp, parse_ike
from pluto.log import DebugFlags, Logger
from pluto.packet import ikev1, ikev2
from pluto.packet.errors import MalformedMessage
from pluto.whack_protocol import ProtocolError, ReplyLine, decode_request, encode_request

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
# Parsing and emitting with their debug classes on runs the field printers too.
TRACING = Logger(lambda _line: None, DebugFlags(["parsing", "emitting"]))


@dataclass(frozen=True)
class Codec:
    name: str
    seeds: tuple[bytes, ...]
    check: Callable[[bytes], bool]
    text: bool = False  # a text format: mutated inputs are decoded as UTF-8 (with errors)


def _malformed(err: MalformedMessage) -> bool:
    assert isinstance(err.notify, int) and 0 <= err.notify <= 0xFFFF, err
    assert isinstance(err.data, bytes), err
    return False


# --- IKEv2 --------------------------------------------------------------------------------


def check_ikev2_message(data: bytes, trace: bool = False) -> bool:
    try:
        msg = ikev2.parse_message(data, TRACING if trace else None)
    except MalformedMessage as err:
        return _malformed(err)
    assert ikev2.emit_message(msg, TRACING if trace else None) == data  # canonical
    return True


def check_ikev2_chain(first: int) -> Callable[[bytes], bool]:
    def check(data: bytes) -> bool:
        try:
            payloads = ikev2.parse_payloads(data, first)
        except MalformedMessage as err:
            return _malformed(err)
        assert ikev2.emit_payloads(payloads) == (first if payloads else 0, data)
        return True
    return check


def _ikev2_payload_seeds() -> dict[int, list[bytes]]:
    """Each payload of the samples, emitted alone (generic header + body), by type."""
    chains = [m.payloads for m in ikev2_samples.all_messages().values()]
    chains += list(ikev2_samples.all_inner_chains().values())
    seeds: dict[int, list[bytes]] = {}
    for chain in chains:
        for payload in chain:
            if not payload.ENDS_CHAIN:
                seeds.setdefault(payload.payload_type, []).append(
                    ikev2.emit_payloads([payload])[1])
    return seeds


def ikev2_codecs() -> list[Codec]:
    messages = tuple(ikev2.emit_message(m) for m in ikev2_samples.all_messages().values())
    codecs = [
        Codec("ikev2-message", messages, check_ikev2_message),
        Codec("ikev2-message-traced", messages, lambda d: check_ikev2_message(d, trace=True)),
        # SK and SKF end the chain: they are reached through whole messages only.
        Codec("ikev2-SK-SKF", tuple(m for m in messages if m[16] in (46, 53)),
              check_ikev2_message),
    ]
    for ptype, seeds in sorted(_ikev2_payload_seeds().items()):
        name = getattr(ikev2.PAYLOAD_CLASSES.get(ptype), "__name__", f"payload{ptype}")
        codecs.append(Codec(f"ikev2-{name}", tuple(seeds), check_ikev2_chain(ptype)))
    return codecs


# --- IKEv1 --------------------------------------------------------------------------------


def check_ikev1_message(data: bytes, trace: bool = False) -> bool:
    try:
        msg = ikev1.parse_message(data, TRACING if trace else None)
    except MalformedMessage as err:
        return _malformed(err)
    assert ikev1.emit_message(msg, TRACING if trace else None) == data
    return True


def check_ikev1_chain(first: int) -> Callable[[bytes], bool]:
    def check(data: bytes) -> bool:
        try:
            payloads, rest = ikev1.parse_payloads(data, first)
        except MalformedMessage as err:
            return _malformed(err)
        # What follows the last payload is kept apart (encryption padding).
        assert ikev1.emit_payloads(payloads) == (first if payloads else 0,
                                                 data[:len(data) - len(rest)])
        return True
    return check


def _ikev1_payload_seeds() -> dict[int, list[bytes]]:
    wires = list(ikev1_samples.MESSAGES.values()) + list(ikev1_samples.clear_messages().values())
    seeds: dict[int, list[bytes]] = {}
    for wire in wires:
        msg = ikev1.parse_message(wire)
        for payload in msg.payloads:
            seeds.setdefault(payload.payload_type, []).append(ikev1.emit_payloads([payload])[1])
    return seeds


def ikev1_codecs() -> list[Codec]:
    wires = tuple(ikev1_samples.MESSAGES.values()) + tuple(
        ikev1_samples.clear_messages().values())
    codecs = [
        Codec("ikev1-message", wires, check_ikev1_message),
        Codec("ikev1-message-traced", wires, lambda d: check_ikev1_message(d, trace=True)),
    ]
    for ptype, seeds in sorted(_ikev1_payload_seeds().items()):
        name = getattr(ikev1.PAYLOAD_CLASSES.get(ptype), "__name__", f"payload{ptype}")
        codecs.append(Codec(f"ikev1-{name}", tuple(seeds), check_ikev1_chain(ptype)))
    return codecs


# --- whack protocol -----------------------------------------------------------------------

WHACK_SEEDS = (
    encode_request([{"action": "status"}]),
    encode_request([{"action": "initiate", "name": "west-east", "async": True}]),
    encode_request([{"action": "add", "connection": {
        "name": "west-east", "left": {"host": "198.51.100.45", "id": "@west"},
        "right": {"host": "198.51.100.23", "id": "@east"}, "auth": "psk"}}]),
    encode_request([{"action": "debug", "options": [["--debug", "all"]]},
                    {"action": "impair", "arguments": [["--impair", "list"]]}]),
    b'{"rc": 4, "text": "done", "done": true}\n',
)


def check_whack_request(data: bytes) -> bool:
    try:
        actions = decode_request(data)
    except ProtocolError:
        return False
    assert isinstance(actions, list) and actions
    assert all(isinstance(a, dict) for a in actions)
    assert decode_request(encode_request(actions)) == actions
    return True


def check_whack_reply(data: bytes) -> bool:
    try:
        line = ReplyLine.decode(data)
    except ProtocolError:
        return False
    assert ReplyLine.decode(line.encode()) == line
    return True


# --- configuration text -------------------------------------------------------------------

_SANDBOX = tempfile.mkdtemp(prefix="pluto-fuzz-")


def _text(data: bytes) -> str:
    # Includes would read files of this machine: keep every input inside its own text.
    return data.decode("utf-8", "replace").replace("include", "inclu_de")


def check_ipsec_conf(data: bytes) -> bool:
    try:
        conf = conf_from_text(_text(data), os.path.join(_SANDBOX, "ipsec.conf"))
        for name in conf.conns:
            for desc in checked_descriptions(conf, name):
                json.dumps(desc)  # what pluto sends on must be plain data
    except ConfigError:
        return False
    return True


def check_ipsec_secrets(data: bytes) -> bool:
    try:
        Secrets.from_text(_text(data), os.path.join(_SANDBOX, "ipsec.secrets"))
    except SecretsError:
        return False
    return True


def check_proposals(data: bytes) -> bool:
    text = data.decode("utf-8", "replace")
    parsed = False
    for parse in (parse_ike, parse_esp):
        try:
            parse(text)
            parsed = True
        except ProposalError:
            pass
    return parsed


def _files(*patterns: str) -> tuple[bytes, ...]:
    out = []
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            with open(path, "rb") as handle:
                out.append(handle.read())
    return tuple(out)


def text_codecs() -> list[Codec]:
    return [
        Codec("whack-request", WHACK_SEEDS, check_whack_request),
        Codec("whack-reply", WHACK_SEEDS, check_whack_reply),
        Codec("ipsec.conf", _files("tests/config_golden/*.conf", "testing/pluto/*/*ipsec.conf",
                                   "testing/impair/*/*ipsec.conf"), check_ipsec_conf, text=True),
        Codec("ipsec.secrets", _files("testing/pluto/*/*.secrets") + (
            b'@west @east : PSK "a secret"\n', b': RSA {\n\tModulus: 0x00\n\t}\n',
            b'@user : XAUTH "pw"\n198.51.100.45 %any : PSK 0sYWJj\n'),
            check_ipsec_secrets, text=True),
        Codec("proposals", (b"aes_gcm256-sha2_512;dh19", b"aes256-sha2;modp2048",
                            b"aes_gcm128,aes256-sha2_512", b"3des-md5;modp1024"),
              check_proposals, text=True),
    ]


def all_codecs() -> list[Codec]:
    return ikev2_codecs() + ikev1_codecs() + text_codecs()
