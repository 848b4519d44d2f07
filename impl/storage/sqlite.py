"""The store on a file: stdlib sqlite3, WAL journal, synchronous=FULL, BEGIN IMMEDIATE.

This module owns the file format and every check made before a file is trusted.

The file.  An SQLite 3 database whose header carries `application_id` 0x4D494D50
("MIMP": a mimi-portability store) and `user_version` = the schema version (SCHEMA_VERSION,
today 1).  Schema 1 has four tables:

    meta    (key TEXT PRIMARY KEY, value BLOB, digest BLOB)            kind, name, keys
    record  (tab TEXT, key BLOB, value BLOB, digest BLOB, PRIMARY KEY (tab, key))
    outbox  (id INTEGER PRIMARY KEY, envelope BLOB, digest BLOB)       still to send
    answer  (request BLOB PRIMARY KEY, answer BLOB, at REAL, digest BLOB)   idempotency

`digest` is SHA-256 over a label, the table, the key and the value of the row; values are
the versioned records of impl/storage/records.py.  The digests catch a corrupted or
hand-edited row; they are not a MAC, and are not meant to stop someone who can write the
DS's disk (that party can read the DS's keys as well).

Versions.  A file is built by forward migrations from 0 (`MIGRATIONS[n]` takes schema n to
n + 1; creating a store runs them all), and an older file is migrated forward on open, in
one transaction that commits only if every row of the migrated file verifies.  A file of a
newer version is refused (UnsupportedSchema), never downgraded.

Opening.  `open` never creates and never writes before it trusts the file: it reads the
first 16 bytes (NotSQLite unless they are SQLite's header), then `application_id`
(ForeignDatabase), `user_version` (UnsupportedSchema), `PRAGMA integrity_check`
(CorruptDatabase, also for a page that does not read), every row's digest (TamperedRecord),
and the caller's own check (the driver decodes every record).  Only then does it set the
journal mode.  Any failure closes the connection with the file as it was.

Durability.  `journal_mode=WAL` and `synchronous=FULL`: a committed transaction is on disk
(the WAL is synced at every commit) before `commit` returns.  Each transaction starts with
`BEGIN IMMEDIATE`, taking the write lock up front, so a second writer fails at once
(StoreBusy) instead of half way.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import (
    CorruptDatabase,
    ForeignDatabase,
    NotSQLite,
    StoreBusy,
    StoreExists,
    StoreMissing,
    TamperedRecord,
    UnsupportedSchema,
)
from .store import (
    Contents,
    Delete,
    Enqueue,
    Forget,
    MarkSent,
    Meta,
    OutboxRow,
    Put,
    Remember,
    StoreStats,
    Write,
)

APPLICATION_ID = 0x4D494D50  # "MIMP"
SCHEMA_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"
_DIGEST_LABEL = b"mimi-portability storage row\x00"


def _create_v1(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL, "
               "digest BLOB NOT NULL)")
    db.execute("CREATE TABLE record (tab TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, "
               "digest BLOB NOT NULL, PRIMARY KEY (tab, key)) WITHOUT ROWID")
    db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, envelope BLOB NOT NULL, "
               "digest BLOB NOT NULL)")
    db.execute("CREATE TABLE answer (request BLOB PRIMARY KEY, answer BLOB NOT NULL, "
               "at REAL NOT NULL, digest BLOB NOT NULL) WITHOUT ROWID")


#: Forward migrations: MIGRATIONS[n] takes a file of schema n to n + 1 (0: an empty file).
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _create_v1}


def digest(table: str, key: bytes, value: bytes) -> bytes:
    t = table.encode()
    return hashlib.sha256(
        _DIGEST_LABEL + len(t).to_bytes(2, "big") + t + len(key).to_bytes(4, "big") + key + value
    ).digest()


def _id_key(i: int) -> bytes:
    return i.to_bytes(8, "big")


def _at(at: float) -> bytes:
    """An answer's time as its digest covers it: the shortest repr of the float."""
    return repr(float(at)).encode()


