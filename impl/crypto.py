"""RFC 9420 cipher suites, signature keys, SignWithLabel/VerifyWithLabel and RefHash.

This module owns every cryptographic operation of the project, on pyca/cryptography only:

* `CipherSuite`: the seven RFC 9420 cipher suites, with the hash and the signature scheme each
  one fixes (`CipherSuite.parse` turns a CLI/config value into a suite).
* `SigningKey` / `VerifyingKey`: signature keys in the byte formats MLS uses: the raw seed and
  raw public key for EdDSA (RFC 8032), a fixed-width big-endian scalar and the uncompressed
  SEC1 point for ECDSA.  `SigningKey.derive` gives reproducible keys from arbitrary seed bytes
  (an injected random source), `SigningKey.generate` fresh ones.
* `sign_with_label` / `verify_with_label` (RFC 9420 section 5.1.2), `ref_hash` (section 5.2)
  and `hash_bytes`, and `verify_signature`, which returns False, never raises, for a malformed
  key or signature.
* The signature labels of the MIMI Portability profile (docs/profile.md, "Keys, signatures
  and hashes") and the RefHash label of `migration_content_hash`.

ECDSA signatures are DER-encoded (as in RFC 9420 and TLS 1.3) and deterministic (RFC 6979), so
signing is reproducible; note that ECDSA signatures are still malleable (a second valid
signature exists for the same message), so a signature's bytes must never serve as an
identifier.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from impl.codec import encode_length

__all__ = [
    "LABEL_MIGRATION_CONFIRMATION",
    "LABEL_MIGRATION_CONTENT",
    "LABEL_MIGRATION_INIT",
    "LABEL_MIGRATION_RESPONSE",
    "LABEL_TARGET_MIGRATION_COMPLETE",
    "LABEL_TARGET_MIGRATION_REJECTED",
    "MIGRATION_CONTENT_HASH_LABEL",
    "MLS_LABEL_PREFIX",
    "SIGNATURE_LABELS",
    "BytesLike",
    "CipherSuite",
    "SignatureScheme",
    "SigningKey",
    "VerifyingKey",
    "hash_bytes",
    "ref_hash",
    "sign_with_label",
    "verify_signature",
    "verify_with_label",
]

#: Anything the hash and signature primitives accept without a copy.
BytesLike = bytes | bytearray | memoryview

# --- labels -----------------------------------------------------------------------------------

#: Prefix RFC 9420 section 5.1.2 puts before every SignWithLabel label.
MLS_LABEL_PREFIX: Final = b"MLS 1.0 "

#: Signed by the Target DS.
LABEL_MIGRATION_RESPONSE: Final = b"MIMI Portability MigrationResponse"
#: Signed by the requesting client's MLS leaf signature key.
LABEL_MIGRATION_INIT: Final = b"MIMI Portability MigrationInit"
#: Signed by the Source DS.
LABEL_MIGRATION_CONTENT: Final = b"MIMI Portability MigrationContent"
#: Signed by the Target DS.
LABEL_TARGET_MIGRATION_COMPLETE: Final = b"MIMI Portability TargetMigrationComplete"
#: Signed by the Source DS.
LABEL_MIGRATION_CONFIRMATION: Final = b"MIMI Portability MigrationConfirmation"
#: This project's extension: signed by the Target DS when it refuses a migration.
LABEL_TARGET_MIGRATION_REJECTED: Final = b"MIMI Portability TargetMigrationRejected"

#: All SignWithLabel labels of the profile (without the "MLS 1.0 " prefix).
SIGNATURE_LABELS: Final = (
    LABEL_MIGRATION_RESPONSE,
    LABEL_MIGRATION_INIT,
    LABEL_MIGRATION_CONTENT,
    LABEL_TARGET_MIGRATION_COMPLETE,
    LABEL_MIGRATION_CONFIRMATION,
    LABEL_TARGET_MIGRATION_REJECTED,
)

#: RefHash label of `migration_content_hash` (used as given: RefHash adds no prefix, and a
#: RefHashInput is hashed, never signed, so sharing the text with the signature label above
#: creates no ambiguity).
MIGRATION_CONTENT_HASH_LABEL: Final = b"MIMI Portability MigrationContent"

# --- cipher suites ------------------------------------------------------------------------------


class SignatureScheme(enum.IntEnum):
    """The TLS SignatureScheme code points of the signature algorithms RFC 9420 suites use."""

    ecdsa_secp256r1_sha256 = 0x0403
    ecdsa_secp384r1_sha384 = 0x0503
    ecdsa_secp521r1_sha512 = 0x0603
    ed25519 = 0x0807
    ed448 = 0x0808


class CipherSuite(enum.IntEnum):
    """The MLS cipher suites of RFC 9420 section 17.1, by their registered ids."""

    MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 = 1
    MLS_128_DHKEMP256_AES128GCM_SHA256_P256 = 2
    MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519 = 3
    MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448 = 4
    MLS_256_DHKEMP521_AES256GCM_SHA512_P521 = 5
    MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448 = 6
    MLS_256_DHKEMP384_AES256GCM_SHA384_P384 = 7

    @classmethod
    def parse(cls, value: int | str) -> CipherSuite:
        """A suite from its id (int or decimal string, e.g. "1") or its RFC 9420 name.

        Names match case-insensitively.  Raises ValueError naming the supported suites.
        """
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"cipher suite must be an int or a str, not {type(value).__name__}")
        if isinstance(value, str):
            text = value.strip()
            if text.isascii() and text.isdigit():
                number = int(text)
            else:
                for suite in cls:
                    if suite.name.lower() == text.lower():
                        return suite
                raise ValueError(f"unknown MLS cipher suite {value!r}; {_supported()}")
        else:
            number = value
        try:
            return cls(number)
        except ValueError:
            raise ValueError(f"unknown MLS cipher suite id {number}; {_supported()}") from None

    @property
    def hash_algorithm(self) -> hashes.HashAlgorithm:
        """The suite's hash (SHA-256, SHA-384 or SHA-512), a fresh pyca instance."""
        return _PARAMS[self].hash_factory()

    @property
    def hash_length(self) -> int:
        """Nh: the output length of the suite's hash in bytes."""
        return _PARAMS[self].hash_factory.digest_size

    @property
    def signature_scheme(self) -> SignatureScheme:
        """The suite's signature scheme."""
        return _PARAMS[self].scheme

    @property
    def is_eddsa(self) -> bool:
        return _PARAMS[self].curve is None


