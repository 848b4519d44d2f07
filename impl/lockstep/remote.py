"""Black-box conformance: the lockstep against DSs reached over the wire binding.

This module owns `conform --remote CONFIG` (impl/lockstep/remote_config.py reads CONFIG):
the moves, steering, refusal expectations and checks of the lockstep (impl/lockstep/moves.py,
driver.py, model/refusals.py) run against two DS servers, ours or anyone's, with this
project's clients, rogue DS R and rogue client X as the test's parties and the model as the
oracle.  `RemoteLockstep` is the in-process driver with one seam replaced: a DS is a
`RemoteNode`, a delivery to it is a POST (`Wire.deliver`), and what the DS sent is what the
test can see of it:

- to members: its queue (`/mimi/v1/queue`, fetched for every member and X after each POST);
- to peers: the `Recorder` (impl/http/recorder.py), where every DS under test has every peer.
  The test delivers a DS's message by POSTing the recorded bytes, signed by that DS, to the DS
  the envelope names; so the network does what the model's moves say (deliver, never
  deliver, deliver again, elsewhere);
- its `/status`: the group's phase, epoch and target, and the nonce counts by status.

Compared after every step (`verify`), the projection of the model state onto what is
observable: each DS's /status entry for the test group (absent / active(epoch) /
locked(epoch, target) / moved(target)) and its nonce counts (since the example began) with
the model's hosts and nonce pools; the clients (local roles) and the network (every message
an honest party sent, decoded) exactly; the fan-out per member; the model's properties.  Not
compared (not observable): the ghost history, a host's origin and lock content (the content
is compared as the message the DS sent), each nonce's request.  Each answer is held to the
rules' refusal (code, redirect, current epoch), and its HTTP status to docs/wire.md's.

What the test cannot do to a DS it does not run: set its time (no nonce expiry, retry or
jump: target_expire_nonce, source_retry), crash or restart it (ds_restart, crash/*): those
pairs are left out of the totals (`UNDRIVABLE`).  It cannot sign as an honest DS either: a
DS's message changed in flight or handed to another DS is sent with the bytes a network
attacker has (the old transport signature, or the envelope as queued); the binding refuses
those before the protocol reads them, which the test checks (`TRANSPORT_CODES`) and counts
as `transport:<code>`.  A repeated request the DS answers 202 again with only what it sent
the first time is the binding's idempotency (docs/wire.md "Same bytes, same answer"):
counted as `replayed`.  Every example uses a new group on the same servers.

Over 500 lines on purpose: `RemoteLockstep` is the in-process driver with its DS seam
replaced, and each override (deliver, refuse, verify, the answers) reads the same wire,
recorder and status baseline; split, the overrides would reach into each other's fields.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable
from typing import Any

import httpx

from model import state as ms
from model.actions import Action
from model.config import Config, Nonce
from model.properties import violated
from model.refusals import Expected

from ..adversary import RogueClient, RogueDS
from ..client import Client
from ..crypto import CipherSuite, SigningKey
from ..envelope import Envelope, Kind, Refusal, TrustStore
from ..errors import ProtocolError
from ..group_state import GroupState, Member
from ..http import wire
from ..http.client import refusal_of, tls_verify
from ..http.recorder import Recorder
from ..http.wire import TransactionEnvelope, WireType
from .abstraction import Decoder, client_views, fanout_divergences, network_of
from .abstraction import nonce_bytes as _nonce_bytes
from .abstraction import nonce_of as _nonce_of
from .answers import Divergence, compare_answer
from .driver import Lockstep, Unsupported, check_config
from .remote_config import RemoteConfig

UNDRIVABLE: dict[tuple[str, str], str] = {
    ("target_expire_nonce", "accepted"): "a remote DS's time is its own",
    ("target_expire_nonce", "jumped"): "a remote DS's time is its own",
    ("source_retry", "accepted"): "a remote DS's retry timer is its own",
    ("ds_restart", "accepted"): "a remote DS's process is not the test's to restart",
    **{("crash", p): "a remote DS's process is not the test's to crash"
       for p in ("before_commit", "after_commit", "mid_send", "after_send", "after_mark")},
}
"""(action, outcome) pairs the remote setting cannot drive, with why."""

TRANSPORT_CODES = frozenset({"not_authenticated", "wrong_recipient", "unexpected_message"})
"""What the binding answers bytes the test could not sign as their sender (docs/wire.md)."""

DS_KINDS = frozenset({Kind.MigrationContent, Kind.TargetMigrationComplete,
                      Kind.TargetMigrationRejected})
SETTLE = 10.0
"""Seconds a DS may take to hand what it sends its peers to the recorder."""


class RemoteError(Exception):
    """A DS under test that cannot be reached or is not the one CONFIG names: one line."""


class RemoteRefusal(ProtocolError):
    """A refusal a DS answered over HTTP: `refusal` as the body carries it; `transport`:
    the bytes were the network's copy, refused by the binding before the role."""

    def __init__(self, refusal: Refusal, status: int, transport: bool, reason: str) -> None:
        super().__init__()
        self._refusal, self._status, self._transport, self._reason = (
            refusal, status, transport, reason)

    @property
    def refusal(self) -> Refusal:
        return self._refusal

    @property
    def transport(self) -> bool:
        return self._transport

    def __str__(self) -> str:
        return f"HTTP {self._status} {self.code}: {self._reason}"