class SQLiteStore:
    """A store in one SQLite file (`create` a new one, `open` an existing one).

    The connection may be used from any thread, one thread at a time: a caller that uses
    it from several serialises them (impl/http/server.py runs every request under one
    lock, in worker threads)."""

    def __init__(self, path: str, db: sqlite3.Connection, meta: Meta) -> None:
        self.path = path
        self._db = db
        self.meta = meta
        self.stats = StoreStats()
        row = db.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()
        self._next_id = int(row[0]) + 1

    # -- creating and opening ----------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, meta: Meta) -> SQLiteStore:
        p = str(path)
        if Path(p).exists():
            raise StoreExists(p, "a file is already there; create never overwrites")
        db = sqlite3.connect(f"file:{p}?mode=rwc", uri=True, isolation_level=None, timeout=1.0,
                             check_same_thread=False)
        try:
            _configure(db)
            db.execute("BEGIN IMMEDIATE")
            _migrate(db, 0)
            for key, value in (("kind", meta.kind.encode()), ("name", meta.name.encode()),
                               ("keys", meta.keys)):
                db.execute("INSERT INTO meta VALUES (?, ?, ?)",
                           (key, value, digest("meta", key.encode(), value)))
            db.execute("COMMIT")
        except BaseException:
            db.close()
            Path(p).unlink(missing_ok=True)
            raise
        return cls(p, db, meta)

    @classmethod
    def open(
        cls, path: str | Path, check: Callable[[Contents], None] | None = None
    ) -> SQLiteStore:
        """Open an existing store after every check of the module docstring; `check` is the
        caller's (the driver decodes each record), run before anything is written."""
        p = str(path)
        file = Path(p)
        if not file.is_file():
            raise StoreMissing(p, "no such file; open never creates one")
        with file.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
        if header != SQLITE_HEADER:
            raise NotSQLite(p, "the file does not start with the SQLite 3 header")
        db = sqlite3.connect(f"file:{p}?mode=rw", uri=True, isolation_level=None, timeout=1.0,
                             check_same_thread=False)
        try:
            return cls._checked(p, db, check)
        except BaseException:
            db.close()
            raise

    @classmethod
    def _checked(
        cls, p: str, db: sqlite3.Connection, check: Callable[[Contents], None] | None
    ) -> SQLiteStore:
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise NotSQLite(p, f"SQLite cannot read it: {err}") from None
        if app_id != APPLICATION_ID:
            raise ForeignDatabase(p, f"application_id {app_id:#x} is not a mimi-portability "
                                  f"store's ({APPLICATION_ID:#x})")
        if version > SCHEMA_VERSION or version < 1:
            raise UnsupportedSchema(p, version, SCHEMA_VERSION)
        try:
            problems = [r[0] for r in db.execute("PRAGMA integrity_check(20)").fetchall()]
        except sqlite3.DatabaseError as err:
            raise CorruptDatabase(p, f"integrity_check could not run: {err}") from None
        if problems != ["ok"]:
            raise CorruptDatabase(p, "integrity_check: " + "; ".join(problems))
        try:
            if version < SCHEMA_VERSION:
                db.execute("BEGIN IMMEDIATE")
                _migrate(db, version)
            contents = _verified(p, db)
            if check is not None:
                check(contents)
            if db.in_transaction:
                db.execute("COMMIT")
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise StoreBusy(p, str(err)) from None
            raise CorruptDatabase(p, str(err)) from None
        except sqlite3.DatabaseError as err:
            raise CorruptDatabase(p, str(err)) from None
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")
        _configure(db)
        store = cls(p, db, contents.meta)
        store._contents = contents
        return store

    # -- the Store interface -------------------------------------------------------------------

    _contents: Contents | None = None

    def read(self) -> Contents:
        if self._contents is not None:  # verified on open; nothing has been written since
            contents, self._contents = self._contents, None
            return contents
        return _verified(self.path, self._db)

    def answer(self, request: bytes) -> bytes | None:
        row = self._db.execute(
            "SELECT CAST(answer AS BLOB), at, digest FROM answer WHERE request = ?", (request,)
        ).fetchone()
        if row is None:
            return None
        answer, at, dig = row
        if not isinstance(at, float) or dig != digest("answer", request, answer + _at(at)):
            raise TamperedRecord(self.path, "answer", request, "digest does not match")
        return bytes(answer)

    def commit(
        self, writes: Sequence[Write], before_commit: Callable[[], None] | None = None
    ) -> list[int]:
        self._contents = None
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise StoreBusy(self.path, str(err)) from None
        try:
            ids = self._write(writes)
        except Exception:
            db.execute("ROLLBACK")  # a failed write (a full disk): nothing of it stays
            raise
        if before_commit is not None:
            before_commit()  # a crash here leaves the transaction open; abandon() drops it
        try:
            db.execute("COMMIT")
        except sqlite3.Error as err:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreBusy(self.path, str(err)) from None
        self.stats.transactions += 1
        self.stats.rows_written += len(writes)
        return ids

    def _write(self, writes: Sequence[Write]) -> list[int]:
        db, ids = self._db, []
        for write in writes:
            match write:
                case Put(table, key, value):
                    db.execute("INSERT OR REPLACE INTO record VALUES (?, ?, ?, ?)",
                               (table, key, value, digest(table, key, value)))
                case Delete(table, key):
                    db.execute("DELETE FROM record WHERE tab = ? AND key = ?", (table, key))
                case Enqueue(envelope):
                    i = self._next_id
                    db.execute("INSERT INTO outbox VALUES (?, ?, ?)",
                               (i, envelope, digest("outbox", _id_key(i), envelope)))
                    ids.append(i)
                    self._next_id += 1
                case Remember(request, answer, at):
                    db.execute("INSERT OR REPLACE INTO answer VALUES (?, ?, ?, ?)",
                               (request, answer, at,
                                digest("answer", request, answer + _at(at))))
                case Forget(before):
                    db.execute("DELETE FROM answer WHERE at < ?", (before,))
                case MarkSent(sent):
                    db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in sent])
        return ids

    def integrity(self) -> str:
        rows = [r[0] for r in self._db.execute("PRAGMA integrity_check").fetchall()]
        return "; ".join(rows)

    def close(self) -> None:
        self._db.close()

    def abandon(self) -> None:
        """A crash: the connection goes without a COMMIT, so SQLite rolls back whatever the
        open transaction wrote (what the OS does when the process dies holding the file)."""
        self._next_id = 0
        self._db.close()


