"""The draft's messages as frozen dataclasses, each with one encode and one decode.

This module owns the wire shape of the seven structs of draft-kohbrok-mimi-portability
(MigrationRequest, MigrationResponse, MigrationInit, MigrationCommitAAD, MigrationContent,
TargetMigrationComplete, MigrationConfirmation) and of the one struct this project adds,
TargetMigrationRejected (see docs/profile.md: the Target DS's signed refusal of a
MigrationContent, on which the Source DS unlocks).  Each class has `push`/`pull` written like
the struct text, `encode`/`decode` around them, and, for signed structs, `LABEL` and
`signed_content()`: the encoding of every field that precedes `signature` (profile.md).
Constructors validate (domain names, nonce size, integer ranges); `decode` turns any such
failure into `DecodeError`.  Signing and verifying live in `impl.signing`.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Any, ClassVar, Self, TypeVar

from . import crypto
from .codec import DEFAULT_MAX_LENGTH, DecodeError, Reader, Writer

NONCE_SIZE = 32
_UINT64_MAX = (1 << 64) - 1
_LABEL_RE = re.compile(rb"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def validate_domain(name: bytes, what: str = "domain name") -> None:
    """profile.md: UTF-8 bytes of a lowercase DNS name, 1..253 bytes, labels 1..63 of
    [a-z0-9-], not starting or ending with '-'.  Raises ValueError naming the defect."""
    if not isinstance(name, bytes):
        raise ValueError(f"{what} must be bytes")
    if not 1 <= len(name) <= 253:
        raise ValueError(f"{what} must be 1..253 bytes, got {len(name)}")
    for label in name.split(b"."):
        if not _LABEL_RE.fullmatch(label):
            shown = label.decode("utf-8", "backslashreplace")
            raise ValueError(
                f"{what}: label {shown!r} is not 1..63 of [a-z0-9-] without a leading or "
                "trailing '-'"
            )


def _check_uint(value: int, bits: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < (1 << bits):
        raise ValueError(f"{what} must be a uint{bits}, got {value!r}")


def _check_bytes(value: bytes, what: str, size: int | None = None) -> None:
    if not isinstance(value, bytes):
        raise ValueError(f"{what} must be bytes, got {type(value).__name__}")
    if size is not None and len(value) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(value)}")


S = TypeVar("S", bound="Struct")


class Struct:
    """Shared encode/decode around a struct's own `push`/`pull`."""

    __slots__ = ()
    NAME: ClassVar[str]

    def push(self, w: Writer) -> None:
        raise NotImplementedError

    @classmethod
    def pull(cls, r: Reader) -> Self:
        raise NotImplementedError

    def encode(self) -> bytes:
        w = Writer()
        self.push(w)
        return bytes(w)

    @classmethod
    def decode(
        cls, data: bytes | bytearray | memoryview, *, max_length: int = DEFAULT_MAX_LENGTH
    ) -> Self:
        r = Reader(data, max_length=max_length)
        msg = cls.pull(r)
        r.finish(cls.NAME)
        return msg


def _build(cls: type[S], what: str, **fields: Any) -> S:
    """Construct from decoded fields; a validation failure becomes a DecodeError."""
    try:
        return cls(**fields)
    except ValueError as err:
        raise DecodeError("invalid-value", f"{what}: {err}") from None


