"""The abstraction function: the implementation's world -> a model state.

This is the contract between impl/ and model/.  It reads
only implementation state and what the implementation sent, and names parties the way the
model does: honest DSs d0 = world.source, d1 = world.target, d2.. = world.more_dss (in the
order of `World.dss`), the rogue DS R; groups 0.. = world.group_ids; honest clients
c0.. = world.clients; the rogue client X.  Nonces are the bytes `nonce_bytes(ds, k)` the
driver's injected RandomSource hands the k-th time a DS draws one.

Compared (model component <- implementation state):
- hosts[ds][g]      <- DeliveryService.groups / tombstones: active(epoch), locked(epoch of
                       the migration commit, the MigrationContent in Lock.content),
                       moved(Tombstone.target), absent; origin <- Hosted.source.
- nonces[ds][k]     <- DeliveryService.nonces: PENDING/CONSUMED/EXPIRED (a PENDING one past
                       its lifetime at the DS's time now: EXPIRED) with the bound
                       request (request struct + the requesting client) and, when consumed,
                       the content whose hash NonceRecord.content_hash is.  The impl's
                       REJECTED status has no model counterpart: it abstracts to phase -1,
                       which never equals a model state (a reported divergence).
- clients[c][g]     <- Client.groups: Membership.ds, state.epoch, and the migration in
                       progress (PendingMigration): its request's target from the request
                       on, and its nonce once the client acted on the response.
- network           <- every envelope an honest impl party emitted (Network-free: the driver
                       keeps the log), each mapped by `Decoder.message` to a model message;
                       per-member Fanout envelopes map to one CommitFanout (their
                       recipients are compared apart, below), the source's
                       forwarded TargetMigrationRejected to MigrationAborted.
- ghost.history     <- DS `Sequenced` events (regular and acknowledged migration commits)
                       plus the commit each `Imported` event of an honest source's content
                       carries.
- ghost.fanned      <- the source's `Acknowledged` events.
- ghost.imports / reimports <- the target's `Imported` events, with the phase the driver
                       observed at the target just before that delivery (`Observed.replaced`).
- ghost.starts      <- the source's `Exported` events, paired with the MigrationInit the
                       driver delivered when that export happened (`Observed.inits`).
- ghost.confirmations <- client `Switched(how="confirmation")` events, paired with the
                       confirmation delivered and the pending migration just before it
                       (`Observed.accepted`).

Compared beside the state (`fanout_divergences`): who each fanned-out commit reached.  The
model's CommitFanout has no recipient (every member of the group receives it from the
network, model/routing.py `addressed`), so the abstraction keeps, per model CommitFanout, the
set of clients an honest DS sent a Fanout envelope of it to, and that set must be exactly the
members the rules route it to: a member left out of a fan-out, or a commit sent to a
non-member (the rogue client X), is a divergence.

Not compared (no model counterpart): the rest of a client's pending request (the model's
view keeps only its target: its source, group and epoch are the membership's own until a
commit clears it), Client.completed_nonce, Lock.sent_at and NonceRecord.issued_at (time),
the MLS group state beyond epoch and group id, DS `Unlocked` and client
`Aborted`/`Abandoned` events (impl/events.py).  Refusals are not part of the state: the
driver compares each refused move's answer with the refusal the rules name
(model/refusals.py, Lockstep.refuse) and the role's whole `snapshot()` before and after.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from model import messages as mm
from model import state as ms
from model.config import NO_NONCE, NONE, Config, Nonce

from ..codec import DecodeError
from ..crypto import CipherSuite
from ..ds import DeliveryService, NonceStatus
from ..envelope import Envelope, Kind, MigrationInitWithCommit
from ..events import Acknowledged, Exported, Fanout, Imported, Sequenced, Unlocked
from ..framing import MLSMessage
from ..group_state import GroupState
from ..messages import (
    MigrationCommitAAD,
    MigrationConfirmation,
    MigrationContent,
    MigrationRequest,
    MigrationResponse,
    TargetMigrationComplete,
    TargetMigrationRejected,
)
from ..signing import migration_content_hash

if TYPE_CHECKING:
    from ..world import World

NONCE_TAG = b"lockstep nonce "
REJECTED_PHASE = -1


def nonce_bytes(ds: int, index: int) -> bytes:
    """The 32 bytes standing for model nonce (ds, index)."""
    return (NONCE_TAG + bytes([ds]) + index.to_bytes(2, "big")).ljust(32, b"\x00")


def nonce_of(data: bytes) -> Nonce:
    """Inverse of `nonce_bytes`; (NONE, NONE)-like (-2, -2) for bytes it did not make."""
    if len(data) == 32 and data.startswith(NONCE_TAG):
        n = len(NONCE_TAG)
        return Nonce(data[n], int.from_bytes(data[n + 1 : n + 3], "big"))
    return Nonce(-2, -2)


class ModelNonces:
    """The injected RandomSource of one DS: its k-th draw is nonce_bytes(ds, k)."""

    def __init__(self, ds: int) -> None:
        self.ds = ds
        self.drawn = 0

    def random_bytes(self, n: int) -> bytes:
        assert n == 32, n
        out = nonce_bytes(self.ds, self.drawn)
        self.drawn += 1
        return out


@dataclasses.dataclass
class Observed:
    """What the driver saw at delivery time, for the ghost components no impl event holds."""

    replaced: dict[tuple[int, bytes], int] = dataclasses.field(default_factory=dict)
    """(target, content hash) -> the target's host phase just before it imported."""
    inits: dict[bytes, mm.MigrationInit] = dataclasses.field(default_factory=dict)
    """content hash -> the MigrationInit whose delivery made the source export it."""
    accepted: list[ms.Accepted] = dataclasses.field(default_factory=list)


