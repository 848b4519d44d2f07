"""`mimi-portability workload`: a world's clients driven against its running servers.

This module owns the script: create `groups` groups (a GroupCreation at one DS each, then
every member joins), and `migrations` migrations spread round-robin over them, each after
`commits` ordinary commits by random members; a migration moves its group to the next DS
of the world (with two DSs: back and forth).  Everything a member sends goes through its
relay (impl/http/client.py): a lost answer is retried with the same bytes and is never
taken for a failure or a success; a member learns the outcome only from what the DSs
answer or queue for it.  A migration ends

- completed: every member is at the target, nothing pending;
- refused: a DS refused the request or the MigrationInit (the initiator abandons it, as
  an application would; the group stays where it was);
- aborted: the target rejected the content (a signed TargetMigrationRejected, forwarded);
- indeterminate: none of these within the timeout (a failure: exit 1).

The result counts them; `ok` is true when no migration is indeterminate and no commit was
lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import random
import time
from typing import Any

import httpx

from ..client import Client
from ..events import Abandoned, Aborted
from ..group_state import GroupState, Member
from .client import HttpMember, http_client
from .config import WorldFile

POLL_PAUSE = 0.02


@dataclasses.dataclass
class WorkloadResult:
    groups: int = 0
    commits: int = 0
    commits_refused: int = 0
    completed: int = 0
    refused: int = 0
    aborted: int = 0
    indeterminate: int = 0
    seconds: float = 0.0
    problems: list[str] = dataclasses.field(default_factory=list)
    placement: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.indeterminate == 0 and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"groups": self.groups, "commits": self.commits,
                "commits_refused": self.commits_refused,
                "migrations": {"completed": self.completed, "refused": self.refused,
                               "aborted": self.aborted, "indeterminate": self.indeterminate},
                "seconds": round(self.seconds, 3), "ok": self.ok, "problems": self.problems,
                "placement": self.placement}

    def format_text(self) -> str:
        return (f"{self.groups} groups, {self.commits} commits ({self.commits_refused} "
                f"refused), migrations: {self.completed} completed, {self.refused} refused, "
                f"{self.aborted} aborted, {self.indeterminate} indeterminate; "
                f"{self.seconds:.1f} s" + "".join(f"\nproblem: {p}" for p in self.problems))


class Workload:
    def __init__(self, world: WorldFile, *, seed: int, timeout: float,
                 members: dict[str, HttpMember]) -> None:
        self.world = world
        self.domains = sorted(world.ds)
        self.rng = random.Random(seed)
        self.timeout = timeout
        self.members = members
        self.result = WorkloadResult()

    def _settle(self, group: list[HttpMember], gid: bytes, extra: list[tuple[HttpMember, str]]
                ) -> None:
        """One round: every member flushes, and fetches its queue at its group's DS (and
        the `extra` (member, DS) pairs)."""
        for m in group:
            m.flush()
        for m in group:
            view = m.role.groups.get(gid)
            if view is not None:
                m.poll(view.ds)
        for m, ds in extra:
            m.poll(ds)
            m.flush()

    def create(self, index: int, token: str, size: int) -> tuple[bytes, list[HttpMember]]:
        names = sorted(self.members)
        chosen = [names[(index + i) % len(names)] for i in range(size)]
        group = [self.members[n] for n in chosen]
        gid = f"workload {token} group {index}".encode()
        state = GroupState(group_id=gid, epoch=0, cipher_suite=self.world.suite,
                           members=tuple(Member(leaf_index=i, identity=m.identity.encode(),
                                                signature_key=m.key.public_bytes())
                                         for i, m in enumerate(group)))
        ds = self.domains[index % len(self.domains)]
        status, refusal = group[0].create_group(state, ds)
        if status != 202:
            raise ValueError(f"{ds} refused the creation of group {index}: {status} "
                             f"{refusal.code.decode() if refusal else ''}")
        for i, m in enumerate(group):
            m.call(functools.partial(Client.join, state=state, ds=ds, leaf_index=i))
        self.result.groups += 1
        return gid, group

    def commit(self, gid: bytes, group: list[HttpMember]) -> None:
        committer = self.rng.choice(group)
        epoch = committer.role.groups[gid].state.epoch
        refusals = len(committer.refusals)
        committer.call(lambda c: c.commit(gid))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            self._settle(group, gid, [])
            epochs = {m.role.groups[gid].state.epoch for m in group}
            if epochs == {epoch + 1}:
                self.result.commits += 1
                return
            if len(committer.refusals) > refusals and epochs == {epoch}:
                self.result.commits_refused += 1
                return
            time.sleep(POLL_PAUSE)
        self.result.problems.append(f"commit at epoch {epoch} of {gid!r}: no outcome")

    def migrate(self, gid: bytes, group: list[HttpMember]) -> None:
        initiator = self.rng.choice(group)
        view = initiator.role.groups[gid]
        source = view.ds
        target = self.domains[(self.domains.index(source) + 1) % len(self.domains)]
        events = len(initiator.role.events)
        refusals = len(initiator.refusals)
        initiator.call(lambda c: c.start_migration(gid, target))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            self._settle(group, gid, [(initiator, target)])
            new = [e for e in initiator.role.events[events:] if e.group_id == gid]
            if all(m.role.groups[gid].ds == target and m.role.groups[gid].pending is None
                   for m in group):
                self.result.completed += 1
                return
            if any(isinstance(e, Aborted) for e in new):
                self.result.aborted += 1
                return
            if any(isinstance(e, Abandoned) for e in new):
                self.result.refused += 1
                return
            pending = initiator.role.groups[gid].pending
            if (pending is not None and pending.nonce is not None and any(
                    ds == source for ds, _ in initiator.refusals[refusals:])):
                # the source refused the MigrationInit (a commit won the epoch, ...): the
                # application gives the attempt up (Client.abandon_migration)
                initiator.call(lambda c: c.abandon_migration(gid))
                continue
            time.sleep(POLL_PAUSE)
        self.result.indeterminate += 1
        self.result.problems.append(f"migration of {gid!r} {source} -> {target}: no outcome "
                                    f"within {self.timeout:g} s")


def run(world: WorldFile, *, groups: int, migrations: int, commits: int = 1,
        members: int | None = None, seed: int = 0, timeout: float = 60.0) -> WorkloadResult:
    """Run the workload (the module docstring); ValueError for bad arguments."""
    if migrations < 0 or commits < 0:
        raise ValueError("--migrations and --commits must be 0 or more")
    size = len(world.clients) if members is None else members
    if not 1 <= size <= len(world.clients):
        raise ValueError(f"--members must be 1..{len(world.clients)}")
    if len(world.ds) < 2 and migrations:
        raise ValueError("a migration needs two DSs in the world")
    started = time.monotonic()
    with http_client(world.ca) as http:
        parties = {c.identity: HttpMember(c, world, http) for c in world.clients.values()}
        try:
            load = Workload(world, seed=seed, timeout=timeout, members=parties)
            token = f"{seed}-{os.urandom(4).hex()}"
            made = [load.create(i, token, size) for i in range(groups)]
            for step in range(migrations):
                gid, group = made[step % groups]
                for _ in range(commits):
                    load.commit(gid, group)
                load.migrate(gid, group)
            for gid, group in made:
                load.result.placement[gid.hex()] = group[0].role.groups[gid].ds
        finally:
            for party in parties.values():
                with contextlib.suppress(httpx.HTTPError, OSError):
                    party.acknowledge()
                party.close()
    load.result.seconds = time.monotonic() - started
    return load.result


__all__ = ["WorkloadResult", "run"]
