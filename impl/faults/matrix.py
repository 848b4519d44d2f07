"""The wire fault and SIGKILL matrix: a migration over two real servers, faulted at each step.

This module owns naming the steps of a migration as the proxies see them, and running one
migration of a fresh group (impl/http/workload.py's script: GroupCreation at the source,
every member joins, one migration to the target) with one fault armed or one server set to
kill itself, then judging the settled world (impl/faults/loopback.py).

The steps (`STEPS`), each the HTTP request that carries it:

* MigrationRequest: a member's POST to the target (the target's proxy);
* MigrationResponse: the initiator's queue fetch at the target once the MigrationRequest
  was accepted (the fetch whose answer carries the response);
* MigrationInitWithCommit: the initiator's POST to the source;
* MigrationContent: the source's POST to the target;
* TargetMigrationComplete: the target's POST to the source;
* MigrationConfirmation: the initiator's queue fetch at the source once the
  TargetMigrationComplete was accepted;
* Fanout: another member's queue fetch at the source once the TargetMigrationComplete
  was accepted (the fan-out of the migration commit).

A fault that acts on the answer (drop_response, cut_response, duplicate) at a queue step
fires only on the fetch whose answer really holds that message (`Fault.answer`); one that
acts before the answer (drop_request, cut_request, delay) fires on the member's first fetch
after the request that queues the message reached the proxy.  A cell whose fault did not
fire (the member fetched the message before that moment) is run again on a fresh group, up
to `ATTEMPTS` runs; a cell whose fault never fired is a failed cell, not a pass.

What must hold after every run (`Cell.problems`): the migration completed (a fault here
is never permanent, so a migration a healthy pair of servers cannot finish is a bug);
0 lost and 0 forked groups over every group of the world (`/status`); every member follows
every group at the DS serving it, in its epoch (the members' own state files); and, while
the run went on, no moment at which the group was active at both DSs (`Watch`, reading the
target's /status before the source's, so an overlap it sees is real).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable

import httpx

from ..http import wire, workload
from ..http.client import HttpMember, http_client, tls_verify
from ..http.wire import TransactionEnvelope, WireType
from ..storage.driver import CrashPoint
from .loopback import LoopbackWorld
from .proxy import AFTER_ANSWER, Fault, Mode, Proxy, Request, Response, Seen

STEPS: tuple[str, ...] = (
    "MigrationRequest", "MigrationResponse", "MigrationInitWithCommit", "MigrationContent",
    "TargetMigrationComplete", "MigrationConfirmation", "Fanout",
)
MODES: tuple[Mode, ...] = tuple(Mode)
#: How long a DELAY fault holds its request (shorter than every client's timeout: the
#: point is reordering, not a lost answer, which drop_response covers).
DELAY_SECONDS = 0.4
#: Runs of one cell at most, until its fault fires.
ATTEMPTS = 3
NOT_FIRED = "the fault never fired"
#: A run's migration must end within this (far above a faulted run's second or two).
TIMEOUT = 20.0


def wire_type(body: bytes) -> WireType | None:
    try:
        return TransactionEnvelope.decode(body).type
    except ValueError:
        return None


def sender(body: bytes) -> str | None:
    try:
        return TransactionEnvelope.decode(body).sender.decode()
    except ValueError:
        return None


def queued_types(answer: bytes) -> set[WireType]:
    """The types of the envelopes in a queue fetch's answer (empty if it is not one)."""
    try:
        batch = wire.QueueBatch.decode(TransactionEnvelope.decode(answer).body)
    except ValueError:
        return set()
    return {entry.envelope.type for entry in batch.entries}


def _accepted(log: list[Seen], kind: WireType) -> Seen | None:
    for seen in log:
        if seen.status is not None and 200 <= seen.status < 300 and wire_type(
                seen.request.body) is kind:
            return seen
    return None


def _arrived(requests: list[Request], kind: WireType) -> bool:
    return any(wire_type(r.body) is kind for r in requests)


@dataclasses.dataclass(frozen=True)
class Aim:
    """Where a step's fault goes: which DS's proxy, and the fault."""

    proxy: str
    fault: Fault