class Decoder:
    """Implementation bytes and names -> model messages and party ids."""

    def __init__(self, config: Config, world: World) -> None:
        self.config = config
        self.world = world
        self.ds_domains = [ds.domain for ds in world.dss]
        self.ds_id: dict[str, int] = {d: i for i, d in enumerate(self.ds_domains)}
        self.ds_id[world.rogue_ds.domain] = config.rogue_ds_id
        self.client_id: dict[str, int] = {c.identity: i for i, c in enumerate(world.clients)}
        self.client_id[world.rogue_client.identity] = config.rogue_client_id
        self.suite = int(world.suite)
        self.group_id = world.group_id
        self.group_ids: tuple[bytes, ...] = world.group_ids
        self.group_index = {gid: g for g, gid in enumerate(self.group_ids)}
        self.contents: dict[bytes, mm.MigrationContent] = {}
        """content hash -> model content, for every content decoded so far."""
        self.own_members: dict[bytes, tuple[Any, ...]] = {}
        """group id -> the group's own member list (`know_groups`)."""

    def know_groups(self, states: Iterable[GroupState]) -> None:
        """The groups as they were created: a content's state carries their own member list
        or another (model GroupState.members)."""
        self.own_members = {s.group_id: tuple(s.members) for s in states}

    def members(self, state: GroupState) -> int:
        """OWN_MEMBERS where `state` lists the members its group was created with (or the
        group is none of the world's), OTHER_MEMBERS otherwise."""
        own = self.own_members.get(state.group_id)
        return mm.OWN_MEMBERS if own is None or tuple(state.members) == own else mm.OTHER_MEMBERS

    def nonce_of(self, data: bytes) -> Nonce:
        """The model nonce standing for nonce bytes (a seam: the remote driver learns the
        bytes a DS it cannot seed draws, impl/lockstep/remote.py)."""
        return nonce_of(data)

    def nonce_bytes(self, ds: int, index: int) -> bytes:
        """The bytes standing for model nonce (ds, index) (the inverse of `nonce_of`)."""
        return nonce_bytes(ds, index)

    def domain(self, ds: int) -> str:
        if ds == self.config.rogue_ds_id:
            return self.world.rogue_ds.domain
        return self.ds_domains[ds]

    def group(self, group_id: bytes) -> int:
        return self.group_index.get(group_id, -2)

    def request(self, r: MigrationRequest, client: str) -> mm.MigrationRequest:
        return mm.MigrationRequest(
            self.client_id.get(client, -2),
            self.ds_id.get(r.source_domain_name.decode(), -2),
            self.ds_id.get(r.target_domain_name.decode(), -2),
            self.group(r.group_id),
            r.epoch,
        )

    def response(self, resp: MigrationResponse, signer: str) -> mm.MigrationResponse:
        """`signer`: the DS whose key signed it (whoever sent it; honest DSs sign their own)."""
        return mm.MigrationResponse(
            self.ds_id.get(signer, -2),
            self.request(resp.migration_request, self._requester(resp)),
            self.nonce_of(resp.nonce),
        )

    def _requester(self, resp: MigrationResponse) -> str:
        """Who made the request a response answers: the client the target bound its nonce to
        (honest target), else R's own nonce, which only X's requests carry here."""
        for ds in self.world.dss:
            rec = ds.nonces.get(resp.nonce)
            if rec is not None:
                return rec.client
        return self.world.rogue_client.identity

    def response_signer(self, resp: MigrationResponse) -> str:
        from .. import signing

        for domain in (*self.ds_domains, self.world.rogue_ds.domain):
            key = self.world.trust.key(domain, self.suite)
            if key is not None and signing.verify(resp, CipherSuite(self.suite), key):
                return domain
        return "?"

    def content(self, payload: bytes, signer: str) -> mm.MigrationContent:
        c = MigrationContent.decode(payload)
        resp = c.migration_response
        state = GroupState.decode(c.group_state)
        out = mm.MigrationContent(
            self.ds_id.get(signer, -2),
            self.response(resp, self.response_signer(resp)),
            mm.GroupState(self.group(state.group_id), state.epoch, self.members(state)),
        )
        self.contents[migration_content_hash(CipherSuite(self.suite), payload)] = out
        return out

    def commit(self, payload: bytes) -> tuple[int, int, int]:
        """(epoch, committer, aad target) of an MLS commit of a group (else epoch -2)."""
        return self.group_commit(payload)[1:]

    def group_commit(self, payload: bytes) -> tuple[int, int, int, int]:
        """(group, epoch, committer, aad target) of an MLS commit of a group of the world
        (else group and epoch -2)."""
        message = MLSMessage.decode(payload)
        public = message.public_message
        assert public is not None
        content = public.content
        aad = NONE
        if content.authenticated_data:
            target = MigrationCommitAAD.decode(content.authenticated_data).target_ds_domain
            aad = self.ds_id.get(target.decode(), -2)
        group = self.group(content.group_id)
        epoch = content.epoch if group >= 0 else -2
        return group, epoch, content.sender.index or 0, aad

    def message(self, env: Envelope) -> Any:
        """The model message an envelope an honest party sent stands for (None: none)."""
        kind, payload, sender = env.kind, env.payload, env.sender
        try:
            if kind == Kind.MigrationRequest:
                return self.request(MigrationRequest.decode(payload), sender)
            if kind == Kind.MigrationResponse:
                return self.response(MigrationResponse.decode(payload), sender)
            if kind == Kind.MigrationInitWithCommit:
                bundle = MigrationInitWithCommit.decode(payload)
                resp = bundle.migration_init.migration_response
                epoch, _, aad = self.commit(bundle.commit)
                return mm.MigrationInit(
                    self.client_id.get(sender, -2),
                    self.response(resp, self.response_signer(resp)),
                    epoch,
                    aad,
                )
            if kind == Kind.MigrationContent:
                return self.content(payload, sender)
            if kind == Kind.TargetMigrationComplete:
                h = TargetMigrationComplete.decode(payload).migration_content_hash
                return mm.TargetMigrationComplete(self.ds_id.get(sender, -2), self.contents[h])
            if kind == Kind.TargetMigrationRejected:
                h = TargetMigrationRejected.decode(payload).migration_content_hash
                content = self.contents[h]
                if env.recipient in self.client_id:  # the source forwards it: MigrationAborted
                    return mm.MigrationAborted(
                        self.ds_id.get(sender, -2), content.state.group, content.response.nonce
                    )
                return mm.TargetMigrationRejected(self.ds_id.get(sender, -2), content)
            if kind == Kind.MigrationConfirmation:
                conf = MigrationConfirmation.decode(payload)
                return mm.MigrationConfirmation(
                    self.ds_id.get(sender, -2),
                    self.ds_id.get(conf.domain_name.decode(), -2),
                    self.nonce_of(conf.nonce),
                    self.group(conf.group_id),
                )
            if kind == Kind.Fanout:
                group, epoch, committer, aad = self.group_commit(payload)
                return mm.CommitFanout(self.ds_id.get(sender, -2), group, epoch, committer, aad)
        except (DecodeError, KeyError) as err:
            return ("undecodable", str(kind), repr(err))
        return None


