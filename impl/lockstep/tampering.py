"""One-field tampering: a well-formed copy of a signed message with exactly one field changed.

This module owns the lockstep's field-level tampering (moves.FieldTamper): for every
signed message kind an envelope can carry (impl/messages.py; the MigrationInit travels in a
MigrationInitWithCommit beside its commit), `FIELDS[kind]` lists every field, nested ones
by dotted path (the commit beside an Init included), and `tamper(env, path, key)` decodes
the envelope's payload, changes that one field (bytes: the last bit of the last byte; an
integer: the next value; the rejection reason: another reason; the Init's commit: its MLS
signature, as a DS cannot check the commit's membership tag), re-signs the outermost
signed struct with `key` where the tampering party holds one (the rogue DS R re-signs a
DS-signed kind with its own key, the rogue client X an Init with its leaf key; None: the
signature is left as it was) and re-encodes it.  Every field of these kinds is covered by
a signature the tamperer cannot make for the honest signer (the Init's commit by the MLS
commit's own, its membership tag aside), so an honest receiver must refuse every such
copy and stay unchanged.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from .. import mls, signing
from ..crypto import SigningKey
from ..envelope import Envelope, Kind, MigrationInitWithCommit
from ..messages import (
    MigrationConfirmation,
    MigrationContent,
    MigrationResponse,
    RejectionReason,
    SignedStruct,
    Struct,
    TargetMigrationComplete,
    TargetMigrationRejected,
)

PAYLOADS: dict[Kind, type[Struct]] = {
    Kind.MigrationResponse: MigrationResponse,
    Kind.MigrationInitWithCommit: MigrationInitWithCommit,
    Kind.MigrationContent: MigrationContent,
    Kind.TargetMigrationComplete: TargetMigrationComplete,
    Kind.TargetMigrationRejected: TargetMigrationRejected,
    Kind.MigrationConfirmation: MigrationConfirmation,
}
"""The envelope kinds whose payload is (or carries) a signed message, and its struct."""

CLIENT_SIGNED: frozenset[Kind] = frozenset({Kind.MigrationInitWithCommit})
"""Kinds a client signs (the rogue client X re-signs them); a DS signs the others (R)."""


def _fields(cls: type[Any], prefix: str = "") -> tuple[str, ...]:
    hints = typing.get_type_hints(cls)
    out: list[str] = []
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        path = prefix + f.name
        if isinstance(kind, type) and issubclass(kind, Struct):
            out.extend(_fields(kind, path + "."))
        else:
            out.append(path)
    return tuple(out)


FIELDS: dict[Kind, tuple[str, ...]] = {kind: _fields(cls) for kind, cls in PAYLOADS.items()}
"""Each kind -> every field of its payload, nested fields by dotted path."""


def _changed(value: Any, name: str) -> Any:
    if name == "reason":
        reasons = list(RejectionReason)
        return reasons[(reasons.index(RejectionReason(value)) + 1) % len(reasons)]
    if isinstance(value, bytes):
        return value[:-1] + bytes([value[-1] ^ 0x01]) if value else b"\x00"
    if isinstance(value, int):
        return value + 1
    raise TypeError(f"{name}: cannot change a {type(value).__name__}")


def _commit_changed(data: bytes) -> bytes:
    """The migration commit with one bit of its signature changed: a DS cannot check a
    commit's membership tag (a MAC under the group's membership key), so that is no field
    a DS must refuse a change of; its signature covers the rest."""
    message = mls.MLSMessage.decode(data)
    public = message.public_message
    assert public is not None
    auth = dataclasses.replace(public.auth, signature=_changed(public.auth.signature, "sig"))
    return dataclasses.replace(message, body=dataclasses.replace(public, auth=auth)).encode()


def _replace(struct: Any, path: list[str]) -> Any:
    name = path[0]
    value = getattr(struct, name)
    if len(path) == 1 and isinstance(struct, MigrationInitWithCommit) and name == "commit":
        return dataclasses.replace(struct, commit=_commit_changed(value))
    new = _changed(value, name) if len(path) == 1 else _replace(value, path[1:])
    return dataclasses.replace(struct, **{name: new})


def tamper(env: Envelope, path: str, key: SigningKey | None) -> Envelope:
    """`env` with the field at `path` of its payload changed, re-signed with `key` (the
    outermost signed struct; None: not re-signed)."""
    message: Any = PAYLOADS[env.kind].decode(env.payload)
    message = _replace(message, path.split("."))
    if key is not None:
        if isinstance(message, MigrationInitWithCommit):
            message = dataclasses.replace(
                message, migration_init=signing.sign(message.migration_init, key))
        else:
            assert isinstance(message, SignedStruct)
            message = signing.sign(message, key)
    return Envelope(sender=env.sender, recipient=env.recipient, kind=env.kind,
                    payload=message.encode(), cipher_suite=env.cipher_suite)
