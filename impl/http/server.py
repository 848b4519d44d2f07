"""One DS as an HTTP(S) service: a thin ASGI adapter over DurableDS, served by uvicorn.

This module owns what happens between a socket and the Sans-IO role (docs/wire.md):

- `DSNode`: the DS behind its durable driver (impl/storage/driver.py) on its SQLite file,
  plus its relay file (impl/http/relay.py).  Every request, `tick` and relay step runs
  under ONE lock, so requests for a group are serialised: two concurrent MigrationInits
  find the group unlocked one at a time, and exactly one locks it.  The lock also keeps
  the two SQLite connections on one thread at a time.  `handle` authenticates the
  TransactionEnvelope (impl/http/wire.py) and answers with its status and body.
- `App`: the ASGI application (no HTTP parsing here: uvicorn and h11 do that).  It routes,
  checks method and content type, refuses a declared Content-Length over the limit before
  reading anything and counts the streamed body against the limit (413), bounds the body
  read by a timeout (408), and runs the role in a worker thread so the event loop keeps
  serving while SQLite syncs.  Its lifespan starts two tasks: `tick` every tick_interval,
  and the delivery of the relay to peer DSs (impl/http/client.py `post_with_retries`).
- `serve`: uvicorn with the config's TLS, connection limit and keep-alive timeout; SIGTERM
  and SIGINT stop it gracefully (uvicorn's handlers, then the lifespan's shutdown closes
  the files).  Anything else is a crash; the next start re-opens the file
  (`DurableDS.open_sqlite`) and resends the outbox (`resume`).
- `crash_hook_from_env`: the testing aid MIMI_CRASH_AT="<crashpoint>:<n>" (SIGKILL on the
  n-th time the driver reaches that point; docs/durability.md).

Over 500 lines on purpose: the DS node, its ASGI app and the server that runs it share
the one lock and the limits above, and the wire's HTTP behaviour is reviewed in one file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import uvicorn

from ..crypto import SigningKey
from ..ds import DeliveryService, GroupPhase, NonceStatus
from ..envelope import Envelope, Refusal, SystemRandom, decode_payload
from ..errors import (
    GroupExists,
    Malformed,
    NotAuthorized,
    ProtocolError,
    UnexpectedMessage,
    UnsupportedSuite,
    WrongRecipient,
)
from ..framing import MLSMessage
from ..group_state import GroupState
from ..storage.driver import CrashPoint, DurableDS
from ..tracelog.record import RoleTrace
from . import wire
from .client import post_with_retries
from .config import DSConfig
from .relay import Pending, RelayStore
from .wire import TransactionEnvelope, TransportError, WireType

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
CrashHook = Callable[[CrashPoint, str], None]

CRASH_ENV = "MIMI_CRASH_AT"
_log = logging.getLogger("mimi_portability.serve")
#: Most entries one queue fetch returns.
MAX_BATCH = 256


def crash_hook_from_env(value: str | None) -> CrashHook | None:
    """MIMI_CRASH_AT="<crashpoint>:<n>": SIGKILL this process the n-th time (1-based) the
    DS's driver reaches that CrashPoint.  ValueError for a malformed value."""
    if not value:
        return None
    point_text, sep, count_text = value.partition(":")
    try:
        point = CrashPoint(point_text)
        count = int(count_text) if sep else 1
    except ValueError:
        raise ValueError(f"{CRASH_ENV}={value!r}: expected <crashpoint>:<n>, crashpoint one "
                         f"of {', '.join(p.value for p in CrashPoint)}") from None
    if count < 1:
        raise ValueError(f"{CRASH_ENV}={value!r}: n must be at least 1")
    seen = 0

    def hook(reached: CrashPoint, name: str) -> None:
        nonlocal seen
        if reached is point:
            seen += 1
            if seen == count:
                os.kill(os.getpid(), signal.SIGKILL)

    return hook


