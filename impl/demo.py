"""`mimi-portability demo`: one whole migration over the in-memory network, with faults.

This module owns the demo's script: build a world (impl.world), start a migration from
member-0, deliver every message in order, and under a named fault let the adversary act at
the right moment, then report every message, every refusal and the final state, with
profile.md's safety properties evaluated on it.  The faults:

- drop-ack: the first TargetMigrationComplete is lost; the source re-sends the same
  MigrationContent on its next tick (it never unlocks on a timeout) and the target, which
  consumed the nonce, acknowledges the identical retry again.
- duplicate-content: the MigrationContent arrives twice; the second gets the same
  acknowledgment, which the source, already moved, takes as a duplicate.
- replay-content: after the migration an attacker replays the recorded MigrationContent and
  MigrationInitWithCommit; the target re-acknowledges (same hash, nothing imported twice),
  the source answers the init with its tombstone (group_moved).
- concurrent-migrations: member-1 asks the same target to import the group while member-0's
  request is pending: refused (group_exists); member-1 follows the group by the fan-out.
- rogue-ds: a third DS forges a TargetMigrationComplete to the source, a MigrationContent to
  the target and a MigrationConfirmation to member-0, each signed with its own key: all
  refused (bad_signature), the real migration completes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from . import signing
from .ds import GroupPhase
from .envelope import Envelope, Kind
from .messages import MigrationContent
from .network import Delivery
from .tracelog.record import NetworkTraces
from .world import TARGET, World, build_world

FAULTS = ("drop-ack", "duplicate-content", "replay-content", "concurrent-migrations", "rogue-ds")


@dataclasses.dataclass
class DemoResult:
    world: World
    fault: str | None
    deliveries: list[Delivery]
    notes: list[str]

    @property
    def violations(self) -> list[str]:
        problems = self.world.safety_violations()
        for client in self.world.clients:
            view = client.groups[self.world.group_id]
            if view.ds != TARGET or view.state.epoch != self.world.initial_epoch + 1:
                problems.append(f"{client.identity} is at {view.ds} epoch {view.state.epoch}")
        if self.world.source.status(self.world.group_id) != GroupPhase.MOVED:
            problems.append("the source does not hold a tombstone")
        return problems

    def to_json(self) -> dict[str, Any]:
        w = self.world
        gid = w.group_id
        tomb = w.source.tombstones.get(gid)
        hosted = w.target.groups.get(gid)
        return {
            "fault": self.fault,
            "cipher_suite": int(w.suite),
            "messages": [
                {
                    "type": d.envelope.kind,
                    "from": d.envelope.sender,
                    "to": d.envelope.recipient,
                    "bytes": len(d.envelope.payload),
                    **({"refused": d.refusal.code} if d.refusal else {}),
                }
                for d in self.deliveries
            ],
            "members": [
                {"identity": c.identity, "ds": c.groups[gid].ds, "epoch": c.groups[gid].state.epoch}
                for c in w.clients
            ],
            "source": {
                "domain": w.source.domain,
                "status": w.source.status(gid),
                "tombstone": tomb.target if tomb else None,
            },
            "target": {
                "domain": w.target.domain,
                "status": w.target.status(gid),
                "epoch": hosted.state.epoch if hosted else None,
            },
            "notes": self.notes,
            "safety_violations": self.violations,
        }


def _deliver_until(world: World, kind: Kind, now: float) -> None:
    """Deliver in order until an envelope of `kind` is next in flight."""
    net = world.network
    while net.in_flight and net.in_flight[0].kind != kind:
        net.deliver(now)
    if not net.in_flight:
        raise RuntimeError(f"the migration ended before any {kind} was sent")


def run_demo(
    *, members: int = 5, suite: int = 1, fault: str | None = None, seed: int = 0,
    trace: Path | None = None,
) -> DemoResult:
    """`trace`: a folder to write every honest role's log to (docs/trace-format.md)."""
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
    world = build_world(members=members, suite=suite, seed=seed, epoch=7)
    net = world.network
    notes: list[str] = []
    traces = None
    if trace is not None:
        traces = NetworkTraces(trace, [world.source, world.target, *world.clients])
        net.trace = traces
    try:
        _script(world, fault, notes)
    finally:
        if traces is not None:
            traces.close()
    return DemoResult(world, fault, list(net.deliveries), notes)


