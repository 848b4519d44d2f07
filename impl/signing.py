"""Who signs what, under which label, over which bytes: profile.md's signature rules.

Every signature is RFC 9420 SignWithLabel with the group's ciphersuite; the label is the
struct's `LABEL` and the content its `signed_content()` (every field before `signature`).
MigrationResponse, TargetMigrationComplete and TargetMigrationRejected are signed by the
Target DS, MigrationContent and MigrationConfirmation by the Source DS, MigrationInit by the
requesting client's MLS leaf signature key.  `migration_content_hash` is RefHash with the
label "MIMI Portability MigrationContent" over the encoded MigrationContent.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from . import crypto
from .crypto import CipherSuite, SigningKey
from .messages import MigrationContent, SignedStruct

M = TypeVar("M", bound=SignedStruct)

#: The role whose key signs each struct (the `signer` column of docs/profile.md).
SIGNER = {
    "MigrationResponse": "target_ds",
    "MigrationInit": "client",
    "MigrationContent": "source_ds",
    "TargetMigrationComplete": "target_ds",
    "MigrationConfirmation": "source_ds",
    "TargetMigrationRejected": "target_ds",
}


def sign(message: M, key: SigningKey) -> M:
    """Return `message` with its signature field set by SignWithLabel(key, LABEL, content)."""
    signature = crypto.sign_with_label(key, message.LABEL, message.signed_content())
    return dataclasses.replace(message, signature=signature)  # type: ignore[type-var]


def verify(message: SignedStruct, suite: CipherSuite, public_key: bytes) -> bool:
    """VerifyWithLabel over the message's label and signed content; never raises."""
    return crypto.verify_with_label(
        suite, public_key, message.LABEL, message.signed_content(), message.signature
    )


def migration_content_hash(suite: CipherSuite, content: MigrationContent | bytes) -> bytes:
    """RefHash("MIMI Portability MigrationContent", encoded MigrationContent)."""
    encoded = content if isinstance(content, bytes) else content.encode()
    return crypto.ref_hash(suite, crypto.MIGRATION_CONTENT_HASH_LABEL, encoded)