class DSNode:
    """The DS, its driver and its relay, under one lock (see the module docstring)."""

    def __init__(self, config: DSConfig, *, crash_hook: CrashHook | None = None,
                 trace: Path | None = None) -> None:
        self.config = config
        self.domain = config.domain
        self.lock = threading.Lock()
        self.wakeup: Callable[[], None] = lambda: None
        self.trust = config.trust()
        role = self._role()
        # the state file first: one that does not open leaves the folder as it was
        if config.state.exists():
            self.durable = DurableDS.open_sqlite(role, str(config.state), self._transport)
        else:
            self.durable = DurableDS.create_sqlite(role, str(config.state), self._transport)
        try:
            self.relay = RelayStore(config.relay)
        except BaseException:
            self.durable.close()
            raise
        self.durable.crash_hook = crash_hook
        self.durable.answer_lifetime = config.answer_lifetime
        self._log = config.log.open("a", encoding="utf-8") if config.log else None
        self.trace: RoleTrace | None = None
        """The DS's trace log (docs/trace-format.md), when served with --trace."""
        if trace is not None:
            self.trace = RoleTrace.resume_file(self.role, trace, clock=time.time)
        self._closed = False
        with self.lock:
            self.durable.resume()

    def _role(self) -> DeliveryService:
        c = self.config
        return DeliveryService(c.domain, keys=c.keys, trust=self.trust, random=SystemRandom(),
                               source_policy=c.source_policy, target_policy=c.target_policy,
                               nonce_lifetime=c.nonce_lifetime, retry_interval=c.retry_interval)

    @property
    def role(self) -> DeliveryService:
        return self.durable.role

    def close(self) -> None:
        with self.lock:
            if self._closed:
                return
            self._closed = True
            self.durable.close()
            self.relay.close()
            if self._log:
                self._log.close()
            if self.trace is not None:
                self.trace.close()

    # -- the driver's transport: into the relay file, synced, before it returns ----------

    def _transport(self, envelopes: list[Envelope]) -> None:
        to_peers: list[tuple[str, str, bytes]] = []
        to_members: list[tuple[str, bytes]] = []
        if self.trace is not None:
            self.trace.sent(envelopes)
        for envelope in envelopes:
            unsigned = TransactionEnvelope.of(envelope)
            if envelope.recipient in self.config.peers:
                signed = unsigned.signed(self._auth_key(envelope))
                to_peers.append((envelope.recipient, wire.DS_PATH, signed.encode()))
            else:
                to_members.append((envelope.recipient, unsigned.encode()))
        if to_peers:
            self.relay.add(to_peers)
        if to_members:
            self.relay.enqueue(to_members)
        self.wakeup()

    def _auth_key(self, envelope: Envelope) -> SigningKey:
        keys = self.config.keys
        suite = envelope.cipher_suite if envelope.cipher_suite in keys else min(keys)
        return keys[suite]

    # -- requests --------------------------------------------------------------------------

    def handle(self, path: str, body: bytes, now: float | None = None) -> tuple[int, bytes, str]:
        """(status, answer body, one-line reason) for a POST of `body` to `path`."""
        now = time.time() if now is None else now
        sender, kind = "?", "?"
        try:
            envelope = wire.decode_envelope(body, self.config.limits.max_body)
            sender = envelope.sender.decode()
            kind = wire.TYPE_KIND[envelope.type].value if envelope.type in wire.TYPE_KIND \
                else envelope.type.name
            self._authenticate(path, envelope)  # configuration only: outside the lock
            with self.lock:
                status, answer = self._act(envelope, now)
            self._record(now, envelope, len(body), None)
            return status, answer, "accepted"
        except ProtocolError as err:
            self._record_refusal(now, kind, sender, len(body), err.code)
            return (wire.status_of(err), wire.refusal_envelope(Refusal.of(err), self.domain,
                                                               sender), wire.one_line(str(err)))
        except TransportError as err:
            self._record_refusal(now, kind, sender, len(body), err.code)
            return err.status, wire.refusal_envelope(err.refusal(), self.domain, sender), \
                wire.one_line(err.reason)

    def _authenticate(self, path: str, env: TransactionEnvelope) -> None:
        """The type fits the path, the sender is a known party whose transport signature
        verifies, and the envelope is for this DS (docs/wire.md, "Who is the sender")."""
        sender = env.sender.decode()
        if path == wire.DS_PATH:
            allowed = wire.DS_TYPES
            public = self.trust.key(sender, env.auth_suite) if sender in self.config.peers \
                else None
            who = "peer DS"
        else:
            allowed = wire.CLIENT_TYPES if path == wire.CLIENT_PATH else frozenset(
                {WireType.queue_request})
            known = self.config.clients.get(sender)
            public = known.public_key if known and known.suite == env.auth_suite else None
            who = "client"
        if env.type not in allowed:
            raise UnexpectedMessage(message_type=env.type.name, state=f"{path} endpoint")
        if public is None or not env.verify(public):
            raise TransportError("not_authenticated", 401,
                                 f"{sender!r} is not a known {who} or its transport signature "
                                 "does not verify")
        if env.recipient.decode() != self.domain:
            raise WrongRecipient(expected=self.domain, named=env.recipient.decode())

    def _act(self, env: TransactionEnvelope, now: float) -> tuple[int, bytes]:
        """An authenticated request, under the lock: the role's answer."""
        sender = env.sender.decode()
        if env.type is WireType.queue_request:
            return 200, self._fetch(sender, env, now)
        if env.type is WireType.group_creation:
            self._create(sender, env, now)
        else:
            self._receive(env.envelope(), now)
        if self.trace is not None:
            self.trace.observe(now=now)
        return 202, TransactionEnvelope(version=wire.VERSION, type=WireType.accepted,
                                        sender=self.domain.encode(), recipient=env.sender,
                                        cipher_suite=0, body=b"").encode()

    def _receive(self, envelope: Envelope, now: float) -> None:
        """The role handles a protocol message (its trace shows it, and a refusal)."""
        if self.trace is None:
            self.durable.receive(envelope, now)
            return
        self.trace.received(envelope)
        try:
            self.durable.receive(envelope, now)
        except ProtocolError as err:
            self.trace.sent([Refusal.answer(envelope, err)])
            self.trace.observe(now=now)
            raise

    def _fetch(self, sender: str, env: TransactionEnvelope, now: float) -> bytes:
        request = decode_payload(wire.QueueRequest, env.body)
        skew = abs(now * 1000 - request.timestamp_ms) / 1000
        if skew > self.config.limits.queue_window:
            raise TransportError("not_authenticated", 401,
                                 f"queue request timestamp off by {skew:.0f} s, the window is "
                                 f"{self.config.limits.queue_window:g} s")
        limit = max(1, min(request.max_entries, MAX_BATCH))
        rows = self.relay.fetch(sender, request.after, limit)
        entries = tuple(wire.QueueEntry(id=i, envelope=TransactionEnvelope.decode(w))
                        for i, w in rows)
        return TransactionEnvelope(version=wire.VERSION, type=WireType.queue_batch,
                                   sender=self.domain.encode(), recipient=env.sender,
                                   cipher_suite=0,
                                   body=wire.QueueBatch(entries=entries).encode()).encode()

    def _create(self, sender: str, env: TransactionEnvelope, now: float) -> None:
        """GroupCreation: the body is the GroupState to host (docs/wire.md)."""
        state = decode_payload(GroupState, env.body)
        ds = self.role
        gid = state.group_id
        if state.cipher_suite not in ds.keys:
            raise UnsupportedSuite(cipher_suite=state.cipher_suite)
        if not state.addressable():
            raise Malformed(message_type="GroupState", reason="identity",
                            detail="a member's identity is not UTF-8 text")
        creator = next((m for m in state.members if m.identity == env.sender), None)
        if creator is None:
            raise NotAuthorized(policy="creator_is_member", client=sender)
        for m in state.members:
            known = self.config.clients.get(m.identity.decode("utf-8", "replace"))
            if known is not None and known.public_key != m.signature_key:
                raise NotAuthorized(policy="member_keys", client=sender)
        if not ds.target_policy.permits(sender, ds.domain):
            raise NotAuthorized(policy="target", client=sender)
        hosted = ds.groups.get(gid)
        if hosted is not None and hosted.source is None and hosted.state == state:
            return  # the same creation again: the same answer, nothing to change
        if (hosted is not None or gid in ds.tombstones or any(
                ds.is_pending(r, now) and r.request.group_id == gid
                for r in ds.nonces.values())):
            raise GroupExists(group_id=gid)
        self.durable.call(lambda role: role.create_group(state), now)

    def tick(self, now: float | None = None) -> None:
        with self.lock:
            now = time.time() if now is None else now
            self.durable.tick(now)
            if self.trace is not None:
                self.trace.observe(now=now)

    # -- the relay, for the delivery task ----------------------------------------------------

    def pending(self) -> list[Pending]:
        with self.lock:
            return self.relay.pending()

    def delivered(self, row_id: int, status: int, destination: str, answer: bytes) -> None:
        """A definitive answer for a relay row: drop it; a refusal is recorded (a peer's
        refusal of what we sent changes nothing here: the role's state already says what
        we did)."""
        with self.lock:
            self.relay.done(row_id)
        if status >= 300 and self._log:
            code = "?"
            with contextlib.suppress(Exception):
                refusal = TransactionEnvelope.decode(answer)
                code = Refusal.decode(refusal.body).code.decode("utf-8", "replace")
            self._write({"t": time.time(), "event": "peer_refused", "peer": destination,
                         "status": status, "code": code})

    # -- /status, the well-known document, the wire log ---------------------------------------

    def status(self) -> dict[str, Any]:
        with self.lock:
            ds = self.role
            groups: list[dict[str, Any]] = []
            for gid, hosted in ds.groups.items():
                groups.append({"group_id": gid.hex(),
                               "phase": hosted.phase,
                               "epoch": hosted.state.epoch,
                               "target": hosted.lock.target if hosted.lock else None})
            for gid, tomb in ds.tombstones.items():
                if gid in ds.groups:
                    continue
                groups.append({"group_id": gid.hex(), "phase": GroupPhase.MOVED,
                               "epoch": _commit_epoch(tomb.commit), "target": tomb.target})
            nonces = {s.value: 0 for s in NonceStatus}
            for record in ds.nonces.values():
                nonces[record.status.value] += 1
            relay, queued = self.relay.counts()
        return {"domain": ds.domain, "groups": sorted(groups, key=lambda g: g["group_id"]),
                "nonces": nonces, "relay": {"pending": relay, "queued": queued}}

    def well_known(self) -> dict[str, Any]:
        return {"domain": self.domain, "version": wire.VERSION,
                "signature_keys": {str(s): k.public_bytes().hex()
                                   for s, k in sorted(self.config.keys.items())},
                "paths": {"client": wire.CLIENT_PATH, "ds": wire.DS_PATH,
                          "queue": wire.QUEUE_PATH, "status": wire.STATUS_PATH}}

    def _record(self, now: float, env: TransactionEnvelope, size: int, code: str | None) -> None:
        if self._log and env.type in wire.TYPE_KIND:
            self._write({"t": now, "type": wire.TYPE_KIND[env.type].value,
                         "from": env.sender.decode(), "to": env.recipient.decode(),
                         "bytes": len(env.body), **({"refused": code} if code else {})})

    def _record_refusal(self, now: float, kind: str, sender: str, size: int, code: str) -> None:
        if self._log:
            self._write({"t": now, "type": kind, "from": sender, "to": self.domain,
                         "bytes": size, "refused": code})

    def _write(self, line: dict[str, Any]) -> None:
        assert self._log is not None
        self._log.write(json.dumps(line) + "\n")
        self._log.flush()