def _script(world: World, fault: str | None, notes: list[str]) -> None:
    net, now = world.network, 0.0
    net.send([world.initiator.start_migration(world.group_id, TARGET)])
    if fault == "concurrent-migrations":
        net.deliver(now)  # member-0's request: the target now has a pending nonce for the group
        net.send([world.clients[1].start_migration(world.group_id, TARGET)])
        notes.append("member-1 requests the same migration while member-0's is pending")
    elif fault == "drop-ack":
        _deliver_until(world, Kind.TargetMigrationComplete, now)
        net.drop(0)
        notes.append("the first TargetMigrationComplete is dropped")
        now = world.source.retry_interval
        net.tick(now)
        notes.append(f"t={now:g}s: the source re-sends the same MigrationContent (never unlocks)")
    elif fault == "duplicate-content":
        _deliver_until(world, Kind.MigrationContent, now)
        net.duplicate(0)
        notes.append("the MigrationContent is delivered twice")
    elif fault == "rogue-ds":
        _deliver_until(world, Kind.MigrationContent, now)
        _rogue_ds(world, notes)
    world.run(now)
    if fault == "replay-content":
        for kind in (Kind.MigrationContent, Kind.MigrationInitWithCommit):
            index = next(i for i, e in enumerate(net.log) if e.kind == kind)
            net.replay(index)
            notes.append(f"an attacker replays the recorded {kind}")
        world.run(now)


def _rogue_ds(world: World, notes: list[str]) -> None:
    """While the real MigrationContent is in flight, the rogue DS forges what it can sign."""
    content_env = world.network.in_flight[0]
    rogue, net = world.rogue_ds, world.network
    hosted = world.source.groups[world.group_id]
    lock = hosted.lock
    assert lock is not None
    content = MigrationContent.decode(content_env.payload)
    forged: list[Envelope] = [
        rogue.complete(lock.content_hash, world.source.domain, as_sender=TARGET),
        rogue.content(
            content.migration_response, hosted.state, TARGET, as_sender=world.source.domain
        ),
        rogue.confirmation(
            TARGET,
            lock.nonce,
            world.group_id,
            world.initiator.identity,
            as_sender=world.source.domain,
        ),
    ]
    for envelope in forged:
        net.inject(envelope)
    assert signing.migration_content_hash(world.suite, content_env.payload) == lock.content_hash
    notes.append(
        "rogue.example forges a TargetMigrationComplete, a MigrationContent and a "
        "MigrationConfirmation, each signed with its own key"
    )


def format_text(result: DemoResult) -> str:
    lines = [
        f"MIMI Portability demo: {len(result.world.clients)} members, "
        f"ciphersuite {int(result.world.suite)} ({result.world.suite.name}), "
        f"fault: {result.fault or 'none'}",
        "",
    ]
    lines += [f"  note: {n}" for n in result.notes]
    if result.notes:
        lines.append("")
    for i, d in enumerate(result.deliveries, 1):
        e = d.envelope
        lines.append(f"{i:4}. {e.kind:<25} {len(e.payload):>7} B  {e.sender} -> {e.recipient}")
        if d.refusal is not None:
            lines.append(f"        refused: {d.refusal}")
    w = result.world
    lines.append("")
    at_target = sum(1 for c in w.clients if c.groups[w.group_id].ds == TARGET)
    epochs = sorted({c.groups[w.group_id].state.epoch for c in w.clients})
    lines.append(
        f"members at {TARGET}: {at_target}/{len(w.clients)}, epochs {epochs} "
        f"(started at {w.initial_epoch})"
    )
    tomb = w.source.tombstones.get(w.group_id)
    lines.append(
        f"{w.source.domain}: {w.source.status(w.group_id)}"
        + (f" (tombstone -> {tomb.target})" if tomb else "")
    )
    lines.append(f"{w.target.domain}: {w.target.status(w.group_id)}")
    problems = result.violations
    lines.append("safety: " + ("all properties hold" if not problems else "; ".join(problems)))
    return "\n".join(lines)
