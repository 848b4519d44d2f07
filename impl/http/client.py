"""The HTTP side of a party: POST with retries of the same bytes, and a member over HTTP.

This module owns how requests leave a party (docs/wire.md, "Retries"):

- `post_with_retries` (asyncio, the server's relay) and `post_sync` (the workload's
  members): POST the same bytes up to `attempts` times with a doubling backoff, and return
  the first definitive answer (status, body), or None when every attempt was lost: the
  result is then indeterminate, never taken for a failure or a success; the caller keeps
  the bytes and tries again later.  Retried: connection and read errors, timeouts, 408, 429
  and any 5xx; every other status is definitive.  Why a loop of our own: httpx's
  `retries=` (HTTPTransport, used underneath as well) retries failed connects only, never a
  request whose answer was lost or a 503.  httpx-retries (a maintained RetryTransport with a
  urllib3-style Retry policy) would do the rest, but like urllib3 it retries POST only once
  told that POST is safe, which is this binding's idempotency rule (docs/wire.md), and it
  ends in an exception where the callers here need a third outcome, "no answer: keep the
  bytes for the next round" (a relay row stays).  The loop is a dozen lines, bounded by
  `attempts`, so a dead peer costs a known time per round.
- `HttpMember`: a Client role behind its DurableClient (impl/storage/driver.py) on a SQLite
  file, whose transport writes signed TransactionEnvelopes into its relay file
  (impl/http/relay.py) before it returns; `flush` POSTs them, feeding a refusal back to the
  role as the Refusal envelope it would get in memory; `poll` fetches the member's queue at
  a DS and hands every entry to the role.  So a member killed at any point re-runs from its
  files: its outbox (driver) or relay still holds what it has not delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ..client import Client
from ..envelope import Envelope, Kind, Refusal
from ..errors import ProtocolError
from ..group_state import GroupState
from ..storage.driver import DurableClient
from . import wire
from .config import WorldClient, WorldFile
from .relay import RelayStore
from .wire import TransactionEnvelope, WireType

HEADERS = {"content-type": wire.CONTENT_TYPE}


def retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


async def post_with_retries(client: httpx.AsyncClient, url: str, body: bytes, *,
                            attempts: int = 3, backoff: float = 0.1
                            ) -> tuple[int, bytes] | None:
    """See the module docstring."""
    for attempt in range(attempts):
        try:
            response = await client.post(url, content=body, headers=HEADERS)
            if not retryable(response.status_code):
                return response.status_code, response.content
        except httpx.TransportError:
            pass
        if attempt + 1 < attempts:
            await asyncio.sleep(backoff * 2 ** attempt)
    return None


def post_sync(client: httpx.Client, url: str, body: bytes, *, attempts: int = 3,
              backoff: float = 0.1) -> tuple[int, bytes] | None:
    """`post_with_retries` for synchronous callers."""
    for attempt in range(attempts):
        try:
            response = client.post(url, content=body, headers=HEADERS)
            if not retryable(response.status_code):
                return response.status_code, response.content
        except httpx.TransportError:
            pass
        if attempt + 1 < attempts:
            time.sleep(backoff * 2 ** attempt)
    return None


def tls_verify(ca: Path | None) -> ssl.SSLContext | bool:
    """What httpx verifies servers with: the world's CA, or the system's."""
    return ssl.create_default_context(cafile=str(ca)) if ca else True


def http_client(ca: Path | None, timeout: float = 5.0) -> httpx.Client:
    verify = tls_verify(ca)
    return httpx.Client(verify=verify, timeout=timeout,
                        transport=httpx.HTTPTransport(verify=verify, retries=1))


def refusal_of(answer: bytes) -> Refusal | None:
    """The Refusal in a refusal answer's body; None if the body is not one."""
    try:
        envelope = TransactionEnvelope.decode(answer)
        if envelope.type is not WireType.refusal:
            return None
        return Refusal.decode(envelope.body)
    except ValueError:
        return None


Observer = Callable[[str, Envelope, str | None], None]


