"""The ipsec.secrets reader: pre-shared keys, RSA private keys and XAUTH passwords.

The file format is libreswan's ipsec.secrets(5):

- a record is a line starting in the first column plus the following lines that start with
  whitespace (continuation lines);
- ``#`` at the start of a line or after whitespace starts a comment;
- ``ID [ID ...] : PSK "secret"``, where the secret is a quoted string, ``0x`` hex (``_`` may
  separate digits) or ``0s`` base64; a record without IDs (``: PSK "x"``) is the default;
  ``%any``, ``0.0.0.0`` and ``::`` are wildcard IDs;
- ``ID ... : RSA { Modulus: 0x... PublicExponent: 0x... PrivateExponent: 0x... Prime1: ...
  Prime2: ... Exponent1: ... Exponent2: ... Coefficient: ... }`` (values ``0x`` hex or ``0s``
  base64; the key is checked and Exponent1/2 and Coefficient are computed when left out), or
  ``: RSA { ckaid=HEX }`` / ``: RSA "nickname"``, references to a key in a store (kept);
- ``: RSA FILE ["password"]``, ``: ECDSA FILE ["password"]``, ``: P12 FILE ["password"]``: keys
  and PKCS#12 bundles for the certificate store (pluto/certs/store.py);
- ``@user : XAUTH "password"``: an XAUTH user's password;
- ``include FILE`` reads more files (a glob; relative names are relative to the including
  file's directory).

Lookup follows libreswan's lsw_find_secret_by_id(), best first:

1. an entry naming both our ID and the peer's;
2. our ID with a wildcard;
3. our ID alone (the entry's only ID: it serves any peer);
4. the peer's ID with a wildcard;
5. an entry with a wildcard (even when its other IDs match neither side, as in libreswan);
6. a record without IDs, the default.

An entry naming only the peer among other IDs does not match. Among equal matches the first in
the files wins (a warning says so when their secrets differ). Entries of other kinds (ECDSA,
PPKS, ...) are skipped with a warning for now. Secrets never appear in messages or reprs.
"""

from __future__ import annotations

import base64
import binascii
import glob
import ipaddress
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa

from pluto.certs.store import KeyFile
from pluto.connections.ids import Identity, IdentityError, parse_identity
from pluto.packet.ikev2_types import IdType

MAX_INCLUDE_DEPTH = 10
WEAK_PSK_LENGTH = 8  # libreswan warns about shorter quoted secrets
_LATER_KINDS = frozenset({"PPKS", "NULL", "PIN"})
# The fields of an RSA private key written out in full, as libreswan's old format names them.
_RSA_FIELDS = ("Modulus", "PublicExponent", "PrivateExponent", "Prime1", "Prime2",
               "Exponent1", "Exponent2", "Coefficient")

Warn = Callable[[str], None]

# Match bits, ordered as libreswan orders them: a higher value is a better match.
_DEFAULT, _ANY, _PEER, _OURS = 1, 2, 4, 8
# The combinations that count for a symmetric secret.
_ACCEPTED = frozenset({_DEFAULT, _ANY, _OURS | _DEFAULT, _OURS | _ANY, _PEER | _ANY,
                       _OURS | _PEER})


