"""The one small interface of durable storage, and its in-memory implementation.

This module owns what a store is: the rows it holds and the one way to change them, an
atomic transaction (`commit`), so that a driver (impl/storage/driver.py) writes a role's
state change, the messages it must send and its idempotency record all or nothing.

A store holds:

- `meta`: who the store belongs to (`Meta`: role kind, name, fingerprint of public keys),
  written once when the store is created;
- record tables: `table -> key -> value`, the encoded rows of impl/storage/records.py;
- the outbox: encoded envelopes still to send, in order, each with an id;
- answers: idempotency records, `request hash -> (encoded answer, time)`, kept until a
  `Forget` older than them (the driver's retention, impl/storage/driver.py).

`commit(writes, before_commit)` applies a list of `Put`, `Delete`, `Enqueue`, `Remember`,
`Forget` and `MarkSent` as one transaction; `before_commit` runs after every write and
before the commit (the driver's crash point), and if it raises nothing of the transaction
survives.
`abandon()` is what a crash does to the process: whatever was not committed is gone and the
store object is not used again.

`MemoryStore` keeps committed rows in Python dicts: the "disk" of the tests and the demo.
A driver re-opened on the same MemoryStore object after a simulated crash finds exactly
what was committed, as it would on a file; `SQLiteStore` (impl/storage/sqlite.py) is the
same interface on a file.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol

from .records import Tables


@dataclasses.dataclass(frozen=True, slots=True)
class Meta:
    """Who a store belongs to: `kind` "ds" or "client", its domain or identity, and the
    SHA-256 fingerprint of its public keys (so a store opened with another party's keys, or
    with keys rotated without a migration, is refused: WrongOwner)."""

    kind: str
    name: str
    keys: bytes


def key_fingerprint(public_keys: dict[int, bytes]) -> bytes:
    """SHA-256 over `(uint16 suite, opaque public_key<V>)` for each suite in order."""
    h = hashlib.sha256(b"mimi-portability storage keys\x00")
    for suite in sorted(public_keys):
        key = public_keys[suite]
        h.update(suite.to_bytes(2, "big") + len(key).to_bytes(4, "big") + key)
    return h.digest()


@dataclasses.dataclass(frozen=True, slots=True)
class Put:
    table: str
    key: bytes
    value: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Delete:
    table: str
    key: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Enqueue:
    """An encoded envelope to send; the store assigns it the next outbox id."""

    envelope: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Remember:
    """An idempotency record: the answer (encoded envelopes) to the request `request`."""

    request: bytes
    answer: bytes
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class Forget:
    """The idempotency records written before time `before` leave the store."""

    before: float


@dataclasses.dataclass(frozen=True, slots=True)
class MarkSent:
    """The outbox rows `ids` were sent: they leave the outbox."""

    ids: tuple[int, ...]


Write = Put | Delete | Enqueue | Remember | Forget | MarkSent


@dataclasses.dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    envelope: bytes


@dataclasses.dataclass
class Contents:
    """What a store holds, as read when a driver opens it (answers are looked up by key)."""

    meta: Meta
    tables: Tables
    outbox: list[OutboxRow]


@dataclasses.dataclass
class StoreStats:
    """What a store has done since it was opened: committed transactions and rows written."""

    transactions: int = 0
    rows_written: int = 0


class Store(Protocol):
    """The interface a driver uses (MemoryStore, SQLiteStore)."""

    path: str
    stats: StoreStats

    def read(self) -> Contents: ...

    def answer(self, request: bytes) -> bytes | None: ...

    def commit(
        self, writes: Sequence[Write], before_commit: Callable[[], None] | None = None
    ) -> list[int]: ...

    def integrity(self) -> str: ...

    def close(self) -> None: ...

    def abandon(self) -> None: ...


class MemoryStore:
    """A store in Python dicts.  It survives a driver's simulated crash because the test
    keeps the object: it plays the part of the disk."""

    path = ""

    def __init__(self, meta: Meta) -> None:
        self.meta = meta
        self._tables: Tables = {}
        self._outbox: dict[int, bytes] = {}
        self._answers: dict[bytes, tuple[bytes, float]] = {}
        self._next_id = 1
        self.stats = StoreStats()

    def read(self) -> Contents:
        return Contents(
            self.meta,
            {t: dict(rows) for t, rows in self._tables.items()},
            [OutboxRow(i, e) for i, e in sorted(self._outbox.items())],
        )

    def answer(self, request: bytes) -> bytes | None:
        found = self._answers.get(request)
        return None if found is None else found[0]

    def commit(
        self, writes: Sequence[Write], before_commit: Callable[[], None] | None = None
    ) -> list[int]:
        tables = {t: dict(rows) for t, rows in self._tables.items()}
        outbox, answers, next_id, ids = dict(self._outbox), dict(self._answers), self._next_id, []
        for write in writes:
            match write:
                case Put(table, key, value):
                    tables.setdefault(table, {})[key] = value
                case Delete(table, key):
                    tables.get(table, {}).pop(key, None)
                case Enqueue(envelope):
                    outbox[next_id] = envelope
                    ids.append(next_id)
                    next_id += 1
                case Remember(request, answer, at):
                    answers[request] = (answer, at)
                case Forget(before):
                    answers = {k: v for k, v in answers.items() if v[1] >= before}
                case MarkSent(sent):
                    for i in sent:
                        outbox.pop(i, None)
        if before_commit is not None:
            before_commit()
        self._tables, self._outbox, self._answers, self._next_id = tables, outbox, answers, next_id
        self.stats.transactions += 1
        self.stats.rows_written += len(writes)
        return ids

    def integrity(self) -> str:
        return "ok"

    def close(self) -> None:
        pass

    def abandon(self) -> None:
        pass  # nothing uncommitted outlives `commit`: its staged copies were local


__all__ = [
    "Contents",
    "Delete",
    "Enqueue",
    "MarkSent",
    "MemoryStore",
    "Meta",
    "OutboxRow",
    "Put",
    "Remember",
    "Store",
    "StoreStats",
    "Write",
    "key_fingerprint",
]
