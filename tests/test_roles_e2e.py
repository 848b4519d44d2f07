"""End-to-end migrations of impl.world worlds over the in-memory network.

Every suite, group sizes from 2 to 1000, a nonzero starting epoch; regular commits before
and after a migration (sequenced by the DS that serves the epoch); a member that missed the
fan-out and follows the source's tombstone redirect; migrating back and forth (a group that
left a DS may be imported by it again: the tombstone gives way to the new import); and a
migration that is retried after the first attempt's nonce expired.
"""

from __future__ import annotations

import dataclasses

import pytest

from impl.client import Client
from impl.errors import GroupMoved
from impl.events import Sequenced, Switched
from impl.group import group_context, next_epoch
from impl.group_state import GroupState, Member
from impl.messages import RejectionReason, TargetMigrationRejected
from impl.world import SOURCE, TARGET, World, build_world

HONEST_ORDER = [
    "MigrationRequest",
    "MigrationResponse",
    "MigrationInitWithCommit",
    "MigrationContent",
    "TargetMigrationComplete",
]


def migrate(world: World, destination: str = TARGET, *, by: int = 0, now: float = 0.0) -> None:
    world.network.send([world.clients[by].start_migration(world.group_id, destination)])
    world.run(now)


def commit(world: World, member: int, now: float = 0.0) -> None:
    world.network.send([world.clients[member].commit(world.group_id)])
    world.run(now)


def views(world: World) -> set[tuple[str, int]]:
    gid = world.group_id
    return {(c.groups[gid].ds, c.groups[gid].state.epoch) for c in world.clients}


def sequenced(world: World) -> dict[int, list[tuple[str, bytes]]]:
    """Epoch -> [(DS, commit)] from both DSs' ghost logs."""
    out: dict[int, list[tuple[str, bytes]]] = {}
    for ds in (world.source, world.target):
        for event in ds.events:
            if isinstance(event, Sequenced) and event.group_id == world.group_id:
                out.setdefault(event.epoch, []).append((ds.domain, event.commit))
    return out


def refusals(world: World) -> list[str]:
    return [d.refusal.code for d in world.network.deliveries if d.refusal is not None]


def assert_migrated(world: World, start_epoch: int, destination: str = TARGET) -> None:
    gid = world.group_id
    origin, served = (
        (world.source, world.target) if destination == TARGET else (world.target, world.source)
    )
    assert views(world) == {(destination, start_epoch + 1)}
    assert origin.status(gid) == "moved"
    assert origin.tombstones[gid].target == destination
    assert served.status(gid) == "active"
    hosted = served.groups[gid].state
    assert hosted.epoch == start_epoch + 1
    assert hosted.members == world.clients[0].groups[gid].state.members
    assert world.safety_violations() == []


@pytest.mark.parametrize("suite", range(1, 8))
def test_migration_completes_for_every_suite(suite: int) -> None:
    world = build_world(members=4, suite=suite, epoch=11)
    migrate(world)
    assert_migrated(world, 11)
    assert refusals(world) == []
    kinds = [d.envelope.kind for d in world.network.deliveries]
    assert kinds == [*HONEST_ORDER, "Fanout", "Fanout", "Fanout", "Fanout", "MigrationConfirmation"]
    assert world.initiator.events == [Switched(world.group_id, TARGET, 12, "fanout")]


@pytest.mark.parametrize(
    ("members", "epoch"),
    [(2, 0), (2, 7), (3, 0), (3, 2**32), (10, 1), (100, 5), (1000, 3)],
    ids=lambda v: str(v),
)
def test_migration_completes_for_group_sizes(members: int, epoch: int) -> None:
    world = build_world(members=members, epoch=epoch)
    migrate(world)
    assert_migrated(world, epoch)
    assert refusals(world) == []
    deliveries = world.network.deliveries
    fanouts = [d.envelope.recipient for d in deliveries if d.envelope.kind == "Fanout"]
    assert sorted(fanouts) == sorted(c.identity for c in world.clients)


def test_no_member_sees_the_commit_before_the_target_acknowledged() -> None:
    world = build_world(members=3, epoch=4)
    migrate(world)
    log = [e.kind for e in world.network.log]
    assert log.index("Fanout") > log.index("TargetMigrationComplete")
    events = [type(e).__name__ for e in world.source.events]
    assert events.index("Fanout") > events.index("Acknowledged") > events.index("Exported")


