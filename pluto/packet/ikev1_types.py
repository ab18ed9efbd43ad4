"""IKEv1 / ISAKMP registries: the IANA numbers of RFC 2407, 2408, 2409, 3947 and 3706.

Names follow the RFCs (and libreswan's spelling where the RFC has none), without the
``ISAKMP_``/``OAKLEY_`` prefixes that the enum class name already says. Values that IANA never
assigned for IKEv1 are left out on purpose: ChaCha20-Poly1305 (RFC 7634) and Curve25519/448
(RFC 8031) exist only in the IKEv2 registries, so an IKEv1 peer has no number to send for them.
"""

from __future__ import annotations

import enum

ISAKMP_HEADER_SIZE = 28
GENERIC_HEADER_SIZE = 4
MAJOR_VERSION = 1
MINOR_VERSION = 0
COOKIE_SIZE = 8


class ExchangeType(enum.IntEnum):
    """RFC 2408 3.1 and RFC 2409 appendix A (32 and up are DOI specific)."""

    NONE = 0
    BASE = 1
    IDENTITY_PROTECTION = 2
    MAIN = 2  # RFC 2409 calls Identity Protection "Main Mode"
    AUTHENTICATION_ONLY = 3
    AGGRESSIVE = 4
    INFORMATIONAL = 5
    TRANSACTION = 6  # draft-dukes-ike-mode-cfg (mode config, XAUTH)
    QUICK = 32
    NEW_GROUP = 33


class PayloadType(enum.IntEnum):
    """Next Payload values: RFC 2408 3.1, GDOI (RFC 6407), RFC 3947, and private use."""

    NONE = 0
    SA = 1
    P = 2  # proposal: only inside an SA payload
    T = 3  # transform: only inside a proposal
    KE = 4
    ID = 5
    CERT = 6
    CR = 7
    HASH = 8
    SIG = 9
    NONCE = 10
    N = 11
    D = 12
    VID = 13
    ATTR = 14  # mode config
    SAK = 15  # GDOI payloads 15-19 and 22: known numbers, kept raw
    SAT = 16
    KD = 17
    SEQ = 18
    POP = 19
    NAT_D = 20  # RFC 3947
    NAT_OA = 21  # RFC 3947
    GAP = 22
    # 23-127 unassigned; 128-255 private use
    NAT_D_DRAFT = 130  # draft-ietf-ipsec-nat-t-ike-02/03
    NAT_OA_DRAFT = 131
    IKE_FRAGMENTATION = 132  # Cisco/Microsoft; kept raw


# Next Payload values that are neither assigned nor private use (RFC 2408 3.1: 14-127 were
# reserved; IANA has since assigned up to 22).
FIRST_UNASSIGNED_PAYLOAD = 23
FIRST_PRIVATE_PAYLOAD = 128


class HeaderFlag(enum.IntFlag):
    """ISAKMP header flags (RFC 2408 3.1); the other five bits are undefined."""

    ENCRYPTION = 0x01
    COMMIT = 0x02
    AUTHENTICATION_ONLY = 0x04


class DOI(enum.IntEnum):
    ISAKMP = 0
    IPSEC = 1


class Situation(enum.IntFlag):
    """IPsec DOI situation bits (RFC 2407 4.2)."""

    IDENTITY_ONLY = 0x01
    SECRECY = 0x02
    INTEGRITY = 0x04


class ProtocolId(enum.IntEnum):
    """IPsec DOI security protocol identifiers (RFC 2407 4.4.1)."""

    ISAKMP = 1
    IPSEC_AH = 2
    IPSEC_ESP = 3
    IPCOMP = 4


class IsakmpTransformId(enum.IntEnum):
    KEY_IKE = 1


