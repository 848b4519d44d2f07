"""The generator of the MIMI Portability test vectors (`mimi-portability vectors --out`).

This module owns the bytes of the two files, in the style of mlswg/mls-implementations
(JSON arrays, lowercase hex; the format is test-vectors/README.md).  mimi-portability.json:
per ciphersuite 1..7, the three parties' keys and one mutually consistent migration
(`build_migration`: request, response, init, commit AAD, content, its hash, complete,
confirmation); keys are derived from fixed seeds and ECDSA signs deterministically (RFC
6979), so regenerating gives identical bytes.  mimi-portability-invalid.json: encodings that
must fail to decode (a cut inside every field, trailing bytes, prefix 11, non-minimal and
absurd lengths, wrong nonce sizes, a bad domain name) and signed messages that decode but
must not verify (tampered field, wrong label, wrong key), the latter with "cipher_suite" and
"signer_pub".  It builds with impl.messages and impl.signing; the checker (impl.vectors.check)
shares none of this code, so a mistake here is not repeated there.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from .. import crypto, signing
from ..codec import Reader, Writer, encode_length
from ..crypto import CipherSuite, SigningKey
from ..group_state import GroupState, Member
from ..messages import (
    MigrationCommitAAD,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    SignedStruct,
    Struct,
    TargetMigrationComplete,
)

__all__ = [
    "ENCODINGS",
    "EPOCH",
    "INVALID_FILE",
    "VALID_FILE",
    "Migration",
    "build_migration",
    "invalid_vectors",
    "valid_vectors",
    "write_folder",
]

VALID_FILE = "mimi-portability.json"
INVALID_FILE = "mimi-portability-invalid.json"
SOURCE_DOMAIN = b"source.example"
TARGET_DOMAIN = b"target.example"
CLIENT_IDENTITY = b"alice@client.example"
EPOCH = 41

#: (field in the vector object, `Migration` attribute, struct) for every encoding in
#: mimi-portability.json, in the order the invalid vectors are built.
ENCODINGS: tuple[tuple[str, str, type[Struct]], ...] = (
    ("migration_request", "request", MigrationRequest),
    ("migration_response", "response", MigrationResponse),
    ("migration_init", "init", MigrationInit),
    ("migration_commit_aad", "aad", MigrationCommitAAD),
    ("migration_content", "content", MigrationContent),
    ("target_migration_complete", "complete", TargetMigrationComplete),
    ("migration_confirmation", "confirmation", MigrationConfirmation),
)


def _key(suite: CipherSuite, who: str) -> SigningKey:
    return SigningKey.derive(suite, f"mimi-portability vectors {who} suite {int(suite)}".encode())


@dataclasses.dataclass(frozen=True)
class Migration:
    """One consistent run of the six messages for one ciphersuite."""

    suite: CipherSuite
    source_key: SigningKey
    target_key: SigningKey
    client_key: SigningKey
    request: MigrationRequest
    response: MigrationResponse
    init: MigrationInit
    aad: MigrationCommitAAD
    content: MigrationContent
    content_hash: bytes
    complete: TargetMigrationComplete
    confirmation: MigrationConfirmation


def build_migration(suite: CipherSuite) -> Migration:
    """The deterministic migration the valid vectors describe."""
    source_key, target_key = _key(suite, "source_ds"), _key(suite, "target_ds")
    client_key = _key(suite, "client")
    group_id = f"vector group {int(suite)}".encode()
    request = MigrationRequest(
        source_domain_name=SOURCE_DOMAIN,
        target_domain_name=TARGET_DOMAIN,
        group_id=group_id,
        epoch=EPOCH,
    )
    nonce = crypto.hash_bytes(CipherSuite.MLS_256_DHKEMP384_AES256GCM_SHA384_P384, group_id)[:32]
    response = signing.sign(
        MigrationResponse(migration_request=request, nonce=nonce, signature=b""), target_key
    )
    init = signing.sign(MigrationInit(migration_response=response, signature=b""), client_key)
    members = (
        Member(leaf_index=0, identity=CLIENT_IDENTITY, signature_key=client_key.public_bytes()),
        Member(
            leaf_index=1,
            identity=b"bob@client.example",
            signature_key=_key(suite, "bob").public_bytes(),
        ),
    )
    state = GroupState(group_id=group_id, epoch=EPOCH + 1, cipher_suite=int(suite), members=members)
    content = signing.sign(
        MigrationContent(migration_response=response, group_state=state.encode(), signature=b""),
        source_key,
    )
    content_hash = signing.migration_content_hash(suite, content)
    complete = signing.sign(
        TargetMigrationComplete(migration_content_hash=content_hash, signature=b""), target_key
    )
    confirmation = signing.sign(
        MigrationConfirmation(
            domain_name=TARGET_DOMAIN, nonce=nonce, group_id=group_id, signature=b""
        ),
        source_key,
    )
    return Migration(
        suite=suite,
        source_key=source_key,
        target_key=target_key,
        client_key=client_key,
        request=request,
        response=response,
        init=init,
        aad=MigrationCommitAAD(target_ds_domain=TARGET_DOMAIN),
        content=content,
        content_hash=content_hash,
        complete=complete,
        confirmation=confirmation,
    )


def _party(key: SigningKey, **extra: str) -> dict[str, str]:
    return {
        **extra,
        "signature_priv": key.private_bytes().hex(),
        "signature_pub": key.public_bytes().hex(),
    }


def valid_vectors() -> list[dict[str, Any]]:
    out = []
    for suite in CipherSuite:
        m = build_migration(suite)
        out.append(
            {
                "cipher_suite": int(suite),
                "source_ds": _party(m.source_key, domain=SOURCE_DOMAIN.decode()),
                "target_ds": _party(m.target_key, domain=TARGET_DOMAIN.decode()),
                "client": _party(m.client_key, identity=CLIENT_IDENTITY.hex()),
                "migration_request": m.request.encode().hex(),
                "migration_response": m.response.encode().hex(),
                "migration_init": m.init.encode().hex(),
                "migration_commit_aad": m.aad.encode().hex(),
                "migration_content": m.content.encode().hex(),
                "migration_content_hash": m.content_hash.hex(),
                "target_migration_complete": m.complete.encode().hex(),
                "migration_confirmation": m.confirmation.encode().hex(),
            }
        )
    return out


class _TracingReader(Reader):
    """A Reader that records the span of every field it takes, to cut inside each one."""

    __slots__ = ("spans",)

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.spans: list[tuple[str, int, int]] = []

    def _take(self, n: int, what: str) -> memoryview:
        start = self._pos
        view = super()._take(n, what)
        self.spans.append((what, start, n))
        return view


def _field_spans(cls: type[Struct], encoded: bytes) -> list[tuple[str, int, int]]:
    r = _TracingReader(encoded)
    cls.pull(r)
    return r.spans


def _invalid_decoding(cls: type[Struct], encoded: bytes) -> list[dict[str, Any]]:
    """Structural defects of one valid encoding of `cls`."""
    name = cls.NAME
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for what, start, n in _field_spans(cls, encoded):
        cut = start + n // 2
        if cut in seen:
            continue
        seen.add(cut)
        out.append({"type": name, "hex": encoded[:cut].hex(), "error": f"truncated inside {what}"})
    out.append({"type": name, "hex": (encoded + b"\x00").hex(), "error": "trailing bytes"})
    # The first byte of every struct here is a vector length header (opaque or nested struct).
    first_len = Reader(encoded).pull_length()
    hdr = len(encode_length(first_len))
    body = encoded[hdr:]
    out.append(
        {
            "type": name,
            "hex": (bytes([0xC0 | (first_len >> 24)]) + b"\x00\x00\x00" + body).hex(),
            "error": "length header with prefix 11",
        }
    )
    if first_len < 64:
        out.append(
            {
                "type": name,
                "hex": ((0x4000 | first_len).to_bytes(2, "big") + body).hex(),
                "error": "non-minimal length (1-byte length in 2 bytes)",
            }
        )
    out.append(
        {
            "type": name,
            "hex": ((0x80000000 | ((1 << 30) - 1)).to_bytes(4, "big") + body).hex(),
            "error": "absurd declared length (1 GiB)",
        }
    )
    return out


def _response_with_nonce(m: Migration, nonce: bytes) -> bytes:
    w = Writer()
    m.request.push(w)
    w._add(nonce)
    w.push_opaque(m.response.signature)
    return bytes(w)


def _signature_cases(m: Migration) -> list[dict[str, Any]]:
    """Messages that decode but must not verify under the given signer_pub."""
    out: list[dict[str, Any]] = []
    signed: list[tuple[SignedStruct, SigningKey]] = [
        (m.response, m.target_key),
        (m.init, m.client_key),
        (m.content, m.source_key),
        (m.complete, m.target_key),
        (m.confirmation, m.source_key),
    ]
    other = _key(m.suite, "impostor")
    for message, key in signed:
        assert isinstance(message, Struct)
        base = {
            "type": message.NAME,
            "cipher_suite": int(m.suite),
            "signer_pub": key.public_bytes().hex(),
        }
        tampered = _tamper(message)
        out.append(
            {**base, "hex": tampered.encode().hex(), "error": "signature over a tampered field"}
        )
        wrong_label = crypto.sign_with_label(
            key, b"MIMI Portability Wrong", message.signed_content()
        )
        out.append(
            {
                **base,
                "hex": dataclasses.replace(message, signature=wrong_label).encode().hex(),  # type: ignore[type-var]
                "error": "signed under another label",
            }
        )
        out.append(
            {
                **base,
                "hex": signing.sign(message, other).encode().hex(),
                "error": "signed by another key",
            }
        )
    return out


def _tamper(message: SignedStruct) -> SignedStruct:
    """Change one signed field, keep the old signature."""
    if isinstance(message, MigrationResponse):
        req = dataclasses.replace(
            message.migration_request, epoch=message.migration_request.epoch + 1
        )
        return dataclasses.replace(message, migration_request=req)
    if isinstance(message, MigrationInit):
        response = message.migration_response
        request = dataclasses.replace(
            response.migration_request, epoch=response.migration_request.epoch + 1
        )
        return dataclasses.replace(
            message, migration_response=dataclasses.replace(response, migration_request=request)
        )
    if isinstance(message, MigrationContent):
        return dataclasses.replace(message, group_state=message.group_state + b"\x00")
    if isinstance(message, TargetMigrationComplete):
        flipped = (
            bytes([message.migration_content_hash[0] ^ 1]) + message.migration_content_hash[1:]
        )
        return dataclasses.replace(message, migration_content_hash=flipped)
    if isinstance(message, MigrationConfirmation):
        return dataclasses.replace(message, group_id=message.group_id + b"!")
    raise TypeError(f"no tampering defined for {type(message).__name__}")


def invalid_vectors() -> list[dict[str, Any]]:
    m = build_migration(CipherSuite.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519)
    out: list[dict[str, Any]] = []
    for _field, attr, cls in ENCODINGS:
        out += _invalid_decoding(cls, getattr(m, attr).encode())
    for size in (31, 33):
        out.append(
            {
                "type": "MigrationResponse",
                "hex": _response_with_nonce(m, bytes(size)).hex(),
                "error": f"nonce of {size} bytes, not 32",
            }
        )
    bad_domain = m.aad.encode().replace(TARGET_DOMAIN, b"Target.example")
    out.append(
        {"type": "MigrationCommitAAD", "hex": bad_domain.hex(), "error": "uppercase domain name"}
    )
    for suite in CipherSuite:
        out += _signature_cases(build_migration(suite))
    return out


def write_folder(out_dir: Path) -> list[Path]:
    """Write both files into `out_dir` (created if need be); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in ((VALID_FILE, valid_vectors()), (INVALID_FILE, invalid_vectors())):
        path = out_dir / name
        path.write_text(json.dumps(data, indent=2) + "\n")
        paths.append(path)
    return paths