def aim(step: str, mode: Mode, source: str, target: str,
        proxies: dict[str, Proxy]) -> Aim:
    """The fault of `mode` at `step` of a migration source -> target (module docstring)."""
    seconds = DELAY_SECONDS if mode is Mode.DELAY else 0.0
    posts = {"MigrationRequest": (target, WireType.migration_request),
             "MigrationInitWithCommit": (source, WireType.migration_init_with_commit),
             "MigrationContent": (target, WireType.migration_content),
             "TargetMigrationComplete": (source, WireType.target_migration_complete)}
    if step in posts:
        where, kind = posts[step]

        def post(request: Request) -> bool:
            return wire_type(request.body) is kind

        return Aim(where, Fault(mode, match=post, seconds=seconds))
    queues = {"MigrationResponse": (target, WireType.migration_request,
                                    WireType.migration_response, True),
              "MigrationConfirmation": (source, WireType.target_migration_complete,
                                        WireType.migration_confirmation, True),
              "Fanout": (source, WireType.target_migration_complete, WireType.fanout, False)}
    where, cause, carried, by_initiator = queues[step]
    log_of = proxies[where]
    request_log = proxies[target]

    def initiator() -> str | None:
        seen = _accepted(request_log.log, WireType.migration_request)
        return None if seen is None else sender(seen.request.body)

    def fetch(request: Request) -> bool:
        if wire_type(request.body) is not WireType.queue_request:
            return False
        if not _arrived(log_of.arrivals, cause):
            return False
        who = sender(request.body)
        return (who == initiator()) == by_initiator

    def holds(response: Response) -> bool:
        return carried in queued_types(response.body)

    answer = holds if mode in AFTER_ANSWER else None
    return Aim(where, Fault(mode, match=fetch, answer=answer, seconds=seconds))


class Watch:
    """A thread reading both servers' /status while a run goes on, naming every moment a
    group of the run was active at both DSs (target read first: a source seen active after
    the target was seen active is a real overlap, as the group never moves back in a run)."""

    def __init__(self, lw: LoopbackWorld, source: str, target: str) -> None:
        self.lw, self.source, self.target = lw, source, target
        self.overlaps: list[str] = []
        self.reads = 0
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="watch")

    def _phases(self, http: httpx.Client, name: str) -> dict[str, str] | None:
        try:
            answer = http.get(self.lw.server[name].url + wire.STATUS_PATH)
            return {g["group_id"]: g["phase"] for g in answer.json()["groups"]}
        except (httpx.HTTPError, ValueError, KeyError):
            return None  # a server down (killed, restarting): nothing to read

    def _run(self) -> None:
        with httpx.Client(timeout=2.0, verify=tls_verify(self.lw.world.ca)) as http:
            while not self._halt.is_set():
                at_target = self._phases(http, self.target)
                at_source = self._phases(http, self.source)
                if at_target is not None and at_source is not None:
                    self.reads += 1
                    for gid, phase in at_target.items():
                        if phase == "active" and at_source.get(gid) == "active":
                            self.overlaps.append(f"forked: group {gid} active at "
                                                 f"{self.target}, then at {self.source}")
                self._halt.wait(0.02)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        self._thread.join(timeout=5)


@dataclasses.dataclass
class Cell:
    """One run: what was planned, what happened, what is wrong."""

    name: str
    outcome: dict[str, int]
    fired: bool  # the fault fired / the server killed itself
    problems: list[str]
    seconds: float
    runs: int = 1

    @property
    def ok(self) -> bool:
        return self.fired and not self.problems


def migrate_fresh_group(lw: LoopbackWorld, *, seed: int,
                        during: Callable[[], None] | None = None,
                        after: Callable[[], None] | None = None
                        ) -> tuple[workload.WorkloadResult, str, str]:
    """A fresh group created at the first DS, its members joined, one migration to the
    second; `during` runs after the creation, before the migration starts, `after` once
    the migration ended, before the members acknowledge what they fetched (as `workload`
    does on its way out) and close."""
    world = lw.world
    with http_client(world.ca) as http:
        members = {c.identity: HttpMember(c, world, http) for c in world.clients.values()}
        try:
            load = workload.Workload(world, seed=seed, timeout=TIMEOUT, members=members)
            gid, group = load.create(0, f"matrix {seed} {time.monotonic_ns()}", len(members))
            source = group[0].role.groups[gid].ds
            target = next(d for d in lw.domains if d != source)
            lw.groups.append(gid.hex())
            if during is not None:
                during()
            load.migrate(gid, group)
            if after is not None:
                after()
        finally:
            for m in members.values():
                with contextlib.suppress(httpx.HTTPError, OSError):
                    m.acknowledge()
                m.close()
    return load.result, source, target


def _outcome(result: workload.WorkloadResult) -> dict[str, int]:
    return {"completed": result.completed, "refused": result.refused,
            "aborted": result.aborted, "indeterminate": result.indeterminate}


