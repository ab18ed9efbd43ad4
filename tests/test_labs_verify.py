"""labs.verify and labs.sanitize against real outputs: ip -s xfrm state as printed inside the
UML kernel, and ESP packets that kernel encrypted (captured by the manual-esp-tunnel scenario),
decrypted here by scapy with the keys parsed from that ip output."""

import scapy.layers.ipsec  # noqa: F401  (binds IP protocol 50 to ESP before parsing)
from scapy.layers.inet import IP

from labs.nat import nat_ruleset
from labs.sanitize import sanitize
from labs.verify import decrypt_esp, parse_xfrm_policies, parse_xfrm_states

IP_S_XFRM_STATE = """\
src 198.51.100.45 dst 198.51.100.23
\tproto esp spi 0x00000201(513) reqid 1(0x00000001) mode tunnel
\treplay-window 0 seq 0x00000000 flag  (0x00000000)
\tauth-trunc hmac(sha256) 0x2020202020202020202020202020202020202020202020202020202020202020 (256 bits) 128
\tenc cbc(aes) 0x10101010101010101010101010101010 (128 bits)
\tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000
\tsel src 0.0.0.0/0 dst 0.0.0.0/0 uid 0
\tlifetime current:
\t  213(bytes), 3(packets)
\t  add 2026-11-24 09:50:38 use -
src 198.51.100.23 dst 198.51.100.45
\tproto esp spi 0x00000202(514) reqid 1(0x00000001) mode tunnel
\treplay-window 0 seq 0x00000000 flag  (0x00000000)
\taead rfc4106(gcm(aes)) 0x3030303030303030303030303030303031313131 (160 bits) 128
\tlifetime current:
\t  0(bytes), 0(packets)
"""

# Outer IPv4 + ESP as the UML kernel sent them: west->east (AES-CBC, HMAC-SHA2-256-128) and
# east->west (AES-GCM-16), an ICMP echo request and its reply between the client addresses.
KERNEL_ESP = [bytes.fromhex(
    "4500009c0dc640004032d7bec633642dc633641700000201000000018d551af8b341ba2d9f3647cb38737a25"
    "b2955b12d264b99b035f4c46a6d5ff1271882e129838e1dc91164d9ae4bf3878ae246bd216ab52575b43e27d"
    "0fa106cb304b8c6c3954cb7c2f9034005a28d98419c34354027e4b0e6b4b75405bc747c5c4196f6e5500953e"
    "c8bd2638bbb2ad84c0b9ff2dfaa0a92be8b7cb1878224fb7"), bytes.fromhex(
    "4500008cfc4500004032294fc6336417c633642d00000202000000015564e0aa1b2bc8896a94c15933f93ce1"
    "13dd701ce836c1b5f0a94a1a99695db69b753c133b8eb9cd65d35ba65e40575abd974423332d45fc28b05371"
    "e506419d35e2678658a954dcf00fd59e0d1071f50bd918db4d1ad01cf79b6d2116f9a43b02baa36197177"
    "83caa907038e747bbe3")]


def test_parse_ip_s_xfrm_state():
    cbc, gcm = parse_xfrm_states(IP_S_XFRM_STATE)
    assert (cbc.src, cbc.dst, cbc.spi, cbc.reqid, cbc.mode) == (
        "198.51.100.45", "198.51.100.23", 0x201, 1, "tunnel")
    assert cbc.enc == ("cbc(aes)", b"\x10" * 16)
    assert cbc.auth == ("hmac(sha256)", b"\x20" * 32, 128)
    assert (cbc.bytes, cbc.packets) == (213, 3)
    assert gcm.aead == ("rfc4106(gcm(aes))", b"\x30" * 16 + b"\x31" * 4, 128)
    assert gcm.enc is None and gcm.auth is None


def test_scapy_decrypts_what_the_kernel_encrypted():
    states = parse_xfrm_states(IP_S_XFRM_STATE)
    lines = decrypt_esp([IP(raw) for raw in KERNEL_ESP], states)
    assert lines == [
        "198.51.100.45 > 198.51.100.23 esp spi=0x00000201 seq=1: "
        "198.18.1.254 > 198.18.2.254 ICMP echo-request",
        "198.51.100.23 > 198.51.100.45 esp spi=0x00000202 seq=1: "
        "198.18.2.254 > 198.18.1.254 ICMP echo-reply",
    ]


def test_wrong_key_is_reported_not_hidden():
    states = parse_xfrm_states(IP_S_XFRM_STATE.replace("0x1010", "0x1110"))
    lines = decrypt_esp([IP(KERNEL_ESP[0])], states)
    assert len(lines) == 1 and "DECRYPTION FAILED" in lines[0]
    assert decrypt_esp([IP(KERNEL_ESP[0])], []) == [
        "198.51.100.45 > 198.51.100.23 esp spi=0x00000201 seq=1: no SA for this SPI"]


def test_parse_policies():
    text = ("src 198.18.1.0/24 dst 198.18.2.0/24 \n\tdir out priority 0 \n"
            "\ttmpl src 198.51.100.45 dst 198.51.100.23\n\t\tproto esp reqid 1 mode tunnel\n")
    assert parse_xfrm_policies(text) == [
        "198.18.1.0/24 -> 198.18.2.0/24 dir out tmpl esp tunnel "
        "198.51.100.45->198.51.100.23 reqid 1"]


def test_sanitize_hides_what_changes_every_run():
    text = ("64 bytes from 198.18.2.254: icmp_seq=1 ttl=64 time=0.358 ms\n"
            "\tproto esp spi 0x1a2b3c4d reqid 1 mode tunnel\n"
            "\tenc cbc(aes) 0x00112233445566778899aabbccddeeff\n"
            "#2: \"c\", type=ESP, add_time=1700000123, inBytes=84\n"
            "{ESP=>0x0badf00d <0xfeedface xfrm=AES_GCM_16_256}\n"
            "IKE SPIs 0123456789abcdef from 203.0.113.254:20001 to 198.51.100.23:500\n"
            "ns lab7-west in /tmp/w1/x\n"
            "\"c\" #5: received Delete SA(0x1833ff4f) payload: deleting IPsec State #5\n")
    assert sanitize(text, {"/tmp/w1": "WORKDIR", "lab7": "PREFIX"}) == (
        "64 bytes from 198.18.2.254: icmp_seq=1 ttl=64 time=X ms\n"
        "\tproto esp spi 0xSPISPI reqid 1 mode tunnel\n"
        "\tenc cbc(aes) 0xKEY\n"
        "#2: \"c\", type=ESP, add_time=1234567890, inBytes=84\n"
        "{ESP=>0xSPISPI <0xSPISPI xfrm=AES_GCM_16_256}\n"
        "IKE SPIs IKESPI from 203.0.113.254:PORT to 198.51.100.23:500\n"
        "ns PREFIX-west in WORKDIR/x\n"
        "\"c\" #5: received Delete SA(0xSPISPI) payload: deleting IPsec State #5\n")


def test_nat_rulesets():
    assert nat_ruleset("none") == ""
    assert 'ip saddr 203.0.113.0/24 oifname "eth1" masquerade\n' in nat_ruleset("masquerade")
    ports = nat_ruleset("masquerade-ports")
    assert "meta l4proto { tcp, udp } masquerade to :20000-20999" in ports
    assert ports.index("20000") < ports.index('"eth1" masquerade\n')
