"""The crash matrix: a migration crashed at every (role, protocol step, crash point).

This module owns driving one migration over a DurableWorld (impl/storage/world.py) and
crashing one party at one crash point of one step, deterministically.  A step is one
handling: step 0 is the initiator's `start_migration`, step k >= 1 the k-th delivery of
the run (the same delivery as in the crash-free run, since the run is deterministic up to
the crash).  `cases()` runs the migration once without a crash and records every
(step, party, point) a driver passes: that list is the matrix.  Two migrations are crashed
(`SCENARIOS`): one that completes, and one the target rejects (its nonce expired), which
must end cleanly aborted.

A crash (`Crash` raised by the hook) abandons the party's memory; the party is re-opened
from its store and resends its outbox; the envelope whose handling crashed is delivered
again later (the sender's retry: at-least-once delivery, as over HTTP), and a crashed
application call is made again.  When nothing is in flight the DSs tick (the source
re-sends an unacknowledged MigrationContent) until the run settles.  After every step,
`DurableWorld.problems()` must be empty (0 groups lost, 0 forks); at the end every store's
integrity check must say ok, and the migration must have completed or cleanly aborted.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import MigrationInProgress
from ..world import TARGET
from .driver import Crash, CrashPoint, DurableClient
from .world import DurableWorld, build_durable_world


@dataclasses.dataclass(frozen=True, slots=True)
class CrashCase:
    step: int
    party: str
    point: CrashPoint
    handling: str  # what the step handles: "start_migration" or the envelope's kind
    #: When the crashed envelope is delivered again: "last" (after everything in flight,
    #: the resent outbox included) or "first" (at once, before the re-opened party resends
    #: its outbox).
    retry: str = "last"

    def describe(self) -> str:
        return (f"step {self.step} ({self.handling}) at {self.party}, {self.point}"
                + (f", retried {self.retry}" if self.step else ""))


@dataclasses.dataclass
class RunResult:
    case: CrashCase | None
    crashed: bool
    outcome: str
    problems: list[str]
    integrity: list[str]
    steps: int
    restarts: int

    @property
    def ok(self) -> bool:
        return (self.case is None or self.crashed) and not self.problems and (
            self.outcome in ("completed", "aborted")) and all(i == "ok" for i in self.integrity)


class _Run:
    """One migration run with at most one planned crash; records the points passed."""

    def __init__(self, dw: DurableWorld, case: CrashCase | None, restart_all: bool) -> None:
        self.dw, self.case, self.restart_all = dw, case, restart_all
        self.step = 0
        self.handling = "start_migration"
        self.crashed = False
        self.reached: list[CrashCase] = []
        self.problems: list[str] = []
        self._seen: set[str] = set()
        dw.hook = self.hook
        for driver in dw.drivers.values():
            driver.crash_hook = self.hook

    def hook(self, point: CrashPoint, party: str) -> None:
        here = CrashCase(self.step, party, point, self.handling)
        self.reached.append(here)
        case = self.case
        if (case is not None and dataclasses.replace(case, retry="last") == here
                and not self.crashed):
            self.crashed = True
            raise Crash(here.describe())

    def _after_step(self) -> None:
        for problem in self.dw.problems():
            if problem not in self._seen:  # each problem once, at the step it first shows
                self._seen.add(problem)
                self.problems.append(f"after step {self.step} ({self.handling}): {problem}")
        if self.restart_all:
            for name in list(self.dw.drivers):
                self.dw.restart(name)

    def start(self) -> None:
        dw = self.dw
        initiator = dw.world.initiator.identity
        for _attempt in range(2):
            driver = dw.drivers[initiator]
            assert isinstance(driver, DurableClient)
            try:
                driver.call(lambda c: c.start_migration(dw.group_id, TARGET))
                break
            except Crash:
                dw.restart(initiator)
            except MigrationInProgress:
                break  # the first attempt committed before the crash: the outbox resent it
        self._after_step()

    def deliver_all(self, now: float) -> None:
        net = self.dw.world.network
        while net.in_flight:
            self.step += 1
            envelope = net.in_flight[0]
            self.handling = str(envelope.kind)
            try:
                net.deliver(now)
            except Crash:
                if self.case is not None and self.case.retry == "first":
                    # the sender's retry reaches the re-opened party before it resends
                    self.dw.restart(envelope.recipient, resume=False)
                    net.in_flight.insert(0, envelope)
                    net.deliver(now)
                    self.dw.drivers[envelope.recipient].resume()
                else:
                    self.dw.restart(envelope.recipient)
                    net.in_flight.append(envelope)  # the sender's retry, after the rest
            self._after_step()

    def tick(self, now: float) -> None:
        self.handling = "tick"
        for name in (self.dw.world.source.domain, self.dw.world.target.domain):
            try:
                tick = getattr(self.dw.drivers[name], "tick")  # noqa: B009 (DurableDS only)
                tick(now)
            except Crash:
                self.dw.restart(name)


#: The migrations the matrix crashes: "complete" (the happy path) and "abort" (the target's
#: nonces live 0 s, so the MigrationContent finds its nonce expired: a signed rejection, the
#: source unlocks and forwards it, the initiator's pending migration ends).
SCENARIOS = {"complete": 300.0, "abort": 0.0}


def run(directory: Path | None, case: CrashCase | None = None, *, members: int = 3,
        scenario: str = "complete", restart_all: bool = False,
        max_ticks: int = 4) -> tuple[RunResult, list[CrashCase]]:
    """One migration; `case` the crash to make (None: none).  `restart_all` restarts every
    party after every step.  Returns the result and every (step, party, point) passed."""
    dw = build_durable_world(directory, members=members, nonce_lifetime=SCENARIOS[scenario])
    r = _Run(dw, case, restart_all)
    try:
        r.start()
        now = 0.0
        r.deliver_all(now)
        for _ in range(max_ticks):
            if dw.outcome() in ("completed", "aborted"):
                break
            now += dw.world.source.retry_interval
            r.tick(now)
            r.deliver_all(now)
        result = RunResult(case, r.crashed, dw.outcome(), r.problems,
                           [s.integrity() for s in dw.stores()], r.step, dw.restarts)
    finally:
        dw.close()
    return result, r.reached


def cases(members: int = 3, scenario: str = "complete") -> list[CrashCase]:
    """Every (step, party, point) the crash-free migration passes (in-memory stores), each
    delivery's with both retry orders."""
    result, reached = run(None, members=members, scenario=scenario)
    expected = "completed" if scenario == "complete" else "aborted"
    assert result.ok and result.outcome == expected, result
    out = []
    for case in reached:
        out.append(case)
        if case.step:
            out.append(dataclasses.replace(case, retry="first"))
    return out


