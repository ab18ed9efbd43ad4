"""The impair registry: kinds, parsing, errors naming the token, help and list output."""

import pytest

from pluto import impair
from pluto.impair import REGISTRY, ImpairError, Impairs, Kind


def test_every_kind_is_represented_and_documented():
    kinds = {spec.kind for spec in REGISTRY.values()}
    assert {Kind.BOOLEAN, Kind.UNSIGNED, Kind.KEYWORD} <= kinds
    for spec in REGISTRY.values():
        assert spec.help and spec.name == spec.name.lower()


def test_boolean_on_off():
    imp = Impairs()
    imp.apply("major-version-bump")
    assert imp.get("major-version-bump") is True
    imp.apply("major-version-bump:no")
    assert "major-version-bump" not in imp
    imp.apply("major_version_bump")  # libreswan accepts underscores
    imp.remove("major-version-bump")
    assert "major-version-bump" not in imp


def test_unsigned_and_keyword_values():
    imp = Impairs()
    imp.apply("ike-initiator-spi:0x1122,ke-payload:omit")
    assert imp.get("ike-initiator-spi") == 0x1122
    assert imp.get("ke-payload") == "omit"
    imp.apply("ke-payload:0x5a")
    assert imp.get("ke-payload") == 0x5A
    imp.apply("ike-key-length-attribute:duplicate")
    assert imp.get("ike-key-length-attribute") == "duplicate"
    assert imp.list_lines() == ["ike-initiator-spi:4386", "ike-key-length-attribute:duplicate",
                                "ke-payload:90"]
    imp.apply("none")
    assert imp.list_lines() == ["no impairs are set"]


@pytest.mark.parametrize("arg, token", [
    ("no-such-thing", "no-such-thing"),
    ("ke-payload:sideways", "sideways"),
    ("ike-initiator-spi:abc", "abc"),
    ("ike-initiator-spi", "ike-initiator-spi"),
    ("major-version-bump:maybe", "maybe"),
    ("minor-version-bump,bogus", "bogus"),
])
def test_errors_name_the_bad_token(arg, token):
    with pytest.raises(ImpairError, match=token):
        Impairs().apply(arg)


def test_action_is_returned_not_stored():
    spec = impair.ImpairSpec("test-action-now", Kind.ACTION, "do a thing now")
    impair.register(spec)
    try:
        imp = Impairs()
        actions = imp.apply("test-action-now:3")
        assert actions == [impair.Action(spec, 3)] and not imp.values
    finally:
        del REGISTRY["test-action-now"]


def test_register_twice_is_refused():
    with pytest.raises(ValueError):
        impair.register(REGISTRY["nonce"])


def test_help_lists_every_entry_with_kind():
    text = impair.help_text()
    for spec in REGISTRY.values():
        assert f"  {spec.name}{spec.describe_value()}  [{spec.kind.value}]" in text


@pytest.mark.parametrize("spelling", ["IKE_SA_INIT", "ike_sa_init", "ike-sa-init"])
def test_keyword_values_are_case_and_dash_blind(spelling):
    imp = Impairs()
    imp.apply(f"ADD_UNKNOWN_V2_PAYLOAD_TO:{spelling}")
    assert imp.get("add-unknown-v2-payload-to") == "IKE_SA_INIT"
