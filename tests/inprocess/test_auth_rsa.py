"""IKE_AUTH with RSA signatures between two in-process cores: RSA-PSS (RFC 7427) when both
announce SHA-2, RSA with SHA-1 (method 1) otherwise; bad signatures, wrong and missing keys,
and IDs that do not match."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pluto.certs.pubkeys import store_of
from pluto.connections.ids import parse_identity
from pluto.crypto.hostkey import format_rsasigkey, format_secrets_entry
from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import Pair, connection
from whack.options import WhackUsageError, parse_command_line

AUTHENTICATION_FAILED = 24


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for name in ("west", "east", "mallory")}


def _pair(keys, *, west_key="west", east_key="east") -> Pair:
    """west and east each with its own private key (``west_key``/``east_key`` choose which)."""
    return Pair(west_secrets=format_secrets_entry(keys[west_key], "@west"),
                east_secrets=format_secrets_entry(keys[east_key], "@east"))


def _rsa_conn(keys, *, west_pub="west", east_pub="east", **extra) -> dict:
    desc = connection(auth="rsasig", keyingtries=1, **extra)
    if west_pub:
        desc["left"]["rsasigkey"] = format_rsasigkey(keys[west_pub].public_key())
    if east_pub:
        desc["right"]["rsasigkey"] = format_rsasigkey(keys[east_pub].public_key())
    return desc


def _established(host) -> list[str]:
    return [s.kind.name for s in host.core.states if s.kind.established]


def test_rsa_pss_both_ways(keys):
    pair = _pair(keys)
    reply = pair.establish(west_desc=_rsa_conn(keys))
    assert reply.finished == 0, reply.lines
    assert ("initiator established IKE SA; authenticated peer using rsa-pss-sha2_512 "
            "signature and ID_FQDN '@east'") in reply.texts[4]
    assert pair.east.lines_with("responder established IKE SA; authenticated peer using "
                                "rsa-pss-sha2_512 signature and ID_FQDN '@west'")
    assert _established(pair.west) == _established(pair.east) == [
        "STATE_V2_ESTABLISHED_IKE_SA", "STATE_V2_ESTABLISHED_CHILD_SA"]


def test_rsa_sha1_when_the_peer_announces_no_hashes(keys, monkeypatch):
    # A peer without RFC 7427 sends no SIGNATURE_HASH_ALGORITHMS: method 1 is all it knows.
    from pluto.ikev2 import announcements

    monkeypatch.setattr(announcements, "OUR_HASH_ALGORITHMS", ())
    pair = _pair(keys)
    reply = pair.establish(west_desc=_rsa_conn(keys))
    assert reply.finished == 0, reply.lines
    assert "using rsa-sha1 signature and ID_FQDN '@east'" in reply.texts[4]
    assert pair.east.lines_with("using rsa-sha1 signature and ID_FQDN '@west'")


def test_public_key_in_pem_and_added_with_whack(keys):
    from pluto.crypto.hostkey import format_pem

    pair = _pair(keys)
    desc = _rsa_conn(keys, east_pub=None)
    desc["left"]["rsasigkey"] = format_pem(keys["west"])
    pair.add(west_desc=_rsa_conn(keys, west_pub="west", east_pub=None), east_desc=desc)
    # west knows east's key only from whack --keyid @east --pubkeyrsa 0s...
    command = parse_command_line(["--keyid", "@east", "--pubkeyrsa",
                                  format_rsasigkey(keys["mallory"])])
    assert command.actions == [{"action": "addkey", "id": "@east", "replace": True,
                                "pubkey": format_rsasigkey(keys["mallory"])}]
    assert pair.west.whack(*command.actions).finished == 0
    # Without --addkey the next key replaces mallory's.
    command = parse_command_line(["--keyid", "@east", "--pubkeyrsa",
                                  format_rsasigkey(keys["east"])])
    assert pair.west.whack(*command.actions).finished == 0
    assert len(store_of(pair.west.core)) == 1
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines


def test_whack_addkey_adds_beside_and_keyid_alone_forgets(keys):
    pair = _pair(keys)
    east = parse_identity("@east")
    for name in ("mallory", "east"):
        command = parse_command_line(["--keyid", "@east", "--addkey", "--pubkeyrsa",
                                      format_rsasigkey(keys[name])])
        assert pair.west.whack(*command.actions).finished == 0
    found = store_of(pair.west.core).keys_for(east)
    assert [k.public_numbers() for k in found] == [
        keys["east"].public_key().public_numbers(), keys["mallory"].public_key().public_numbers()]
    assert pair.west.whack(*parse_command_line(["--keyid", "@east"]).actions).finished == 0
    assert store_of(pair.west.core).find(east) is None
    with pytest.raises(WhackUsageError, match="--pubkeyrsa: .*no modulus"):
        parse_command_line(["--keyid", "@east", "--pubkeyrsa", "0sAwEAAQ"])
    with pytest.raises(WhackUsageError, match="--addkey needs --pubkeyrsa"):
        parse_command_line(["--keyid", "@east", "--addkey"])
    bad = pair.west.whack({"action": "addkey", "id": "@east", "pubkey": "0sAwEAAQ"})
    assert bad.finished != 0 and "no modulus" in bad.texts[-1]


def test_wrong_public_key_for_the_initiator_is_refused(keys):
    pair = _pair(keys)
    # east believes west's key is mallory's: west's signature does not verify.
    pair.add(west_desc=_rsa_conn(keys), east_desc=_rsa_conn(keys, west_pub="mallory"))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.east.lines_with("authentication failed: the AUTH payload from '@west': "
                                "rsa-pss-sha2_512 signature does not verify with the peer's key; "
                                "responding with AUTHENTICATION_FAILED")
    assert reply.finished == RC_NOTIFICATION + AUTHENTICATION_FAILED
    assert _established(pair.west) == _established(pair.east) == []


def test_responder_signing_with_another_key_is_refused(keys):
    pair = _pair(keys, east_key="mallory")
    # east's secrets hold mallory's key under @east; its connection does not name a key.
    east_desc = _rsa_conn(keys, east_pub=None)
    pair.add(west_desc=_rsa_conn(keys), east_desc=east_desc)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == RC_NOTIFICATION + AUTHENTICATION_FAILED
    assert ("authentication failed: the AUTH payload from '@east': rsa-pss-sha2_512 signature "
            "does not verify with the peer's key") in reply.texts[-1]
    assert _established(pair.west) == []


def test_corrupted_signature_is_refused(keys, monkeypatch):
    from pluto.ikev2 import auth

    real = auth.sign_auth

    def corrupt(key, octets, peer_hashes):
        method, data, name = real(key, octets, peer_hashes)
        return method, data[:-1] + bytes([data[-1] ^ 0x80]), name

    pair = _pair(keys)
    pair.add(west_desc=_rsa_conn(keys))
    monkeypatch.setattr(auth, "sign_auth", corrupt)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.east.lines_with("signature does not verify with the peer's key; responding "
                                "with AUTHENTICATION_FAILED")
    assert reply.finished == RC_NOTIFICATION + AUTHENTICATION_FAILED


def test_missing_public_key_of_the_peer(keys):
    pair = _pair(keys)
    pair.add(west_desc=_rsa_conn(keys), east_desc=_rsa_conn(keys, west_pub=None))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.east.lines_with("authentication failed: no public key known for '@west'; "
                                "responding with AUTHENTICATION_FAILED")
    assert reply.finished == RC_NOTIFICATION + AUTHENTICATION_FAILED


def test_missing_private_key_stops_the_initiator(keys):
    pair = Pair(west_secrets="", east_secrets=format_secrets_entry(keys["east"], "@east"))
    reply = pair.establish(west_desc=_rsa_conn(keys))
    assert reply.finished == RC_NOTIFICATION + AUTHENTICATION_FAILED
    assert "authentication failed: no RSA private key for '@west' in the secrets" in \
        reply.texts[-1]
    # Nothing was sent after IKE_SA_INIT: east never saw an IKE_AUTH request.
    assert not pair.east.lines_with("IKE_AUTH")


def test_private_key_is_found_by_the_configured_public_key(keys):
    # west's secrets hold two keys without IDs; leftrsasigkey says which one is ours.
    secrets = format_secrets_entry(keys["mallory"]) + format_secrets_entry(keys["west"])
    pair = Pair(west_secrets=secrets,
                east_secrets=format_secrets_entry(keys["east"], "@east"))
    reply = pair.establish(west_desc=_rsa_conn(keys))
    assert reply.finished == 0, reply.lines


def test_peer_id_that_does_not_match(keys):
    pair = _pair(keys)
    west_desc = _rsa_conn(keys)
    east_desc = _rsa_conn(keys)
    east_desc["left"]["id"] = "@someone-else"  # east expects another initiator ID
    pair.add(west_desc=west_desc, east_desc=east_desc)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.east.lines_with("no connection is willing to talk to peer ID '@west'")
    assert reply.finished == RC_NOTIFICATION + AUTHENTICATION_FAILED


def test_responder_id_that_does_not_match(keys):
    pair = _pair(keys)
    west_desc = _rsa_conn(keys)
    west_desc["right"]["id"] = "@not-east"
    pair.add(west_desc=west_desc, east_desc=_rsa_conn(keys))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert "peer ID '@east' is not the expected '@not-east'" in reply.texts[-1]
    assert _established(pair.west) == []


def test_psk_peer_against_rsa_connection(keys):
    pair = Pair(east_secrets=format_secrets_entry(keys["east"], "@east"))
    pair.add(west_desc=connection(keyingtries=1), east_desc=_rsa_conn(keys))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.east.lines_with("'@west' used auth method SHARED_KEY_MIC but the connection "
                                "requires RSA signatures")
    assert reply.finished == RC_NOTIFICATION + AUTHENTICATION_FAILED


def test_add_checks_rsasigkey_and_still_refuses_cert_keys(keys):
    pair = _pair(keys)
    desc = _rsa_conn(keys)
    desc["right"]["rsasigkey"] = "0sAwEAAQ"
    reply = pair.west.whack({"action": "add", "connection": desc})
    assert reply.texts[-1] == ('"west-east": rightrsasigkey: the RSA key has no modulus after '
                               "its exponent")
    desc["right"]["rsasigkey"] = "%cert"
    reply = pair.west.whack({"action": "add", "connection": desc})
    assert reply.finished != 0 and "rightrsasigkey=%cert: keys from certificates or DNS are " \
        "not implemented yet" in reply.texts[-1]
