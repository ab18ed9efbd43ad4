"""Our algorithm registry names (pluto/crypto/registry.py) to the Linux crypto API's names.

The kernel wants three kinds of algorithm attribute: AEAD (name, key with salt, ICV bits),
encryption (name, key) and integrity (name, key, truncation bits). The truncation is the ICV
length of the IKEv2 transform (RFC 4868: HMAC-SHA2-256-128 keeps 128 of 256 bits).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KernelAead:
    name: str
    icv_bits: int


@dataclass(frozen=True)
class KernelIntegrity:
    name: str
    trunc_bits: int


# AEAD ciphers: the key handed to the kernel ends with the salt (RFC 4106 §8.1: 4 bytes;
# RFC 7634 §2: 4 bytes), as the SaSpec already carries it.
AEAD: dict[str, KernelAead] = {
    "AES_GCM_8": KernelAead("rfc4106(gcm(aes))", 64),
    "AES_GCM_12": KernelAead("rfc4106(gcm(aes))", 96),
    "AES_GCM_16": KernelAead("rfc4106(gcm(aes))", 128),
    "CHACHA20_POLY1305": KernelAead("rfc7539esp(chacha20,poly1305)", 128),
}

# Plain encryption; AES-CTR's key also ends with the 4-byte nonce (RFC 3686 §5.1).
ENCRYPTION: dict[str, str] = {
    "AES_CBC": "cbc(aes)",
    "AES_CTR": "rfc3686(ctr(aes))",
    "3DES_CBC": "cbc(des3_ede)",
    "NULL": "ecb(cipher_null)",
}

INTEGRITY: dict[str, KernelIntegrity] = {
    "HMAC_MD5_96": KernelIntegrity("hmac(md5)", 96),
    "HMAC_SHA1_96": KernelIntegrity("hmac(sha1)", 96),
    "HMAC_SHA2_256_128": KernelIntegrity("hmac(sha256)", 128),
    "HMAC_SHA2_384_192": KernelIntegrity("hmac(sha384)", 192),
    "HMAC_SHA2_512_256": KernelIntegrity("hmac(sha512)", 256),
    "AES_XCBC_96": KernelIntegrity("xcbc(aes)", 96),
    "AES_CMAC_96": KernelIntegrity("cmac(aes)", 96),
}

# IPComp transforms (RFC 3173, IANA IPCOMP transform IDs).
COMPRESSION: dict[str, str] = {
    "DEFLATE": "deflate",
    "LZS": "lzs",
    "LZJH": "lzjh",
}


class UnknownAlgorithm(ValueError):
    """A registry name the kernel back end has no kernel name for."""


def aead(name: str) -> KernelAead | None:
    return AEAD.get(name)


def encryption(name: str) -> str:
    try:
        return ENCRYPTION[name]
    except KeyError:
        raise UnknownAlgorithm(f"no kernel encryption algorithm for {name}") from None


def integrity(name: str) -> KernelIntegrity:
    try:
        return INTEGRITY[name]
    except KeyError:
        raise UnknownAlgorithm(f"no kernel integrity algorithm for {name}") from None


def compression(name: str) -> str:
    try:
        return COMPRESSION[name.upper()]
    except KeyError:
        raise UnknownAlgorithm(f"no kernel compression algorithm for {name}") from None