def _host(dec: Decoder, ds: DeliveryService, gid: bytes) -> ms.Host:
    hosted = ds.groups.get(gid)
    if hosted is not None:
        origin = NONE if hosted.source is None else dec.ds_id.get(hosted.source, -2)
        if hosted.lock is None:
            return ms.active(hosted.state.epoch, origin)
        content = dec.content(hosted.lock.content, ds.domain)
        return ms.Host(
            ms.LOCKED, hosted.state.epoch, dec.ds_id[hosted.lock.target], content, origin
        )
    tomb = ds.tombstones.get(gid)
    if tomb is not None:
        return ms.moved(dec.ds_id.get(tomb.target, -2))
    return ms.ABSENT_HOST


_PHASE = {
    NonceStatus.PENDING: ms.PENDING,
    NonceStatus.CONSUMED: ms.CONSUMED,
    NonceStatus.EXPIRED: ms.EXPIRED,
    NonceStatus.REJECTED: REJECTED_PHASE,
}


def _pool(dec: Decoder, ds_index: int, ds: DeliveryService,
          now: float | None = None) -> tuple[ms.NonceRecord, ...]:
    pool = [ms.UNUSED_NONCE] * dec.config.attempts
    for raw, rec in ds.nonces.items():
        owner, index = nonce_of(raw)
        request = dec.request(rec.request, rec.client)
        content = mm.NO_CONTENT
        if rec.content_hash is not None and rec.status is NonceStatus.CONSUMED:
            content = dec.contents[rec.content_hash]
        phase = _PHASE[rec.status]
        if (rec.status is NonceStatus.PENDING and now is not None
                and now - rec.issued_at >= ds.nonce_lifetime):
            phase = ms.EXPIRED  # past its lifetime: expired, whether a tick marked it or not
        record = ms.NonceRecord(phase, request, content)
        if owner != ds_index or not 0 <= index < len(pool):
            pool.append(record)  # a nonce the model cannot have: never equal
        else:
            pool[index] = record
    return tuple(pool)