class HttpMember:
    """A member over HTTP (see the module docstring)."""

    def __init__(self, me: WorldClient, world: WorldFile, http: httpx.Client, *,
                 observe: Observer | None = None) -> None:
        self.identity = me.identity
        self.key = me.key
        self.world = world
        self.http = http
        self.observe = observe
        self.relay = RelayStore(me.relay)
        role = Client(me.identity, key=me.key, trust=world.trust())
        if me.state.exists():
            self.durable = DurableClient.open_sqlite(role, str(me.state), self._transport)
        else:
            self.durable = DurableClient.create_sqlite(role, str(me.state), self._transport)
        self.durable.resume()
        self.cursor: dict[str, int] = {}
        self.refusals: list[tuple[str, Refusal]] = []

    @property
    def role(self) -> Client:
        return self.durable.role

    def close(self) -> None:
        self.durable.close()
        self.relay.close()

    def url(self, ds: str, path: str) -> str:
        return self.world.ds[ds].url + path

    def _transport(self, envelopes: list[Envelope]) -> None:
        self.relay.add([(e.recipient, wire.CLIENT_PATH,
                         TransactionEnvelope.of(e).signed(self.key).encode())
                        for e in envelopes])

    # -- application calls -------------------------------------------------------------------

    def call(self, action: Callable[[Client], Any]) -> None:
        self.durable.call(action, time.time())

    def create_group(self, state: GroupState, ds: str, *, rounds: int = 20
                     ) -> tuple[int, Refusal | None]:
        """POST a GroupCreation (the same bytes until a definitive answer; the DS answers a
        repeated creation of the same state as the first); (status, refusal or None)."""
        body = TransactionEnvelope(version=wire.VERSION, type=WireType.group_creation,
                                   sender=self.identity.encode(), recipient=ds.encode(),
                                   cipher_suite=state.cipher_suite,
                                   body=state.encode()).signed(self.key).encode()
        for _ in range(rounds):
            result = post_sync(self.http, self.url(ds, wire.CLIENT_PATH), body)
            if result is not None:
                status, answer = result
                return status, None if status < 300 else refusal_of(answer)
            time.sleep(0.2)
        raise ConnectionError(f"{ds} at {self.world.ds[ds].url} did not answer the creation "
                              "of a group: is its server running (mimi-portability serve)?")

    # -- the network side --------------------------------------------------------------------

    def flush(self) -> int:
        """POST what the relay holds, in order; stop at the first lost answer (kept for the
        next flush).  The count delivered."""
        count = 0
        for row in self.relay.pending():
            result = post_sync(self.http, self.url(row.destination, row.path), row.wire)
            if result is None:
                break
            status, answer = result
            self.relay.done(row.id)
            count += 1
            if status >= 300:
                self._refused(row.destination, row.wire, answer)
        return count

    def _refused(self, ds: str, sent: bytes, answer: bytes) -> None:
        refusal = refusal_of(answer)
        if refusal is None:
            return
        self.refusals.append((ds, refusal))
        envelope = Envelope(sender=ds, recipient=self.identity, kind=Kind.Refusal,
                            payload=refusal.encode())
        if self.observe:
            request = TransactionEnvelope.decode(sent)
            self.observe(self.identity, TransactionEnvelope.envelope(request),
                         refusal.code.decode("utf-8", "replace"))
        self._receive(envelope)

    def _receive(self, envelope: Envelope) -> None:
        # a duplicate or stale message: the role refuses it and changes nothing
        with contextlib.suppress(ProtocolError):
            self.durable.receive(envelope, time.time())

    def acknowledge(self) -> None:
        """Fetch once more wherever entries were taken, so the DSs drop what was handled."""
        for ds, after in list(self.cursor.items()):
            if after:
                self.poll(ds)

    def poll(self, ds: str) -> int | None:
        """Fetch this member's queue at `ds` once and hand every entry to the role; the
        count received, or None if the DS did not answer."""
        request = wire.QueueRequest(after=self.cursor.get(ds, 0),
                                    timestamp_ms=int(time.time() * 1000), max_entries=256)
        body = TransactionEnvelope(version=wire.VERSION, type=WireType.queue_request,
                                   sender=self.identity.encode(), recipient=ds.encode(),
                                   cipher_suite=0, body=request.encode()
                                   ).signed(self.key).encode()
        result = post_sync(self.http, self.url(ds, wire.QUEUE_PATH), body)
        if result is None or result[0] != 200:
            return None
        try:
            batch = wire.QueueBatch.decode(TransactionEnvelope.decode(result[1]).body)
        except ValueError:
            return None  # not a queue batch: as if the DS had not answered
        for entry in batch.entries:
            try:
                envelope = entry.envelope.envelope()
            except ValueError:
                envelope = None  # not a protocol message: nothing a member takes
            # a queue holds only its DS's own messages: anything else is skipped
            if envelope is not None and envelope.sender == ds:
                if self.observe:
                    self.observe(self.identity, envelope, None)
                self._receive(envelope)
            self.cursor[ds] = entry.id  # acknowledged by the next fetch, once handled
        return len(batch.entries)


__all__ = ["HttpMember", "http_client", "post_sync", "post_with_retries", "refusal_of",
           "retryable", "tls_verify"]