class SecretsError(ValueError):
    """A secrets file that cannot be read; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class PskEntry:
    ids: tuple[Identity, ...]  # empty: the default entry
    psk: bytes = field(repr=False)
    where: str = ""  # "file:line"

    def __repr__(self) -> str:
        ids = " ".join(str(identity) for identity in self.ids) or "(default)"
        return f"PskEntry({ids} : PSK <{len(self.psk)} bytes> at {self.where})"


@dataclass(frozen=True)
class RsaKeyEntry:
    """An RSA private key (``key``), or a reference to one in a key store (``ckaid`` or
    ``nickname``)."""

    ids: tuple[Identity, ...]
    key: rsa.RSAPrivateKey | None = field(default=None, repr=False, compare=False)
    ckaid: bytes | None = None
    nickname: str | None = None
    where: str = ""

    def __repr__(self) -> str:
        ids = " ".join(str(identity) for identity in self.ids) or "(default)"
        if self.key is not None:
            what = f"<{self.key.key_size}-bit private key>"
        elif self.ckaid is not None:
            what = f"ckaid={self.ckaid.hex()}"
        else:
            what = f"nickname {self.nickname!r}"
        return f"RsaKeyEntry({ids} : RSA {what} at {self.where})"


@dataclass(frozen=True)
class XauthEntry:
    ids: tuple[Identity, ...]
    password: bytes = field(repr=False)
    where: str = ""

    def __repr__(self) -> str:
        ids = " ".join(str(identity) for identity in self.ids) or "(default)"
        return f"XauthEntry({ids} : XAUTH <{len(self.password)} bytes> at {self.where})"


class Secrets:
    """The secrets of one or more secrets files; ``entries`` are the pre-shared keys."""

    def __init__(self, entries: Iterable[PskEntry] = (), warnings: Iterable[str] = (),
                 warn: Warn | None = None, *, rsa_keys: Iterable[RsaKeyEntry] = (),
                 xauth: Iterable[XauthEntry] = (), key_files: Iterable[KeyFile] = ()) -> None:
        self.entries: list[PskEntry] = list(entries)
        self.key_files: list[KeyFile] = list(key_files)  # for the certificate store
        self.rsa_keys: list[RsaKeyEntry] = list(rsa_keys)
        self.xauth: list[XauthEntry] = list(xauth)
        self.warnings: list[str] = list(warnings)
        self._warn = warn

    def __repr__(self) -> str:
        return (f"<Secrets: {len(self.entries)} PSK entries, {len(self.rsa_keys)} RSA keys, "
                f"{len(self.xauth)} XAUTH entries>")

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, patterns: list[str], *, warn: Warn | None = None) -> Secrets:
        """Read the files the glob ``patterns`` name (``--secretsfile``), in sorted order."""
        reader = _Reader(warn)
        for pattern in patterns:
            reader.read_pattern(pattern, base_dir=None, depth=0, where=None)
        return reader.secrets(cls, warn)

    @classmethod
    def from_text(cls, text: str, source: str = "<text>", *, warn: Warn | None = None
                  ) -> Secrets:
        """Parse secrets from a string; includes are relative to ``source``'s directory."""
        reader = _Reader(warn)
        reader.read_text(text, source, depth=0)
        return reader.secrets(cls, warn)

    def rsa_key_for(self, local: Identity | None) -> RsaKeyEntry | None:
        """Our RSA key: the first entry naming ``local``, else the first without IDs."""
        for entry in self.rsa_keys:
            if any(_same(identity, local) for identity in entry.ids):
                return entry
        return next((entry for entry in self.rsa_keys if not entry.ids), None)

    def xauth_password_for(self, user: Identity) -> bytes | None:
        """The XAUTH password of ``user`` (the first entry naming it), or None."""
        for entry in self.xauth:
            if any(_same(identity, user) for identity in entry.ids):
                return entry.password
        return None

    def psk_for(self, local: Identity | None, remote: Identity | None) -> bytes | None:
        entry = self.psk_entry_for(local, remote)
        return None if entry is None else entry.psk

    def psk_entry_for(self, local: Identity | None, remote: Identity | None
                      ) -> PskEntry | None:
        """The best entry for this pair of IDs (see the module docstring), or None."""
        best: PskEntry | None = None
        best_match = 0
        for entry in self.entries:
            match = _match(entry, local, remote)
            if match not in _ACCEPTED or match < best_match:
                continue
            if match > best_match:
                best, best_match = entry, match
            elif best is not None and entry.psk != best.psk:
                self._note(f"multiple secrets entries with distinct secrets match the IDs "
                           f"{local} and {remote} ({best.where} and {entry.where}): "
                           f"using {best.where}")
        return best

    def _note(self, text: str) -> None:
        self.warnings.append(text)
        if self._warn is not None:
            self._warn(text)


def _match(entry: PskEntry, local: Identity | None, remote: Identity | None) -> int:
    if not entry.ids:
        return _DEFAULT
    match = 0
    for identity in entry.ids:
        if _is_wildcard(identity):
            match |= _ANY
            continue
        if _same(identity, local):
            match |= _OURS
        if _same(identity, remote):
            match |= _PEER
    if _OURS & match and _PEER & match:
        return _OURS | _PEER  # an explicit pair; a wildcard beside it adds nothing
    if match == _OURS and len(entry.ids) == 1:
        match |= _DEFAULT  # "our ID : PSK" serves any peer, unless something better matches
    return match