def _supported() -> str:
    return "supported: " + ", ".join(f"{s.value} ({s.name})" for s in CipherSuite)


_HashFactory = type[hashes.SHA256] | type[hashes.SHA384] | type[hashes.SHA512]


@dataclass(frozen=True, slots=True)
class _SuiteParams:
    hash_factory: _HashFactory
    scheme: SignatureScheme
    #: None for EdDSA.
    curve: ec.EllipticCurve | None
    #: Length of the raw private key: the EdDSA seed or the fixed-width ECDSA scalar.
    private_length: int
    #: Length of the raw public key / uncompressed SEC1 point.
    public_length: int
    #: ECDSA group order (0 for EdDSA).
    order: int = 0


_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P384_N = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
    "C7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)
_P521_N = int(
    "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA"
    "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
    16,
)

_ED25519 = _SuiteParams(hashes.SHA256, SignatureScheme.ed25519, None, 32, 32)
_ED448 = _SuiteParams(hashes.SHA512, SignatureScheme.ed448, None, 57, 57)
_PARAMS: Final[dict[CipherSuite, _SuiteParams]] = {
    CipherSuite.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519: _ED25519,
    CipherSuite.MLS_128_DHKEMP256_AES128GCM_SHA256_P256: _SuiteParams(
        hashes.SHA256, SignatureScheme.ecdsa_secp256r1_sha256, ec.SECP256R1(), 32, 65, _P256_N
    ),
    CipherSuite.MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519: _ED25519,
    CipherSuite.MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448: _ED448,
    CipherSuite.MLS_256_DHKEMP521_AES256GCM_SHA512_P521: _SuiteParams(
        hashes.SHA512, SignatureScheme.ecdsa_secp521r1_sha512, ec.SECP521R1(), 66, 133, _P521_N
    ),
    CipherSuite.MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448: _ED448,
    CipherSuite.MLS_256_DHKEMP384_AES256GCM_SHA384_P384: _SuiteParams(
        hashes.SHA384, SignatureScheme.ecdsa_secp384r1_sha384, ec.SECP384R1(), 48, 97, _P384_N
    ),
}


def _params(suite: CipherSuite) -> _SuiteParams:
    try:
        return _PARAMS[suite]
    except KeyError:
        raise ValueError(f"unknown MLS cipher suite {suite!r}; {_supported()}") from None


def _ecdsa(params: _SuiteParams) -> ec.ECDSA:
    return ec.ECDSA(params.hash_factory(), deterministic_signing=True)


# --- keys ---------------------------------------------------------------------------------------

_PrivateKey = ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey | ec.EllipticCurvePrivateKey
_PublicKey = ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | ec.EllipticCurvePublicKey

#: HKDF info prefix of `SigningKey.derive` (followed by the uint16 suite id).  Changing it
#: changes every derived key.
_DERIVE_INFO: Final = b"MIMI Portability derived signature key "


