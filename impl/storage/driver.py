"""The durable driver: one received message, one transaction; the outbox; crash points.

This module owns running a Sans-IO role (impl/ds.py DeliveryService, impl/client.py Client)
on a store (impl/storage/store.py) so that a crash at any moment loses nothing the role
has answered for.  The roles do not change: they neither know nor care that they are
persisted.  A `Durable` driver is a network node; for every message it

1. hands the envelope to the role (`receive`).  A refusal (ProtocolError) changes nothing
   and writes nothing, unless the same envelope was accepted before: then the recorded
   answer is sent again (see "Idempotency");
2. computes the rows that changed (records.py encodes every record and compares with what
   was last committed; events are appended) and commits, in ONE transaction: the changed
   state rows, one outbox row per envelope to send and the idempotency record
   (request hash -> answer).  Nothing was sent yet;
3. sends the envelopes through its transport, then marks their outbox rows sent (a second,
   small transaction that deletes them).

A crash before 3 ends with the state as if the message never arrived (the sender retries);
between the commit and the mark, the re-opened driver resends its outbox (`resume`), so a
peer may see a message twice, which every receiver of this protocol absorbs.  No message
is ever sent whose cause is not committed: the ordering phnx-im/air gets wrong (issue 13).

Idempotency.  The idempotency key is SHA-256 over the stored encoding of the whole envelope
(sender, recipient, kind, payload, ciphersuite).  A repeated envelope is first handed to
the role like any other: one the role can answer afresh is answered afresh (a retried
MigrationRequest whose nonce has since expired gets a new nonce).  Only when the role
refuses it, because of what it did on the first copy (`group_exists` for a retried
MigrationRequest whose nonce is pending, `group_locked` for a retried MigrationInit, ...),
does the recorded answer stand in: the same request bytes get the same answer, across
restarts, and a client whose request was handled just before a crash is not told its own
request conflicts with itself.  Refusals are never recorded (bad input writes nothing).
Records are kept for `answer_lifetime` seconds (ANSWER_LIFETIME, a day, by default; None:
for ever): a transaction that writes one also forgets those older than that, at most once
per tenth of the lifetime, so the table holds about a lifetime of answers and no more.  A
retry later than that is answered by the role as it stands then (by then a sender's
retries have long given up: docs/profile.md, durability).

Crash points (`CrashPoint`), where `crash_hook(point, name)` is called, so a test can
raise `Crash` there:  BEFORE_COMMIT (rows written, not committed), AFTER_COMMIT (nothing
sent), MID_SEND (after the first of two or more envelopes), AFTER_SEND (all sent, outbox
rows not yet marked), AFTER_MARK (done).  Points are passed only where they mean
something: no send points for a message with nothing to send, and no point at all for an
accepted message that changed nothing and sends nothing (no transaction is written).

Keys and configuration.  Signing keys, trust store, policies, times and the random source
are configuration: the caller builds the role with them and the driver restores the stored
state into it (`open`).  The store holds no secret; it holds the fingerprint of the
public keys it was created with, and refuses a role with other keys (WrongOwner).

Seams for negative controls (tests/storage_planted.py monkeypatches them):
`Durable._transactions` (which writes go into which transaction) and
`Durable._commit_then_send` (the order of commit and send).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Generic, Self, TypeVar

from ..client import Client
from ..codec import DecodeError
from ..ds import DeliveryService
from ..envelope import Envelope
from ..errors import ProtocolError, RoleError
from ..events import RoleEvent
from . import records
from .errors import TamperedRecord, WrongOwner
from .records import Tables
from .sqlite import SQLiteStore
from .store import (
    Contents,
    Delete,
    Enqueue,
    Forget,
    MarkSent,
    MemoryStore,
    Meta,
    Put,
    Remember,
    Store,
    Write,
    key_fingerprint,
)

R = TypeVar("R", DeliveryService, Client)
ANSWER_LIFETIME = 86_400.0
"""Seconds an idempotency record is kept by default (see "Idempotency")."""
Transport = Callable[[list[Envelope]], None]


class CrashPoint(enum.StrEnum):
    """Where a driver can be crashed, in the order a message passes them."""

    BEFORE_COMMIT = "before_commit"
    AFTER_COMMIT = "after_commit"
    MID_SEND = "mid_send"
    AFTER_SEND = "after_send"
    AFTER_MARK = "after_mark"


class Crash(BaseException):
    """Raised by a test's crash hook: the process dies here.  A BaseException, like
    SystemExit, so that nothing on its way out handles it."""


def meta_of(role: DeliveryService | Client) -> Meta:
    if isinstance(role, DeliveryService):
        keys = {int(s): k.public_bytes() for s, k in role.keys.items()}
        return Meta("ds", role.domain, key_fingerprint(keys))
    return Meta("client", role.identity, key_fingerprint({0: role.key.public_bytes()}))


def _tables(role: DeliveryService | Client) -> Tables:
    return records.ds_tables(role) if isinstance(role, DeliveryService) else (
        records.client_tables(role))


def _restore(role: DeliveryService | Client, contents: Contents, path: str) -> None:
    """Decode every row into `role` (freshly built, configuration only); TamperedRecord if
    a row does not decode or the store is another party's."""
    expected = meta_of(role)
    if contents.meta != expected:
        raise WrongOwner(path, f"the store belongs to {contents.meta.kind} "
                         f"{contents.meta.name!r}, not {expected.kind} {expected.name!r}"
                         + (" (other keys)" if contents.meta.name == expected.name else ""))
    allowed = set(records.DS_TABLES if isinstance(role, DeliveryService)
                  else records.CLIENT_TABLES) | {records.EVENT_TABLE}
    for table in contents.tables:
        if table not in allowed:
            raise TamperedRecord(path, table, b"", f"no such table for a {expected.kind}")
    for table, rows in contents.tables.items():
        for key, value in rows.items():
            try:
                records.DECODERS[table](value)
            except DecodeError as err:
                raise TamperedRecord(path, table, key, f"does not decode: {err}") from None
    for row in contents.outbox:
        try:
            records.decode_envelope(row.envelope)
        except DecodeError as err:
            raise TamperedRecord(path, "outbox", row.id.to_bytes(8, "big"),
                                 f"does not decode: {err}") from None
    try:  # each row decodes; what is left to fail is how the rows fit together
        events = records.decode_events(contents.tables.get(records.EVENT_TABLE, {}))
        if isinstance(role, DeliveryService):
            records.restore_ds(role, contents.tables, events)
        else:
            records.restore_client(role, contents.tables, events)
    except DecodeError as err:
        raise TamperedRecord(path, expected.kind, b"", f"inconsistent rows: {err}") from None


