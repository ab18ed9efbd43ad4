"""Quick Mode responder choice against libreswan 4.10's IKEv1 defaults, and the ``base``
debug lines that explain a NO_PROPOSAL_CHOSEN (found in interop-ikev1-libreswan-psk)."""

from __future__ import annotations

import pytest

from pluto.crypto.registry import ESP, Kind, by_ikev1_id
from pluto.ikev1.phase2_sa import Offer, choose_phase2, esp_proposals, phase2_sa
from pluto.ikev1.sa import NoProposalChosen
from pluto.log import CollectingLogger, DebugFlags

MODP2048 = by_ikev1_id(Kind.KE, 14, ESP)
SPI = bytes.fromhex("0badcafe")


def _sa(esp: str, spi: bytes = b"\0\0\0\0"):
    return phase2_sa(Offer(esp_proposals(esp, pfs=True), spi), 28800, True, MODP2048)


def test_libreswan_v1_defaults_share_nothing_with_ours_and_debug_says_why():
    # the first of libreswan 4.10's IKEv1 Quick Mode defaults (its second is 3des-sha1)
    theirs = _sa("aes128-sha1", SPI)
    logger = CollectingLogger(DebugFlags(["base"]))
    with pytest.raises(NoProposalChosen):
        choose_phase2(_sa("aes256-sha2_256,aes128-sha2_256,aes256-sha1"), theirs, logger)
    text = "\n".join(logger.lines)
    assert "we accept ESP: ESP/AES_CBC_256-HMAC_SHA2_256_128-MODP2048" in text
    assert "peer's proposal 1 transform 1: " in text
    assert "-> ESP/AES_CBC_128-HMAC_SHA1_96-MODP2048 mode=1" in text


def test_libreswan_with_esp_aes256_sha2_256_is_chosen_quietly_without_debug():
    theirs = _sa("aes256-sha2_256", SPI)
    logger = CollectingLogger()
    chosen = choose_phase2(_sa("aes256-sha2_256,aes128-sha2_256,aes256-sha1"), theirs, logger)
    assert chosen.describe() == "ESP/AES_CBC_256-HMAC_SHA2_256_128-MODP2048"
    assert chosen.spi == SPI
    assert logger.lines == []
