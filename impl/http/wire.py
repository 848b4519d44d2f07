"""The wire shape of the HTTP binding: the TransactionEnvelope, its types, its signature,
and the HTTP status of every refusal (docs/wire.md is the spec; this is its code).

This module owns bytes and statuses, nothing of HTTP itself:

- `WireType`: what a TransactionEnvelope carries (one value per protocol message kind of
  impl/envelope.py, plus this binding's own: GroupCreation, Accepted, QueueRequest,
  QueueBatch);
- `TransactionEnvelope` (in the manner of draft-kohbrok-mimi-transport's
  TransactionEnvelope), strict TLS presentation language (impl/codec.py):

      struct {
        uint16 version;              /* 1 */
        WireType type;               /* uint8 */
        opaque sender<V>;
        opaque recipient<V>;
        uint16 cipher_suite;         /* Envelope.cipher_suite, 0 where unused */
        opaque body<V>;
        uint16 auth_suite;           /* suite of the signature key, 0: unsigned */
        opaque signature<V>;         /* SignWithLabel(key, "MIMI Portability transport",
                                        every byte before signature) */
      } TransactionEnvelope;

- `QueueRequest`, `QueueBatch`: a member's fetch of its queue and the answer;
- `STATUS`: refusal code -> HTTP status, for every ProtocolError of impl/errors.py and for
  the binding's own transport refusals (`TransportError`).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import ClassVar, Self

from .. import crypto
from ..codec import DecodeError, Reader, Writer
from ..crypto import CipherSuite, SigningKey
from ..envelope import Envelope, Kind, Refusal
from ..errors import ERRORS, Malformed, ProtocolError
from ..messages import Struct, _build

VERSION = 1
#: SignWithLabel label of the transport signature ("MLS 1.0 " is prefixed by crypto).
TRANSPORT_LABEL = b"MIMI Portability transport"
CONTENT_TYPE = "application/octet-stream"
#: The paths (docs/wire.md).
CLIENT_PATH = "/mimi/v1/client"
DS_PATH = "/mimi/v1/ds"
QUEUE_PATH = "/mimi/v1/queue"
STATUS_PATH = "/status"
WELL_KNOWN_PATH = "/.well-known/mimi-portability"
#: Largest sender/recipient name (a DNS name or `user@domain`).
MAX_NAME = 320


class WireType(enum.IntEnum):
    """What a TransactionEnvelope's body holds."""

    migration_request = 1
    migration_response = 2
    migration_init_with_commit = 3
    migration_content = 4
    target_migration_complete = 5
    target_migration_rejected = 6
    migration_confirmation = 7
    commit = 8
    fanout = 9
    refusal = 10
    group_creation = 11
    accepted = 12
    queue_request = 13
    queue_batch = 14


#: The protocol kinds (impl/envelope.py) and their wire types, both ways.
KIND_TYPE: dict[Kind, WireType] = {
    Kind.MigrationRequest: WireType.migration_request,
    Kind.MigrationResponse: WireType.migration_response,
    Kind.MigrationInitWithCommit: WireType.migration_init_with_commit,
    Kind.MigrationContent: WireType.migration_content,
    Kind.TargetMigrationComplete: WireType.target_migration_complete,
    Kind.TargetMigrationRejected: WireType.target_migration_rejected,
    Kind.MigrationConfirmation: WireType.migration_confirmation,
    Kind.Commit: WireType.commit,
    Kind.Fanout: WireType.fanout,
    Kind.Refusal: WireType.refusal,
}
TYPE_KIND: dict[WireType, Kind] = {t: k for k, t in KIND_TYPE.items()}
#: Which types a client may send to a DS, and which a DS may send to a DS.
CLIENT_TYPES = frozenset({
    WireType.migration_request, WireType.migration_init_with_commit, WireType.commit,
    WireType.group_creation,
})
DS_TYPES = frozenset({
    WireType.migration_content, WireType.target_migration_complete,
    WireType.target_migration_rejected,
})


