"""A ready-made world: source and target DSs, a group of members, a rogue DS and client.

This module owns setting up the parties the demo, the tests and the benchmarks share, with
deterministic keys and randomness (the lockstep builds more: `honest_ds` DSs, and `groups`
groups of the same members, every one created at the first DS), and the safety checks of
docs/profile.md evaluated on the implementation's own state (`World.safety_violations`).
It decides nothing about the protocol; the roles do.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .adversary import RogueClient, RogueDS
from .client import Client
from .crypto import CipherSuite, SigningKey
from .ds import DeliveryService, GroupPhase, NonceStatus
from .envelope import SeededRandom, TrustStore
from .events import Acknowledged, Exported, Fanout, Imported, Sequenced
from .group_state import GroupState, Member
from .network import Network
from .policy import SourcePolicy, TargetPolicy

SOURCE = "source.example"
TARGET = "target.example"
ROGUE = "rogue.example"
GROUP_ID = b"mimi-portability demo group"


def ds_domain(index: int) -> str:
    """The domain of honest DS `index`: the source, the target, then ds2.example, ..."""
    return SOURCE if index == 0 else TARGET if index == 1 else f"ds{index}.example"


def group_id(index: int) -> bytes:
    """The id of group `index`: GROUP_ID, then GROUP_ID followed by the index."""
    return GROUP_ID if index == 0 else GROUP_ID + f" {index}".encode()


@dataclasses.dataclass
class World:
    suite: CipherSuite
    trust: TrustStore
    network: Network
    source: DeliveryService
    target: DeliveryService
    clients: list[Client]
    rogue_ds: RogueDS
    rogue_client: RogueClient
    group_id: bytes
    initial_epoch: int
    more_dss: list[DeliveryService] = dataclasses.field(default_factory=list)
    """Honest DSs beyond the source and the target (ds2.example, ...)."""
    more_groups: tuple[bytes, ...] = ()
    """Ids of groups beyond `group_id`, hosted by the source with the same members."""

    @property
    def dss(self) -> list[DeliveryService]:
        """Every honest DS, in order: the source, the target, then `more_dss`."""
        return [self.source, self.target, *self.more_dss]

    @dss.setter
    def dss(self, dss: list[DeliveryService]) -> None:
        if len(dss) != 2 + len(self.more_dss):
            raise ValueError(f"{len(dss)} DSs for a world of {2 + len(self.more_dss)}")
        self.source, self.target, *rest = dss
        self.more_dss = list(rest)

    @property
    def group_ids(self) -> tuple[bytes, ...]:
        """Every group's id, in order: `group_id`, then `more_groups`."""
        return (self.group_id, *self.more_groups)

    @property
    def initiator(self) -> Client:
        return self.clients[0]

    def run(self, now: float = 0.0) -> int:
        return self.network.run(now)

    def safety_violations(self) -> list[str]:
        """profile.md's safety properties on the final state, as sentences (empty: all hold)."""
        return check_safety(self)


def build_world(
    *,
    members: int = 5,
    suite: int = 1,
    epoch: int = 0,
    seed: int | str = 0,
    source_policy: SourcePolicy | None = None,
    target_policy: TargetPolicy | None = None,
    nonce_lifetime: float = 300.0,
    retry_interval: float = 5.0,
    honest_ds: int = 2,
    groups: int = 1,
) -> World:
    if members < 1:
        raise ValueError("a group needs at least one member")
    if honest_ds < 2 or groups < 1:
        raise ValueError(f"a world needs at least 2 honest DSs and 1 group, not "
                         f"{honest_ds} and {groups}")
    cs = CipherSuite.parse(suite)
    trust = TrustStore()
    random = SeededRandom(f"world {seed}")

    def ds(domain: str, **kw: Any) -> DeliveryService:
        key = SigningKey.derive(cs, f"{seed} ds {domain}".encode())
        trust.add(domain, cs, key.public_bytes())
        return DeliveryService(
            domain,
            keys={cs: key},
            trust=trust,
            random=random,
            nonce_lifetime=nonce_lifetime,
            retry_interval=retry_interval,
            **kw,
        )

    source = ds(SOURCE, source_policy=source_policy)
    target = ds(TARGET, target_policy=target_policy)
    more_dss = [ds(ds_domain(i), source_policy=source_policy, target_policy=target_policy)
                for i in range(2, honest_ds)]
    rogue_key = SigningKey.derive(cs, f"{seed} ds {ROGUE}".encode())
    trust.add(ROGUE, cs, rogue_key.public_bytes())
    clients, leaves = [], []
    for i in range(members):
        key = SigningKey.derive(cs, f"{seed} member {i}".encode())
        identity = f"member-{i}@client.example"
        clients.append(Client(identity, key=key, trust=trust))
        leaves.append(
            Member(leaf_index=i, identity=identity.encode(), signature_key=key.public_bytes())
        )
    network = Network()
    for d in (source, target, *more_dss):
        network.attach(d)
    for client in clients:
        network.attach(client)
    for g in range(groups):
        state = GroupState(group_id=group_id(g), epoch=epoch, cipher_suite=cs,
                           members=tuple(leaves))
        source.create_group(state)
        for i, client in enumerate(clients):
            client.join(state, SOURCE, i)
    rogue_client_key = SigningKey.derive(cs, f"{seed} rogue client".encode())
    return World(
        suite=cs,
        trust=trust,
        network=network,
        source=source,
        target=target,
        clients=clients,
        rogue_ds=RogueDS(ROGUE, rogue_key),
        rogue_client=RogueClient("mallory@rogue.example", rogue_client_key),
        group_id=GROUP_ID,
        initial_epoch=epoch,
        more_dss=more_dss,
        more_groups=tuple(group_id(g) for g in range(1, groups)),
    )