def judge(lw: LoopbackWorld, result: workload.WorkloadResult, watch: Watch) -> list[str]:
    found = list(result.problems) + watch.overlaps
    if result.completed != 1:
        found.append(f"the migration did not complete: {_outcome(result)}")
    _, problems = lw.problems()
    return found + problems


def fault_cell(lw: LoopbackWorld, step: str, mode: Mode, seed: int) -> Cell:
    """Migrations with `mode` armed at `step` until it fires (module docstring); the runs
    are counted in `Cell.runs`."""
    start = time.monotonic()
    earlier: list[str] = []  # what a run whose fault did not fire found wrong still counts
    for run in range(1, ATTEMPTS + 1):
        cell = _fault_run(lw, step, mode, seed * ATTEMPTS + run)
        cell.runs = run
        if cell.fired:
            break
        earlier += [f"run {run}: {p}" for p in cell.problems if not p.startswith(NOT_FIRED)]
    cell.problems = earlier + cell.problems
    cell.seconds = time.monotonic() - start
    return cell


def _fault_run(lw: LoopbackWorld, step: str, mode: Mode, seed: int) -> Cell:
    start = time.monotonic()
    source, target = lw.domains[0], lw.domains[1]
    for proxy in lw.proxy.values():
        proxy.disarm()
        proxy.clear()
    planned = aim(step, mode, source, target, lw.proxy)
    fault = lw.proxy[planned.proxy].arm(planned.fault)
    fired = 0

    def disarm() -> None:  # before the members' last acknowledging fetches
        nonlocal fired
        fired = fault.fired
        for proxy in lw.proxy.values():
            proxy.disarm()

    with Watch(lw, source, target) as watch:
        try:
            result, src, dst = migrate_fresh_group(lw, seed=seed, after=disarm)
        finally:
            for proxy in lw.proxy.values():
                proxy.disarm()
    assert (src, dst) == (source, target), (src, dst)
    problems = judge(lw, result, watch)
    if not fired:
        problems.append(f"{NOT_FIRED} at {planned.proxy}")
    return Cell(f"{mode} at {step}", _outcome(result), bool(fired), problems,
                time.monotonic() - start)


class Reviver(threading.Thread):
    """Restarts (on the same files, without MIMI_CRASH_AT) a server that died on its own."""

    def __init__(self, lw: LoopbackWorld, name: str) -> None:
        super().__init__(daemon=True, name=f"revive {name}")
        self.lw, self.name_, self.revived = lw, name, 0
        self._halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        server = self.lw.server[self.name_]
        while not self._halt.is_set():
            if not server.alive():
                try:
                    self.lw.restart(self.name_)
                except BaseException as err:  # reported by the test, not lost in a thread
                    self.error = err
                    return
                self.revived += 1
            self._halt.wait(0.01)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)


def kill_cell(lw: LoopbackWorld, role: str, point: CrashPoint, n: int, seed: int) -> Cell:
    """One migration during which the `role` server ("source" or "target") SIGKILLs itself
    the `n`-th time its driver reaches `point` (MIMI_CRASH_AT, counted from the start of
    the migration), then is restarted on the same file."""
    start = time.monotonic()
    source, target = lw.domains[0], lw.domains[1]
    name = source if role == "source" else target
    reviver = Reviver(lw, name)

    def arm() -> None:
        lw.restart(name, crash_at=f"{point}:{n}")
        reviver.start()

    with Watch(lw, source, target) as watch:
        try:
            result, _, _ = migrate_fresh_group(lw, seed=seed, during=arm)
        finally:
            if reviver.is_alive():
                reviver.stop()
            if not reviver.revived:
                lw.restart(name)  # disarm: the point was not reached n times
    problems = judge(lw, result, watch)
    if reviver.error is not None:
        problems.append(f"restart failed: {reviver.error}")
    return Cell(f"SIGKILL at {role} {point}:{n}", _outcome(result), reviver.revived > 0,
                problems, time.monotonic() - start)


def describe(cells: list[Cell]) -> str:
    return "\n".join(f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.outcome} fired={c.fired} "
                     f"runs={c.runs} {c.seconds:.2f}s" + "".join(f"\n      {p}" for p in c.problems)
                     for c in cells)


__all__ = [
    "ATTEMPTS",
    "DELAY_SECONDS",
    "MODES",
    "STEPS",
    "TIMEOUT",
    "Aim",
    "Cell",
    "Reviver",
    "Watch",
    "aim",
    "describe",
    "fault_cell",
    "judge",
    "kill_cell",
    "migrate_fresh_group",
    "queued_types",
    "sender",
    "wire_type",
]