def _commit_epoch(commit: bytes) -> int | None:
    """The epoch of a migration commit (the group's last epoch at a DS it moved from)."""
    try:
        message = MLSMessage.decode(commit)
    except ValueError:
        return None
    return message.public_message.content.epoch if message.public_message else None


# -- the ASGI adapter ----------------------------------------------------------------------------

POST_PATHS = (wire.CLIENT_PATH, wire.DS_PATH, wire.QUEUE_PATH)
GET_PATHS = (wire.STATUS_PATH, wire.WELL_KNOWN_PATH)


class App:
    """The ASGI application over a DSNode (see the module docstring)."""

    def __init__(self, node: DSNode) -> None:
        self.node = node
        self.limits = node.config.limits
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path in GET_PATHS:
            if method not in ("GET", "HEAD"):
                await self._refuse(send, TransportError("method_not_allowed", 405,
                                   f"{method} {path}: use GET"), allow="GET, HEAD")
                return
            document = self.node.status() if path == wire.STATUS_PATH else \
                self.node.well_known()
            await _answer(send, 200, json.dumps(document).encode(), "application/json",
                          head=method == "HEAD")
            return
        if path not in POST_PATHS:
            await self._refuse(send, TransportError("not_found", 404, f"no endpoint {path}"))
            return
        if method != "POST":
            await self._refuse(send, TransportError("method_not_allowed", 405,
                               f"{method} {path}: use POST"), allow="POST")
            return
        try:
            body = await self._body(scope, receive)
        except TransportError as err:
            await self._refuse(send, err, close=True)
            return
        except _Disconnected:
            return
        status, answer, reason = await anyio.to_thread.run_sync(self.node.handle, path, body)
        await _answer(send, status, answer, wire.CONTENT_TYPE,
                      reason=None if status < 300 else reason)

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != wire.CONTENT_TYPE:
            raise TransportError("unsupported_media_type", 415,
                                 f"content type {content_type or 'none'!r}, expected "
                                 f"{wire.CONTENT_TYPE}")
        limit = self.limits.max_body
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():  # h11 refuses these first; kept for other servers
                raise TransportError("malformed", 400, f"Content-Length {declared!r}")
            if int(declared) > limit:
                raise TransportError("too_large", 413,
                                     f"Content-Length {declared} over the limit of {limit}")
        chunks: list[bytes] = []
        size = 0
        try:
            with anyio.fail_after(self.limits.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Disconnected
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise TransportError("too_large", 413,
                                             f"body over the limit of {limit} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise TransportError("body_timeout", 408,
                                 f"body not received within {self.limits.body_timeout:g} s"
                                 ) from None
        return b"".join(chunks)

    async def _refuse(self, send: Send, err: TransportError, *, allow: str | None = None,
                      close: bool = False) -> None:
        body = wire.refusal_envelope(err.refusal(), self.node.domain, "?")
        extra = [(b"allow", allow.encode())] if allow else []
        if close:
            extra.append((b"connection", b"close"))
        await _answer(send, err.status, body, wire.CONTENT_TYPE, reason=err.reason, extra=extra)

    # -- lifespan: the tick and the relay's delivery -----------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                loop = asyncio.get_running_loop()

                def wake(loop: asyncio.AbstractEventLoop = loop) -> None:
                    loop.call_soon_threadsafe(self._wake.set)

                self.node.wakeup = wake
                self._tasks = [asyncio.create_task(self._ticker()),
                               asyncio.create_task(self._deliverer())]
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in self._tasks:
                    task.cancel()
                for task in self._tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await anyio.to_thread.run_sync(self.node.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.node.config.tick_interval)
            try:
                await anyio.to_thread.run_sync(self.node.tick)
            except Exception as err:  # e.g. a full disk: the role is back at what is
                _log.error("tick failed: %s", err)  # committed; the next tick tries again

    async def _deliverer(self) -> None:
        """POST every relay row to its peer DS, the same bytes until a definitive answer;
        rows for different peers in parallel, so one dead peer holds up no other."""
        config = self.node.config
        verify: ssl.SSLContext | bool = (ssl.create_default_context(cafile=str(config.ca))
                                         if config.ca else True)
        # No idle keep-alive connections to peers: an idle TLS connection in our pool holds
        # the peer's graceful stop until its TLS shutdown times out (asyncio waits for the
        # close_notify we would never read).  DS -> DS traffic is a few messages a migration.
        transport = httpx.AsyncHTTPTransport(verify=verify, retries=1,
                                             limits=httpx.Limits(max_keepalive_connections=0))
        async with httpx.AsyncClient(timeout=httpx.Timeout(5.0), transport=transport) as client:
            while True:
                self._wake.clear()  # before reading: a row added from now on wakes us again
                rows: list[Pending] = []
                try:
                    rows = await anyio.to_thread.run_sync(self.node.pending)
                    by_peer: dict[str, list[Pending]] = {}
                    for row in rows:
                        by_peer.setdefault(row.destination, []).append(row)
                    await asyncio.gather(*(self._deliver_to(client, peer, peer_rows)
                                           for peer, peer_rows in by_peer.items()))
                except Exception as err:  # the relay file failed: keep going, rows stay
                    _log.error("relay delivery failed: %s", err)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=0.5 if rows else 5.0)

    async def _deliver_to(self, client: httpx.AsyncClient, peer: str,
                          rows: list[Pending]) -> None:
        known = self.node.config.peers.get(peer)
        if known is None:  # configured away since the row was written: kept, not sent
            _log.warning("%d relay rows for %s, which is no longer a peer", len(rows), peer)
            return
        url = known.url + wire.DS_PATH
        for row in rows:
            result = await post_with_retries(client, url, row.wire)
            if result is None:
                return  # the peer is unreachable: keep its rows, try again next round
            status, answer = result
            await anyio.to_thread.run_sync(self.node.delivered, row.id, status, peer, answer)