def _is_wildcard(identity: Identity) -> bool:
    """%any, or the unspecified address (0.0.0.0, ::) that libreswan also takes as any."""
    if identity.is_any:
        return True
    return (identity.type in (IdType.ID_IPV4_ADDR, IdType.ID_IPV6_ADDR)
            and not any(identity.data))


def _same(entry_id: Identity, wanted: Identity | None) -> bool:
    return wanted is not None and not _is_wildcard(wanted) and entry_id.matches(wanted)


# --- reading ---------------------------------------------------------------------------------

class _Reader:
    def __init__(self, warn: Warn | None) -> None:
        self.entries: list[PskEntry] = []
        self.rsa_keys: list[RsaKeyEntry] = []
        self.xauth: list[XauthEntry] = []
        self.key_files: list[KeyFile] = []
        self.warnings: list[str] = []
        self.warn_sink = warn

    def secrets(self, cls: type[Secrets], warn: Warn | None) -> Secrets:
        return cls(self.entries, self.warnings, warn, rsa_keys=self.rsa_keys, xauth=self.xauth,
                   key_files=self.key_files)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        if self.warn_sink is not None:
            self.warn_sink(text)

    def read_pattern(self, pattern: str, base_dir: str | None, depth: int,
                     where: str | None) -> None:
        if depth > MAX_INCLUDE_DEPTH:
            raise SecretsError(f"{where}: include nested more than {MAX_INCLUDE_DEPTH} deep")
        if base_dir is not None and not os.path.isabs(pattern):
            pattern = os.path.join(base_dir, pattern)
        paths = sorted(glob.glob(pattern))
        if not paths:
            prefix = f"{where}: " if where else ""
            self.warn(f"{prefix}no secrets filename matched \"{pattern}\"")
            return
        for path in paths:
            self.read_file(path, depth, where)

    def read_file(self, path: str, depth: int, where: str | None) -> None:
        try:
            with open(path, encoding="utf-8") as handle:
                mode = os.fstat(handle.fileno()).st_mode
                text = handle.read()
        except (OSError, UnicodeDecodeError) as err:
            prefix = f"{where}: " if where else ""
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise SecretsError(f"{prefix}cannot read secrets file \"{path}\": {reason}") from None
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            self.warn(f"{path}: secrets file is readable by group or others (mode "
                      f"{stat.S_IMODE(mode):04o}); chmod 600 it")
        self.read_text(text, path, depth)

    def read_text(self, text: str, source: str, depth: int) -> None:
        for line_number, tokens in _records(text, source):
            where = f"{source}:{line_number}"
            if tokens[0] == "include":
                if len(tokens) != 2:
                    raise SecretsError(f"{where}: include needs exactly one file name")
                self.read_pattern(tokens[1], os.path.dirname(source) or ".", depth + 1, where)
                continue
            self.record(tokens, where)

    def record(self, tokens: list[str], where: str) -> None:
        if ":" not in tokens:
            raise SecretsError(f"{where}: expected 'ID ... : PSK \"secret\"' (no ':' found)")
        colon = tokens.index(":")
        ids = tuple(_identity(token, where) for token in tokens[:colon])
        rest = tokens[colon + 1:]
        if not rest:
            raise SecretsError(f"{where}: nothing after ':' (expected PSK)")
        kind = rest[0].upper()
        names_file = len(rest) > 1 and rest[1][0] not in "{\"'"
        if kind in _LATER_KINDS or (kind == "ECDSA" and not names_file):
            # ECDSA { ckaid=... } / "nickname": a key in an NSS database we do not have.
            self.warn(f"{where}: skipping {kind} secret (not supported yet)")
            return
        if kind == "P12" or (kind in ("RSA", "ECDSA") and names_file):
            self.key_files.append(_key_file(kind, rest[1:], where))
            return
        if kind == "RSA":
            self.rsa_keys.append(_rsa_entry(ids, rest[1:], where))
            return
        if kind == "XAUTH":
            if len(rest) != 2 or rest[1][0] not in "\"'":
                raise SecretsError(f"{where}: XAUTH takes one quoted password")
            self.xauth.append(XauthEntry(ids, rest[1][1:-1].encode("utf-8"), where))
            return
        if kind != "PSK":
            raise SecretsError(f"{where}: unknown secret kind '{_printable(rest[0])}' "
                               "(expected PSK, RSA or XAUTH)")
        if len(rest) < 2:
            raise SecretsError(f"{where}: PSK without a secret")
        if len(rest) > 2:
            raise SecretsError(f"{where}: unexpected text after the PSK")
        psk = self.secret(rest[1], where)
        self.entries.append(PskEntry(ids, psk, where))

    def secret(self, token: str, where: str) -> bytes:
        # Never quote the token: it is the secret.
        if token[0] in "\"'":
            psk = token[1:-1].encode("utf-8")
            if not psk:
                raise SecretsError(f"{where}: the PSK is empty")
            if len(psk) < WEAK_PSK_LENGTH:
                self.warn(f"{where}: WARNING: using a weak secret (PSK)")
            return psk
        prefix, digits = token[:2].lower(), token[2:]
        if prefix == "0x":
            digits = digits.replace("_", "")
            if not digits or len(digits) % 2 or not all(c in "0123456789abcdefABCDEF"
                                                        for c in digits):
                raise SecretsError(f"{where}: PSK data malformed (0x needs an even number of "
                                   "hex digits)")
            return bytes.fromhex(digits)
        if prefix == "0s":
            try:
                psk = base64.b64decode(digits, validate=True)
            except (binascii.Error, ValueError):
                raise SecretsError(f"{where}: PSK data malformed (bad base64 after 0s)") from None
            if not psk:
                raise SecretsError(f"{where}: the PSK is empty")
            return psk
        raise SecretsError(f"{where}: the PSK must be a quoted string, 0x hex or 0s base64")