@functools.cache
def _refusal_class(code: str) -> type[RemoteRefusal]:
    return type(f"Refused_{code}", (RemoteRefusal,), {"code": code})


@dataclasses.dataclass
class RemoteWorld:
    """The test's parties (what Lockstep reads of impl/world.py's World)."""

    suite: CipherSuite
    trust: TrustStore
    clients: list[Client]
    rogue_ds: RogueDS
    rogue_client: RogueClient
    group_id: bytes
    source: RemoteNode
    target: RemoteNode

    @property
    def dss(self) -> list[RemoteNode]:
        return [self.source, self.target]

    @dss.setter
    def dss(self, dss: list[RemoteNode]) -> None:
        self.source, self.target = dss

    @property
    def group_ids(self) -> tuple[bytes, ...]:
        return (self.group_id,)


class RemoteNode:
    """A DS under test as the driver sees it: its domain and its /status."""

    def __init__(self, wire_: Wire, index: int) -> None:
        self.wire, self.index = wire_, index
        self.domain = self.name = wire_.config.ds[index].domain
        self.nonces: dict[bytes, Any] = {}  # not observable (the driver's clock reads it)
        self.group_id = b""

    def status(self, group_id: bytes) -> str:
        entry = _entry(self.wire.status(self.index), group_id)
        return "absent" if entry is None else str(entry["phase"])

    def snapshot(self) -> tuple[object, ...]:
        """What a refused move must leave as it was: the group's /status entry, the nonce
        counts (a message it sent is compared apart)."""
        doc = self.wire.status(self.index)
        return (_entry(doc, self.group_id), doc.get("nonces"))


def _entry(doc: dict[str, Any], group_id: bytes) -> dict[str, Any] | None:
    for g in doc.get("groups", []):
        if g.get("group_id") == group_id.hex():
            return dict(g)
    return None


