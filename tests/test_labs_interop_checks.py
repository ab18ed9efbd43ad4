"""The checks the interop ESP scenarios lean on: retransmissions listed once, ESP of earlier
rounds skipped, strongSwan's outbound policy template (with its SPI), and the Child SA lines
of swanctl --list-sas made stable."""

import scapy.layers.ipsec  # noqa: F401  (binds IP protocol 50 to ESP before parsing)
from scapy.contrib.ikev2 import IKEv2
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

from labs.peers.__main__ import main as peers_main
from labs.peers.strongswan import StrongSwan, stable_sas
from labs.sanitize import sanitize
from labs.verify import decrypt_esp, ike_messages, parse_xfrm_policies
from labs.verify import main as verify_main

WEST, EAST = "198.51.100.45", "198.51.100.23"


def _ike(src: str, dst: str, spi: bytes, response: bool = False) -> IP:
    """An IKE_SA_INIT header alone (28 bytes) as captured on the LAN."""
    flags = 0x20 if response else 0x08
    header = IKEv2(init_SPI=spi, resp_SPI=b"\0" * 8, exch_type=34, flags=flags, id=0)
    return IP(src=src, dst=dst) / UDP(sport=500, dport=500) / Raw(bytes(header))


def test_retransmissions_are_listed_once_but_a_new_request_stays():
    first = _ike(WEST, EAST, b"\x01" * 8)
    answer = _ike(EAST, WEST, b"\x01" * 8, response=True)
    # a retransmission and a repeated answer, then a different request (a new KE after
    # INVALID_KE_PAYLOAD differs in its bytes, here in its SPI)
    packets = [first, first, answer, answer, first, _ike(WEST, EAST, b"\x02" * 8)]
    everything = ike_messages(packets)
    once = ike_messages(packets, skip_retransmits=True)
    assert len(everything) == 6
    assert once == [everything[0], everything[2], everything[5]]
    assert once[0] == (f"{WEST}:500 > {EAST}:500 IKE_SA_INIT request (I) id=0 []")
    assert once[1].startswith(f"{EAST}:500 > {WEST}:500 IKE_SA_INIT response (R)")


def test_same_bytes_in_the_other_direction_are_not_a_retransmission():
    packets = [_ike(WEST, EAST, b"\x03" * 8), _ike(EAST, WEST, b"\x03" * 8)]
    assert len(ike_messages(packets, skip_retransmits=True)) == 2


def test_esp_of_an_earlier_round_is_skipped_only_when_asked():
    old = IP(src=WEST, dst=EAST, proto=50) / Raw(bytes.fromhex("0000abcd00000001") + b"\0" * 32)
    assert decrypt_esp([IP(bytes(old))], []) == [
        f"{WEST} > {EAST} esp spi=0x0000abcd seq=1: no SA for this SPI"]
    assert decrypt_esp([IP(bytes(old))], [], known_only=True) == []


def test_strongswan_outbound_template_keeps_its_spi():
    text = (f"src 198.18.2.0/24 dst 198.18.1.0/24 \n\tdir out priority 375423 ptype main \n"
            f"\ttmpl src {EAST} dst {WEST}\n\t\tproto esp spi 0xc8d1e3a0 reqid 1 mode tunnel\n"
            f"src 198.18.1.0/24 dst 198.18.2.0/24 \n\tdir in priority 375423 ptype main \n"
            f"\ttmpl src {WEST} dst {EAST}\n\t\tproto esp reqid 1 mode tunnel\n")
    assert parse_xfrm_policies(text) == [
        f"198.18.2.0/24 -> 198.18.1.0/24 dir out tmpl esp tunnel {EAST}->{WEST} "
        "spi 0xc8d1e3a0 reqid 1",
        f"198.18.1.0/24 -> 198.18.2.0/24 dir in tmpl esp tunnel {WEST}->{EAST} reqid 1"]


def test_stable_sas_hides_child_spis_and_last_use():
    text = ("  westnet-eastnet: #1, reqid 1, INSTALLED, TUNNEL, ESP:AES_GCM_16-256\n"
            "    installed 3s ago, rekeying in 3157s, expires in 3957s\n"
            "    in  cd0c0654,    380 bytes,     5 packets,     4s ago\n"
            "    out 37b96381,      0 bytes,     0 packets\n")
    assert stable_sas(text) == [
        "  westnet-eastnet: #1, reqid 1, INSTALLED, TUNNEL, ESP:AES_GCM_16-256",
        "    installed, rekeying, expires",
        "    in  SPISPI,    380 bytes,     5 packets",
        "    out SPISPI,      0 bytes,     0 packets"]


def test_cli_initiates_the_child_sa_when_asked(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(StrongSwan, "initiate_child", lambda self, name: calls.append(
        ("child", name)))
    monkeypatch.setattr(StrongSwan, "initiate_ike", lambda self, name: calls.append(
        ("ike", name)))
    assert peers_main(["--dir", str(tmp_path), "strongswan", "initiate", "--child", "a"]) == 0
    assert peers_main(["--dir", str(tmp_path), "strongswan", "initiate", "b"]) == 0
    assert calls == [("child", "a"), ("ike", "b")]
    assert capsys.readouterr().out == "initiated a\ninitiated b\n"


def test_sanitize_hides_the_spi_of_a_deleted_child_sa():
    line = '"westnet-eastnet" #2: received Delete SA payload: deleting Child SA (ESP SPI 0xb41cb00f)'
    assert sanitize(line).endswith("deleting Child SA (ESP SPI 0xSPISPI)")


def test_idle_udp_echo_server_ends_with_a_message_not_a_traceback(capsys):
    assert verify_main(["udp-echo-server", "127.0.0.1", "0", "1", "--timeout", "0.1"]) == 1
    assert capsys.readouterr().out == "udp-echo-server: nothing to echo on 127.0.0.1:0 for 0.1 s\n"
