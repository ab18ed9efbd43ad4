"""The CAVS responder: shipped .req/.fax pairs, fresh files, kind detection and bad input."""

import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from vector_files import VECTORS as SHARED_VECTORS

from pluto.crypto import cavp
from pluto.crypto.kdf_ikev1 import ikev1_keys, skeyid_psk, skeyid_signature
from pluto.crypto.kdf_ikev2 import child_sa_keymat, prf_plus, rekey_skeyseed, skeyseed
from pluto.crypto.prf import PRFS

REPO = Path(__file__).resolve().parents[1]
VECTORS = SHARED_VECTORS
CAVS = VECTORS / "cavs"
HEADER_HASH = {"hmac-sha1": "SHA-1", "hmac-sha256": "SHA-256", "hmac-sha384": "SHA-384",
               "hmac-sha512": "SHA-512"}  # fmt: skip
PRF_BY_HASH = {"SHA-1": PRFS[2], "SHA-256": PRFS[5], "SHA-384": PRFS[6], "SHA-512": PRFS[7],
               "SHA-224": cavp.HASH_PRFS["SHA224"]}  # fmt: skip


def run_in_process(data: bytes, *args: str):
    stdout, stderr = io.BytesIO(), io.StringIO()
    status = cavp.main([*args, "-"], stdin=io.BytesIO(data), stdout=stdout, stderr=stderr)
    return status, stdout.getvalue(), stderr.getvalue()


def run_command(data: bytes, *args: str):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "pluto.crypto.cavp", *args],
        input=data,
        capture_output=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


def parse_response(text: str):
    """Cases of a response file as (hash, section parameters, {field: hex}) - test's own reader."""
    cases, hash_name, params, fields, in_headers = [], None, {}, None, False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            if not in_headers:
                params, in_headers = {}, True
            inner = line[1:-1]
            if "=" in inner:
                name, value = (part.strip() for part in inner.split("=", 1))
                params[name] = int(value)
            else:
                hash_name = inner
        elif line.startswith("COUNT"):
            in_headers = False
            fields = {}
            cases.append((hash_name, dict(params), fields))
        elif "=" in line and fields is not None:
            name, value = (part.strip() for part in line.split("=", 1))
            fields[name] = value
    return cases


# --- the shipped request files -----------------------------------------------------------


@pytest.mark.parametrize("name", ["ikev2", "ikev1_psk", "ikev1_dsa"])
def test_shipped_request_gives_the_shipped_response_byte_for_byte(name):
    status, out, err = run_in_process((CAVS / f"{name}.req").read_bytes())
    assert (status, err) == (0, "")
    assert out == (CAVS / f"{name}.fax").read_bytes()


@pytest.mark.parametrize("name", ["ikev2", "ikev1_psk", "ikev1_dsa"])
def test_a_response_file_comes_back_unchanged(name):
    fax = (CAVS / f"{name}.fax").read_bytes()
    status, out, _ = run_in_process(fax)
    assert status == 0 and out == fax


