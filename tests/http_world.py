"""Helpers for the HTTP tests: a running world, and requests built by hand.

A test obtains a running world with `running_world(folder, ...)` (impl/http/world.py: a
context manager that writes the world, starts every DS as a `mimi-portability serve`
subprocess on a free loopback port and stops them all on the way out) or with the
`http_world` fixture below (2 DSs, 3 clients, TLS, one world per test module).  The
functions here build signed TransactionEnvelopes for any party of a world and read a DS's
store and relay, so a test can check that a request changed nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from impl.crypto import SigningKey
from impl.http import wire
from impl.http.client import tls_verify
from impl.http.config import WorldFile, load_ds_config
from impl.http.wire import TransactionEnvelope, WireType
from impl.http.world import ServerProcess, running_world

__all__ = ["client_key", "ds_key", "envelope", "http", "http_world", "post", "running_world",
           "state_digest"]


@pytest.fixture(scope="module")
def http_world(tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[WorldFile, dict[str, ServerProcess]]]:
    with running_world(tmp_path_factory.mktemp("http") / "world", ds=2, clients=3) as w:
        yield w


def http(world: WorldFile, timeout: float = 10.0) -> httpx.Client:
    return httpx.Client(verify=tls_verify(world.ca), timeout=timeout)


def client_key(world: WorldFile, identity: str) -> SigningKey:
    return world.clients[identity].key


def ds_key(world: WorldFile, domain: str, suite: int) -> SigningKey:
    return load_ds_config(world.configs[domain]).keys[suite]


def envelope(wire_type: WireType, sender: str, recipient: str, body: bytes,
             key: SigningKey | None, cipher_suite: int = 0) -> bytes:
    env = TransactionEnvelope(version=wire.VERSION, type=wire_type, sender=sender.encode(),
                              recipient=recipient.encode(), cipher_suite=cipher_suite,
                              body=body)
    return (env.signed(key) if key is not None else env).encode()


def post(client: httpx.Client, world: WorldFile, domain: str, path: str, body: bytes,
         **headers: str) -> httpx.Response:
    return client.post(world.ds[domain].url + path, content=body,
                       headers={"content-type": wire.CONTENT_TYPE, **headers})


def queue_request(world: WorldFile, identity: str, domain: str, after: int = 0,
                  at: float | None = None) -> bytes:
    request = wire.QueueRequest(after=after, timestamp_ms=int((at or time.time()) * 1000),
                                max_entries=256)
    return envelope(WireType.queue_request, identity, domain, request.encode(),
                    client_key(world, identity))


def state_digest(world: WorldFile, domain: str) -> dict[str, Any]:
    """Every row of the DS's store and relay (read-only), hashed per table: equal before and
    after a request that changed nothing."""
    config = load_ds_config(world.configs[domain])
    out: dict[str, Any] = {}
    for path in (config.state, config.relay):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            for table in tables:
                h = hashlib.sha256()
                for row in db.execute(f"SELECT * FROM {table} ORDER BY 1"):
                    h.update(repr(row).encode())
                out[f"{Path(path).name}:{table}"] = h.hexdigest()
        finally:
            db.close()
    return out
