"""Test vectors for other implementers: generation and checking.

This module owns the two files `mimi-portability vectors` writes and checks, in the style of
mlswg/mls-implementations (JSON arrays, lowercase hex):

- mimi-portability.json: per ciphersuite 1..7, the three parties' keys and one mutually
  consistent migration (request, response, init, commit AAD, content, its hash, complete,
  confirmation).  Keys are derived deterministically from fixed seeds and ECDSA signs
  deterministically (RFC 6979), so regenerating gives identical bytes.
- mimi-portability-invalid.json: encodings that must fail to decode (truncation inside every
  field, trailing bytes, prefix 11, non-minimal and absurd lengths, wrong nonce size, a bad
  domain name) and signed messages that decode but must not verify (tampered field, wrong
  label, wrong key), the latter with "cipher_suite" and "signer_pub".

`check_folder` verifies such a folder, ours or another implementation's, and returns every
mismatch as a sentence.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import crypto, signing
from .codec import DecodeError, Reader, Writer, encode_length
from .crypto import CipherSuite, SigningKey
from .group_state import GroupState, Member
from .messages import (
    MigrationCommitAAD,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    SignedStruct,
    Struct,
    TargetMigrationComplete,
    message_type,
)

VALID_FILE = "mimi-portability.json"
INVALID_FILE = "mimi-portability-invalid.json"
SOURCE_DOMAIN = b"source.example"
TARGET_DOMAIN = b"target.example"
CLIENT_IDENTITY = b"alice@client.example"
EPOCH = 41

#: (field in the vector object, struct) for every encoding in mimi-portability.json.
ENCODINGS: tuple[tuple[str, type[Struct]], ...] = (
    ("migration_request", MigrationRequest),
    ("migration_response", MigrationResponse),
    ("migration_init", MigrationInit),
    ("migration_commit_aad", MigrationCommitAAD),
    ("migration_content", MigrationContent),
    ("target_migration_complete", TargetMigrationComplete),
    ("migration_confirmation", MigrationConfirmation),
)

#: Which party of the vector signs each signed encoding (profile.md).
SIGNED_BY = {
    "migration_response": "target_ds",
    "migration_init": "client",
    "migration_content": "source_ds",
    "target_migration_complete": "target_ds",
    "migration_confirmation": "source_ds",
}


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
    for field, cls in ENCODINGS:
        out += _invalid_decoding(cls, getattr(m, _ATTR[field]).encode())
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


_ATTR = {
    "migration_request": "request",
    "migration_response": "response",
    "migration_init": "init",
    "migration_commit_aad": "aad",
    "migration_content": "content",
    "target_migration_complete": "complete",
    "migration_confirmation": "confirmation",
}


def write_folder(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in ((VALID_FILE, valid_vectors()), (INVALID_FILE, invalid_vectors())):
        path = out_dir / name
        path.write_text(json.dumps(data, indent=2) + "\n")
        paths.append(path)
    return paths


def _load(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise ValueError(f"{path}: expected a JSON array of objects")
    return data


def _hex(entry: dict[str, Any], *keys: str) -> bytes:
    value: Any = entry
    for k in keys:
        if not isinstance(value, dict) or k not in value:
            raise ValueError(f"missing field {'.'.join(keys)}")
        value = value[k]
    if not isinstance(value, str):
        raise ValueError(f"field {'.'.join(keys)} is not a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"field {'.'.join(keys)} is not valid hex") from None


def check_valid_entry(entry: dict[str, Any]) -> list[str]:
    """Every mismatch of one mimi-portability.json object, as sentences."""
    problems: list[str] = []
    try:
        suite = CipherSuite.parse(entry.get("cipher_suite", -1))
    except (ValueError, TypeError) as err:
        return [str(err)]
    where = f"cipher_suite {int(suite)}"
    decoded: dict[str, Any] = {}
    try:
        for field, cls in ENCODINGS:
            raw = _hex(entry, field)
            try:
                msg = cls.decode(raw)
            except DecodeError as err:
                problems.append(f"{where}: {field} does not decode: {err}")
                continue
            if msg.encode() != raw:
                problems.append(f"{where}: {field} does not re-encode to the same bytes")
            decoded[field] = msg
        pubs = {p: _hex(entry, p, "signature_pub") for p in ("source_ds", "target_ds", "client")}
        for party, pub in pubs.items():
            priv = _hex(entry, party, "signature_priv")
            try:
                derived = SigningKey.from_private_bytes(suite, priv).public_bytes()
            except ValueError as err:
                problems.append(f"{where}: {party}.signature_priv is not a key: {err}")
                continue
            if derived != pub:
                problems.append(f"{where}: {party}.signature_pub does not match signature_priv")
        for field, party in SIGNED_BY.items():
            if field in decoded and not signing.verify(decoded[field], suite, pubs[party]):
                problems.append(f"{where}: {field} does not verify under {party}.signature_pub")
        expected_hash = _hex(entry, "migration_content_hash")
        if signing.migration_content_hash(suite, _hex(entry, "migration_content")) != expected_hash:
            problems.append(f"{where}: migration_content_hash is not RefHash of migration_content")
        problems += [f"{where}: {p}" for p in _consistency(entry, decoded, expected_hash)]
    except ValueError as err:
        problems.append(f"{where}: {err}")
    return problems


def _consistency(entry: dict[str, Any], d: dict[str, Any], content_hash: bytes) -> list[str]:
    if len(d) != len(ENCODINGS):
        return []  # decode failures already reported
    req, resp = d["migration_request"], d["migration_response"]
    source = str(entry["source_ds"].get("domain", "")).encode()
    target = str(entry["target_ds"].get("domain", "")).encode()
    checks: list[tuple[bool, str]] = [
        (
            req.source_domain_name == source,
            "migration_request.source_domain_name != source_ds.domain",
        ),
        (
            req.target_domain_name == target,
            "migration_request.target_domain_name != target_ds.domain",
        ),
        (resp.migration_request == req, "migration_response does not carry migration_request"),
        (
            d["migration_init"].migration_response == resp,
            "migration_init does not carry migration_response",
        ),
        (
            d["migration_content"].migration_response == resp,
            "migration_content does not carry migration_response",
        ),
        (
            d["migration_commit_aad"].target_ds_domain == target,
            "migration_commit_aad names another target",
        ),
        (
            d["target_migration_complete"].migration_content_hash == content_hash,
            "target_migration_complete carries another hash",
        ),
        (
            d["migration_confirmation"].nonce == resp.nonce,
            "migration_confirmation carries another nonce",
        ),
        (
            d["migration_confirmation"].group_id == req.group_id,
            "migration_confirmation names another group",
        ),
        (
            d["migration_confirmation"].domain_name == target,
            "migration_confirmation names another domain",
        ),
    ]
    return [msg for ok, msg in checks if not ok]


def check_invalid_entry(entry: dict[str, Any]) -> list[str]:
    """A mismatch if the entry decodes (structural case) or verifies (signature case)."""
    try:
        cls = message_type(str(entry.get("type", "")))
        raw = _hex(entry, "hex")
    except ValueError as err:
        return [str(err)]
    label = f"{cls.NAME} ({entry.get('error', 'no reason given')})"
    if "cipher_suite" not in entry:
        try:
            cls.decode(raw)
        except DecodeError:
            return []
        return [f"{label}: decodes, but must be rejected"]
    try:
        suite = CipherSuite.parse(entry["cipher_suite"])
        pub = _hex(entry, "signer_pub")
        msg = cls.decode(raw)
    except (ValueError, TypeError, DecodeError) as err:
        return [f"{label}: signature case must decode: {err}"]
    if not isinstance(msg, SignedStruct):
        return [f"{label}: {cls.NAME} carries no signature"]
    if signing.verify(msg, suite, pub):
        return [f"{label}: verifies, but must not"]
    return []


def check_folder(folder: Path) -> tuple[int, list[str]]:
    """Check both files of a folder; returns (entries checked, problems)."""
    problems: list[str] = []
    count = 0
    checkers: tuple[tuple[str, Callable[[dict[str, Any]], list[str]]], ...] = (
        (VALID_FILE, check_valid_entry),
        (INVALID_FILE, check_invalid_entry),
    )
    for name, check in checkers:
        try:
            entries = _load(folder / name)
        except ValueError as err:
            problems.append(str(err))
            continue
        for i, entry in enumerate(entries):
            count += 1
            problems += [f"{name}[{i}]: {p}" for p in check(entry)]
    return count, problems