class Wire:
    """The HTTP side of a remote run: the servers, the recorder, queues, captured bytes."""

    def __init__(self, config: RemoteConfig, recorder: Recorder) -> None:
        self.config, self.recorder = config, recorder
        self.http = httpx.Client(verify=tls_verify(config.ca), timeout=10.0)
        self.keys: dict[str, SigningKey] = {**config.clients,
                                            config.rogue_client: config.rogue_client_key,
                                            config.rogue_domain: config.rogue_key}
        self.identities = [*config.clients, config.rogue_client]
        self.cursor: dict[tuple[str, int], int] = {}
        self.captured: dict[tuple[Any, ...], bytes] = {}
        self.by_sender: dict[tuple[str, Kind], bytes] = {}
        self.accepted: set[tuple[int, tuple[Any, ...]]] = set()
        self.seen: set[tuple[str, str, Kind, bytes]] = set()
        self.new: list[Envelope] = []
        self._status: dict[int, dict[str, Any]] = {}
        self.posts = 0
        self.run = os.urandom(6).hex()

    def close(self) -> None:
        self.http.close()

    def url(self, i: int) -> str:
        return self.config.ds[i].url

    def _get(self, i: int, path: str) -> dict[str, Any]:
        try:
            response = self.http.get(self.url(i) + path)
            doc: dict[str, Any] = response.json()
        except httpx.HTTPError as err:
            raise RemoteError(f"{self.url(i)}{path}: no answer ({err})") from None
        except ValueError:
            raise RemoteError(f"{self.url(i)}{path}: answered {response.status_code}, "
                              "not JSON") from None
        return doc

    def status(self, i: int, fresh: bool = False) -> dict[str, Any]:
        if fresh or i not in self._status:
            self._status[i] = self._get(i, wire.STATUS_PATH)
        return self._status[i]

    def check_servers(self) -> None:
        """Each DS answers and holds the keys CONFIG names (RemoteError otherwise)."""
        for i, ds in enumerate(self.config.ds):
            doc = self._get(i, wire.WELL_KNOWN_PATH)
            if doc.get("domain") != ds.domain:
                raise RemoteError(f"{ds.url}: serves {doc.get('domain')!r}, CONFIG "
                                  f"{self.config.path} ds[{i}] names {ds.domain!r}")
            got = doc.get("signature_keys", {}).get(str(self.config.suite))
            if got != ds.keys[self.config.suite].hex():
                raise RemoteError(f"{ds.url}: its suite {self.config.suite} signing key is "
                                  f"not the one CONFIG {self.config.path} ds[{i}].keys names")

    # -- posting ------------------------------------------------------------------------------

    def post(self, i: int, path: str, body: bytes) -> httpx.Response:
        self.posts += 1
        try:
            return self.http.post(self.url(i) + path, content=body,
                                  headers={"content-type": wire.CONTENT_TYPE})
        except httpx.HTTPError as err:
            raise RemoteError(f"{self.url(i)}{path}: no answer ({err})") from None

    def wire_bytes(self, env: Envelope) -> tuple[str, bytes, bool]:
        """(path, body, transport) of `env`: signed by its sender where the test holds the
        key, the recorded bytes where a DS sent exactly these; else the network's copy
        (transport: the binding must refuse it before the role reads it)."""
        path = wire.DS_PATH if env.kind in DS_KINDS else wire.CLIENT_PATH
        key = self.keys.get(env.sender)
        if key is not None:
            return path, TransactionEnvelope.of(env).signed(key).encode(), False
        exact = self.captured.get(_key(env))
        if exact is not None:
            return path, exact, False
        old = self.by_sender.get((env.sender, env.kind))
        unsigned = TransactionEnvelope.of(env)
        if old is None:
            return path, unsigned.encode(), True
        signed = TransactionEnvelope.decode(old)
        return path, dataclasses.replace(unsigned, auth_suite=signed.auth_suite,
                                         signature=signed.signature).encode(), True

    def deliver(self, i: int, env: Envelope) -> list[Envelope]:
        """POST `env` to DS i; what the DS sent because of it (RemoteRefusal if refused)."""
        path, body, transport = self.wire_bytes(env)
        response = self.post(i, path, body)
        status = response.status_code
        out = self.collect(i)
        if status >= 500:
            raise Divergence(f"{self.url(i)}{path} answered {status} (a DS's bug, "
                             f"docs/wire.md) to {env.describe()}")
        if status == 202:
            self.accepted.add((i, _key(env)))
            return out
        refusal = refusal_of(response.content)
        if refusal is None:
            raise Divergence(f"{self.url(i)}{path} answered {status} without a refusal "
                             f"envelope to {env.describe()}")
        code = refusal.code.decode("utf-8", "replace")
        if wire.STATUS.get(code) != status:
            raise Divergence(f"{env.describe()}: refused {code} with HTTP {status}; "
                             f"docs/wire.md gives {code} {wire.STATUS.get(code)}")
        if out:
            raise Divergence(f"{env.describe()}: refused {code}, yet the DS sent "
                             f"{[e.describe() for e in out]}")
        raise _refusal_class(code)(refusal, status, transport,
                                   response.headers.get("mimi-reason", ""))

    def settle(self, i: int) -> None:
        """Wait until DS i has handed every message for its peers to the recorder."""
        deadline = time.monotonic() + SETTLE
        while True:
            doc = self.status(i, fresh=True)
            if not doc.get("relay", {}).get("pending"):
                return
            if time.monotonic() > deadline:
                raise Divergence(f"{self.url(i)}: messages for peers still pending after "
                                 f"{SETTLE:g} s (its relay never reached the recorder)")
            time.sleep(0.002)

    def collect(self, i: int) -> list[Envelope]:
        """Everything DS i sent since the last collect: to peers (recorder) and members."""
        self.settle(i)
        out: list[Envelope] = []
        for body in self.recorder.take():
            try:
                env = TransactionEnvelope.decode(body).envelope()
            except ValueError:
                raise Divergence(f"a DS sent a peer bytes that do not decode: "
                                 f"{body[:40].hex()}") from None
            self.captured[_key(env)] = body
            self.by_sender[(env.sender, env.kind)] = body
            out.append(env)
        for identity in self.identities:
            out.extend(self.fetch(i, identity))
        self.new = [e for e in out if _seen(e) not in self.seen]
        self.seen.update(_seen(e) for e in out)
        return out

    def fetch(self, i: int, identity: str) -> list[Envelope]:
        domain = self.config.ds[i].domain
        out: list[Envelope] = []
        while True:
            request = wire.QueueRequest(after=self.cursor.get((identity, i), 0),
                                        timestamp_ms=int(time.time() * 1000), max_entries=256)
            body = TransactionEnvelope(version=wire.VERSION, type=WireType.queue_request,
                                       sender=identity.encode(), recipient=domain.encode(),
                                       cipher_suite=0, body=request.encode()
                                       ).signed(self.keys[identity]).encode()
            response = self.post(i, wire.QUEUE_PATH, body)
            if response.status_code != 200:
                raise Divergence(f"{self.url(i)}: queue fetch of {identity} answered "
                                 f"{response.status_code} {response.headers.get('mimi-reason')}")
            batch = wire.QueueBatch.decode(TransactionEnvelope.decode(response.content).body)
            for entry in batch.entries:
                env = entry.envelope.envelope()
                if env.sender == domain:
                    out.append(env)
                self.cursor[(identity, i)] = entry.id
            if len(batch.entries) < 256:
                return out

    def create(self, state: GroupState, creator: str) -> None:
        body = TransactionEnvelope(version=wire.VERSION, type=WireType.group_creation,
                                   sender=creator.encode(),
                                   recipient=self.config.ds[0].domain.encode(),
                                   cipher_suite=state.cipher_suite, body=state.encode()
                                   ).signed(self.keys[creator]).encode()
        response = self.post(0, wire.CLIENT_PATH, body)
        if response.status_code != 202:
            raise RemoteError(f"{self.url(0)}: refused to create the test group "
                              f"({response.status_code} {response.headers.get('mimi-reason')})"
                              ": does it know the test's clients (CONFIG [clients])?")


