"""The Policies section's Quick Mode combinations over IKEv1: ESP, AH and ESP+AH in tunnel and
transport mode are negotiated and installed (a bundle as two proposals with one number, each
protocol with its own SPIs and KEYMAT); IPCOMP, not implemented yet, is refused when the
connection is added, and so are AH and ESP+AH over IKEv2."""

from __future__ import annotations

import pytest

from pluto.crypto.kdf_ikev1 import quick_mode_keymat
from pluto.ikev1.states import IsakmpSa, QuickSa
from pluto.packet.ikev1 import emit_payloads, parse_payloads
from pluto.packet.ikev1_types import (
    AhTransformId,
    EncapsulationMode,
    IPsecAttribute,
    PayloadType,
    ProtocolId,
)
from tests.inprocess.harness import Pair, connection


def _pair() -> Pair:
    pair = Pair()
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    return pair


@pytest.mark.parametrize("tunnel", [True, False], ids=["tunnel", "transport"])
def test_esp_in_tunnel_and_transport_mode(tunnel):
    pair = _pair()
    clients = {} if tunnel else {"west_client": None, "east_client": None}
    pair.add(connection(ikev2=False, tunnel=tunnel, **clients))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    west_sas = pair.west.kernel.installed_sas()
    east_sas = pair.east.kernel.installed_sas()
    assert len(west_sas) == len(east_sas) == 2
    mode = "tunnel" if tunnel else "transport"
    assert {sa.mode for sa in west_sas + east_sas} == {mode}
    assert {sa.id.proto for sa in west_sas} == {"esp"}
    quick = next(s for s in pair.east.core.states if isinstance(s, QuickSa))
    wanted = EncapsulationMode.TUNNEL if tunnel else EncapsulationMode.TRANSPORT
    assert quick.chosen.mode == wanted
    values = {a.type: a.as_int() for a in quick.chosen.transform.attributes}
    assert values[IPsecAttribute.ENCAPSULATION_MODE] == wanted
    if not tunnel:
        assert str(west_sas[0].src_selector) in ("127.0.0.1/32", "127.0.0.2/32")


AH = {"authenticate": True, "encrypt": False}
ESP_AH = {"authenticate": True, "encrypt": True}


def _established(pair: Pair, **flags) -> tuple[QuickSa, QuickSa]:
    pair.add(connection(ikev2=False, **flags))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    return tuple(next(s for s in host.core.states if isinstance(s, QuickSa))
                 for host in (pair.west, pair.east))


def _by_spi(sas) -> dict:
    return {(sa.id.proto, sa.id.spi): sa for sa in sas}


def _expected_keymat(pair: Pair, quick: QuickSa, protocol: int, spi: int, size: int) -> bytes:
    # RFC 2409 §5.5 from the ISAKMP SA's SKEYID_d and the exchange's nonces
    isakmp = pair.west.core.states.get(quick.ike_serial)
    assert isinstance(isakmp, IsakmpSa)
    return quick_mode_keymat(isakmp.chosen.prf.implementation(), isakmp.keys.skeyid_d,
                             protocol, spi.to_bytes(4, "big"), quick.ni, quick.nr, size,
                             quick.g_qm_xy)


@pytest.mark.parametrize("tunnel", [True, False], ids=["tunnel", "transport"])
def test_ah_alone_is_negotiated_and_installed(tunnel):
    pair = _pair()
    clients = {} if tunnel else {"west_client": None, "east_client": None}
    west, east = _established(pair, esp="sha1", tunnel=tunnel, **AH, **clients)
    # QI1 offered AH_SHA with the matching HMAC-SHA authentication attribute (RFC 2407 4.5)
    (offer,) = west.offer.proposals
    assert offer.protocol == ProtocolId.IPSEC_AH
    (transform,) = offer.transforms
    assert transform.transform_id == AhTransformId.AH_SHA
    assert {a.type: a.as_int() for a in transform.attributes}[
        IPsecAttribute.AUTHENTICATION_ALGORITHM] == 2
    west_sas, east_sas = (_by_spi(h.kernel.installed_sas()) for h in (pair.west, pair.east))
    assert {proto for proto, _spi in west_sas} == {proto for proto, _spi in east_sas} == {"ah"}
    # west's outbound SA is east's inbound one: same SPI, algorithm and key
    out = west_sas[("ah", west.outbound_spi)]
    assert out.id.spi == east.inbound_spi and out.id.dst == east_sas[("ah", east.inbound_spi)].id.dst
    assert out.encrypt is None and out.integ == "HMAC_SHA1_96" and len(out.integ_key) == 20
    assert east_sas[("ah", east.inbound_spi)].integ_key == out.integ_key
    assert out.integ_key == _expected_keymat(pair, west, ProtocolId.IPSEC_AH, out.id.spi, 20)
    assert {sa.mode for sa in west_sas.values()} == {"tunnel" if tunnel else "transport"}
    assert {p.proto for p in pair.west.kernel.installed_policies()} == {"ah"}
    assert pair.west.lines_with("IKEv1+PSK+AUTHENTICATE+")
    assert pair.west.lines_with("{AH=>0x")
    # status names the protocol the SA really has, as libreswan does
    traffic = pair.west.whack({"action": "trafficstatus"}).lines
    assert any(f"#{west.serial}: " in text and ", type=AH, " in text for _rc, text in traffic)
    status = pair.west.whack({"action": "status"}).lines
    assert any(f"ah.{west.outbound_spi:x}@" in text and " AHin=" in text
               for _rc, text in status), status