class Durable(Generic[R]):
    """A role on a store; a network node (`name`, `receive`; `tick` for a DS)."""

    def __init__(self, role: R, store: Store, send: Transport) -> None:
        self.role: R = role
        self.store = store
        self.send = send
        self.crash_hook: Callable[[CrashPoint, str], None] | None = None
        self.answer_lifetime: float | None = ANSWER_LIFETIME
        self._forgot_at = float("-inf")
        self._committed: Tables = _tables(role)
        self._events = len(role.events)
        self._unsent = [(row.id, records.decode_envelope(row.envelope))
                        for row in store.read().outbox]

    # -- creating and opening ------------------------------------------------------------------

    @classmethod
    def create(cls, role: R, store: Store, send: Transport) -> Self:
        """Adopt a role (with whatever set-up state it has: created groups, joined groups)
        into a new, empty store, in one first transaction."""
        contents = store.read()
        if contents.tables or contents.outbox:
            raise WrongOwner(store.path, "create needs an empty store")
        if contents.meta != meta_of(role):
            raise WrongOwner(store.path, "the store was made for another party")
        driver = cls(role, store, send)
        driver._committed = {}
        driver._events = 0
        driver._persist([], None, 0.0)
        return driver

    @classmethod
    def open(cls, role: R, store: Store, send: Transport) -> Self:
        """Restore a store's state into `role`, freshly built from configuration."""
        _restore(role, store.read(), store.path)
        return cls(role, store, send)

    @classmethod
    def open_sqlite(cls, role: R, path: str, send: Transport) -> Self:
        """Open the SQLite file at `path`: every check of impl/storage/sqlite.py, then every
        row decoded into `role`, before anything is written."""
        store = SQLiteStore.open(path, check=lambda c: _restore(role, c, path))
        return cls(role, store, send)

    @classmethod
    def create_sqlite(cls, role: R, path: str, send: Transport) -> Self:
        return cls.create(role, SQLiteStore.create(path, meta_of(role)), send)

    @classmethod
    def create_memory(cls, role: R, send: Transport) -> Self:
        return cls.create(role, MemoryStore(meta_of(role)), send)

    # -- the node ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.role.name

    def receive(self, envelope: Envelope, now: float) -> list[Envelope]:
        """Handle one envelope; everything to send goes through the transport (the return
        value is always empty, so a network that also sends what nodes return sends
        nothing twice)."""
        key = records.request_hash(envelope)
        try:
            out = self.role.receive(envelope, now)
        except ProtocolError:
            answer = self.store.answer(key)
            if answer is None:
                raise
            self.send(records.decode_answer(answer))
            return []
        except Exception:
            self._reload()
            raise
        self._persist_or_reload(out, key, now)
        return []

    def call(self, action: Callable[[R], Sequence[Envelope] | Envelope | None],
             now: float = 0.0) -> None:
        """An application call on the role (`lambda c: c.start_migration(gid, target)`),
        persisted and sent like a received message (no idempotency record: the application
        is not a peer that retries bytes)."""
        try:
            result = action(self.role)
        except RoleError:
            raise  # a LocalProtocolError: the role changed nothing
        except Exception:
            self._reload()
            raise
        out = [] if result is None else [result] if isinstance(result, Envelope) else list(result)
        self._persist_or_reload(out, None, now)

    def resume(self) -> int:
        """Send what the outbox still holds (after `open`), then mark it; the count sent."""
        pending, self._unsent = self._unsent, []
        if pending:
            self.send([e for _, e in pending])
            self.store.commit([MarkSent(tuple(i for i, _ in pending))])
        return len(pending)

    def close(self) -> None:
        self.store.close()

    # -- one transaction per message -----------------------------------------------------------

    def _point(self, point: CrashPoint) -> None:
        if self.crash_hook is not None:
            self.crash_hook(point, self.name)

    def _persist_or_reload(self, out: list[Envelope], request: bytes | None, now: float) -> None:
        """`_persist`; if the store fails (StoreBusy, a full disk), the role is put back to
        what is committed, so memory never runs ahead of the store.  A Crash is not an
        Exception and passes untouched: the process is gone."""
        try:
            self._persist(out, request, now)
        except Exception:
            self._reload()
            raise

    def _persist(self, out: list[Envelope], request: bytes | None, now: float) -> None:
        after = _tables(self.role)
        state: list[Write] = []
        for table in sorted(set(after) | set(self._committed)):
            old, new = self._committed.get(table, {}), after.get(table, {})
            state += [Put(table, k, v) for k, v in new.items() if old.get(k) != v]
            state += [Delete(table, k) for k in old if k not in new]
        events: list[RoleEvent] = list(self.role.events[self._events:])
        state += [Put(records.EVENT_TABLE, records.event_key(self._events + i),
                      records.encode_event(e)) for i, e in enumerate(events)]
        if not state and not out:
            return  # accepted, changed nothing, sends nothing: nothing to make durable
        outbox: list[Write] = [Enqueue(records.encode_envelope(e)) for e in out]
        answer: list[Write] = []
        forgetting = False
        life = self.answer_lifetime
        if request is not None:
            answer = [Remember(request, records.encode_answer(out), now)]
            if life is not None and now - self._forgot_at >= life / 10:
                answer.append(Forget(now - life))
                forgetting = True
        plan = self._transactions(state, outbox, answer)
        self._commit_then_send(plan, out)
        self._committed = after
        self._events += len(events)
        if forgetting:
            self._forgot_at = now

    def _transactions(
        self, state: list[Write], outbox: list[Write], answer: list[Write]
    ) -> list[list[Write]]:
        """Which writes go into which transaction, in order: all of them into one."""
        return [state + outbox + answer]

    def _commit_then_send(self, plan: list[list[Write]], out: list[Envelope]) -> None:
        ids: list[int] = []
        for i, writes in enumerate(plan):
            last = i == len(plan) - 1
            ids += self.store.commit(
                writes, (lambda: self._point(CrashPoint.BEFORE_COMMIT)) if last else None
            )
        self._point(CrashPoint.AFTER_COMMIT)
        self._send(out)
        if ids:
            self.store.commit([MarkSent(tuple(ids))])
        self._point(CrashPoint.AFTER_MARK)

    def _send(self, out: list[Envelope]) -> None:
        for i, envelope in enumerate(out):
            self.send([envelope])
            if i == 0 and len(out) > 1:
                self._point(CrashPoint.MID_SEND)
        if out:
            self._point(CrashPoint.AFTER_SEND)

    def _reload(self) -> None:
        """After an unexpected exception inside the role (a bug), put the role back to what
        is committed, so memory and store never disagree."""
        contents = self.store.read()
        _restore(self.role, contents, self.store.path)
        self._committed = _tables(self.role)
        self._events = len(self.role.events)


class DurableDS(Durable[DeliveryService]):
    """A DeliveryService on a store; `tick` is a transaction like a message."""

    def tick(self, now: float) -> list[Envelope]:
        try:
            out = self.role.tick(now)
        except Exception:
            self._reload()
            raise
        self._persist_or_reload(out, None, now)
        return []


class DurableClient(Durable[Client]):
    """A Client on a store: its memberships and pending migration survive a restart."""


__all__ = ["Crash", "CrashPoint", "Durable", "DurableClient", "DurableDS", "Transport", "meta_of"]