class SigningKey:
    """A signature private key bound to its cipher suite.  Immutable.

    Equality compares the suite and the private key (in constant time); `repr` shows the
    public key only.
    """

    __slots__ = ("_key", "_public", "_suite")

    _suite: CipherSuite
    _key: _PrivateKey
    _public: bytes

    def __init__(self, suite: CipherSuite, key: _PrivateKey) -> None:
        params = _params(suite)
        if params.scheme is SignatureScheme.ed25519:
            ok = isinstance(key, ed25519.Ed25519PrivateKey)
        elif params.scheme is SignatureScheme.ed448:
            ok = isinstance(key, ed448.Ed448PrivateKey)
        else:
            ok = (
                isinstance(key, ec.EllipticCurvePrivateKey)
                and params.curve is not None
                and key.curve.name == params.curve.name
            )
        if not ok:
            raise ValueError(f"{type(key).__name__} is not a private key for {suite.name}")
        object.__setattr__(self, "_suite", suite)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_public", _encode_public(key.public_key()))

    @property
    def suite(self) -> CipherSuite:
        return self._suite

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SigningKey is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("SigningKey is immutable")

    @classmethod
    def from_private_bytes(cls, suite: CipherSuite, priv: bytes) -> SigningKey:
        """Load a raw private key: the RFC 8032 seed (32 bytes for Ed25519, 57 for Ed448), or
        for ECDSA the big-endian scalar in the curve's width (32/48/66 bytes), in 1..n-1.

        Raises ValueError for a wrong length or an out-of-range scalar.
        """
        suite = CipherSuite.parse(suite)
        params = _params(suite)
        if len(priv) != params.private_length:
            raise ValueError(
                f"{suite.name}: private key must be {params.private_length} bytes, got {len(priv)}"
            )
        if params.curve is None:
            key: _PrivateKey
            if params.scheme is SignatureScheme.ed25519:
                key = ed25519.Ed25519PrivateKey.from_private_bytes(priv)
            else:
                key = ed448.Ed448PrivateKey.from_private_bytes(priv)
            return cls(suite, key)
        scalar = int.from_bytes(priv, "big")
        if not 1 <= scalar < params.order:
            raise ValueError(f"{suite.name}: private scalar is not in 1..n-1")
        return cls(suite, ec.derive_private_key(scalar, params.curve))

    @classmethod
    def derive(cls, suite: CipherSuite, seed: BytesLike) -> SigningKey:
        """A key determined by `seed` (any length) and the suite, e.g. from an injected RNG.

        HKDF(hash of the suite, ikm=seed, salt empty, info="MIMI Portability derived signature
        key " + uint16 suite id) yields the EdDSA seed, or for ECDSA private_length + 16 bytes
        reduced to a scalar in 1..n-1 (FIPS 186-5 A.2.1, "extra random bits").  Not a KDF for
        low-entropy secrets: the key is as secret as `seed`.
        """
        suite = CipherSuite.parse(suite)
        params = _params(suite)
        extra = 0 if params.curve is None else 16
        okm = HKDF(
            algorithm=params.hash_factory(),
            length=params.private_length + extra,
            salt=None,
            info=_DERIVE_INFO + suite.value.to_bytes(2, "big"),
        ).derive(seed)
        if params.curve is None:
            return cls.from_private_bytes(suite, okm)
        scalar = int.from_bytes(okm, "big") % (params.order - 1) + 1
        return cls(suite, ec.derive_private_key(scalar, params.curve))

    @classmethod
    def generate(cls, suite: CipherSuite) -> SigningKey:
        """A fresh random key (from the OS random source)."""
        suite = CipherSuite.parse(suite)
        return cls.derive(suite, secrets.token_bytes(64))

    def private_bytes(self) -> bytes:
        """The raw private key, in the format `from_private_bytes` reads."""
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            width = _params(self.suite).private_length
            return key.private_numbers().private_value.to_bytes(width, "big")
        return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def public_bytes(self) -> bytes:
        """The MLS SignaturePublicKey: raw for EdDSA, uncompressed SEC1 point for ECDSA."""
        return self._public

    @property
    def verifying_key(self) -> VerifyingKey:
        return VerifyingKey(self.suite, self._public, self._key.public_key())

    def sign(self, data: BytesLike) -> bytes:
        """The raw signature of `data` (EdDSA: R||S; ECDSA: DER, RFC 6979 deterministic)."""
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, _ecdsa(_params(self.suite)))
        return key.sign(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey):
            return NotImplemented
        return self.suite == other.suite and hmac.compare_digest(
            self.private_bytes(), other.private_bytes()
        )

    def __hash__(self) -> int:
        return hash((self.suite, self._public))

    def __repr__(self) -> str:
        return f"SigningKey({self.suite.name}, public={self._public.hex()[:16]}...)"