def _configure(db: sqlite3.Connection) -> None:
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        raise CorruptDatabase("", f"journal_mode WAL refused (got {mode})")
    db.execute("PRAGMA synchronous=FULL")


def _migrate(db: sqlite3.Connection, version: int) -> None:
    """Run the forward migrations from `version` inside the caller's transaction."""
    for n in range(version, SCHEMA_VERSION):
        MIGRATIONS[n](db)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _text(p: str, table: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TamperedRecord(p, table, raw, "a name that is not UTF-8") from None


def _verified(p: str, db: sqlite3.Connection) -> Contents:
    """Every row, each checked against its digest (answers too, though only looked up).
    Every column is read as bytes (CAST AS BLOB), so a value whose type was changed (text
    where a blob belongs) fails its digest like any other edit."""
    meta: dict[str, bytes] = {}
    for key, value, dig in db.execute(
            "SELECT CAST(key AS BLOB), CAST(value AS BLOB), digest FROM meta"):
        if dig != digest("meta", key, value):
            raise TamperedRecord(p, "meta", key, "digest does not match")
        meta[_text(p, "meta", key)] = value
    if set(meta) != {"kind", "name", "keys"}:
        raise TamperedRecord(p, "meta", b"", f"expected kind, name, keys; found {sorted(meta)}")
    owner = Meta(_text(p, "meta", meta["kind"]), _text(p, "meta", meta["name"]), meta["keys"])
    tables: dict[str, dict[bytes, bytes]] = {}
    for tab, key, value, dig in db.execute(
            "SELECT CAST(tab AS BLOB), CAST(key AS BLOB), CAST(value AS BLOB), digest "
            "FROM record"):
        name = _text(p, "record", tab)
        if dig != digest(name, key, value):
            raise TamperedRecord(p, name, key, "digest does not match")
        tables.setdefault(name, {})[key] = value
    outbox = []
    for i, envelope, dig in db.execute(
            "SELECT id, CAST(envelope AS BLOB), digest FROM outbox ORDER BY id"):
        if dig != digest("outbox", _id_key(i), envelope):
            raise TamperedRecord(p, "outbox", _id_key(i), "digest does not match")
        outbox.append(OutboxRow(i, envelope))
    for request, answer, at, dig in db.execute(
            "SELECT CAST(request AS BLOB), CAST(answer AS BLOB), at, digest FROM answer"):
        if not isinstance(at, float) or dig != digest("answer", request, answer + _at(at)):
            raise TamperedRecord(p, "answer", request, "digest does not match")
    return Contents(owner, tables, outbox)


__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore", "digest"]