class _Disconnected(Exception):
    """The client went away mid-body: nothing to answer."""


async def _answer(send: Send, status: int, body: bytes, content_type: str, *,
                  reason: str | None = None, head: bool = False,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type.encode()),
               (b"content-length", str(len(body)).encode())]
    if reason is not None:  # a reason may quote the request (a path): made header-safe
        headers.append((b"mimi-reason", wire.one_line(reason).encode("ascii")))
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def serve(config: DSConfig, *, crash_hook: CrashHook | None = None,
          trace: Path | None = None) -> None:
    """Open the DS's files and serve until SIGTERM/SIGINT (then close them cleanly);
    `trace`: the file of its trace log (docs/trace-format.md), continued after a restart."""
    node = DSNode(config, crash_hook=crash_hook, trace=trace)
    app = App(node)
    limits = config.limits
    server_config = uvicorn.Config(
        app, host=config.host, port=config.port, lifespan="on", log_level="warning",
        access_log=False, timeout_keep_alive=limits.keep_alive,
        limit_concurrency=limits.max_connections, timeout_graceful_shutdown=5,
        h11_max_incomplete_event_size=64 * 1024,
        ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
        ssl_keyfile=str(config.tls_key) if config.tls_key else None,
    )
    server = uvicorn.Server(server_config)
    try:
        server.run()
    finally:
        node.close()  # a no-op after the lifespan's shutdown closed it


__all__ = ["CRASH_ENV", "App", "DSNode", "crash_hook_from_env", "serve"]
