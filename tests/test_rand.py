"""The injected random source: HMAC_DRBG known answers, determinism, and the impairs."""

import pytest

from pluto.crypto.rand import HmacDrbg, RandomSource
from pluto.impair import Impairs
from pluto.log import CollectingLogger

# NIST CAVS 14.3 HMAC_DRBG.rsp, [SHA-256] [PredictionResistance = False]
# [EntropyInputLen = 256] [NonceLen = 128] [ReturnedBitsLen = 1024], no reseed, no additional
# input: instantiate, generate 1024 bits twice, the second output is ReturnedBits. Transcribed
# from patrickfav/dice src/test/java/at/favre/tools/dice/rnd/HmacDrbgSha256NistTestVectors.java.
NIST_HMAC_DRBG_SHA256 = [
    (  # COUNT = 0, no personalization string
        "ca851911349384bffe89de1cbdc46e6831e44d34a4fb935ee285dd14b71a7488",
        "659ba96c601dc69fc902940805ec0ca8",
        "",
        "e528e9abf2dece54d47c7e75e5fe302149f817ea9fb4bee6f4199697d04d5b89"
        "d54fbb978a15b5c443c9ec21036d2460b6f73ebad0dc2aba6e624abf07745bc1"
        "07694bb7547bb0995f70de25d6b29e2d3011bb19d27676c07162c8b5ccde0668"
        "961df86803482cb37ed6d5c0bb8d50cf1f50d476aa0458bdaba806f48be9dcb8",
    ),
    (  # COUNT = 1, no personalization string
        "79737479ba4e7642a221fcfd1b820b134e9e3540a35bb48ffae29c20f5418ea3",
        "3593259c092bef4129bc2c6c9e19f343",
        "",
        "cf5ad5984f9e43917aa9087380dac46e410ddc8a7731859c84e9d0f31bd43655"
        "b924159413e2293b17610f211e09f770f172b8fb693a35b85d3b9e5e63b1dc25"
        "2ac0e115002e9bedfb4b5b6fd43f33b8e0eafb2d072e1a6fee1f159df9b51e6c"
        "8da737e60d5032dd30544ec51558c6f080bdbdab1de8a939e961e06b5f1aca37",
    ),
    (  # COUNT = 0 with [PersonalizationStringLen = 256]
        "5cacc68165a2e2ee20812f35ec73a79dbf30fd475476ac0c44fc6174cdac2b55",
        "6f885496c1e63af620becd9e71ecb824",
        "e72dd8590d4ed5295515c35ed6199e9d211b8f069b3058caa6670b96ef1208d0",
        "f1012cf543f94533df27fedfbf58e5b79a3dc517a9c402bdbfc9a0c0f721f9d5"
        "3faf4aafdc4b8f7a1b580fcaa52338d4bd95f58966a243cdcd3f446ed4bc546d"
        "9f607b190dd69954450d16cd0e2d6437067d8b44d19a6af7a7cfa8794e5fbd72"
        "8e8fb2f2e8db5dd4ff1aa275f35886098e80ff844886060da8b1e7137846b23b",
    ),
]


@pytest.mark.parametrize("entropy,nonce,personalization,returned", NIST_HMAC_DRBG_SHA256)
def test_hmac_drbg_nist_known_answers(entropy, nonce, personalization, returned):
    drbg = HmacDrbg(bytes.fromhex(entropy + nonce + personalization))
    drbg.generate(128)
    assert drbg.generate(128).hex() == returned


def test_seeded_random_source_is_the_drbg():
    entropy, nonce, _, returned = NIST_HMAC_DRBG_SHA256[0]
    rand = RandomSource.seeded(bytes.fromhex(entropy + nonce))
    rand.bytes(128)
    assert rand.bytes(128).hex() == returned
    assert rand.deterministic


def test_same_seed_same_bytes_different_seed_different_bytes():
    first = [RandomSource(7).bytes(n) for n in (1, 16, 32)]
    assert first == [RandomSource(7).bytes(n) for n in (1, 16, 32)]
    a, b = RandomSource(7), RandomSource(7)
    assert [a.bytes(16) for _ in range(4)] == [b.bytes(16) for _ in range(4)]
    assert RandomSource(7).bytes(32) != RandomSource(8).bytes(32)
    assert RandomSource("west").bytes(32) != RandomSource("east").bytes(32)
    # int and str seeds are their decimal / UTF-8 spelling
    assert RandomSource(42).bytes(32) == RandomSource("42").bytes(32)
    assert RandomSource("42").bytes(32) == RandomSource(b"42").bytes(32)