class AhTransformId(enum.IntEnum):
    AH_MD5 = 2
    AH_SHA = 3
    AH_DES = 4
    AH_SHA2_256 = 5
    AH_SHA2_384 = 6
    AH_SHA2_512 = 7
    AH_RIPEMD = 8
    AH_AES_XCBC_MAC = 9
    AH_RSA = 10
    AH_AES_128_GMAC = 11
    AH_AES_192_GMAC = 12
    AH_AES_256_GMAC = 13


class EspTransformId(enum.IntEnum):
    ESP_DES_IV64 = 1
    ESP_DES = 2
    ESP_3DES = 3
    ESP_RC5 = 4
    ESP_IDEA = 5
    ESP_CAST = 6
    ESP_BLOWFISH = 7
    ESP_3IDEA = 8
    ESP_DES_IV32 = 9
    ESP_RC4 = 10
    ESP_NULL = 11
    ESP_AES = 12
    ESP_AES_CBC = 12
    ESP_AES_CTR = 13
    ESP_AES_CCM_8 = 14
    ESP_AES_CCM_12 = 15
    ESP_AES_CCM_16 = 16
    ESP_AES_GCM_8 = 18
    ESP_AES_GCM_12 = 19
    ESP_AES_GCM_16 = 20
    ESP_SEED_CBC = 21
    ESP_CAMELLIA = 22
    ESP_NULL_AUTH_AES_GMAC = 23


class IpcompTransformId(enum.IntEnum):
    IPCOMP_OUI = 1
    IPCOMP_DEFLATE = 2
    IPCOMP_LZS = 3
    IPCOMP_LZJH = 4


TRANSFORM_IDS: dict[int, type[enum.IntEnum]] = {
    ProtocolId.ISAKMP: IsakmpTransformId,
    ProtocolId.IPSEC_AH: AhTransformId,
    ProtocolId.IPSEC_ESP: EspTransformId,
    ProtocolId.IPCOMP: IpcompTransformId,
}


class OakleyAttribute(enum.IntEnum):
    """Phase 1 transform attribute classes (RFC 2409 appendix A)."""

    ENCRYPTION_ALGORITHM = 1
    HASH_ALGORITHM = 2
    AUTHENTICATION_METHOD = 3
    GROUP_DESCRIPTION = 4
    GROUP_TYPE = 5
    GROUP_PRIME = 6
    GROUP_GENERATOR_ONE = 7
    GROUP_GENERATOR_TWO = 8
    GROUP_CURVE_A = 9
    GROUP_CURVE_B = 10
    LIFE_TYPE = 11
    LIFE_DURATION = 12
    PRF = 13
    KEY_LENGTH = 14
    FIELD_SIZE = 15
    GROUP_ORDER = 16


class OakleyEncryption(enum.IntEnum):
    DES_CBC = 1
    IDEA_CBC = 2
    BLOWFISH_CBC = 3
    RC5_R16_B64_CBC = 4
    DES3_CBC = 5  # "3DES-CBC"
    CAST_CBC = 6
    AES_CBC = 7
    CAMELLIA_CBC = 8


class OakleyHash(enum.IntEnum):
    MD5 = 1
    SHA1 = 2
    TIGER = 3
    SHA2_256 = 4
    SHA2_384 = 5
    SHA2_512 = 6


class OakleyAuthMethod(enum.IntEnum):
    """RFC 2409, RFC 4754, and the XAUTH/hybrid drafts' private-use values."""

    PRESHARED_KEY = 1
    DSS_SIG = 2
    RSA_SIG = 3
    RSA_ENC = 4
    RSA_REVISED_ENC = 5
    ELGAMAL_ENC = 6
    ELGAMAL_REVISED_ENC = 7
    ECDSA_P256_SHA256 = 9
    ECDSA_P384_SHA384 = 10
    ECDSA_P521_SHA512 = 11
    HYBRID_INIT_RSA = 64221
    HYBRID_RESP_RSA = 64222
    HYBRID_INIT_DSS = 64223
    HYBRID_RESP_DSS = 64224
    XAUTH_INIT_PRESHARED = 65001
    XAUTH_RESP_PRESHARED = 65002
    XAUTH_INIT_DSS = 65003
    XAUTH_RESP_DSS = 65004
    XAUTH_INIT_RSA = 65005
    XAUTH_RESP_RSA = 65006
    XAUTH_INIT_RSA_ENC = 65007
    XAUTH_RESP_RSA_ENC = 65008
    XAUTH_INIT_RSA_REVISED_ENC = 65009
    XAUTH_RESP_RSA_REVISED_ENC = 65010


