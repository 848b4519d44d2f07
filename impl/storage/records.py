"""The versioned encoding of a role's durable state: what a store holds, byte for byte.

This module owns turning a role's fields into rows and rows back into a role, explicitly,
field by field, in the TLS presentation language of RFC 9420 §2.1 (impl/codec.py, as
strict as every message decoder: a short, long or otherwise malformed row is a
DecodeError).  Nothing is pickled: a row holds only bytes this module wrote, so a store
read back can never run code or build an object of a type not listed here.

Every row value starts with `uint8 version` (RECORD_VERSION, today 1); a decoder refuses
any other.  A row's key is repeated inside its value where the value names it (a group's
id, a nonce), and the two must agree.  The tables:

    DS      group      key group_id   struct { uint8 version; opaque state<V>;
                                               optional<Lock> lock; optional<opaque source<V>>; }
            Lock:      struct { opaque nonce<V>; opaque target<V>; opaque client<V>;
                                opaque content<V>; opaque content_hash<V>; opaque commit<V>;
                                float64 sent_at; }
            nonce      key nonce      struct { uint8 version; MigrationRequest request;
                                               uint16 cipher_suite; opaque client<V>;
                                               float64 issued_at; uint8 status;
                                               optional<opaque content_hash<V>>; }
            tombstone  key group_id   struct { uint8 version; opaque target<V>;
                                               opaque commit<V>; opaque content_hash<V>; }
    Client  membership key group_id   struct { uint8 version; opaque state<V>; opaque ds<V>;
                                               uint32 leaf_index; optional<Pending> pending;
                                               optional<opaque completed_nonce<V>>; }
            Pending:   struct { MigrationRequest request; optional<opaque nonce<V>>; }
    both    event      key uint64     struct { uint8 version; uint8 tag; fields... }

`state` is the GroupState encoding of impl/group_state.py; float64 is the IEEE 754 binary64
of a role's `now` (big-endian); status is 0 pending, 1 consumed, 2 expired, 3 rejected.
Envelopes (the outbox, the idempotency answers) are `StoredEnvelope { opaque sender<V>;
opaque recipient<V>; opaque kind<V>; opaque payload<V>; uint16 cipher_suite; }`.

What is *not* here, because it is configuration the driver is given on open: signing
keys, the trust store, the random source, policies, nonce lifetime, retry interval.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from typing import TypeVar

from ..client import Client, Membership, PendingMigration
from ..codec import DecodeError, Reader, Writer
from ..ds import DeliveryService, Hosted, Lock, NonceRecord, NonceStatus, Tombstone
from ..envelope import Envelope, Kind
from ..events import (
    Abandoned,
    Aborted,
    Acknowledged,
    Exported,
    Fanout,
    Imported,
    RoleEvent,
    Sequenced,
    Switched,
    Unlocked,
)
from ..group_state import GroupState
from ..messages import MigrationRequest

RECORD_VERSION = 1
#: Rows per table: key -> encoded value.
Tables = dict[str, dict[bytes, bytes]]
T = TypeVar("T")

DS_TABLES = ("group", "nonce", "tombstone")
CLIENT_TABLES = ("membership",)
EVENT_TABLE = "event"

_STATUS = (NonceStatus.PENDING, NonceStatus.CONSUMED, NonceStatus.EXPIRED, NonceStatus.REJECTED)
_REQUEST_LABEL = b"mimi-portability storage request\x00"


# -- primitives ------------------------------------------------------------------------------


def _push_float(w: Writer, value: float) -> None:
    w.push_fixed(struct.pack(">d", value), 8)


def _pull_float(r: Reader, what: str) -> float:
    (value,) = struct.unpack(">d", r.pull_fixed(8, what))
    return float(value)


def _push_str(w: Writer, value: str) -> None:
    w.push_opaque(value.encode("utf-8"))


def _pull_str(r: Reader, what: str) -> str:
    raw = r.pull_opaque(what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("invalid-value", f"{what}: not UTF-8") from None


def _pull_opaque_of(what: str) -> Callable[[Reader], bytes]:
    return lambda r: r.pull_opaque(what)


def _encode(push: Callable[[Writer], None]) -> bytes:
    w = Writer()
    w.push_uint8(RECORD_VERSION)
    push(w)
    return bytes(w)


def _decode(data: bytes, what: str, pull: Callable[[Reader], T]) -> T:
    r = Reader(data)
    version = r.pull_uint8(f"{what}.version")
    if version != RECORD_VERSION:
        raise DecodeError("invalid-value", f"{what}: record version {version}, expected 1")
    value = pull(r)
    r.finish(what)
    return value


def _state(raw: bytes) -> GroupState:
    return GroupState.decode(raw)


def _check_key(key: bytes, named: bytes, what: str) -> None:
    if key != named:
        raise DecodeError("invalid-value", f"{what}: row key does not match the record")


# -- envelopes -------------------------------------------------------------------------------


def encode_envelope(envelope: Envelope) -> bytes:
    w = Writer()
    _push_str(w, envelope.sender)
    _push_str(w, envelope.recipient)
    _push_str(w, str(envelope.kind))
    w.push_opaque(envelope.payload)
    w.push_uint16(envelope.cipher_suite)
    return bytes(w)


def _pull_envelope(r: Reader) -> Envelope:
    sender = _pull_str(r, "StoredEnvelope.sender")
    recipient = _pull_str(r, "StoredEnvelope.recipient")
    kind = _pull_str(r, "StoredEnvelope.kind")
    payload = r.pull_opaque("StoredEnvelope.payload")
    suite = r.pull_uint16("StoredEnvelope.cipher_suite")
    if kind not in Kind.__members__:
        raise DecodeError("invalid-value", f"StoredEnvelope.kind: unknown kind {kind!r}")
    return Envelope(
        sender=sender, recipient=recipient, kind=Kind(kind), payload=payload, cipher_suite=suite
    )


def decode_envelope(data: bytes) -> Envelope:
    r = Reader(data)
    envelope = _pull_envelope(r)
    r.finish("StoredEnvelope")
    return envelope


def encode_answer(envelopes: Iterable[Envelope]) -> bytes:
    """An idempotency record's answer: `StoredEnvelope answer<V>` with a version."""
    items = list(envelopes)
    return _encode(lambda w: w.push_vector(items, lambda w2, e: w2.push_encoded(
        encode_envelope(e))))


