"""Key exchange: every vector of shared/vectors/dh.json, both MODP back ends, validation."""

import json
import struct
import warnings

import pytest
from vector_files import VECTORS as SHARED_VECTORS

from pluto.crypto import ke
from pluto.crypto.ke import InvalidKeyExchange, ke_group
from pluto.crypto.modp_groups import EXPONENT_BYTES, GENERATOR, PRIMES
from pluto.crypto.rand import RandomSource

VECTORS = SHARED_VECTORS / "dh.json"
MODP_GROUPS = sorted(PRIMES)
ALL_GROUPS = ke.supported_groups()


def _vectors():
    return json.loads(VECTORS.read_text())["vectors"]


def _cases():
    for vector in _vectors():
        backends = ke.MODP_BACKENDS if vector["kind"] == "modp" else (None,)
        for backend in backends:
            suffix = f"-{backend}" if backend else ""
            yield pytest.param(vector, backend, id=vector["name"] + suffix)


@pytest.mark.parametrize("vector,backend", list(_cases()))
def test_shared_vectors(vector, backend):
    group = ke_group(vector["group"], modp_backend=backend)
    initiator = group.from_private(bytes.fromhex(vector["i"]))
    responder = group.from_private(bytes.fromhex(vector["r"]))
    assert initiator.public.hex() == vector["gi"]
    assert responder.public.hex() == vector["gr"]
    assert initiator.shared_secret(responder.public).hex() == vector["shared"]
    assert responder.shared_secret(initiator.public).hex() == vector["shared"]
    if "gix" in vector:  # RFC 5903: the KE data is x | y
        assert vector["gi"] == vector["gix"] + vector["giy"]
        assert vector["shared"] == vector["girx"]


@pytest.mark.parametrize("vector", [v for v in _vectors() if "kei" in v], ids=lambda v: v["name"])
def test_rfc5903_ke_payloads(vector):
    # The RFC prints whole IKEv2 KE payloads: generic header, DH group, reserved, KE data.
    group = ke_group(vector["group"])
    for private, payload in (("i", "kei"), ("r", "ker")):
        data = group.from_private(bytes.fromhex(vector[private])).public
        header = struct.pack("!BBHHH", 0, 0, 8 + len(data), group.group_id, 0)
        assert (header + data).hex() == vector[payload]


def test_every_supported_group_has_a_vector():
    assert {v["group"] for v in _vectors()} == set(ALL_GROUPS)


# --- the MODP primes --------------------------------------------------------------------------