def _name(r: Reader, what: str) -> bytes:
    value = r.pull_opaque(what)
    if len(value) > MAX_NAME:
        raise DecodeError("invalid-value", f"{what}: {len(value)} bytes, at most {MAX_NAME}")
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("invalid-value", f"{what}: not UTF-8") from None
    return value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TransactionEnvelope(Struct):
    """One request or answer on the wire (the module docstring has the struct)."""

    NAME: ClassVar[str] = "TransactionEnvelope"
    version: int
    type: WireType
    sender: bytes
    recipient: bytes
    cipher_suite: int
    body: bytes
    auth_suite: int = 0
    signature: bytes = b""

    def push_unsigned(self, w: Writer) -> None:
        w.push_uint16(self.version)
        w.push_uint8(int(self.type))
        w.push_opaque(self.sender)
        w.push_opaque(self.recipient)
        w.push_uint16(self.cipher_suite)
        w.push_opaque(self.body)
        w.push_uint16(self.auth_suite)

    def push(self, w: Writer) -> None:
        self.push_unsigned(w)
        w.push_opaque(self.signature)

    def signed_content(self) -> bytes:
        w = Writer()
        self.push_unsigned(w)
        return bytes(w)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        version = r.pull_uint16("TransactionEnvelope.version")
        if version != VERSION:
            raise DecodeError("invalid-value", f"TransactionEnvelope.version {version}, "
                              f"this binding speaks {VERSION}")
        raw_type = r.pull_uint8("TransactionEnvelope.type")
        try:
            wire_type = WireType(raw_type)
        except ValueError:
            raise DecodeError("invalid-value", f"unknown WireType {raw_type}") from None
        return _build(
            cls, cls.NAME, version=version, type=wire_type,
            sender=_name(r, "TransactionEnvelope.sender"),
            recipient=_name(r, "TransactionEnvelope.recipient"),
            cipher_suite=r.pull_uint16("TransactionEnvelope.cipher_suite"),
            body=r.pull_opaque("TransactionEnvelope.body"),
            auth_suite=r.pull_uint16("TransactionEnvelope.auth_suite"),
            signature=r.pull_opaque("TransactionEnvelope.signature"),
        )

    # -- to and from the roles' envelopes ------------------------------------------------------

    @classmethod
    def of(cls, envelope: Envelope) -> TransactionEnvelope:
        """The unsigned wire form of a role's envelope."""
        return cls(version=VERSION, type=KIND_TYPE[envelope.kind],
                   sender=envelope.sender.encode(), recipient=envelope.recipient.encode(),
                   cipher_suite=envelope.cipher_suite, body=envelope.payload)

    def envelope(self) -> Envelope:
        """The role's envelope (a protocol type only: ValueError otherwise)."""
        kind = TYPE_KIND.get(self.type)
        if kind is None:
            raise ValueError(f"{self.type.name} is not a protocol message")
        return Envelope(sender=self.sender.decode(), recipient=self.recipient.decode(),
                        kind=kind, payload=self.body, cipher_suite=self.cipher_suite)

    def signed(self, key: SigningKey) -> TransactionEnvelope:
        unsigned = dataclasses.replace(self, auth_suite=int(key.suite), signature=b"")
        signature = crypto.sign_with_label(key, TRANSPORT_LABEL, unsigned.signed_content())
        return dataclasses.replace(unsigned, signature=signature)

    def verify(self, public_key: bytes) -> bool:
        """The transport signature under `public_key` (of suite `auth_suite`); never raises."""
        try:
            suite = CipherSuite.parse(self.auth_suite)
        except (ValueError, TypeError):
            return False
        return crypto.verify_with_label(suite, public_key, TRANSPORT_LABEL,
                                        self.signed_content(), self.signature)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueRequest(Struct):
    """`struct { uint64 after; uint64 timestamp_ms; uint16 max_entries; }`: fetch the
    entries after `after` (and drop those up to it: they are acknowledged); `timestamp_ms`
    (Unix time) bounds a replay of the signed request to the freshness window."""

    NAME: ClassVar[str] = "QueueRequest"
    after: int
    timestamp_ms: int
    max_entries: int

    def push(self, w: Writer) -> None:
        w.push_uint64(self.after)
        w.push_uint64(self.timestamp_ms)
        w.push_uint16(self.max_entries)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(cls, cls.NAME, after=r.pull_uint64("QueueRequest.after"),
                      timestamp_ms=r.pull_uint64("QueueRequest.timestamp_ms"),
                      max_entries=r.pull_uint16("QueueRequest.max_entries"))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueEntry(Struct):
    """`struct { uint64 id; TransactionEnvelope envelope; }`."""

    NAME: ClassVar[str] = "QueueEntry"
    id: int
    envelope: TransactionEnvelope

    def push(self, w: Writer) -> None:
        w.push_uint64(self.id)
        self.envelope.push(w)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(cls, cls.NAME, id=r.pull_uint64("QueueEntry.id"),
                      envelope=TransactionEnvelope.pull(r))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueBatch(Struct):
    """`struct { QueueEntry entries<V>; }`, in id order."""

    NAME: ClassVar[str] = "QueueBatch"
    entries: tuple[QueueEntry, ...]

    def push(self, w: Writer) -> None:
        w.push_vector(self.entries, lambda w2, e: e.push(w2))

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(cls, cls.NAME,
                      entries=tuple(r.pull_vector(QueueEntry.pull, "QueueBatch.entries")))