class OakleyGroup(enum.IntEnum):
    """Group Description values (IANA "Group Description"; the same numbers serve phase 2 PFS)."""

    MODP768 = 1
    MODP1024 = 2
    EC2N_155 = 3
    EC2N_185 = 4
    MODP1536 = 5
    EC2N_163_1 = 6
    EC2N_163_2 = 7
    EC2N_283_1 = 8
    EC2N_283_2 = 9
    EC2N_409_1 = 10
    EC2N_409_2 = 11
    EC2N_571_1 = 12
    EC2N_571_2 = 13
    MODP2048 = 14
    MODP3072 = 15
    MODP4096 = 16
    MODP6144 = 17
    MODP8192 = 18
    ECP_256 = 19
    ECP_384 = 20
    ECP_521 = 21
    MODP1024_S160 = 22
    MODP2048_S224 = 23
    MODP2048_S256 = 24
    ECP_192 = 25
    ECP_224 = 26
    BRAINPOOL_P224R1 = 27
    BRAINPOOL_P256R1 = 28
    BRAINPOOL_P384R1 = 29
    BRAINPOOL_P512R1 = 30


class OakleyGroupType(enum.IntEnum):
    MODP = 1
    ECP = 2
    EC2N = 3


class LifeType(enum.IntEnum):
    """Oakley Life Type and IPsec SA Life Type share these numbers."""

    SECONDS = 1
    KILOBYTES = 2


class IPsecAttribute(enum.IntEnum):
    """Phase 2 SA attribute classes (RFC 2407 4.5 and later IANA additions)."""

    SA_LIFE_TYPE = 1
    SA_LIFE_DURATION = 2
    GROUP_DESCRIPTION = 3
    ENCAPSULATION_MODE = 4
    AUTHENTICATION_ALGORITHM = 5
    KEY_LENGTH = 6
    KEY_ROUNDS = 7
    COMPRESS_DICTIONARY_SIZE = 8
    COMPRESS_PRIVATE_ALGORITHM = 9
    ECN_TUNNEL = 10
    EXTENDED_SEQUENCE_NUMBER = 11
    AUTHENTICATION_KEY_LENGTH = 12
    SIGNATURE_ENCODING_ALGORITHM = 13
    ADDRESS_PRESERVATION = 14
    SA_DIRECTION = 15


class EncapsulationMode(enum.IntEnum):
    TUNNEL = 1
    TRANSPORT = 2
    UDP_TUNNEL = 3  # RFC 3947
    UDP_TRANSPORT = 4  # RFC 3947
    UDP_TUNNEL_DRAFT = 61443  # draft-ietf-ipsec-nat-t-ike-00..03
    UDP_TRANSPORT_DRAFT = 61444


class IPsecAuthAlgorithm(enum.IntEnum):
    HMAC_MD5 = 1
    HMAC_SHA1 = 2
    DES_MAC = 3
    KPDK = 4
    HMAC_SHA2_256 = 5
    HMAC_SHA2_384 = 6
    HMAC_SHA2_512 = 7
    HMAC_RIPEMD = 8
    AES_XCBC_MAC = 9
    SIG_RSA = 10
    AES_128_GMAC = 11
    AES_192_GMAC = 12
    AES_256_GMAC = 13