def _pi_fixed(bits):
    """floor(pi * 2**bits) from Machin's formula in integer arithmetic."""
    guard = 64
    one = 1 << (bits + guard)

    def arctan_inverse(x):
        total = term = one // x
        n, sign = 1, -1
        while term:
            term //= x * x
            total += sign * (term // (2 * n + 1))
            n, sign = n + 1, -sign
        return total

    return (16 * arctan_inverse(5) - 4 * arctan_inverse(239)) >> guard


# RFC 2409 §6 and RFC 3526: p = 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + k)
PRIME_FORMULA = {1: (768, 149686), 2: (1024, 129093), 5: (1536, 741804), 14: (2048, 124476),
                 15: (3072, 1690314), 16: (4096, 240904), 17: (6144, 929484),
                 18: (8192, 4743158)}


@pytest.mark.parametrize("group", MODP_GROUPS)
def test_primes_match_the_rfc_formula(group):
    n, k = PRIME_FORMULA[group]
    expected = (1 << n) - (1 << (n - 64)) - 1 + (1 << 64) * (_pi_fixed(n - 130) + k)
    assert PRIMES[group] == expected


def _probably_prime(n, bases=(2, 3, 5, 7, 11, 13, 17, 19)):
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


@pytest.mark.parametrize("group", [1, 2, 5, 14])
def test_small_primes_are_safe_primes(group):
    p = PRIMES[group]
    assert _probably_prime(p) and _probably_prime((p - 1) // 2)
    assert GENERATOR == 2


# --- the two MODP implementations -------------------------------------------------------------

@pytest.mark.parametrize("group", MODP_GROUPS)
def test_modp_backends_agree(group):
    rand = RandomSource(f"modp{group}")
    python = ke_group(group, modp_backend="python")
    openssl = ke_group(group, modp_backend="cryptography")
    assert (python.backend, openssl.backend) == ("python", "cryptography")
    ours_py = python.generate(RandomSource(f"ours{group}"))
    ours_ossl = openssl.generate(RandomSource(f"ours{group}"))
    assert ours_py.public == ours_ossl.public
    assert len(ours_py.private_value) <= EXPONENT_BYTES[group]
    peer = python.generate(rand)
    assert ours_py.shared_secret(peer.public) == ours_ossl.shared_secret(peer.public)
    assert peer.shared_secret(ours_py.public) == ours_py.shared_secret(peer.public)
    # a value outside the generator's subgroup: neither back end checks the subgroup
    three = (3).to_bytes(python.public_size, "big")
    assert ours_py.shared_secret(three) == ours_ossl.shared_secret(three)


def test_automatic_backend_choice(monkeypatch):
    expected = "cryptography" if ke.cryptography_has_dh() else "python"
    assert ke.resolve_modp_backend("auto") == expected
    assert ke.resolve_modp_backend("auto", 14) == expected
    assert ke.resolve_modp_backend("auto", 2) == "python"  # OpenSSL re-validates 1024-bit p
    assert ke.resolve_modp_backend("cryptography", 2) == "cryptography"
    assert ke.resolve_modp_backend("python") == "python"
    with pytest.raises(ValueError):
        ke.resolve_modp_backend("gmp")
    with pytest.raises(ValueError):
        ke.set_modp_backend("gmp")
    monkeypatch.setattr(ke, "_default_backend", "auto")
    ke.set_modp_backend("python")
    assert ke_group(14).backend == "python"
    ke.set_modp_backend("cryptography")
    assert ke_group(14).backend == "cryptography"
    ke.set_modp_backend("auto")
    assert ke_group(14).backend == expected


def test_without_dh_in_cryptography_auto_selects_python(monkeypatch):
    monkeypatch.setattr(ke, "cryptography_has_dh", lambda: False)
    assert ke.resolve_modp_backend("auto") == "python"
    assert ke.resolve_modp_backend("auto", 14) == "python"


def test_cryptography_backend_is_quiet_about_its_ffdh_deprecation():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        group = ke_group(14, modp_backend="cryptography")
        a, b = group.generate(RandomSource(seed=b"a")), group.generate(RandomSource(seed=b"b"))
        assert a.shared_secret(b.public) == b.shared_secret(a.public)


# --- key generation --------------------------------------------------------------------------

@pytest.mark.parametrize("group", ALL_GROUPS)
def test_generated_pairs_agree_and_are_deterministic(group):
    g = ke_group(group)
    a = g.generate(RandomSource(f"a{group}"))
    b = g.generate(RandomSource(f"b{group}"))
    assert len(a.public) == g.public_size
    secret = a.shared_secret(b.public)
    assert len(secret) == g.shared_size
    assert secret == b.shared_secret(a.public)
    assert g.generate(RandomSource(f"a{group}")).public == a.public
    assert a.public != b.public
    assert g.from_private(a.private_value).public == a.public


@pytest.mark.parametrize("group", [14, 19, 21, 31, 32])
def test_generation_without_an_injected_source(group):
    g = ke_group(group)
    a, b = g.generate(), g.generate()
    assert a.public != b.public
    assert a.shared_secret(b.public) == b.shared_secret(a.public)


def test_unknown_groups():
    for number in (0, 3, 22, 99):
        with pytest.raises(KeyError):
            ke_group(number)


# --- validation of the peer's value ----------------------------------------------------------

@pytest.mark.parametrize("group", ALL_GROUPS)
def test_wrong_lengths_are_rejected(group):
    g = ke_group(group)
    pair = g.generate(RandomSource(group))
    good = g.generate(RandomSource(group + 1000)).public
    for bad in (b"", good[:-1], good + b"\x00", b"\x00" + good):
        with pytest.raises(InvalidKeyExchange):
            g.check_public(bad)
        with pytest.raises(InvalidKeyExchange):
            pair.shared_secret(bad)


@pytest.mark.parametrize("backend", ke.MODP_BACKENDS)
@pytest.mark.parametrize("group", [2, 14])
def test_modp_degenerate_values_are_rejected(group, backend):
    g = ke_group(group, modp_backend=backend)
    pair = g.generate(RandomSource(3))
    p = PRIMES[group]
    for value in (0, 1, p - 1, p, p + 1, (1 << (g.public_size * 8)) - 1):
        with pytest.raises(InvalidKeyExchange):
            pair.shared_secret(value.to_bytes(g.public_size, "big"))
    assert pair.shared_secret((2).to_bytes(g.public_size, "big"))  # the generator itself is fine


@pytest.mark.parametrize("group", [19, 20, 21])
def test_ecp_points_off_the_curve_are_rejected(group):
    g = ke_group(group)
    pair = g.generate(RandomSource(5))
    peer = bytearray(g.generate(RandomSource(6)).public)
    peer[-1] ^= 0x01  # y + 1 (or - 1) is not on the curve for the same x
    for bad in (bytes(peer), bytes(g.public_size), b"\xff" * g.public_size):
        with pytest.raises(InvalidKeyExchange):
            g.check_public(bad)
        with pytest.raises(InvalidKeyExchange):
            pair.shared_secret(bad)


@pytest.mark.parametrize("group", [31, 32])
def test_low_order_montgomery_points_give_no_secret(group):
    g = ke_group(group)
    pair = g.generate(RandomSource(8))
    for u in (0, 1):  # RFC 7748 §6: such points lead to an all-zero output
        with pytest.raises(InvalidKeyExchange):
            pair.shared_secret(u.to_bytes(g.public_size, "little"))


def test_key_pair_repr_shows_no_secret():
    pair = ke_group(31).generate(RandomSource(1))
    assert pair.private_value.hex()[:16] not in repr(pair)