class SignedStruct(Struct):
    """A struct whose last field is `signature`, over `signed_content()` under `LABEL`."""

    __slots__ = ()
    LABEL: ClassVar[bytes]
    signature: bytes

    def signed_content(self) -> bytes:
        raise NotImplementedError


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MigrationRequest(Struct):
    """Client -> Target DS: move `group_id` at `epoch` from source to target."""

    NAME: ClassVar[str] = "MigrationRequest"
    source_domain_name: bytes
    target_domain_name: bytes
    group_id: bytes
    epoch: int

    def __post_init__(self) -> None:
        validate_domain(self.source_domain_name, "source_domain_name")
        validate_domain(self.target_domain_name, "target_domain_name")
        _check_bytes(self.group_id, "group_id")
        _check_uint(self.epoch, 64, "epoch")

    def push(self, w: Writer) -> None:
        w.push_opaque(self.source_domain_name)
        w.push_opaque(self.target_domain_name)
        w.push_opaque(self.group_id)
        w.push_uint64(self.epoch)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            source_domain_name=r.pull_opaque("MigrationRequest.source_domain_name"),
            target_domain_name=r.pull_opaque("MigrationRequest.target_domain_name"),
            group_id=r.pull_opaque("MigrationRequest.group_id"),
            epoch=r.pull_uint64("MigrationRequest.epoch"),
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MigrationResponse(SignedStruct):
    """Target DS -> client: the request, a fresh nonce, the Target DS's signature."""

    NAME: ClassVar[str] = "MigrationResponse"
    LABEL: ClassVar[bytes] = crypto.LABEL_MIGRATION_RESPONSE
    migration_request: MigrationRequest
    nonce: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.migration_request, MigrationRequest):
            raise ValueError("migration_request must be a MigrationRequest")
        _check_bytes(self.nonce, "nonce", NONCE_SIZE)
        _check_bytes(self.signature, "signature")

    def push_signed_fields(self, w: Writer) -> None:
        self.migration_request.push(w)
        w.push_fixed(self.nonce, NONCE_SIZE)

    def signed_content(self) -> bytes:
        w = Writer()
        self.push_signed_fields(w)
        return bytes(w)

    def push(self, w: Writer) -> None:
        self.push_signed_fields(w)
        w.push_opaque(self.signature)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            migration_request=MigrationRequest.pull(r),
            nonce=r.pull_fixed(NONCE_SIZE, "MigrationResponse.nonce"),
            signature=r.pull_opaque("MigrationResponse.signature"),
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MigrationInit(SignedStruct):
    """Client -> Source DS: the response, signed with the client's MLS leaf key."""

    NAME: ClassVar[str] = "MigrationInit"
    LABEL: ClassVar[bytes] = crypto.LABEL_MIGRATION_INIT
    migration_response: MigrationResponse
    signature: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.migration_response, MigrationResponse):
            raise ValueError("migration_response must be a MigrationResponse")
        _check_bytes(self.signature, "signature")

    def signed_content(self) -> bytes:
        return self.migration_response.encode()

    def push(self, w: Writer) -> None:
        self.migration_response.push(w)
        w.push_opaque(self.signature)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            migration_response=MigrationResponse.pull(r),
            signature=r.pull_opaque("MigrationInit.signature"),
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MigrationCommitAAD(Struct):
    """The authenticated_data of the Commit that starts a migration."""

    NAME: ClassVar[str] = "MigrationCommitAAD"
    target_ds_domain: bytes

    def __post_init__(self) -> None:
        validate_domain(self.target_ds_domain, "target_ds_domain")

    def push(self, w: Writer) -> None:
        w.push_opaque(self.target_ds_domain)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls, cls.NAME, target_ds_domain=r.pull_opaque("MigrationCommitAAD.target_ds_domain")
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MigrationContent(SignedStruct):
    """Source DS -> Target DS: the response and the group state, signed by the Source DS."""

    NAME: ClassVar[str] = "MigrationContent"
    LABEL: ClassVar[bytes] = crypto.LABEL_MIGRATION_CONTENT
    migration_response: MigrationResponse
    group_state: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.migration_response, MigrationResponse):
            raise ValueError("migration_response must be a MigrationResponse")
        _check_bytes(self.group_state, "group_state")
        _check_bytes(self.signature, "signature")

    def push_signed_fields(self, w: Writer) -> None:
        self.migration_response.push(w)
        w.push_opaque(self.group_state)

    def signed_content(self) -> bytes:
        w = Writer()
        self.push_signed_fields(w)
        return bytes(w)

    def push(self, w: Writer) -> None:
        self.push_signed_fields(w)
        w.push_opaque(self.signature)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            migration_response=MigrationResponse.pull(r),
            group_state=r.pull_opaque("MigrationContent.group_state"),
            signature=r.pull_opaque("MigrationContent.signature"),
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TargetMigrationComplete(SignedStruct):
    """Target DS -> Source DS: the hash of the imported MigrationContent, signed."""

    NAME: ClassVar[str] = "TargetMigrationComplete"
    LABEL: ClassVar[bytes] = crypto.LABEL_TARGET_MIGRATION_COMPLETE
    migration_content_hash: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_bytes(self.migration_content_hash, "migration_content_hash")
        _check_bytes(self.signature, "signature")

    def signed_content(self) -> bytes:
        w = Writer()
        w.push_opaque(self.migration_content_hash)
        return bytes(w)

    def push(self, w: Writer) -> None:
        w.push_opaque(self.migration_content_hash)
        w.push_opaque(self.signature)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            migration_content_hash=r.pull_opaque("TargetMigrationComplete.migration_content_hash"),
            signature=r.pull_opaque("TargetMigrationComplete.signature"),
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MigrationConfirmation(SignedStruct):
    """Source DS -> client: the target's domain, the response's nonce, the group, signed."""

    NAME: ClassVar[str] = "MigrationConfirmation"
    LABEL: ClassVar[bytes] = crypto.LABEL_MIGRATION_CONFIRMATION
    domain_name: bytes
    nonce: bytes
    group_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        validate_domain(self.domain_name, "domain_name")
        _check_bytes(self.nonce, "nonce", NONCE_SIZE)
        _check_bytes(self.group_id, "group_id")
        _check_bytes(self.signature, "signature")

    def push_signed_fields(self, w: Writer) -> None:
        w.push_opaque(self.domain_name)
        w.push_fixed(self.nonce, NONCE_SIZE)
        w.push_opaque(self.group_id)

    def signed_content(self) -> bytes:
        w = Writer()
        self.push_signed_fields(w)
        return bytes(w)

    def push(self, w: Writer) -> None:
        self.push_signed_fields(w)
        w.push_opaque(self.signature)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            domain_name=r.pull_opaque("MigrationConfirmation.domain_name"),
            nonce=r.pull_fixed(NONCE_SIZE, "MigrationConfirmation.nonce"),
            group_id=r.pull_opaque("MigrationConfirmation.group_id"),
            signature=r.pull_opaque("MigrationConfirmation.signature"),
        )