class IdType(enum.IntEnum):
    """IPsec DOI identification types (RFC 2407 4.6.2.1, RFC 3554)."""

    IPV4_ADDR = 1
    FQDN = 2
    USER_FQDN = 3
    IPV4_ADDR_SUBNET = 4
    IPV6_ADDR = 5
    IPV6_ADDR_SUBNET = 6
    IPV4_ADDR_RANGE = 7
    IPV6_ADDR_RANGE = 8
    DER_ASN1_DN = 9
    DER_ASN1_GN = 10
    KEY_ID = 11
    LIST = 12


class CertEncoding(enum.IntEnum):
    """Certificate (and certificate request) encodings, RFC 2408 3.9."""

    NONE = 0
    PKCS7 = 1
    PGP = 2
    DNS_SIGNED_KEY = 3
    X509_SIGNATURE = 4
    X509_KEY_EXCHANGE = 5
    KERBEROS_TOKENS = 6
    CRL = 7
    ARL = 8
    SPKI = 9
    X509_ATTRIBUTE = 10


class NotifyType(enum.IntEnum):
    """Notify message types: RFC 2408 3.14.1, RFC 2407 4.6.3, RFC 3706 (DPD)."""

    INVALID_PAYLOAD_TYPE = 1
    DOI_NOT_SUPPORTED = 2
    SITUATION_NOT_SUPPORTED = 3
    INVALID_COOKIE = 4
    INVALID_MAJOR_VERSION = 5
    INVALID_MINOR_VERSION = 6
    INVALID_EXCHANGE_TYPE = 7
    INVALID_FLAGS = 8
    INVALID_MESSAGE_ID = 9
    INVALID_PROTOCOL_ID = 10
    INVALID_SPI = 11
    INVALID_TRANSFORM_ID = 12
    ATTRIBUTES_NOT_SUPPORTED = 13
    NO_PROPOSAL_CHOSEN = 14
    BAD_PROPOSAL_SYNTAX = 15
    PAYLOAD_MALFORMED = 16
    INVALID_KEY_INFORMATION = 17
    INVALID_ID_INFORMATION = 18
    INVALID_CERT_ENCODING = 19
    INVALID_CERTIFICATE = 20
    CERT_TYPE_UNSUPPORTED = 21
    INVALID_CERT_AUTHORITY = 22
    INVALID_HASH_INFORMATION = 23
    AUTHENTICATION_FAILED = 24
    INVALID_SIGNATURE = 25
    ADDRESS_NOTIFICATION = 26
    NOTIFY_SA_LIFETIME = 27
    CERTIFICATE_UNAVAILABLE = 28
    UNSUPPORTED_EXCHANGE_TYPE = 29
    UNEQUAL_PAYLOAD_LENGTHS = 30
    CONNECTED = 16384
    RESPONDER_LIFETIME = 24576
    REPLAY_STATUS = 24577
    INITIAL_CONTACT = 24578
    R_U_THERE = 36136
    R_U_THERE_ACK = 36137


class ModeCfgType(enum.IntEnum):
    """The message type of an ATTR payload (draft-dukes-ike-mode-cfg)."""

    REQUEST = 1
    REPLY = 2
    SET = 3
    ACK = 4


class ModeCfgAttribute(enum.IntEnum):
    """ATTR payload attributes: mode config, XAUTH (draft-beaulieu-ike-xauth) and Cisco Unity."""

    INTERNAL_IP4_ADDRESS = 1
    INTERNAL_IP4_NETMASK = 2
    INTERNAL_IP4_DNS = 3
    INTERNAL_IP4_NBNS = 4
    INTERNAL_ADDRESS_EXPIRY = 5
    INTERNAL_IP4_DHCP = 6
    APPLICATION_VERSION = 7
    INTERNAL_IP6_ADDRESS = 8
    INTERNAL_IP6_NETMASK = 9
    INTERNAL_IP6_DNS = 10
    INTERNAL_IP6_NBNS = 11
    INTERNAL_IP6_DHCP = 12
    INTERNAL_IP4_SUBNET = 13
    SUPPORTED_ATTRIBUTES = 14
    INTERNAL_IP6_SUBNET = 15
    XAUTH_TYPE = 16520
    XAUTH_USER_NAME = 16521
    XAUTH_USER_PASSWORD = 16522
    XAUTH_PASSCODE = 16523
    XAUTH_MESSAGE = 16524
    XAUTH_CHALLENGE = 16525
    XAUTH_DOMAIN = 16526
    XAUTH_STATUS = 16527
    XAUTH_NEXT_PIN = 16528
    XAUTH_ANSWER = 16529
    UNITY_BANNER = 28672
    UNITY_SAVE_PASSWD = 28673
    UNITY_DEF_DOMAIN = 28674
    UNITY_SPLITDNS_NAME = 28675
    UNITY_SPLIT_INCLUDE = 28676
    UNITY_NATT_PORT = 28677
    UNITY_LOCAL_LAN = 28678
    UNITY_PFS = 28679
    UNITY_FW_TYPE = 28680
    UNITY_BACKUP_SERVERS = 28681
    UNITY_DDNS_HOSTNAME = 28682