def decode_answer(data: bytes) -> list[Envelope]:
    return _decode(data, "Answer", lambda r: r.pull_vector(_pull_envelope, "Answer.envelopes"))


def request_hash(envelope: Envelope) -> bytes:
    """The idempotency key: SHA-256 over a label and the envelope's stored encoding."""
    return hashlib.sha256(_REQUEST_LABEL + encode_envelope(envelope)).digest()


# -- events ----------------------------------------------------------------------------------


_HANDOVER_TAGS = (Exported, Imported, Acknowledged)
"""The events of one shape (group_id, nonce, content_hash), tags 2, 3 and 4 in this order."""


def encode_event(event: RoleEvent) -> bytes:
    def push(w: Writer) -> None:
        match event:
            case Sequenced(group_id, epoch, commit):
                w.push_uint8(1)
                w.push_opaque(group_id)
                w.push_uint64(epoch)
                w.push_opaque(commit)
            case (Exported(group_id, nonce, content_hash)
                  | Imported(group_id, nonce, content_hash)
                  | Acknowledged(group_id, nonce, content_hash)):
                w.push_uint8(_HANDOVER_TAGS.index(type(event)) + 2)
                w.push_opaque(group_id)
                w.push_opaque(nonce)
                w.push_opaque(content_hash)
            case Fanout(group_id, epoch, target):
                w.push_uint8(5)
                w.push_opaque(group_id)
                w.push_uint64(epoch)
                _push_str(w, target)
            case Unlocked(group_id, nonce, reason):
                w.push_uint8(6)
                w.push_opaque(group_id)
                w.push_opaque(nonce)
                w.push_uint16(reason)
            case Switched(group_id, target, epoch, how):
                w.push_uint8(7)
                w.push_opaque(group_id)
                _push_str(w, target)
                w.push_uint64(epoch)
                _push_str(w, how)
            case Abandoned(group_id, reason):
                w.push_uint8(8)
                w.push_opaque(group_id)
                _push_str(w, reason)
            case Aborted(group_id, target, reason):
                w.push_uint8(9)
                w.push_opaque(group_id)
                _push_str(w, target)
                w.push_uint16(reason)

    return _encode(push)