class RejectionReason(enum.IntEnum):
    """Codes of TargetMigrationRejected.reason (this project's extension)."""

    UNKNOWN_NONCE = 1
    EXPIRED_NONCE = 2
    NOT_AUTHORIZED = 3
    GROUP_EXISTS = 4
    MALFORMED_GROUP_STATE = 5


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TargetMigrationRejected(SignedStruct):
    """This project's extension: Target DS -> Source DS, a signed refusal of a content.

    `struct { opaque migration_content_hash<V>; uint16 reason; opaque signature<V>; }`.
    `reason` is a uint16; codes this project defines are in RejectionReason, others decode.
    """

    NAME: ClassVar[str] = "TargetMigrationRejected"
    LABEL: ClassVar[bytes] = crypto.LABEL_TARGET_MIGRATION_REJECTED
    migration_content_hash: bytes
    reason: int
    signature: bytes

    def __post_init__(self) -> None:
        _check_bytes(self.migration_content_hash, "migration_content_hash")
        _check_uint(self.reason, 16, "reason")
        _check_bytes(self.signature, "signature")

    def push_signed_fields(self, w: Writer) -> None:
        w.push_opaque(self.migration_content_hash)
        w.push_uint16(self.reason)

    def signed_content(self) -> bytes:
        w = Writer()
        self.push_signed_fields(w)
        return bytes(w)

    def push(self, w: Writer) -> None:
        self.push_signed_fields(w)
        w.push_opaque(self.signature)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            migration_content_hash=r.pull_opaque("TargetMigrationRejected.migration_content_hash"),
            reason=r.pull_uint16("TargetMigrationRejected.reason"),
            signature=r.pull_opaque("TargetMigrationRejected.signature"),
        )


#: Every struct by its name in the draft (TargetMigrationRejected: this project's extension).
MESSAGE_TYPES: dict[str, type[Struct]] = {
    cls.NAME: cls
    for cls in (
        MigrationRequest,
        MigrationResponse,
        MigrationInit,
        MigrationCommitAAD,
        MigrationContent,
        TargetMigrationComplete,
        MigrationConfirmation,
        TargetMigrationRejected,
    )
}


def message_type(name: str) -> type[Struct]:
    """Look a struct up by name, any case; ValueError lists the known names."""
    for known, cls in MESSAGE_TYPES.items():
        if known.lower() == name.lower():
            return cls
    raise ValueError(f"unknown message type {name!r}; known: {', '.join(MESSAGE_TYPES)}")


def to_json(value: object) -> Any:
    """A JSON-ready view: domain names as text, other bytes as lowercase hex."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if isinstance(v, bytes) and "domain" in f.name:
                out[f.name] = v.decode("utf-8")
            else:
                out[f.name] = to_json(v)
        return out
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value
