"""The checker of MIMI Portability test vectors (`mimi-portability vectors --check`).

This module owns judging a folder of vectors, ours or another implementation's, against the
format of test-vectors/README.md, and returns every mismatch as a sentence.  For each object
of mimi-portability.json: every encoding decodes and re-encodes to the same bytes, every
public key matches its private key, every signature verifies under its signer's key
(docs/profile.md section 2), the content hash is the RefHash of the content, and the messages
form one migration.  For each entry of mimi-portability-invalid.json: a structural case must
fail to decode, a signature case must decode and must not verify.  It is written from the
format, not from the generator (impl.vectors.generate): the file names, the fields, their
structs and their signers are stated here again, so a mistake in the generator shows up as a
mismatch instead of being shared.  What both use is the implementation under test: the
decoders of impl.messages and the signatures of impl.signing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from .. import signing
from ..codec import DecodeError
from ..crypto import CipherSuite, SigningKey
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
    message_type,
)

__all__ = [
    "INVALID_FILE",
    "PARTIES",
    "SIGNERS",
    "STRUCTS",
    "VALID_FILE",
    "check_folder",
    "check_invalid_entry",
    "check_valid_entry",
]

VALID_FILE: Final = "mimi-portability.json"
INVALID_FILE: Final = "mimi-portability-invalid.json"

#: The parties of a valid vector object, each with `signature_priv` and `signature_pub`.
PARTIES: Final = ("source_ds", "target_ds", "client")

#: Every encoding field of a valid vector object and the struct it must decode as.
STRUCTS: Final[dict[str, type[Struct]]] = {
    "migration_request": MigrationRequest,
    "migration_response": MigrationResponse,
    "migration_init": MigrationInit,
    "migration_commit_aad": MigrationCommitAAD,
    "migration_content": MigrationContent,
    "target_migration_complete": TargetMigrationComplete,
    "migration_confirmation": MigrationConfirmation,
}

#: Which party signs each signed encoding (docs/profile.md section 2).
SIGNERS: Final[dict[str, str]] = {
    "migration_response": "target_ds",
    "migration_init": "client",
    "migration_content": "source_ds",
    "target_migration_complete": "target_ds",
    "migration_confirmation": "source_ds",
}


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
        for field, cls in STRUCTS.items():
            raw = _hex(entry, field)
            try:
                msg = cls.decode(raw)
            except DecodeError as err:
                problems.append(f"{where}: {field} does not decode: {err}")
                continue
            if msg.encode() != raw:
                problems.append(f"{where}: {field} does not re-encode to the same bytes")
            decoded[field] = msg
        pubs = {p: _hex(entry, p, "signature_pub") for p in PARTIES}
        for party, pub in pubs.items():
            priv = _hex(entry, party, "signature_priv")
            try:
                derived = SigningKey.from_private_bytes(suite, priv).public_bytes()
            except ValueError as err:
                problems.append(f"{where}: {party}.signature_priv is not a key: {err}")
                continue
            if derived != pub:
                problems.append(f"{where}: {party}.signature_pub does not match signature_priv")
        for field, party in SIGNERS.items():
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
    if len(d) != len(STRUCTS):
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
