"""The errors of durable storage: one typed exception per way a file can be unusable.

This module owns the storage error taxonomy.  Every error is raised *before* anything is
written: a file that fails to open is left byte for byte as it was.  They are errors of the
operator or of the disk, not of a peer, so none of them is a role's ProtocolError and none
is ever sent to a peer.

- `NotSQLite`: the file is not an SQLite database at all (its header says otherwise).
- `ForeignDatabase`: an SQLite database, but not a mimi-portability store (application_id).
- `UnsupportedSchema`: a store written by a newer version of this code (schema version).
- `CorruptDatabase`: SQLite's `PRAGMA integrity_check` fails, or a page does not read.
- `TamperedRecord`: a row whose digest does not match its bytes, or whose bytes do not
  decode as the versioned record they claim to be.
- `WrongOwner`: the store belongs to another party (kind, name or public keys differ
  from the configuration the driver was opened with).
- `StoreExists`, `StoreMissing`: create over an existing file, open of a missing one.
- `StoreBusy`: another connection holds the write lock (a second process on the file).
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every storage error; `path` names the file ('' for an in-memory store)."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path or '<memory>'}: {detail}")
        self.path = path
        self.detail = detail


class NotSQLite(StorageError):
    """The file is not an SQLite database."""


class ForeignDatabase(StorageError):
    """An SQLite database that is not a mimi-portability store."""


class UnsupportedSchema(StorageError):
    """A store of a schema version this code does not know (written by a newer version)."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        super().__init__(
            path, f"schema version {found}; this code reads versions up to {supported}"
        )
        self.found = found
        self.supported = supported


class CorruptDatabase(StorageError):
    """The database's pages fail SQLite's integrity check or do not read."""


class TamperedRecord(StorageError):
    """A row whose digest does not match, or whose bytes are not a valid record."""

    def __init__(self, path: str, table: str, key: bytes, detail: str) -> None:
        super().__init__(path, f"{table} row {key.hex()[:32]}: {detail}")
        self.table = table
        self.key = key


class WrongOwner(StorageError):
    """The store belongs to another party than the configuration names."""


class StoreExists(StorageError):
    """`create` found a file already there (it never overwrites)."""


class StoreMissing(StorageError):
    """`open` found no file (it never creates one)."""


class StoreBusy(StorageError):
    """Another connection holds the database's write lock."""


__all__ = [
    "CorruptDatabase",
    "ForeignDatabase",
    "NotSQLite",
    "StorageError",
    "StoreBusy",
    "StoreExists",
    "StoreMissing",
    "TamperedRecord",
    "UnsupportedSchema",
    "WrongOwner",
]
