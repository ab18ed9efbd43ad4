"""Answer NIST CAVS 17.3 IKE KDF request files: ``python -m pluto.crypto.cavp FILE``.

A request (``.req``) file has comment lines, section headers (``[SHA-1]``,
``[Ni length = 64]``, ``[DKM length = 1056]`` ...) and cases (``COUNT = n`` followed by the
input fields, one ``name = hex`` per line). The tool prints the file back with each case's
answers inserted after its inputs, which is the layout of the response (``.fax``) file; every
other line is copied unchanged. Answer lines already present in the input are recomputed, so
a ``.fax`` file comes back as itself when our KDFs are right.

Three kinds of file are understood (SP 800-135 §4.1):

- ``ikev2``: Ni, Nr, g^ir, g^ir (new), SPIi, SPIr -> SKEYSEED, DKM, DKM(Child SA),
  DKM(Child SA D-H), SKEYSEED(Rekey); the DKM lengths (bits) come from the section headers;
- ``ikev1_psk``: CKY_I, CKY_R, Ni, Nr, g^xy, pre-shared-key -> SKEYID, SKEYID_d/_a/_e;
- ``ikev1_dsa``: the same without pre-shared-key (signature authentication).

The kind is taken from the header comment, else the section headers, else the field names;
``--kind`` overrides it. Problems are reported as ``cavp: FILE: line N: ...`` with exit
status 1, and nothing is printed on stdout then.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from cryptography.hazmat.primitives import hashes

from pluto.crypto import kdf_ikev1, kdf_ikev2
from pluto.crypto.prf import PRFS, HmacPrf, Prf

# Section header hash names, normalised (upper case, no '-'), to the HMAC PRF they select.
# SHA-224 is part of the CAVS IKE tests although IKE never negotiates it.
HASH_PRFS: dict[str, Prf] = {
    "MD5": PRFS[1],
    "SHA1": PRFS[2],
    "SHA224": HmacPrf("hmac_sha2_224", 0, hashes.SHA224),
    "SHA256": PRFS[5],
    "SHA384": PRFS[6],
    "SHA512": PRFS[7],
}


class CavpError(Exception):
    """A problem with the request file; ``line`` is 1-based (None: the file as a whole)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Section:
    """The section headers in force: the hash and ``[name = value]`` parameters."""

    prf: Prf | None = None
    params: dict[str, tuple[str, int]] = field(default_factory=dict)
    has_cases: bool = False

    def length_bytes(self, name: str, case_line: int, maximum: int) -> int:
        """A ``[name = bits]`` parameter as a byte count of at most ``maximum``."""
        if name not in self.params:
            raise CavpError(case_line, f"no [{name} = ...] section header before this case")
        text, line = self.params[name]
        if not text.isdigit() or int(text) % 8:
            raise CavpError(line, f"{name} must be a multiple of 8 bits, not '{text}'")
        if int(text) > 8 * maximum:
            raise CavpError(line, f"{name} {text} is more than prf+ can give ({8 * maximum} bits)")
        return int(text) // 8


@dataclass
class Case:
    """One ``COUNT = n`` case: its input values by field name, and where they were."""

    line: int
    count: str
    values: dict[str, bytes] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


Answers = list[tuple[str, bytes]]


def _answer_ikev2(prf: Prf, section: Section, case: Case) -> Answers:
    v = case.values
    ni, nr, g_ir, g_ir_new = v["Ni"], v["Nr"], v["g^ir"], v["g^ir (new)"]
    limit = kdf_ikev2.PRF_PLUS_MAX_BLOCKS * prf.output_size
    dkm_len = section.length_bytes("DKM length", case.line, limit)
    child_len = section.length_bytes("Child SA DKM length", case.line, limit)
    seed = kdf_ikev2.skeyseed(prf, ni, nr, g_ir)
    dkm = kdf_ikev2.prf_plus(prf, seed, ni + nr + v["SPIi"] + v["SPIr"], max(dkm_len, prf.key_size))
    sk_d = dkm[: prf.key_size]
    return [
        ("SKEYSEED", seed),
        ("DKM", dkm[:dkm_len]),
        ("DKM(Child SA)", kdf_ikev2.child_sa_keymat(prf, sk_d, ni, nr, child_len)),
        ("DKM(Child SA D-H)", kdf_ikev2.child_sa_keymat(prf, sk_d, ni, nr, child_len, g_ir_new)),
        ("SKEYSEED(Rekey)", kdf_ikev2.rekey_skeyseed(prf, sk_d, g_ir_new, ni, nr)),
    ]


