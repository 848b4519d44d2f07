"""Durable state for the Sans-IO roles: what a DS and a client keep across a crash.

The roles (impl/ds.py, impl/client.py) hold their state in memory and know nothing of
storage; this package is the driver around them (docs/durability.md):

- `records.py`: the versioned, explicit encoding of a role's fields as rows (no pickle);
- `store.py`: the one small store interface (an atomic `commit` of writes) and
  `MemoryStore`, the in-memory implementation for tests and the demo;
- `sqlite.py`: `SQLiteStore` (stdlib sqlite3, WAL, synchronous=FULL, BEGIN IMMEDIATE,
  schema version and forward migrations, integrity check and row digests on open);
- `errors.py`: one typed exception per way a file can be unusable;
- `driver.py`: `DurableDS` and `DurableClient`: one received message is one transaction
  (state rows, outbox rows, idempotency record), then send, then mark sent; named crash
  points;
- `world.py`: impl/world.py's world with every party durable, and restarts;
- `crashes.py`: the crash matrix over every (role, protocol step, crash point).
"""

from .driver import Crash, CrashPoint, Durable, DurableClient, DurableDS
from .errors import (
    CorruptDatabase,
    ForeignDatabase,
    NotSQLite,
    StorageError,
    StoreBusy,
    StoreExists,
    StoreMissing,
    TamperedRecord,
    UnsupportedSchema,
    WrongOwner,
)
from .sqlite import SQLiteStore
from .store import MemoryStore, Meta, Store

__all__ = [
    "CorruptDatabase",
    "Crash",
    "CrashPoint",
    "Durable",
    "DurableClient",
    "DurableDS",
    "ForeignDatabase",
    "MemoryStore",
    "Meta",
    "NotSQLite",
    "SQLiteStore",
    "StorageError",
    "Store",
    "StoreBusy",
    "StoreExists",
    "StoreMissing",
    "TamperedRecord",
    "UnsupportedSchema",
    "WrongOwner",
]