def _pull_event(r: Reader) -> RoleEvent:
    tag = r.pull_uint8("Event.tag")
    gid = r.pull_opaque("Event.group_id")
    if tag == 1:
        return Sequenced(gid, r.pull_uint64("Sequenced.epoch"), r.pull_opaque("Sequenced.commit"))
    if tag in (2, 3, 4):
        cls = _HANDOVER_TAGS[tag - 2]
        return cls(gid, r.pull_opaque("Event.nonce"), r.pull_opaque("Event.content_hash"))
    if tag == 5:
        return Fanout(gid, r.pull_uint64("Fanout.epoch"), _pull_str(r, "Fanout.target"))
    if tag == 6:
        return Unlocked(gid, r.pull_opaque("Unlocked.nonce"), r.pull_uint16("Unlocked.reason"))
    if tag == 7:
        return Switched(
            gid,
            _pull_str(r, "Switched.target"),
            r.pull_uint64("Switched.epoch"),
            _pull_str(r, "Switched.how"),
        )
    if tag == 8:
        return Abandoned(gid, _pull_str(r, "Abandoned.reason"))
    if tag == 9:
        return Aborted(gid, _pull_str(r, "Aborted.target"), r.pull_uint16("Aborted.reason"))
    raise DecodeError("invalid-value", f"Event.tag: unknown tag {tag}")


def decode_event(data: bytes) -> RoleEvent:
    return _decode(data, "Event", _pull_event)


def event_key(index: int) -> bytes:
    return index.to_bytes(8, "big")


def decode_events(rows: dict[bytes, bytes]) -> list[RoleEvent]:
    """The event log from its rows, which must be numbered 0, 1, 2, ... with no gap."""
    events = []
    for i, key in enumerate(sorted(rows)):
        if key != event_key(i):
            raise DecodeError("invalid-value", f"event log: row {key.hex()} where {i} belongs")
        events.append(decode_event(rows[key]))
    return events


# -- the delivery service --------------------------------------------------------------------


def _push_lock(w: Writer, lock: Lock) -> None:
    for field in (lock.nonce, lock.target.encode(), lock.client.encode(), lock.content,
                  lock.content_hash, lock.commit):
        w.push_opaque(field)
    _push_float(w, lock.sent_at)


def _pull_lock(r: Reader) -> Lock:
    return Lock(
        nonce=r.pull_opaque("Lock.nonce"),
        target=_pull_str(r, "Lock.target"),
        client=_pull_str(r, "Lock.client"),
        content=r.pull_opaque("Lock.content"),
        content_hash=r.pull_opaque("Lock.content_hash"),
        commit=r.pull_opaque("Lock.commit"),
        sent_at=_pull_float(r, "Lock.sent_at"),
    )


def encode_hosted(hosted: Hosted) -> bytes:
    def push(w: Writer) -> None:
        w.push_opaque(hosted.state.encode())
        w.push_optional(hosted.lock, _push_lock)
        w.push_optional(hosted.source, _push_str)

    return _encode(push)


def decode_hosted(data: bytes) -> Hosted:
    def pull(r: Reader) -> Hosted:
        state = _state(r.pull_opaque("Hosted.state"))
        lock = r.pull_optional(_pull_lock, "Hosted.lock")
        source = r.pull_optional(lambda r2: _pull_str(r2, "Hosted.source"), "Hosted.source")
        return Hosted(state=state, lock=lock, source=source)

    return _decode(data, "Hosted", pull)


def encode_nonce(record: NonceRecord) -> bytes:
    def push(w: Writer) -> None:
        record.request.push(w)
        w.push_uint16(record.cipher_suite)
        _push_str(w, record.client)
        _push_float(w, record.issued_at)
        w.push_uint8(_STATUS.index(record.status))
        w.push_optional(record.content_hash, Writer.push_opaque)

    return _encode(push)


def decode_nonce(data: bytes) -> NonceRecord:
    def pull(r: Reader) -> NonceRecord:
        request = MigrationRequest.pull(r)
        suite = r.pull_uint16("NonceRecord.cipher_suite")
        client = _pull_str(r, "NonceRecord.client")
        issued_at = _pull_float(r, "NonceRecord.issued_at")
        status = r.pull_uint8("NonceRecord.status")
        if status >= len(_STATUS):
            raise DecodeError("invalid-value", f"NonceRecord.status: unknown status {status}")
        content_hash = r.pull_optional(_pull_opaque_of("NonceRecord.content_hash"))
        return NonceRecord(request, suite, client, issued_at, _STATUS[status], content_hash)

    return _decode(data, "NonceRecord", pull)


def encode_tombstone(tomb: Tombstone) -> bytes:
    def push(w: Writer) -> None:
        _push_str(w, tomb.target)
        w.push_opaque(tomb.commit)
        w.push_opaque(tomb.content_hash)

    return _encode(push)