def _ikev1_answers(prf: Prf, skeyid: bytes, v: dict[str, bytes]) -> Answers:
    keys = kdf_ikev1.ikev1_keys(prf, skeyid, v["g^xy"], v["CKY_I"], v["CKY_R"])
    return [
        ("SKEYID", keys.skeyid),
        ("SKEYID_d", keys.skeyid_d),
        ("SKEYID_a", keys.skeyid_a),
        ("SKEYID_e", keys.skeyid_e),
    ]


def _answer_ikev1_psk(prf: Prf, section: Section, case: Case) -> Answers:
    v = case.values
    return _ikev1_answers(prf, kdf_ikev1.skeyid_psk(prf, v["pre-shared-key"], v["Ni"], v["Nr"]), v)


def _answer_ikev1_dsa(prf: Prf, section: Section, case: Case) -> Answers:
    v = case.values
    return _ikev1_answers(prf, kdf_ikev1.skeyid_signature(prf, v["Ni"], v["Nr"], v["g^xy"]), v)


@dataclass(frozen=True)
class Kind:
    name: str
    title: str  # as in the header comment: # 'IKE v2' information for ...
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    answer: Callable[[Prf, Section, Case], Answers]


_IKEV1_OUTPUTS = ("SKEYID", "SKEYID_d", "SKEYID_a", "SKEYID_e")

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "ikev2",
            "IKE v2",
            ("Ni", "Nr", "g^ir", "g^ir (new)", "SPIi", "SPIr"),
            ("SKEYSEED", "DKM", "DKM(Child SA)", "DKM(Child SA D-H)", "SKEYSEED(Rekey)"),
            _answer_ikev2,
        ),
        Kind(
            "ikev1_psk",
            "IKE v1 Pre-shared Key Authentication",
            ("CKY_I", "CKY_R", "Ni", "Nr", "g^xy", "pre-shared-key"),
            _IKEV1_OUTPUTS,
            _answer_ikev1_psk,
        ),
        Kind(
            "ikev1_dsa",
            "IKE v1 Digital Signature Authentication",
            ("CKY_I", "CKY_R", "Ni", "Nr", "g^xy"),
            _IKEV1_OUTPUTS,
            _answer_ikev1_dsa,
        ),
    )
}


def detect_kind(lines: Sequence[str]) -> Kind:
    """Which kind of request ``lines`` is: header comment, then section headers, then fields."""
    comments = [line for line in lines if line.lstrip().startswith("#")]
    for kind in KINDS.values():
        if any(f"'{kind.title}'" in line for line in comments):
            return kind
    headers = {_header_name(line) for line in lines if line.lstrip().startswith("[")}
    fields = {line.split("=", 1)[0].strip() for line in lines if "=" in line}
    if headers & {"g^ir length", "DKM length", "Child SA DKM length"} or "g^ir" in fields:
        return KINDS["ikev2"]
    if "pre-shared-key length" in headers or "pre-shared-key" in fields:
        return KINDS["ikev1_psk"]
    if "g^xy length" in headers or "g^xy" in fields:
        return KINDS["ikev1_dsa"]
    raise CavpError(
        None, f"cannot tell which IKE KDF this file tests; use --kind ({', '.join(KINDS)})"
    )


def _header_name(line: str) -> str:
    inner = line.strip().strip("[]")
    return inner.split("=", 1)[0].strip()


_HEX = re.compile(r"[0-9a-fA-F]*")


def _parse_hex(name: str, text: str, line: int) -> bytes:
    if not _HEX.fullmatch(text):
        raise CavpError(line, f"{name}: '{text}' is not hexadecimal")
    if len(text) % 2:
        raise CavpError(line, f"{name}: odd number of hex digits ({len(text)})")
    return bytes.fromhex(text)


def _select_hash(name: str, line: int) -> Prf:
    key = name.upper().replace("-", "").replace("_", "")
    if key not in HASH_PRFS:
        known = ", ".join(("SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512", "MD5"))
        raise CavpError(line, f"unknown hash '{name}' (known: {known})")
    return HASH_PRFS[key]