def test_command_line_on_a_shipped_file():
    result = run_command(b"", str(CAVS / "ikev1_dsa.req"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (CAVS / "ikev1_dsa.fax").read_bytes()


def test_shipped_answers_are_not_in_the_request():
    # The tool cannot be copying answers from its input: the requests have none.
    for name in ("ikev2", "ikev1_psk", "ikev1_dsa"):
        request = (CAVS / f"{name}.req").read_text()
        assert "SKEYID =" not in request and "SKEYSEED =" not in request


# --- fresh files from the JSON known answers ---------------------------------------------


def _json_vectors(file, kind):
    vectors = json.loads((VECTORS / file).read_text())["vectors"]
    return [v for v in vectors if v["kind"] == kind]


def _ikev2_request(vectors, eol="\n"):
    lines = []
    for count, v in enumerate(vectors):
        lines += [
            f"[{HEADER_HASH[v['prf']]}]",
            f"[DKM length = {v['dkm_len_bytes'] * 8}]",
            f"[Child SA DKM length = {v['dkm_child_len_bytes'] * 8}]",
            "",
            f"COUNT = {count}",
            f"Ni = {v['ni']}",
            f"Nr = {v['nr']}",
            f"g^ir = {v['gir']}",
            f"g^ir (new) = {v['gir_new']}",
            f"SPIi = {v['spii']}",
            f"SPIr = {v['spir']}",
            "",
        ]
    return eol.join(lines) + eol


def _ikev1_request(vectors, with_psk):
    lines = ["# a file this tool has never seen, without the CAVS title line", ""]
    for count, v in enumerate(vectors):
        lines += [f"[{HEADER_HASH[v['prf']]}]", "", f"COUNT = {count}"]
        lines += [f"CKY_I = {v['cky_i']}", f"CKY_R = {v['cky_r']}"]
        lines += [f"Ni = {v['ni']}", f"Nr = {v['nr']}", f"g^xy = {v['gxy']}"]
        if with_psk:
            lines.append(f"pre-shared-key = {v['psk']}")
        lines.append("")
    return "\n".join(lines) + "\n"


def test_fresh_ikev2_file_matches_json_known_answers():
    # Reversed, one case per section, sections in another order than any shipped file.
    vectors = list(reversed(_json_vectors("ikev2-kdf.json", "ikev2_full")))
    result = run_command(_ikev2_request(vectors).encode(), "-")
    assert result.returncode == 0, result.stderr
    cases = parse_response(result.stdout.decode())
    assert len(cases) == len(vectors)
    for (_, _, fields), v in zip(cases, vectors, strict=True):
        assert fields["SKEYSEED"] == v["skeyseed"]
        assert fields["DKM"] == v["dkm"]
        assert fields["DKM(Child SA)"] == v["dkm_child"]
        assert fields["DKM(Child SA D-H)"] == v["dkm_child_dh"]
        assert fields["SKEYSEED(Rekey)"] == v["skeyseed_rekey"]


@pytest.mark.parametrize("kind, with_psk", [("ikev1_psk_full", True), ("ikev1_sig_full", False)])
def test_fresh_ikev1_files_match_json_known_answers(kind, with_psk):
    vectors = list(reversed(_json_vectors("ikev1-kdf.json", kind)))
    status, out, err = run_in_process(_ikev1_request(vectors, with_psk).encode())
    assert status == 0, err
    cases = parse_response(out.decode())
    assert len(cases) == len(vectors)
    for (_, _, fields), v in zip(cases, vectors, strict=True):
        for name in ("SKEYID", "SKEYID_d", "SKEYID_a", "SKEYID_e"):
            assert fields[name] == v[name.lower()]


def _random_hex(rng, size):
    return bytes(rng.randrange(256) for _ in range(size)).hex()


def _random_ikev2_request(rng, eol):
    lines = ["# CAVS 17.3", "# 'IKE v2' information for a random test", ""]
    for hash_name in ("SHA-224", "SHA-1", "SHA-512"):
        dkm_bits, child_bits = 8 * rng.randrange(1, 300), 8 * rng.randrange(1, 300)
        lines += ["[g^ir length = 1024]", f"[{hash_name}]", f"[DKM length = {dkm_bits}]"]
        lines += [f"[Child SA DKM length = {child_bits}]", ""]
        for count in range(3):
            lines += [f"COUNT = {count}"]
            lines += [f"Ni = {_random_hex(rng, rng.randrange(8, 40))}"]
            lines += [f"Nr = {_random_hex(rng, rng.randrange(8, 40))}"]
            lines += [f"g^ir = {_random_hex(rng, 128)}", f"g^ir (new) = {_random_hex(rng, 128)}"]
            lines += [f"SPIi = {_random_hex(rng, 8)}", f"SPIr = {_random_hex(rng, 8)}", ""]
    return eol.join(lines) + eol


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_random_ikev2_file_matches_our_kdf_functions(eol):
    request = _random_ikev2_request(random.Random(7296 + len(eol)), eol)
    status, out, err = run_in_process(request.encode())
    assert status == 0, err
    text = out.decode()
    assert text.count("\r\n") == (text.count("\n") if eol == "\r\n" else 0)
    cases = parse_response(text)
    assert len(cases) == 9
    for hash_name, params, f in cases:
        prf = PRF_BY_HASH[hash_name]
        ni, nr = bytes.fromhex(f["Ni"]), bytes.fromhex(f["Nr"])
        g_ir, g_new = bytes.fromhex(f["g^ir"]), bytes.fromhex(f["g^ir (new)"])
        spis = bytes.fromhex(f["SPIi"] + f["SPIr"])
        dkm_len, child_len = params["DKM length"] // 8, params["Child SA DKM length"] // 8
        seed = skeyseed(prf, ni, nr, g_ir)
        sk_d = prf_plus(prf, seed, ni + nr + spis, prf.key_size)
        assert f["SKEYSEED"] == seed.hex()
        assert f["DKM"] == prf_plus(prf, seed, ni + nr + spis, dkm_len).hex()
        assert f["DKM(Child SA)"] == child_sa_keymat(prf, sk_d, ni, nr, child_len).hex()
        assert f["DKM(Child SA D-H)"] == child_sa_keymat(prf, sk_d, ni, nr, child_len, g_new).hex()
        assert f["SKEYSEED(Rekey)"] == rekey_skeyseed(prf, sk_d, g_new, ni, nr).hex()


@pytest.mark.parametrize("with_psk", [True, False])
def test_random_ikev1_file_matches_our_kdf_functions(with_psk):
    rng = random.Random(2409 + with_psk)
    lines = []
    for hash_name in ("SHA-256", "SHA-224", "SHA-384"):
        lines += ["[g^xy length = 2048]", f"[{hash_name}]", ""]
        for count in range(2):
            lines += [f"COUNT = {count}", f"CKY_I = {_random_hex(rng, 8)}"]
            lines += [f"CKY_R = {_random_hex(rng, 8)}", f"Ni = {_random_hex(rng, 32)}"]
            lines += [f"Nr = {_random_hex(rng, 32)}", f"g^xy = {_random_hex(rng, 256)}"]
            if with_psk:
                lines.append(f"pre-shared-key = {_random_hex(rng, rng.randrange(1, 40))}")
            lines.append("")
    status, out, err = run_in_process("\n".join(lines).encode())
    assert status == 0, err
    cases = parse_response(out.decode())
    assert len(cases) == 6
    for hash_name, _, f in cases:
        prf = PRF_BY_HASH[hash_name]
        ni, nr, g_xy = (bytes.fromhex(f[n]) for n in ("Ni", "Nr", "g^xy"))
        if with_psk:
            skeyid = skeyid_psk(prf, bytes.fromhex(f["pre-shared-key"]), ni, nr)
        else:
            skeyid = skeyid_signature(prf, ni, nr, g_xy)
        keys = ikev1_keys(prf, skeyid, g_xy, bytes.fromhex(f["CKY_I"]), bytes.fromhex(f["CKY_R"]))
        assert f["SKEYID"] == keys.skeyid.hex()
        assert f["SKEYID_d"] == keys.skeyid_d.hex()
        assert f["SKEYID_a"] == keys.skeyid_a.hex()
        assert f["SKEYID_e"] == keys.skeyid_e.hex()


def test_answers_follow_the_last_input_even_without_final_newline():
    request = "[SHA-1]\n\nCOUNT = 0\nCKY_I = 00\nCKY_R = 01\nNi = 02\nNr = 03\ng^xy = 04"
    status, out, _ = run_in_process(request.encode(), "--kind", "ikev1_dsa")
    assert status == 0
    lines = out.decode().split("\n")
    assert lines[7].startswith("g^xy = 04") and lines[8].startswith("SKEYID = ")
    assert out.endswith(b"\n")


# --- kind detection ---------------------------------------------------------------------


def _strip(text, prefixes):
    return "".join(line for line in text.splitlines(True) if not line.startswith(prefixes))


@pytest.mark.parametrize("name", ["ikev2", "ikev1_psk", "ikev1_dsa"])
def test_kind_from_headers_or_fields_when_the_title_is_gone(name):
    request = (CAVS / f"{name}.req").read_text()
    without_title = _strip(request, "#")
    assert cavp.respond(without_title) == _strip((CAVS / f"{name}.fax").read_text(), "#")
    fields_only = _strip(request, ("#", "[g^", "[Ni", "[Nr", "[DKM", "[Child", "[pre"))
    assert cavp.detect_kind(fields_only.splitlines(True)).name == name


def test_forced_kind_overrides_detection():
    # The psk file read as a dsa file has a field the dsa kind does not know.
    status, _, err = run_in_process((CAVS / "ikev1_psk.req").read_bytes(), "--kind", "ikev1_dsa")
    assert status == 1
    assert "line 20: unknown field 'pre-shared-key' in an ikev1_dsa file" in err


def test_undetectable_file_asks_for_kind():
    status, out, err = run_in_process(b"COUNT = 0\n")
    assert (status, out) == (1, b"")
    assert "use --kind" in err


# --- bad input ----------------------------------------------------------------------------


def _edited(name, old, new):
    text = (CAVS / f"{name}.req").read_text()
    assert old in text
    return text.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    "data, message",
    [
        (_edited("ikev2", "Ni = 32b50d5f4a3763f3", "Ni = 32b50d5f4a3763fz"),
         "line 16: Ni: '32b50d5f4a3763fz' is not hexadecimal"),
        (_edited("ikev2", "Ni = 32b50d5f4a3763f3", "Ni = 32b50d5f4a3763f"),
         "line 16: Ni: odd number of hex digits"),
        (_edited("ikev2", "[SHA-1]", "[SHA-3]"), "line 9: unknown hash 'SHA-3'"),
        (_edited("ikev2", "SPIr = 3ff77d760d2b2199\n", ""), "line 15: case COUNT = 0 is missing SPIr"),
        (_edited("ikev2", "[DKM length = 1056]", "[DKM length = 1057]"),
         "line 12: DKM length must be a multiple of 8 bits"),
        (_edited("ikev2", "[DKM length = 1056]\n", ""), "line 14: no [DKM length = ...] section"),
        (_edited("ikev2", "[DKM length = 1056]", "[DKM length = 65536]"),
         "line 12: DKM length 65536 is more than prf+ can give (40800 bits)"),
        (_edited("ikev2", "[SHA-1]\n", ""), "line 14: no hash section header"),
        (_edited("ikev1_dsa", "CKY_I = 8c3bcd3a69831d7f", "CKY_X = 8c3bcd3a69831d7f"),
         "line 14: unknown field 'CKY_X'"),
        (_edited("ikev1_dsa", "Nr = 80c94ba25c8abda5", "Ni = 80c94ba25c8abda5"),
         "line 17: Ni given twice (first on line 16)"),
        (_edited("ikev1_dsa", "COUNT = 0\n", ""), "line 13: CKY_I outside a case"),
        (_edited("ikev1_dsa", "COUNT = 0", "COUNT = zero"), "line 13: COUNT 'zero' is not a number"),
        (_edited("ikev1_dsa", "COUNT = 1\n", "COUNT 1\n"), "line 20: cannot parse 'COUNT 1'"),
        (_edited("ikev1_dsa", "[SHA-1]", "[SHA-1"), "line 9: section header '[SHA-1' has no"),
        (b"# CAVS 17.3\n# 'IKE v2' \xe9\n", "line 2: not an ASCII text file"),
    ],
    ids=lambda value: None if isinstance(value, str) else "",
)  # fmt: skip
def test_bad_input_names_the_line_and_fails(data, message):
    status, out, err = run_in_process(data)
    assert status == 1
    assert out == b""
    assert err.startswith("cavp: <stdin>: ") and message in err, err
    assert "Traceback" not in err


def test_command_line_error_has_no_traceback():
    result = run_command(_edited("ikev2", "[SHA-1]", "[SHA-3]"), "-")
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode() == (
        "cavp: <stdin>: line 9: unknown hash 'SHA-3' "
        "(known: SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, MD5)\n"
    )


def test_missing_file_is_reported(tmp_path):
    stderr = io.StringIO()
    status = cavp.main([str(tmp_path / "nothing.req")], stdout=io.BytesIO(), stderr=stderr)
    assert status == 1
    assert stderr.getvalue() == (
        f"cavp: cannot read {tmp_path / 'nothing.req'}: No such file or directory\n"
    )


def test_reads_a_named_file(tmp_path):
    request = tmp_path / "fresh.req"
    request.write_bytes((CAVS / "ikev2.req").read_bytes())
    stdout = io.BytesIO()
    assert cavp.main([str(request)], stdout=stdout, stderr=io.StringIO()) == 0
    assert stdout.getvalue() == (CAVS / "ikev2.fax").read_bytes()