@dataclasses.dataclass
class MatrixReport:
    results: list[RunResult]

    @property
    def crashes(self) -> int:
        return sum(r.crashed for r in self.results)

    @property
    def failures(self) -> list[RunResult]:
        return [r for r in self.results if not r.ok]

    def summary(self) -> str:
        outcomes: dict[str, int] = {}
        for r in self.results:
            key = r.outcome if r.outcome in ("completed", "aborted") else "stuck"
            outcomes[key] = outcomes.get(key, 0) + 1
        lost = sum(1 for r in self.results if any("no_group_lost" in p for p in r.problems))
        forks = sum(1 for r in self.results if any(
            "fork" in p or "single_owner" in p for p in r.problems))
        bad = sum(1 for r in self.results if any(i != "ok" for i in r.integrity))
        return (f"{len(self.results)} runs, {self.crashes} crashes: runs with a group lost "
                f"{lost}, with a fork {forks}, integrity not ok {bad}; outcomes {outcomes}")


def matrix(directory: Path | None, *, members: int = 3, scenario: str = "complete",
           stop_at_first_failure: bool = False) -> MatrixReport:
    """Run every case of `cases(members, scenario)`, each in a sub-folder of `directory`."""
    results = []
    for n, case in enumerate(cases(members, scenario)):
        sub = None
        if directory is not None:
            sub = directory / f"{scenario}-{n:03}"
            sub.mkdir()
        result, _ = run(sub, case, members=members, scenario=scenario)
        results.append(result)
        if stop_at_first_failure and not result.ok:
            break
    return MatrixReport(results)


__all__ = ["CrashCase", "MatrixReport", "RunResult", "cases", "matrix", "run"]