def _key(env: Envelope) -> tuple[Any, ...]:
    return (env.sender, env.recipient, env.kind, env.payload, env.cipher_suite)


def _seen(env: Envelope) -> tuple[str, str, Kind, bytes]:
    return (env.sender, env.recipient, env.kind, env.payload)


class RemoteDecoder(Decoder):
    """Decoder whose honest DSs' nonces are the bytes they drew: the k-th new nonce DS d's
    MigrationResponses carry is model nonce (d, k) (`learn`)."""

    def __init__(self, config: Config, world: Any) -> None:
        super().__init__(config, world)
        self.nonces: dict[bytes, Nonce] = {}
        self.requesters: dict[bytes, str] = {}
        self.issued = [0, 0]

    def learn(self, envelopes: list[Envelope]) -> None:
        from ..messages import MigrationResponse

        for env in envelopes:
            d = self.ds_id.get(env.sender)
            if env.kind != Kind.MigrationResponse or d not in (0, 1):
                continue
            nonce = MigrationResponse.decode(env.payload).nonce
            if nonce not in self.nonces:
                self.nonces[nonce] = Nonce(d, self.issued[d])
                self.issued[d] += 1
                self.requesters[nonce] = env.recipient

    def nonce_of(self, data: bytes) -> Nonce:
        return self.nonces.get(data) or _nonce_of(data)

    def nonce_bytes(self, ds: int, index: int) -> bytes:
        for data, n in self.nonces.items():
            if n == (ds, index):
                return data
        return _nonce_bytes(ds, index)

    def _requester(self, resp: Any) -> str:
        return self.requesters.get(resp.nonce, self.world.rogue_client.identity)