def _view(dec: Decoder, world: World, c: int, gid: bytes) -> ms.ClientView:
    m = world.clients[c].groups[gid]
    p = m.pending
    if p is None:
        return ms.ClientView(dec.ds_id[m.ds], m.state.epoch, NO_NONCE, NONE)
    target = dec.ds_id.get(p.request.target_domain_name.decode(), -2)
    nonce = NO_NONCE if p.nonce is None else dec.nonce_of(p.nonce)
    return ms.ClientView(dec.ds_id[m.ds], m.state.epoch, nonce, target)


def _ghost(dec: Decoder, sent: list[Any], obs: Observed) -> ms.Ghost:
    config = dec.config
    history: set[ms.Commit] = set()
    imports: set[ms.Import] = set()
    reimports: set[ms.Import] = set()
    starts: set[ms.Start] = set()
    fanned: set[mm.MigrationContent] = set()
    for ds_index, ds in enumerate(dec.world.dss):
        for ev in ds.events:
            if ev.group_id not in dec.group_index:
                continue
            match ev:
                case Sequenced(commit=commit):
                    group, epoch, committer, aad = dec.group_commit(commit)
                    history.add(ms.Commit(group, epoch, ds_index, committer, aad))
                case Acknowledged(content_hash=content_hash):
                    fanned.add(dec.contents[content_hash])
                case Exported(content_hash=content_hash):
                    init = obs.inits.get(content_hash)
                    if init is not None:
                        starts.add(ms.Start(ds_index, init))
                    else:
                        unobserved = ("unobserved", content_hash)
                        starts.add(ms.Start(ds_index, unobserved))  # type: ignore[arg-type]
                case Imported(content_hash=content_hash):
                    content = dec.contents[content_hash]
                    replaced = obs.replaced.get((ds_index, content_hash), -2)
                    entry = ms.Import(ds_index, content, replaced)
                    if any(i.target == ds_index and i.content == content for i in imports):
                        reimports.add(entry)
                    else:
                        imports.add(entry)
                    r = content.response.request
                    if 0 <= r.source < config.honest_ds:
                        history.add(ms.Commit(r.group, r.epoch, r.source, r.client, ds_index))
                case Fanout() | Unlocked():
                    pass
    return ms.Ghost(
        frozenset(history),
        frozenset(imports),
        frozenset(reimports),
        frozenset(starts),
        frozenset(fanned),
        frozenset(obs.accepted),
    )