def _encode_public(key: _PublicKey) -> bytes:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    """A signature public key bound to its cipher suite; build it with `from_bytes`."""

    suite: CipherSuite
    raw: bytes
    _key: _PublicKey = field(repr=False, compare=False)

    @classmethod
    def from_bytes(cls, suite: CipherSuite, public_key: bytes) -> VerifyingKey:
        """Load an MLS SignaturePublicKey (raw EdDSA key, or uncompressed SEC1 point 0x04||X||Y
        on the suite's curve).  Raises ValueError saying what is wrong."""
        suite = CipherSuite.parse(suite)
        params = _params(suite)
        raw = bytes(public_key)
        if len(raw) != params.public_length:
            raise ValueError(
                f"{suite.name}: public key must be {params.public_length} bytes, got {len(raw)}"
            )
        key: _PublicKey
        if params.curve is None:
            if params.scheme is SignatureScheme.ed25519:
                key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
            else:
                key = ed448.Ed448PublicKey.from_public_bytes(raw)
            return cls(suite, raw, key)
        if raw[0] != 0x04:
            raise ValueError(
                f"{suite.name}: public key must be an uncompressed SEC1 point (0x04 prefix), "
                f"got prefix 0x{raw[0]:02x}"
            )
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(params.curve, raw)
        except ValueError:
            raise ValueError(
                f"{suite.name}: public key is not a point on {params.curve.name}"
            ) from None
        return cls(suite, raw, key)

    def public_bytes(self) -> bytes:
        return self.raw

    def verify(self, data: BytesLike, signature: bytes) -> bool:
        """True iff `signature` is a valid signature of `data`; never raises for bad bytes."""
        key = self._key
        try:
            if isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(signature, data, _ecdsa(_params(self.suite)))
            else:
                key.verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True

    def verify_with_label(self, label: bytes, content: BytesLike, signature: bytes) -> bool:
        """RFC 9420 VerifyWithLabel with this key."""
        return self.verify(_sign_content(label, content), signature)


# --- operations ---------------------------------------------------------------------------------


def _nbytes(data: BytesLike) -> int:
    return data.nbytes if isinstance(data, memoryview) else len(data)


def _sign_content(label: bytes, content: BytesLike) -> bytes:
    """SignContent { opaque label<V> = "MLS 1.0 " + label; opaque content<V> = content; },
    built with a single join (content is copied once)."""
    return b"".join(
        (
            encode_length(len(MLS_LABEL_PREFIX) + len(label)),
            MLS_LABEL_PREFIX,
            label,
            encode_length(_nbytes(content)),
            content,
        )
    )


def sign_with_label(key: SigningKey, label: bytes, content: BytesLike) -> bytes:
    """RFC 9420 section 5.1.2 SignWithLabel: `key.sign(SignContent)`; `label` without the
    "MLS 1.0 " prefix (e.g. `LABEL_MIGRATION_RESPONSE`)."""
    return key.sign(_sign_content(label, content))


def _load_public(suite: CipherSuite, public_key: bytes | VerifyingKey) -> VerifyingKey | None:
    if isinstance(public_key, VerifyingKey):
        return public_key if public_key.suite == suite else None
    try:
        return VerifyingKey.from_bytes(suite, public_key)
    except ValueError:
        return None


def verify_signature(
    suite: CipherSuite, public_key: bytes | VerifyingKey, data: BytesLike, signature: bytes
) -> bool:
    """True iff `signature` is valid for `data` under `public_key` with the suite's scheme.

    Returns False, never raises, for a malformed public key or signature (and for a
    `VerifyingKey` of another suite).
    """
    key = _load_public(CipherSuite.parse(suite), public_key)
    return key is not None and key.verify(data, signature)


def verify_with_label(
    suite: CipherSuite,
    public_key: bytes | VerifyingKey,
    label: bytes,
    content: BytesLike,
    signature: bytes,
) -> bool:
    """RFC 9420 section 5.1.2 VerifyWithLabel; False (never an exception) for bad bytes."""
    key = _load_public(CipherSuite.parse(suite), public_key)
    return key is not None and key.verify(_sign_content(label, content), signature)


def hash_bytes(suite: CipherSuite, data: BytesLike) -> bytes:
    """The suite's hash of `data`."""
    h = hashes.Hash(_params(CipherSuite.parse(suite)).hash_factory())
    h.update(data)
    return h.finalize()


def ref_hash(suite: CipherSuite, label: bytes, value: BytesLike) -> bytes:
    """RFC 9420 section 5.2 RefHash: Hash(RefHashInput { opaque label<V>; opaque value<V>; }).

    The label is used as given (no "MLS 1.0 " prefix).  Hashed incrementally: no copy of value.
    """
    h = hashes.Hash(_params(CipherSuite.parse(suite)).hash_factory())
    h.update(encode_length(len(label)))
    h.update(label)
    h.update(encode_length(_nbytes(value)))
    h.update(value)
    return h.finalize()