def test_regular_commits_before_and_after_a_migration() -> None:
    world = build_world(members=4, epoch=2)
    before = world.clients[2].commit(world.group_id)
    assert before.recipient == SOURCE
    commit(world, 2)
    assert views(world) == {(SOURCE, 3)}
    commit(world, 1)
    assert views(world) == {(SOURCE, 4)}
    migrate(world, by=3)
    assert_migrated(world, 4)
    after = world.clients[3].commit(world.group_id)
    assert after.recipient == TARGET
    commit(world, 3)
    assert views(world) == {(TARGET, 6)}
    commit(world, 0)
    assert views(world) == {(TARGET, 7)}
    assert world.target.groups[world.group_id].state.epoch == 7
    history = sequenced(world)
    assert {epoch: [ds for ds, _ in entries] for epoch, entries in history.items()} == {
        2: [SOURCE],
        3: [SOURCE],
        4: [SOURCE],  # the migration commit
        5: [TARGET],
        6: [TARGET],
    }
    assert refusals(world) == []
    assert world.safety_violations() == []


def test_commit_to_the_source_after_the_move_follows_the_redirect() -> None:
    world = build_world(members=4, epoch=9)
    net, late = world.network, world.clients[3]
    net.send([world.initiator.start_migration(world.group_id, TARGET)])
    while not (net.in_flight and net.in_flight[0].kind == "Fanout"):
        net.deliver(0.0)
    net.drop(net.find("Fanout", recipient=late.identity))
    world.run()
    assert late.groups[world.group_id].ds == SOURCE
    assert late.groups[world.group_id].state.epoch == 9
    assert world.source.status(world.group_id) == "moved"

    stale = late.commit(world.group_id)
    assert stale.recipient == SOURCE
    net.send([stale])
    delivery = net.deliver(0.0)
    assert isinstance(delivery.refusal, GroupMoved)
    assert delivery.refusal.target == TARGET
    assert delivery.refusal.commit == world.source.tombstones[world.group_id].commit
    assert [e.kind for e in delivery.sent] == ["Refusal"]
    assert delivery.sent[0].recipient == late.identity
    world.run()
    assert late.groups[world.group_id].ds == TARGET
    assert late.events[-1] == Switched(world.group_id, TARGET, 10, "redirect")
    assert views(world) == {(TARGET, 10)}

    commit(world, 3)  # the redirected member now commits where the group lives
    assert views(world) == {(TARGET, 11)}
    assert [ds for ds, _ in sequenced(world)[10]] == [TARGET]
    assert world.safety_violations() == []


def test_a_repeated_redirect_changes_nothing() -> None:
    world = build_world(members=3, epoch=1)
    net = world.network
    net.send([world.initiator.start_migration(world.group_id, TARGET)])
    while not (net.in_flight and net.in_flight[0].kind == "Fanout"):
        net.deliver(0.0)
    net.drop(net.find("Fanout", recipient=world.clients[2].identity))
    world.run()
    net.send([world.clients[2].commit(world.group_id)])
    world.run()
    refusal_index = max(i for i, e in enumerate(net.log) if e.kind == "Refusal")
    before = world.clients[2].snapshot()
    net.replay(refusal_index)
    world.run()
    assert world.clients[2].snapshot() == before
    assert views(world) == {(TARGET, 2)}


def test_migrating_back_and_forth() -> None:
    world = build_world(members=3, epoch=0)
    migrate(world)
    assert_migrated(world, 0)
    commit(world, 2)
    assert views(world) == {(TARGET, 2)}

    request = world.clients[1].start_migration(world.group_id, SOURCE)
    assert request.recipient == SOURCE
    world.network.send([request])
    world.run()
    # The source imports the group it once exported: the tombstone gives way to the import.
    assert_migrated(world, 2, destination=SOURCE)
    assert world.group_id not in world.source.tombstones
    assert world.source.status(world.group_id) == "active"

    migrate(world, by=2, now=1.0)
    assert_migrated(world, 3)
    commit(world, 0)
    assert views(world) == {(TARGET, 5)}
    history = sequenced(world)
    assert sorted(history) == [0, 1, 2, 3, 4]
    assert all(len(entries) == 1 for entries in history.values())
    assert [history[e][0][0] for e in range(5)] == [SOURCE, TARGET, TARGET, SOURCE, TARGET]
    assert refusals(world) == []
    assert world.safety_violations() == []