# -- refusals and their statuses -------------------------------------------------------------


class TransportError(Exception):
    """A refusal of the binding itself (not of a role): a code, a status, a one-line reason."""

    def __init__(self, code: str, status: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.status, self.reason = code, status, reason

    def refusal(self) -> Refusal:
        return Refusal(code=self.code.encode(), details=json.dumps({"reason": self.reason})
                       .encode())


#: The status of every refusal code: the roles' (impl/errors.py) and the binding's own.
STATUS: dict[str, int] = {
    "malformed": 400,
    "unexpected_message": 400,
    "unsupported_suite": 400,
    "unknown_peer": 403,
    "bad_signature": 403,
    "not_authorized": 403,
    "not_member": 403,
    "unknown_group": 404,
    "unknown_nonce": 404,
    "wrong_epoch": 409,
    "group_locked": 409,
    "group_exists": 409,
    "nonce_consumed": 409,
    "hash_mismatch": 409,
    "request_mismatch": 409,
    "foreign_nonce": 409,
    "no_pending_migration": 409,
    "wrong_recipient": 421,
    "group_moved": 421,
    # the binding's own
    "not_found": 404,
    "method_not_allowed": 405,
    "body_timeout": 408,
    "not_authenticated": 401,
    "too_large": 413,
    "unsupported_media_type": 415,
}
assert set(ERRORS) <= set(STATUS), sorted(set(ERRORS) - set(STATUS))


def status_of(error: ProtocolError) -> int:
    return STATUS[error.code]


def one_line(text: str, limit: int = 300) -> str:
    """A reason fit for a header: one line, printable ASCII, bounded."""
    flat = " ".join(text.split())
    flat = "".join(c if c.isprintable() and c.isascii() else ascii(c)[1:-1] for c in flat)
    return flat[:limit]


def refusal_envelope(refusal: Refusal, sender: str, recipient: str) -> bytes:
    """The body of a refusal answer: an unsigned TransactionEnvelope of type refusal."""
    return TransactionEnvelope(version=VERSION, type=WireType.refusal, sender=sender.encode(),
                               recipient=recipient.encode(), cipher_suite=0,
                               body=refusal.encode()).encode()


def decode_envelope(data: bytes, max_length: int) -> TransactionEnvelope:
    """Strictly decode a request body; Malformed (a role-level refusal) if it does not."""
    try:
        return TransactionEnvelope.decode(data, max_length=max_length)
    except DecodeError as err:
        raise Malformed(message_type="TransactionEnvelope", reason=err.reason,
                        detail=str(err)) from None


__all__ = [
    "CLIENT_PATH", "CLIENT_TYPES", "CONTENT_TYPE", "DS_PATH", "DS_TYPES", "QUEUE_PATH",
    "STATUS", "STATUS_PATH", "VERSION", "WELL_KNOWN_PATH", "QueueBatch", "QueueEntry",
    "QueueRequest", "TransactionEnvelope", "TransportError", "WireType", "decode_envelope",
    "one_line", "refusal_envelope", "status_of",
]