def _key_file(kind: str, tokens: list[str], where: str) -> KeyFile:
    """``: RSA|ECDSA|P12 FILE ["password"]``: a key (or PKCS#12 bundle) in a file, for the
    certificate store (pluto/certs/store.py); the password is never shown."""
    if not tokens or tokens[0][0] in "\"'{" or len(tokens) > 2 or (
            len(tokens) == 2 and tokens[1][0] not in "\"'"):
        raise SecretsError(f"{where}: {kind} needs a file name and optionally a quoted password")
    password = tokens[1][1:-1].encode("utf-8") if len(tokens) == 2 else None
    return KeyFile(kind, tokens[0], password, where)


def _rsa_entry(ids: tuple[Identity, ...], tokens: list[str], where: str) -> RsaKeyEntry:
    if len(tokens) == 1 and tokens[0][0] in "\"'":
        return RsaKeyEntry(ids, nickname=tokens[0][1:-1], where=where)
    if len(tokens) < 2 or tokens[0] != "{" or tokens[-1] != "}":
        raise SecretsError(f"{where}: RSA needs {{ FIELD: VALUE ... }} or a quoted nickname")
    fields = _rsa_fields(tokens[1:-1], where)
    if "ckaid" in fields:
        if len(fields) != 1:
            raise SecretsError(f"{where}: RSA: ckaid= stands alone (the key is in the store)")
        try:
            return RsaKeyEntry(ids, ckaid=bytes.fromhex(fields["ckaid"]), where=where)
        except ValueError:
            raise SecretsError(f"{where}: RSA: ckaid is not hex") from None
    return RsaKeyEntry(ids, key=_rsa_key(fields, where), where=where)


def _rsa_fields(tokens: list[str], where: str) -> dict[str, str]:
    """``Name: value`` (or ``name=value``) pairs; names as _RSA_FIELDS spell them."""
    spelled = {name.lower(): name for name in (*_RSA_FIELDS, "ckaid")}
    fields: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        if "=" in tokens[i]:
            name, _, value = tokens[i].partition("=")
            i += 1
        elif i + 2 < len(tokens) and tokens[i + 1] == ":":
            name, value = tokens[i], tokens[i + 2]
            i += 3
        else:
            raise SecretsError(f"{where}: RSA: expected 'Name: value', found "
                               f"'{_printable(tokens[i])}'")
        canonical = spelled.get(name.lower())
        if canonical is None:
            raise SecretsError(f"{where}: RSA: unknown field '{_printable(name)}'")
        if canonical in fields:
            raise SecretsError(f"{where}: RSA: {canonical} given twice")
        fields[canonical] = value
    return fields