class XauthType(enum.IntEnum):
    GENERIC = 0
    RADIUS_CHAP = 1
    OTP = 2
    S_KEY = 3


class XauthStatus(enum.IntEnum):
    FAIL = 0
    OK = 1


# ATTR attributes whose values are passwords: shown only with the `private` debug class.
SECRET_MODECFG_ATTRIBUTES = frozenset({
    ModeCfgAttribute.XAUTH_USER_PASSWORD,
    ModeCfgAttribute.XAUTH_PASSCODE,
    ModeCfgAttribute.XAUTH_NEXT_PIN,
    ModeCfgAttribute.XAUTH_ANSWER,
})


class AttributeNames:
    """How to name the attributes of one context (phase 1, phase 2, mode config)."""

    __slots__ = ("title", "types", "values")

    def __init__(self, title: str, types: type[enum.IntEnum] | None,
                 values: dict[int, type[enum.IntEnum]]) -> None:
        self.title = title
        self.types = types
        self.values = values


OAKLEY_ATTRIBUTES = AttributeNames("ISAKMP Oakley attribute", OakleyAttribute, {
    OakleyAttribute.ENCRYPTION_ALGORITHM: OakleyEncryption,
    OakleyAttribute.HASH_ALGORITHM: OakleyHash,
    OakleyAttribute.AUTHENTICATION_METHOD: OakleyAuthMethod,
    OakleyAttribute.GROUP_DESCRIPTION: OakleyGroup,
    OakleyAttribute.GROUP_TYPE: OakleyGroupType,
    OakleyAttribute.LIFE_TYPE: LifeType,
})
IPSEC_ATTRIBUTES = AttributeNames("ISAKMP IPsec DOI attribute", IPsecAttribute, {
    IPsecAttribute.SA_LIFE_TYPE: LifeType,
    IPsecAttribute.GROUP_DESCRIPTION: OakleyGroup,
    IPsecAttribute.ENCAPSULATION_MODE: EncapsulationMode,
    IPsecAttribute.AUTHENTICATION_ALGORITHM: IPsecAuthAlgorithm,
})
MODECFG_ATTRIBUTES = AttributeNames("ISAKMP ModeCfg attribute", ModeCfgAttribute, {
    ModeCfgAttribute.XAUTH_TYPE: XauthType,
    ModeCfgAttribute.XAUTH_STATUS: XauthStatus,
})
GENERIC_ATTRIBUTES = AttributeNames("ISAKMP attribute", None, {})


def attribute_names_for(protocol: int) -> AttributeNames:
    """The attribute registry of a proposal's protocol: Oakley for ISAKMP, IPsec DOI else."""
    if protocol == ProtocolId.ISAKMP:
        return OAKLEY_ATTRIBUTES
    if protocol in (ProtocolId.IPSEC_AH, ProtocolId.IPSEC_ESP, ProtocolId.IPCOMP):
        return IPSEC_ATTRIBUTES
    return GENERIC_ATTRIBUTES