def test_large_requests_are_split_into_drbg_requests():
    big = RandomSource(1).bytes(HmacDrbg.MAX_REQUEST + 10)
    assert len(big) == HmacDrbg.MAX_REQUEST + 10
    reference = RandomSource(1)
    assert big == reference.bytes(HmacDrbg.MAX_REQUEST) + reference.bytes(10)
    with pytest.raises(ValueError):
        HmacDrbg(b"seed").generate(HmacDrbg.MAX_REQUEST + 1)


def test_operating_system_source():
    rand = RandomSource()
    assert not rand.deterministic
    assert len(rand.bytes(32)) == 32
    assert rand.bytes(32) != rand.bytes(32)
    assert rand.bytes(0) == b""
    with pytest.raises(ValueError):
        rand.bytes(-1)


def test_randbelow_and_randint_stay_in_range_and_cover_it():
    rand = RandomSource(3)
    seen = {rand.randbelow(6) for _ in range(300)}
    assert seen == set(range(6))
    values = [rand.randint(10, 12) for _ in range(200)]
    assert set(values) == {10, 11, 12}
    assert rand.randbelow(1) == 0
    big = rand.randbelow(1 << 130)
    assert 0 <= big < 1 << 130
    with pytest.raises(ValueError):
        rand.randbelow(0)
    with pytest.raises(ValueError):
        rand.randint(5, 4)


def test_nonce_without_impair_is_random_and_logs_nothing():
    logger = CollectingLogger()
    rand = RandomSource(5)
    nonce = rand.nonce(32, Impairs(), logger)
    assert nonce == RandomSource(5).bytes(32)
    assert logger.lines == []
    assert len(RandomSource(5).nonce(16)) == 16


def test_nonce_impair_forces_the_value_and_logs():
    impairs = Impairs()
    impairs.apply("nonce:0x1234")
    logger = CollectingLogger()
    nonce = RandomSource(5).nonce(32, impairs, logger)
    assert nonce == bytes(30) + b"\x12\x34"
    assert logger.lines == ["IMPAIR: forcing nonce to 0x1234 (32 bytes)"]
    # without a logger the value is still forced
    assert RandomSource(5).nonce(16, impairs) == bytes(14) + b"\x12\x34"


def test_nonce_impair_larger_than_the_nonce_keeps_the_low_bytes():
    impairs = Impairs()
    impairs.apply("nonce:0x0102030405")
    assert RandomSource(1).nonce(2, impairs) == b"\x04\x05"


def test_ike_spis_are_eight_random_non_zero_bytes():
    rand = RandomSource(9)
    spis = {rand.spi_i() for _ in range(20)} | {rand.spi_r() for _ in range(20)}
    assert len(spis) == 40
    assert all(len(spi) == 8 and any(spi) for spi in spis)


class _ZerosFirst(RandomSource):
    """A source whose first request returns zeros, to show a zero SPI is never used."""

    def __init__(self) -> None:
        super().__init__(11)
        self.calls = 0

    def bytes(self, size):
        self.calls += 1
        return bytes(size) if self.calls == 1 else super().bytes(size)


def test_a_zero_spi_is_redrawn():
    rand = _ZerosFirst()
    spi = rand.spi_i()
    assert any(spi) and rand.calls == 2


def test_spi_impairs_force_each_side_and_log():
    impairs = Impairs()
    impairs.apply("ike-initiator-spi:0x1122334455667788")
    logger = CollectingLogger()
    rand = RandomSource(4)
    assert rand.spi_i(impairs, logger) == bytes.fromhex("1122334455667788")
    assert logger.lines == ["IMPAIR: forcing IKE initiator SPI to 0x1122334455667788"]
    responder = rand.spi_r(impairs, logger)
    assert responder != bytes.fromhex("1122334455667788") and any(responder)
    assert len(logger.lines) == 1
    impairs.apply("ike-responder-spi:1")
    assert rand.spi_r(impairs, logger) == bytes(7) + b"\x01"
    assert logger.lines[-1] == "IMPAIR: forcing IKE responder SPI to 0x0000000000000001"
