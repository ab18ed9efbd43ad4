"""Inputs the fuzzers found that once escaped a codec with a foreign exception.

Each entry is the (minimised) input and the codec it broke; the check must now parse it or
refuse it with the codec's own error.
"""

from __future__ import annotations

import pytest
from fuzz_codecs import all_codecs

CODECS = {codec.name: codec for codec in all_codecs()}

REGRESSIONS = [
    # An ID that looks like a DN whose attribute is a dotted number that is not a valid OID:
    # cryptography's ObjectIdentifier raised ValueError through the secrets parser.
    pytest.param("ipsec.secrets", b"198.51.100.0=x %any : PSK \"s\"\n",
                 id="secrets-dn-bad-oid"),
]


@pytest.mark.parametrize(("codec", "data"), REGRESSIONS)
def test_regression_input(codec: str, data: bytes) -> None:
    CODECS[codec].check(data)
