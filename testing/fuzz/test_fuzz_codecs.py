"""Property tests for every codec: any bytes parse or raise the codec's own error, and what
parses re-emits to the same bytes where the format is canonical.

Two generators per codec: hypothesis's own (random bytes and text, shrunk to a minimal
input when a check fails) and seeded mutations of real inputs (sample messages, payloads,
configuration files), which reach deep into the parsers. Each hypothesis example of the
second kind draws one seed and checks a batch of mutations, so the counts stay high at
little per-example cost. ``--long`` raises the counts toward 10^6 per codec.
"""

from __future__ import annotations

import random

import pytest
from fuzz_codecs import all_codecs
from fuzz_mutations import mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CODECS = {codec.name: codec for codec in all_codecs()}

# (hypothesis examples, mutated inputs) per codec; the CI numbers keep the file near 15 s.
CI = (80, 2500)
LONG = (20_000, 1_000_000)
BATCH = 250


def _settings(examples: int):
    return settings(max_examples=examples, deadline=None, database=None,
                    derandomize=True, suppress_health_check=list(HealthCheck))


def test_every_codec_has_seeds_that_parse():
    """The fuzz starts from real inputs: each seed must be accepted, or mutations mean little."""
    assert len(CODECS) >= 25
    for codec in CODECS.values():
        assert codec.seeds, codec.name
        accepted = [codec.check(seed) for seed in codec.seeds]
        assert any(accepted), codec.name


@pytest.mark.parametrize("name", sorted(CODECS))
def test_random_input(name: str, fuzz_long: bool) -> None:
    codec = CODECS[name]
    examples = (LONG if fuzz_long else CI)[0]
    inputs = st.text().map(str.encode) if codec.text else st.binary(max_size=600)

    @_settings(examples)
    @given(data=inputs)
    def check(data: bytes) -> None:
        codec.check(data)

    check()


@pytest.mark.parametrize("name", sorted(CODECS))
def test_mutated_seeds(name: str, fuzz_long: bool) -> None:
    codec = CODECS[name]
    total = (LONG if fuzz_long else CI)[1]
    tally = {"inputs": 0, "parsed": 0}

    @_settings(max(1, total // BATCH))
    @given(seed=st.integers(min_value=0, max_value=2**64 - 1))
    def batch(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(BATCH):
            data = mutate(rng, rng.choice(codec.seeds))
            try:
                tally["parsed"] += codec.check(data)
            except Exception as err:
                raise AssertionError(f"{name}: {err!r} on input {data!r}") from err
            tally["inputs"] += 1

    batch()
    assert tally["inputs"] >= total
    # Mutations that never parse (or always parse) test only one branch of the codec.
    assert 0 < tally["parsed"] < tally["inputs"], tally