def _rsa_key(fields: dict[str, str], where: str) -> rsa.RSAPrivateKey:
    missing = [name for name in _RSA_FIELDS[:5] if name not in fields]
    if missing:
        raise SecretsError(f"{where}: RSA: {', '.join(missing)} missing")
    values = {name: _rsa_number(name, text, where) for name, text in fields.items()}
    n, e, d = values["Modulus"], values["PublicExponent"], values["PrivateExponent"]
    p, q = values["Prime1"], values["Prime2"]
    derived = {"Exponent1": d % (p - 1) if p > 1 else 0,
               "Exponent2": d % (q - 1) if q > 1 else 0,
               "Coefficient": pow(q, -1, p) if p > 1 and q % p else 0}
    for name, value in derived.items():
        if values.setdefault(name, value) != value:
            raise SecretsError(f"{where}: RSA: {name} does not match the primes")
    try:
        numbers = rsa.RSAPrivateNumbers(p, q, d, values["Exponent1"], values["Exponent2"],
                                        values["Coefficient"], rsa.RSAPublicNumbers(e, n))
        return numbers.private_key()
    except (ValueError, TypeError):
        raise SecretsError(f"{where}: RSA: the numbers do not make a valid RSA key") from None


def _rsa_number(name: str, text: str, where: str) -> int:
    prefix, digits = text[:2].lower(), text[2:]
    try:
        if prefix == "0x":
            return int(digits.replace("_", ""), 16)
        if prefix == "0s":
            return int.from_bytes(base64.b64decode(digits, validate=True), "big")
    except (ValueError, binascii.Error):
        pass
    raise SecretsError(f"{where}: RSA: {name} is not 0x hex or 0s base64")


def _identity(token: str, where: str) -> Identity:
    try:
        return parse_identity(token)
    except IdentityError as err:
        raise SecretsError(f"{where}: {err}") from None


def _printable(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")[:40]


# --- tokens ----------------------------------------------------------------------------------

def _records(text: str, source: str) -> Iterable[tuple[int, list[str]]]:
    """(first line number, tokens) for each record of the file."""
    current: list[str] | None = None
    start = 0
    for line_number, line in enumerate(text.splitlines(), 1):
        tokens = _tokens(line, f"{source}:{line_number}")
        if not tokens:
            continue
        if line[0] in " \t":
            if current is None:
                raise SecretsError(f"{source}:{line_number}: indented line outside a record "
                                   "(continuation lines must follow a record)")
            current.extend(tokens)
            continue
        if current is not None:
            yield start, current
        current, start = tokens, line_number
    if current is not None:
        yield start, current


def _tokens(line: str, where: str) -> list[str]:
    """Whitespace-separated tokens; quoted strings stay whole (quotes kept); a '#' at the
    start or after whitespace ends the line; a ':' ending a token is a token of its own."""
    tokens: list[str] = []
    position = 0
    length = len(line)
    while position < length:
        char = line[position]
        if char in " \t\r\f\v":
            position += 1
            continue
        if char == "#":
            break
        if char in "\"'":
            end = line.find(char, position + 1)
            if end < 0:
                raise SecretsError(f"{where}: unterminated quoted string")
            tokens.append(line[position:end + 1])
            position = end + 1
            if position < length and line[position] not in " \t\r\f\v":
                raise SecretsError(f"{where}: text right after a closing quote")
            continue
        end = position
        while end < length and line[end] not in " \t\r\f\v":
            end += 1
        tokens.extend(_split_colon(line[position:end]))
        position = end
    return tokens


def _split_colon(token: str) -> list[str]:
    if len(token) > 1 and token.endswith(":") and not _is_address(token):
        return [token[:-1], ":"]
    return [token]


def _is_address(token: str) -> bool:
    try:
        ipaddress.ip_address(token)
    except ValueError:
        return False
    return True