class RemoteLockstep(Lockstep):
    """The lockstep driver against the DSs of `wire` (the module docstring)."""

    drives_time = False
    drives_processes = False

    def __init__(self, config: Config, wire_: Wire, example: int) -> None:
        check_config(config)
        if config.honest_ds != 2 or config.groups != 1:
            raise Unsupported("the remote lockstep drives a source and a target DS over the "
                              f"wire and one group, not {config.honest_ds} DSs and "
                              f"{config.groups} groups")
        rc = wire_.config
        if config.clients > len(rc.clients):
            raise RemoteError(f"{rc.path}: clients: {len(rc.clients)} named, the model's "
                              f"configuration has {config.clients}")
        self.net = wire_
        suite = CipherSuite.parse(rc.suite)
        trust = TrustStore()
        for ds in rc.ds:
            for s, public in ds.keys.items():
                trust.add(ds.domain, s, public)
        trust.add(rc.rogue_domain, suite, rc.rogue_key.public_bytes())
        gid = f"conform {wire_.run} {example}".encode()
        names = list(rc.clients)[: config.clients]
        clients = [Client(n, key=rc.clients[n], trust=trust) for n in names]
        state = GroupState(group_id=gid, epoch=0, cipher_suite=suite, members=tuple(
            Member(leaf_index=i, identity=n.encode(), signature_key=rc.clients[n].public_bytes())
            for i, n in enumerate(names)))
        nodes = (RemoteNode(wire_, 0), RemoteNode(wire_, 1))
        for node in nodes:
            node.group_id = gid
        self.world = RemoteWorld(  # type: ignore[assignment]  # World's parts Lockstep reads
            suite, trust, clients, RogueDS(rc.rogue_domain, rc.rogue_key),
            RogueClient(rc.rogue_client, rc.rogue_client_key), gid, *nodes)
        self.dss = nodes  # type: ignore[assignment]
        for i in (0, 1):  # what earlier examples left in the queues is not this one's
            for identity in wire_.identities:
                wire_.fetch(i, identity)
        wire_.create(state, names[0])
        wire_.collect(0)
        for i, c in enumerate(clients):
            c.join(state, rc.ds[0].domain, i)
        self.baseline = [dict(wire_.status(i, fresh=True).get("nonces", {})) for i in (0, 1)]
        self.dec: RemoteDecoder = RemoteDecoder(config, self.world)
        self.initial_groups = (state,)
        self.dec.know_groups(self.initial_groups)
        self._start_records(config, True)  # no logs: the servers write theirs (serve --trace)
        self.log: list[str] = []
        """One line per step made, for the divergence's trace."""
        self.checks: tuple[str, ...] = ()
        """The rules' check ids the last step was held to."""

    # -- the seam: a DS is reached over the wire ----------------------------------------------

    def _deliver(self, party: tuple[str, int], env: Envelope) -> list[Envelope]:
        if party[0] == "client":
            return super()._deliver(party, env)
        out = self.net.deliver(party[1], env)
        self.dec.learn(out)
        return out

    def _issuing(self, target: int) -> None:
        """A remote DS's time is its own."""

    def expire_allowed(self, target: int, index: int) -> bool:
        return False

    def jump_actions(self, target: int) -> list[Action]:
        return []

    def _replayed(self, party: tuple[str, int], env: Envelope, out: list[Envelope]) -> bool:
        return (party[0] == "ds" and (party[1], _key(env)) in self.net.accepted
                and not self.net.new)

    def _compare(self, what: str, expected: Expected, error: ProtocolError | None) -> str:
        if isinstance(error, RemoteRefusal):
            if error.transport:
                if error.code not in TRANSPORT_CODES:
                    raise Divergence(f"{what}: bytes the test cannot sign as their sender must "
                                     f"be refused by the binding ({sorted(TRANSPORT_CODES)}); "
                                     f"the DS answers {error}")
                return f"transport:{error.code}"
            return compare_answer(self.dec, what, expected, error.refusal, str(error))
        return super()._compare(what, expected, error)  # a local client's, or no answer

    # -- what each step is held to, and the trace ---------------------------------------------

    def apply(self, action: Action) -> None:
        self.log.append(f"{action.name}{dict(action.args)}")
        self.checks = (f"rule:{action.name}",)
        super().apply(action)  # which records the action

    def refuse(self, party: tuple[str, int], env: Envelope, what: str, *,
               forged: bool = False, expected: Expected | None = None) -> None:
        self.log.append(what)
        self.checks = expected.checks if expected is not None else (f"refuse:{env.kind}",)
        super().refuse(party, env, what, forged=forged, expected=expected)

    def misuse(self, client: int, call: str, code: str, group: int = 0) -> None:
        self.log.append(f"{call} by c{client} (refused locally: {code})")
        self.checks = (f"local:{code}",)
        super().misuse(client, call, code, group)

    def restart(self, party: tuple[str, int]) -> None:
        self.log.append(f"restart of {self.node(party).name}")
        self.checks = ("rule:client_restart",)
        super().restart(party)

    def tampered(self, party: tuple[str, int], env: Envelope, original: Any, what: str) -> None:
        """A tampered copy to a client: the in-process check (a trial on a fork of the local
        client); to a remote DS there is no fork: one delivery, which must be refused, or mean
        `original` exactly and be a delivery the model accepts."""
        if party[0] == "client":
            super().tampered(party, env, original, what)
            return
        self.log.append(what)
        self.checks = (f"tamper:{env.kind}",)
        node = self.node(party)
        snap = node.snapshot()
        try:
            out = self._deliver(party, env)
        except RemoteRefusal as err:
            self.steps += 1
            if node.snapshot() != snap:
                raise Divergence(f"{what}: refused ({err}), but /status changed") from err
            self.refusals[f"transport:{err.code}" if err.transport else err.code] += 1
            return
        if not out and node.snapshot() == snap:
            self.steps += 1
            self.refusals["ignored"] += 1
            return
        accepted = [(name, args) for name, args, ok in self.deliveries()
                    if ok and args[-1] == original and self.receiver(name, args) == party]
        if self.dec.message(env) != original or not accepted:
            raise Divergence(f"{what}: model refuses, the DS accepts and sends "
                             f"{[e.describe() for e in out]}")
        from model.actions import ACTIONS_BY_NAME, step

        name, args = accepted[0]
        action = Action(name, tuple(zip(ACTIONS_BY_NAME[name].params, args, strict=True)))
        self.state = step(self.config, self.state, action)
        self.actions.append(action)
        self._emit(out)
        self.steps += 1
        self.verify(f"{what} (as {name})")

    # -- the comparison -----------------------------------------------------------------------

    def verify(self, context: str) -> None:
        problems: list[str] = []
        for i in (0, 1):
            doc = self.net.status(i, fresh=True)
            want = _host_view(self.dec, self.state.hosts[i][0])
            entry = _entry(doc, self.world.group_id)
            got = None if entry is None else (entry.get("phase"),
                                              None if entry.get("phase") == "moved"
                                              else entry.get("epoch"), entry.get("target"))
            if want != got:
                problems.append(f"d{i} /status group: model {want}, server {got}")
            counts = doc.get("nonces", {})
            got_n = {k: counts.get(k, 0) - self.baseline[i].get(k, 0)
                     for k in ("pending", "consumed", "expired", "rejected")}
            want_n = _nonce_counts(self.state.nonces[i])
            if want_n != got_n:
                problems.append(f"d{i} /status nonces: model {want_n}, server {got_n}")
        views = client_views(self.dec)
        if views != self.state.clients:
            problems.append(f"clients: model {self.state.clients} impl {views}")
        network = network_of(self.sent)
        for name, a, b in zip(ms.Network._fields, self.state.network, network, strict=True):
            if a != b:
                problems.append(f"network.{name}: model-only {set(a - b)} "
                                f"sent-only {set(b - a)}")
        problems += fanout_divergences(self.config, self.state.network, self.reached)
        bad = violated(self.config, self.state)
        if bad:
            problems.append(f"model violates {bad}")
        if problems:
            raise Divergence(f"after {context}:\n" + "\n".join(problems))


def _host_view(dec: Decoder, host: ms.Host) -> tuple[Any, ...] | None:
    if host.phase == ms.ABSENT:
        return None
    if host.phase == ms.ACTIVE:
        return ("active", host.epoch, None)
    if host.phase == ms.LOCKED:
        return ("locked", host.epoch, dec.domain(host.target))
    return ("moved", None, dec.domain(host.target))


def _nonce_counts(pool: tuple[ms.NonceRecord, ...]) -> dict[str, int]:
    names = {ms.PENDING: "pending", ms.CONSUMED: "consumed", ms.EXPIRED: "expired"}
    out = {"pending": 0, "consumed": 0, "expired": 0, "rejected": 0}
    for rec in pool:
        if rec.phase in names:
            out[names[rec.phase]] += 1
    return out


Factory = Callable[[], RemoteLockstep]

__all__ = ["TRANSPORT_CODES", "UNDRIVABLE", "RemoteDecoder", "RemoteError", "RemoteLockstep",
           "RemoteNode", "RemoteRefusal", "RemoteWorld", "Wire"]