def test_esp_and_ah_bundle_is_negotiated_and_installed():
    pair = _pair()
    west, east = _established(pair, esp="aes128-sha1", **ESP_AH)
    # one proposal number, ESP then AH, each with its own SPI
    esp_offer, ah_offer = west.offer.proposals
    assert (esp_offer.number, esp_offer.protocol) == (ah_offer.number, ProtocolId.IPSEC_ESP)
    assert ah_offer.protocol == ProtocolId.IPSEC_AH and esp_offer.spi != ah_offer.spi
    # the bundle survives the wire as two SA proposals
    first, body = emit_payloads([west.offer])
    assert first == PayloadType.SA
    assert [p.protocol for p in parse_payloads(body, first)[0][0].proposals] == [3, 2]
    west_sas, east_sas = (_by_spi(h.kernel.installed_sas()) for h in (pair.west, pair.east))
    assert sorted(proto for proto, _ in west_sas) == ["ah", "ah", "esp", "esp"]
    assert west_sas.keys() == east_sas.keys()
    esp_out = west_sas[("esp", west.outbound_spi)]
    ah_out = west_sas[("ah", int.from_bytes(west.chosen.ah.spi, "big"))]
    assert ah_out.id.spi == east.ah_inbound_spi
    # ESP builds the tunnel, AH rides on it in transport mode
    assert (esp_out.mode, ah_out.mode) == ("tunnel", "transport")
    assert esp_out.encrypt == "AES_CBC" and ah_out.integ == "HMAC_SHA1_96"
    for sa in (esp_out, ah_out):
        assert east_sas[(sa.id.proto, sa.id.spi)].integ_key == sa.integ_key
    # each protocol keyed with its own number and SPI
    assert ah_out.integ_key == _expected_keymat(pair, west, ProtocolId.IPSEC_AH, ah_out.id.spi,
                                                20)
    assert esp_out.encrypt_key + esp_out.integ_key == _expected_keymat(
        pair, west, ProtocolId.IPSEC_ESP, esp_out.id.spi, 16 + 20)
    assert {p.proto for p in pair.west.kernel.installed_policies()} == {"esp+ah"}
    # deleting the IPsec SA removes all four SAs on both ends
    pair.west.whack({"action": "delete", "name": "west-east"})
    pair.pump()
    assert pair.west.kernel.installed_sas() == pair.east.kernel.installed_sas() == []
    # one Delete per protocol: the first deletes the bundle, the second finds it gone
    assert len(pair.east.lines_with("payload: deleting IPsec State")) == 1
    assert not pair.east.lines_with("unknown SPI")


def test_ah_offer_is_refused_by_an_esp_responder():
    pair = _pair()
    pair.add(connection(ikev2=False, **AH), connection(ikev2=False))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    pair.advance(1)
    assert pair.east.lines_with("no acceptable ESP transform")
    assert pair.west.kernel.installed_sas() == pair.east.kernel.installed_sas() == []
    assert reply.finished != 0


@pytest.mark.parametrize("flags, wanted", [
    ({"ikev2": False, "compress": True}, "IPCOMP (--compress) is not implemented yet"),
    ({"ikev2": True, **AH}, "AH with IKEv2 is not implemented yet"),
    ({"ikev2": True, **ESP_AH}, "ESP+AH needs IKEv1"),
], ids=["ikev1-ipcomp", "ikev2-ah", "ikev2-esp+ah"])
def test_what_cannot_be_negotiated_is_refused(flags, wanted):
    pair = _pair()
    reply = pair.west.whack({"action": "add", "connection": connection(**flags)})
    assert reply.finished not in (None, 0)
    assert wanted in reply.texts[-1]
    assert pair.west.core.connections.get("west-east") is None