def abstract(dec: Decoder, sent: list[Any], obs: Observed,
             clocks: list[int] | None = None) -> ms.State:
    """The model state the implementation's world stands for.  `sent`: the model messages
    of every envelope honest parties emitted (`Decoder.message`, in order); `clocks`: each
    honest DS's time now (a pending nonce past its lifetime then is expired)."""
    world = dec.world
    dss = world.dss
    hosts = tuple(tuple(_host(dec, ds, gid) for gid in dec.group_ids) for ds in dss)
    nonces = tuple(_pool(dec, i, ds, None if clocks is None else float(clocks[i]))
                   for i, ds in enumerate(dss))
    return ms.State(hosts, nonces, client_views(dec), network_of(sent),
                    _ghost(dec, sent, obs))


def client_views(dec: Decoder) -> tuple[tuple[ms.ClientView, ...], ...]:
    """The model's clients component: each honest client's view of the group."""
    return tuple(tuple(_view(dec, dec.world, c, gid) for gid in dec.group_ids)
                 for c in range(dec.config.clients))


def network_of(sent: list[Any]) -> ms.Network:
    """The model's network: the model messages of every envelope honest parties emitted."""
    slots: list[set[Any]] = [set() for _ in ms.SLOT]
    for m in sent:
        if m is None:
            continue
        slot = ms.SLOT.get(type(m))
        if slot is None:
            slots[0].add(m)  # undecodable: never equal
        else:
            slots[slot].add(m)
    return ms.Network(*(frozenset(s) for s in slots))


def explain(expected: ms.State, actual: ms.State) -> str:
    """Which components of two states differ, for a divergence report."""
    lines = []
    for name in ("hosts", "nonces", "clients"):
        if getattr(expected, name) != getattr(actual, name):
            lines.append(f"{name}: model {getattr(expected, name)} impl {getattr(actual, name)}")
    parts: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]] = [
        ("network", ms.Network._fields, expected.network),
        ("ghost", ms.Ghost._fields, expected.ghost),
    ]
    actual_parts: list[tuple[Any, ...]] = [actual.network, actual.ghost]
    for (prefix, fields, mine), theirs in zip(parts, actual_parts, strict=True):
        for name, a, b in zip(fields, mine, theirs, strict=True):
            if a != b:
                lines.append(f"{prefix}.{name}: model-only {set(a - b)} impl-only {set(b - a)}")
    return "\n".join(lines)


def fanout_divergences(
    config: Config, network: ms.Network, reached: dict[Any, frozenset[int]]
) -> list[str]:
    """Each model CommitFanout of `network` whose recipients in the implementation
    (`reached`: model message -> the client ids honest DSs sent a Fanout envelope of it
    to, the rogue client's id included) are not exactly the members the rules route it
    to (model/routing.py `addressed`)."""
    out = []
    for m in network.fanouts:
        members = _members(config, m)
        got = reached.get(m, frozenset())
        if got != members:
            out.append(f"{m}: sent to clients {sorted(got)}, the members are {sorted(members)}"
                       f" (left out {sorted(members - got)}, non-members {sorted(got - members)})")
    return out


@functools.lru_cache(maxsize=1024)
def _members(config: Config, m: Any) -> frozenset[int]:
    """The clients the rules route `m` to (model/routing.py `addressed`)."""
    from model.routing import addressed

    return frozenset(i for role, i in addressed(config, m) if role == "client")