class _Responder:
    """Copies request lines to the output, inserting each case's answers after its inputs."""

    def __init__(self, kind: Kind, eol: str) -> None:
        self.kind = kind
        self.eol = eol
        self.out: list[str] = []
        self.section = Section()
        self.case: Case | None = None

    def feed(self, number: int, raw: str) -> None:
        text = raw.rstrip("\r\n").strip()
        if not text or text.startswith("#"):
            self.finish_case()
        elif text.startswith("["):
            self.finish_case()
            self.header(number, text)
        elif "=" in text:
            name, _, value = (part.strip() for part in text.partition("="))
            if name in self.kind.outputs:
                return  # an answer already present: recomputed when the case ends
            self.field(number, name, value)
        else:
            raise CavpError(number, f"cannot parse '{text}' (expected NAME = VALUE or [HEADER])")
        self.out.append(raw)

    def header(self, number: int, text: str) -> None:
        if not text.endswith("]"):
            raise CavpError(number, f"section header '{text}' has no closing ']'")
        if self.section.has_cases:
            self.section = Section()  # a new group of headers starts a new section
        inner = text[1:-1].strip()
        if "=" in inner:
            name, _, value = (part.strip() for part in inner.partition("="))
            self.section.params[name] = (value, number)
        else:
            self.section.prf = _select_hash(inner, number)

    def field(self, number: int, name: str, value: str) -> None:
        if name == "COUNT":
            self.finish_case()
            if not value.isdigit():
                raise CavpError(number, f"COUNT '{value}' is not a number")
            self.case = Case(number, value)
            self.section.has_cases = True
            return
        if name not in self.kind.inputs:
            expected = ", ".join(self.kind.inputs)
            raise CavpError(
                number, f"unknown field '{name}' in an {self.kind.name} file (expected {expected})"
            )
        if self.case is None:
            raise CavpError(number, f"{name} outside a case (no COUNT line before it)")
        if name in self.case.values:
            raise CavpError(number, f"{name} given twice (first on line {self.case.lines[name]})")
        self.case.values[name] = _parse_hex(name, value, number)
        self.case.lines[name] = number

    def finish_case(self) -> None:
        case, self.case = self.case, None
        if case is None:
            return
        missing = [name for name in self.kind.inputs if name not in case.values]
        if missing:
            raise CavpError(case.line, f"case COUNT = {case.count} is missing {', '.join(missing)}")
        prf = self.section.prf
        if prf is None:
            raise CavpError(case.line, "no hash section header (such as [SHA-1]) before this case")
        try:
            answers = self.kind.answer(prf, self.section, case)
        except ValueError as error:
            raise CavpError(case.line, str(error)) from None
        if self.out and not self.out[-1].endswith("\n"):
            self.out[-1] += self.eol  # the last input line ended the file without a newline
        self.out.extend(f"{name} = {value.hex()}{self.eol}" for name, value in answers)


def respond(text: str, kind: str | None = None) -> str:
    """The response file for request ``text`` (raises CavpError on bad input)."""
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    eol = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    responder = _Responder(KINDS[kind] if kind else detect_kind(lines), eol)
    for number, raw in enumerate(lines, 1):
        responder.feed(number, raw)
    responder.finish_case()
    return "".join(responder.out)


def _decode(data: bytes) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CavpError(line, "not an ASCII text file") from None


def main(
    argv: Sequence[str] | None = None,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    parser = argparse.ArgumentParser(
        prog="cavp",
        description="Answer a NIST CAVS IKE KDF request (.req) file in the .fax layout.",
    )
    parser.add_argument("file", help="the request file, or - for standard input")
    parser.add_argument("--kind", choices=sorted(KINDS), help="do not guess the kind of file")
    args = parser.parse_args(argv)
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout.buffer
    stderr = stderr if stderr is not None else sys.stderr
    name = "<stdin>" if args.file == "-" else args.file

    try:
        if args.file == "-":
            data = stdin.read()
        else:
            with open(args.file, "rb") as request:
                data = request.read()
    except OSError as error:
        print(f"cavp: cannot read {name}: {error.strerror or error}", file=stderr)
        return 1
    try:
        answer = respond(_decode(data), args.kind)
    except CavpError as error:
        where = f"{name}: line {error.line}" if error.line is not None else name
        print(f"cavp: {where}: {error.message}", file=stderr)
        return 1
    stdout.write(answer.encode("ascii"))
    stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