def test_migrating_back_with_a_lost_acknowledgment() -> None:
    world = build_world(members=3, epoch=1)
    migrate(world)
    net = world.network
    net.send([world.initiator.start_migration(world.group_id, SOURCE)])
    while net.in_flight[0].kind != "TargetMigrationComplete":
        net.deliver(0.0)
    net.drop(0)
    # The source imported, the target (now the exporter) is still locked: the legitimate
    # overlap, in this direction too.
    assert world.source.status(world.group_id) == "active"
    assert world.target.status(world.group_id) == "locked"
    assert world.safety_violations() == []
    net.tick(world.target.retry_interval)
    world.run(world.target.retry_interval)
    assert_migrated(world, 2, destination=SOURCE)


def test_old_messages_of_an_earlier_migration_do_not_disturb_the_next() -> None:
    world = build_world(members=3, epoch=0)
    migrate(world)
    first = list(world.network.log)
    migrate(world, SOURCE, by=1)
    before = (world.source.snapshot(), world.target.snapshot())
    views_before = views(world)
    world.network.send(first)  # an attacker replays the whole first migration
    world.run()
    assert views(world) == views_before
    assert world.source.status(world.group_id) == "active"
    assert world.target.status(world.group_id) == "moved"
    # Nothing imported, exported or sequenced anew; the replays were refused or re-acknowledged.
    assert [e for e in world.source.snapshot()[3] if not isinstance(e, Sequenced)] == [
        e for e in before[0][3] if not isinstance(e, Sequenced)
    ]
    assert world.target.snapshot()[3] == before[1][3]
    assert world.safety_violations() == []


def test_retry_after_the_first_nonce_expired() -> None:
    world = build_world(members=3, epoch=6, nonce_lifetime=10.0, retry_interval=100.0)
    net = world.network
    net.send([world.initiator.start_migration(world.group_id, TARGET)])
    for _ in range(3):  # request, response, init: the MigrationContent is in flight
        net.deliver(0.0)
    assert world.source.status(world.group_id) == "locked"
    world.run(10.0)  # the content arrives when the nonce has expired
    rejected = [d for d in net.deliveries if d.envelope.kind == "TargetMigrationRejected"]
    assert len(rejected) == 2  # target -> source, source -> client (forwarded)
    reason = TargetMigrationRejected.decode(rejected[0].envelope.payload).reason
    assert reason == RejectionReason.EXPIRED_NONCE
    assert world.source.status(world.group_id) == "active"
    assert world.initiator.groups[world.group_id].pending is None
    assert world.target.status(world.group_id) == "absent"
    commit(world, 1, now=11.0)  # the unlocked group goes on at the source
    assert views(world) == {(SOURCE, 7)}
    migrate(world, now=12.0)
    assert_migrated(world, 7)
    assert world.safety_violations() == []


def test_each_member_keeps_its_own_view() -> None:
    world = build_world(members=3, epoch=0)
    migrate(world)
    clients: list[Client] = world.clients
    assert {c.groups[world.group_id].leaf_index for c in clients} == {0, 1, 2}
    assert all(c.groups[world.group_id].pending is None for c in clients)
    assert world.initiator.groups[world.group_id].completed_nonce is not None


def test_epochs_and_tree_hashes_along_a_migration_match_a_fresh_computation() -> None:
    """impl.group skips re-checking the member list on each epoch and caches tree hashes per
    member list; both must give exactly what building and hashing from scratch gives."""
    world = build_world(members=5, epoch=3)
    migrate(world)
    commit(world, 4)
    for state in [c.groups[world.group_id].state for c in world.clients] + [
        world.target.groups[world.group_id].state
    ]:
        rebuilt = GroupState(
            group_id=state.group_id,
            epoch=state.epoch,
            cipher_suite=state.cipher_suite,
            members=tuple(Member.decode(m.encode()) for m in state.members),
        )
        assert rebuilt == state and rebuilt.encode() == state.encode()
        assert group_context(rebuilt) == group_context(state)
        assert next_epoch(rebuilt) == dataclasses.replace(rebuilt, epoch=rebuilt.epoch + 1)
    with pytest.raises(ValueError):
        next_epoch(dataclasses.replace(state, epoch=2**64 - 1))