def check_safety(world: World) -> list[str]:
    """single_owner, no_fanout_before_ack, nonce_binding, state_integrity, confirmation_matches
    on the implementation's state and ghost logs, for every group.  Any honest DS may be the
    exporter: a group can move source -> target and back (or on to a third DS), each move a
    fresh import."""
    problems: list[str] = []
    for gid in world.group_ids:
        problems.extend(_group_safety(world, gid))
    for importer in world.dss:
        problems.extend(_import_safety(world, importer))
    return problems


def _group_safety(world: World, gid: bytes) -> list[str]:
    """single_owner and no_fanout_before_ack of the group `gid`."""
    problems: list[str] = []
    dss = world.dss
    named = "" if gid == world.group_id else f" (group {gid.decode(errors='replace')})"
    serving = [
        d.domain
        for d in dss
        if d.status(gid) in (GroupPhase.ACTIVE, GroupPhase.LOCKED)
        and not _foreign(world, d, gid)
    ]
    if len(serving) > 1 and not any(
        _acked_pending(world, s, t, gid) for s in dss for t in dss if s is not t
    ):
        problems.append(f"single_owner: the group is served by {serving}{named}")
    sequenced: dict[int, set[bytes]] = {}
    for d in dss:
        for ev in d.events:
            if isinstance(ev, Sequenced) and ev.group_id == gid:
                sequenced.setdefault(ev.epoch, set()).add(ev.commit)
    for epoch, commits in sorted(sequenced.items()):
        if len(commits) > 1:
            problems.append(
                f"single_owner: {len(commits)} different commits sequenced at epoch {epoch}"
                f"{named}"
            )
    for exporter in dss:
        acked = False  # in event order: an acknowledgment must precede the fan-out
        for ev in exporter.events:
            if isinstance(ev, Acknowledged) and ev.group_id == gid:
                acked = True
            elif isinstance(ev, Fanout) and ev.group_id == gid and not acked:
                problems.append(
                    "no_fanout_before_ack: migration commit fanned out before acknowledgment"
                    f"{named}"
                )
    return problems


def _import_safety(world: World, importer: DeliveryService) -> list[str]:
    """nonce_binding and state_integrity of every import `importer` made from an honest DS."""
    problems: list[str] = []
    by_domain = {d.domain: d for d in world.dss}
    imported = [
        ev
        for ev in importer.events
        if isinstance(ev, Imported) and not _from_outside(world, importer, ev)
    ]
    nonces = [ev.nonce for ev in imported]
    if len(nonces) != len(set(nonces)):
        problems.append("nonce_binding: a nonce imported more than once")
    for ev in imported:
        record = importer.nonces.get(ev.nonce)
        if (
            record is None
            or record.status is not NonceStatus.CONSUMED
            or record.request.group_id != ev.group_id
        ):
            problems.append(
                "nonce_binding: an import under a nonce not issued for that request"
            )
            continue
        exporter = by_domain[record.request.source_domain_name.decode()]
        exported = {e.content_hash for e in exporter.events if isinstance(e, Exported)}
        if ev.content_hash not in exported:
            problems.append(
                f"state_integrity: {importer.domain} imported a state "
                f"{exporter.domain} never exported"
            )
    return problems


def _from_outside(world: World, importer: DeliveryService, event: Imported) -> bool:
    """An import whose request names a source outside this world (e.g. the rogue DS): another
    group that happens to carry the same id. Group ids are unique per DS only (the draft's
    TODO on globally unique ids), so it is not this group's owner (lockstep finding F1)."""
    record = importer.nonces.get(event.nonce)
    domains = {d.domain for d in world.dss}
    return record is not None and record.request.source_domain_name.decode() not in domains


def _foreign(world: World, ds: DeliveryService, gid: bytes) -> bool:
    """Whether `ds` hosts the group id because of its latest import from outside the world."""
    imports = [ev for ev in ds.events if isinstance(ev, Imported) and ev.group_id == gid]
    return bool(imports) and _from_outside(world, ds, imports[-1])


def _acked_pending(world: World, exporter: DeliveryService, importer: DeliveryService,
                   gid: bytes) -> bool:
    """The legitimate overlap: exporter locked, importer imported, acknowledgment not yet back."""
    hosted = exporter.groups.get(gid)
    return (
        hosted is not None
        and hosted.lock is not None
        and importer.status(gid) == GroupPhase.ACTIVE
        and any(
            isinstance(ev, Imported) and ev.content_hash == hosted.lock.content_hash
            for ev in importer.events
        )
    )
