"""Durable hand-off between a driver's outbox and the network: the relay and the queues.

This module owns one SQLite file per party beside its state file (`<state>.relay.sqlite`):

- `relay`: signed TransactionEnvelopes still to be POSTed (by a DS to a peer DS, by a
  client to a DS), each with its destination domain and path.  A row is deleted only once
  the destination gave a definitive answer (2xx, or a 4xx refusal); until then the same
  bytes are POSTed again (docs/wire.md, "Retries").
- `queue`: the members' queues at a DS: every envelope a DS sends to a client (fan-outs,
  MigrationResponse, MigrationConfirmation, forwarded TargetMigrationRejected), kept until
  the member acknowledges it by fetching past its id.

Why a second file: the driver (impl/storage/driver.py) marks its outbox sent as soon as its
transport returns.  The transport here writes the row to this file (synced) before it
returns, so a crash after the mark loses nothing: the row is still here; a crash before it
leaves the driver's outbox row, which `resume()` sends again.  The storage file's schema
and checks stay as docs/durability.md describes them.

Not thread-safe on its own: the server calls it under its one lock (impl/http/server.py).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

APPLICATION_ID = 0x4D494D52  # "MIMR"
_SCHEMA = """
CREATE TABLE relay (id INTEGER PRIMARY KEY AUTOINCREMENT, destination TEXT NOT NULL,
                    path TEXT NOT NULL, wire BLOB NOT NULL);
CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, recipient TEXT NOT NULL,
                    wire BLOB NOT NULL);
CREATE INDEX queue_recipient ON queue (recipient, id);
"""


class RelayError(Exception):
    """The relay file is not one (another application's database, a broken file)."""


@dataclasses.dataclass(frozen=True)
class Pending:
    id: int
    destination: str
    path: str
    wire: bytes


class RelayStore:
    """The relay and queue tables of one party (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        existed = path.exists()
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, timeout=1.0,
                                      check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            app = self.db.execute("PRAGMA application_id").fetchone()[0]
            if not existed or (app == 0 and not self._tables()):
                self.db.executescript(f"BEGIN; {_SCHEMA} PRAGMA application_id={APPLICATION_ID};"
                                      " COMMIT;")
            elif app != APPLICATION_ID:
                self.db.close()
                raise RelayError(f"{path}: not a relay file (application_id {app:#x})")
        except sqlite3.DatabaseError as err:
            raise RelayError(f"{path}: {err}") from None

    def _tables(self) -> set[str]:
        rows = self.db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        return {r[0] for r in rows}

    # -- relay -----------------------------------------------------------------------------

    def add(self, items: list[tuple[str, str, bytes]]) -> None:
        """Rows to POST, (destination, path, wire), in one synced transaction."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT INTO relay (destination, path, wire) VALUES (?, ?, ?)",
                                items)

    def pending(self, limit: int = 256) -> list[Pending]:
        rows = self.db.execute("SELECT id, destination, path, wire FROM relay ORDER BY id "
                               "LIMIT ?", (limit,)).fetchall()
        return [Pending(int(i), str(d), str(p), bytes(w)) for i, d, p, w in rows]

    def done(self, row_id: int) -> None:
        self.db.execute("DELETE FROM relay WHERE id = ?", (row_id,))

    # -- queues ----------------------------------------------------------------------------

    def enqueue(self, items: list[tuple[str, bytes]]) -> None:
        """Envelopes for members, (recipient, wire), in one synced transaction."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT INTO queue (recipient, wire) VALUES (?, ?)", items)

    def fetch(self, recipient: str, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Drop `recipient`'s entries up to `after` (acknowledged), return the next ones."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM queue WHERE recipient = ? AND id <= ?",
                            (recipient, after))
        rows = self.db.execute("SELECT id, wire FROM queue WHERE recipient = ? AND id > ? "
                               "ORDER BY id LIMIT ?", (recipient, after, limit)).fetchall()
        return [(int(i), bytes(w)) for i, w in rows]

    def counts(self) -> tuple[int, int]:
        """(rows still to POST, entries queued for members)."""
        relay = self.db.execute("SELECT count(*) FROM relay").fetchone()[0]
        queue = self.db.execute("SELECT count(*) FROM queue").fetchone()[0]
        return int(relay), int(queue)

    def close(self) -> None:
        self.db.close()


__all__ = ["Pending", "RelayError", "RelayStore"]