def decode_tombstone(data: bytes) -> Tombstone:
    def pull(r: Reader) -> Tombstone:
        return Tombstone(
            _pull_str(r, "Tombstone.target"),
            r.pull_opaque("Tombstone.commit"),
            r.pull_opaque("Tombstone.content_hash"),
        )

    return _decode(data, "Tombstone", pull)


def ds_tables(ds: DeliveryService) -> Tables:
    """Every durable record of `ds` except its event log, as rows."""
    return {
        "group": {gid: encode_hosted(h) for gid, h in ds.groups.items()},
        "nonce": {n: encode_nonce(rec) for n, rec in ds.nonces.items()},
        "tombstone": {gid: encode_tombstone(t) for gid, t in ds.tombstones.items()},
    }


def restore_ds(ds: DeliveryService, tables: Tables, events: list[RoleEvent]) -> None:
    """Put the rows' state into a freshly constructed `ds` (its configuration given)."""
    groups = {}
    for gid, raw in tables.get("group", {}).items():
        hosted = decode_hosted(raw)
        _check_key(gid, hosted.state.group_id, "Hosted")
        groups[gid] = hosted
    nonces = {n: decode_nonce(raw) for n, raw in tables.get("nonce", {}).items()}
    tombstones = {g: decode_tombstone(raw) for g, raw in tables.get("tombstone", {}).items()}
    ds.groups, ds.nonces, ds.tombstones = groups, nonces, tombstones
    ds.events = [e for e in events if isinstance(e, _DS_EVENTS)]
    if len(ds.events) != len(events):
        raise DecodeError("invalid-value", "event log: a client's event in a DS's log")


_DS_EVENTS = (Sequenced, Exported, Imported, Acknowledged, Fanout, Unlocked)
_CLIENT_EVENTS = (Switched, Abandoned, Aborted)


# -- the client ------------------------------------------------------------------------------


def _push_pending(w: Writer, pending: PendingMigration) -> None:
    pending.request.push(w)
    w.push_optional(pending.nonce, Writer.push_opaque)


def _pull_pending(r: Reader) -> PendingMigration:
    request = MigrationRequest.pull(r)
    return PendingMigration(request, r.pull_optional(_pull_opaque_of("Pending.nonce")))


def encode_membership(membership: Membership) -> bytes:
    def push(w: Writer) -> None:
        w.push_opaque(membership.state.encode())
        _push_str(w, membership.ds)
        w.push_uint32(membership.leaf_index)
        w.push_optional(membership.pending, _push_pending)
        w.push_optional(membership.completed_nonce, Writer.push_opaque)

    return _encode(push)


def decode_membership(data: bytes) -> Membership:
    def pull(r: Reader) -> Membership:
        state = _state(r.pull_opaque("Membership.state"))
        ds = _pull_str(r, "Membership.ds")
        leaf = r.pull_uint32("Membership.leaf_index")
        pending = r.pull_optional(_pull_pending, "Membership.pending")
        completed = r.pull_optional(_pull_opaque_of("Membership.completed_nonce"))
        return Membership(state, ds, leaf, pending, completed)

    return _decode(data, "Membership", pull)


def client_tables(client: Client) -> Tables:
    return {"membership": {g: encode_membership(m) for g, m in client.groups.items()}}


def restore_client(client: Client, tables: Tables, events: list[RoleEvent]) -> None:
    groups = {}
    for gid, raw in tables.get("membership", {}).items():
        membership = decode_membership(raw)
        _check_key(gid, membership.state.group_id, "Membership")
        groups[gid] = membership
    client.groups = groups
    client.events = [e for e in events if isinstance(e, _CLIENT_EVENTS)]
    if len(client.events) != len(events):
        raise DecodeError("invalid-value", "event log: a DS's event in a client's log")


#: The decoder of each table's rows (the driver decodes every row on open, naming the bad one).
DECODERS: dict[str, Callable[[bytes], object]] = {
    "group": decode_hosted,
    "nonce": decode_nonce,
    "tombstone": decode_tombstone,
    "membership": decode_membership,
    EVENT_TABLE: decode_event,
}

__all__ = [
    "CLIENT_TABLES",
    "DECODERS",
    "DS_TABLES",
    "EVENT_TABLE",
    "RECORD_VERSION",
    "Tables",
    "client_tables",
    "decode_answer",
    "decode_envelope",
    "decode_event",
    "decode_events",
    "ds_tables",
    "encode_answer",
    "encode_envelope",
    "encode_event",
    "event_key",
    "request_hash",
    "restore_client",
    "restore_ds",
]
