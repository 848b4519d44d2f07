"""Unbounded proofs: an inductive invariant, checked one query per (action, lemma).

This module owns the checking of inductive invariants.  An invariant is a list of `Lemma`s
(the safety properties themselves and the strengthening lemmas of proofs/lemmas.py and
proofs/ownership.py), each a conjunction of clauses of the shape of proofs/properties.py.
It is inductive when

- initiation: the initial state satisfies every lemma (one query per lemma), and
- consecution: for every action a and every lemma L, a state satisfying every lemma and
  enabling a does not step to a state violating L: one query per (action, lemma), each in
  a solver of its own, so a failure names both.

The state is a `FunctionState` (proofs/symstate.py): uninterpreted functions of the
pre-state, the post-state a macro over them, so each query is first-order logic without
array theory.  An obligation whose action rewrites nothing its lemma reads is discharged by
the frame rule (the lemma over the post-state *is* the hypothesis over the pre-state); the
report says which obligations were closed that way.

Hints make the solver queries fast: for an obligation, the lemmas an earlier proof of it
used (a minimal unsat core, proofs/hints.py), stored in proofs/hints.json.  A query first
assumes only those; if that does not prove it, the whole invariant.  Either way a proof
assumes a part of the invariant, so it stands whatever the hint: a stale hint costs time,
never soundness.  A query's goal (the lemma's violation over the post-state, most of the
time of setting up) is built where it is solved: with jobs > 1, in the forked workers, in
parallel; each lemma's footprint is noted while its clauses are built over the pre-state.

Over the parametric universe (proofs/encoding.py) the numbers of clients, DSs, groups,
nonces per DS and epochs are symbolic and the policies arbitrary predicates, so a proof
holds for every value of them.  A query's budget is counted in Z3's resource units
(proofs/budget.py), so a verdict does not depend on the machine's load.  An `unknown`
answer (a spent budget included) is reported as such, never as a pass.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import z3  # type: ignore[import-untyped]

from .budget import limit
from .context import Pool
from .encoding import Expr, Universe
from .properties import Clause, SymProperty
from .reading import Design, steps
from .symstate import FunctionState, free_function_state, initial_function_state

INITIAL = "(initial state)"
class ObligationAnswer(enum.StrEnum):
    """The solver's answer to one obligation: proved (unsat), failed (a counterexample to
    induction) or unknown (the budget spent, or the solver gave up)."""

    PROVED = "proved"
    FAILED = "failed"
    UNKNOWN = "unknown"


PROVED, FAILED, UNKNOWN = ObligationAnswer
SOLVER, FRAME = "solver", "frame"


@dataclasses.dataclass(frozen=True)
class Lemma:
    """A named invariant: the clauses, and why it holds (tied to docs/profile.md).
    `by_representation`: the pre-state's representation already states it (it is checked
    as a goal, never asserted as a hypothesis)."""

    id: str
    doc: str
    clauses: tuple[Clause, ...]
    by_representation: bool = False


Invariantish = SymProperty | Lemma


@dataclasses.dataclass(frozen=True)
class Obligation:
    """One query: `action` (or INITIAL) preserves (establishes) `lemma`."""

    action: str
    lemma: str
    answer: ObligationAnswer
    """"proved" (unsat), "failed" (a counterexample to induction) or "unknown"."""
    seconds: float
    how: str = SOLVER
    """"solver", or "frame": the action rewrites nothing the lemma reads."""
    detail: str = ""
    assumed: tuple[str, ...] = ()
    """The lemmas the proof assumed (a hint's, or the whole invariant)."""


@dataclasses.dataclass(frozen=True)
class InductionReport:
    universe: str
    options: Design
    invariant: tuple[str, ...]
    obligations: tuple[Obligation, ...]
    seconds: float

    @property
    def proved(self) -> bool:
        return all(o.answer == PROVED for o in self.obligations)

    def failures(self) -> list[Obligation]:
        return [o for o in self.obligations if o.answer != PROVED]

    def of(self, lemma: str) -> list[Obligation]:
        return [o for o in self.obligations if o.lemma == lemma]

    def solver_seconds(self, lemma: str | None = None) -> float:
        return sum(o.seconds for o in self.obligations if lemma in (None, o.lemma))


def _holds(u: Universe, lemma: Invariantish, state: Any) -> list[Expr]:
    return [c.holds(u, state, f"{lemma.id}.{i}") for i, c in enumerate(lemma.clauses)]


def _violation(u: Universe, lemma: Invariantish, state: Any, prefix: str) -> Expr:
    return z3.Or(*[c.violation(u, state, f"{prefix}.{i}") for i, c in enumerate(lemma.clauses)])


def footprint(universe: Universe, lemma: Invariantish) -> frozenset[str]:
    """The tables and sets `lemma` reads, found by building it over a recording state."""
    used: set[str] = set()
    probe = _recorder(free_function_state("footprint", universe), used)
    _holds(universe, lemma, probe)
    _violation(universe, lemma, probe, "footprint")
    return frozenset(used)


def _recorder(base: FunctionState, used: set[str]) -> FunctionState:
    """`base` noting in `used` the name of every table and set read of it."""

    def table(name: str) -> Any:
        inner = base.tables[name]

        def read(a: Expr, b: Expr) -> Expr:
            used.add(name)
            return inner(a, b)

        return read

    def member(name: str) -> Any:
        inner = base.sets[name]

        def test(x: Expr) -> Expr:
            used.add(name)
            return inner(x)

        return test

    return FunctionState({n: table(n) for n in base.tables}, {n: member(n) for n in base.sets})


@dataclasses.dataclass
class _Query:
    action: str
    lemma: str
    build: Callable[[], list[Expr]]
    """Makes `base`: building the goals is most of the time of setting up the queries, so
    each is built where it is solved (in the forked workers, in parallel)."""
    hypotheses: dict[str, list[Expr]]
    """Lemma id -> its clauses over the pre-state: the whole invariant."""
    hint: tuple[str, ...] | None
    fallback: bool = True
    """Whether a query its hint does not prove is asked again assuming the whole
    invariant (else it is decided on the hint's lemmas still in the invariant)."""

    @functools.cached_property
    def base(self) -> list[Expr]:
        """The universe's assumptions, the step's guard and the goal."""
        return self.build()


Answer = tuple[ObligationAnswer, float, str, tuple[str, ...]]
HINT_TIMEOUT_MS = 5_000


def _solve(query: _Query, timeout_ms: int) -> Answer:
    spent = 0.0
    if query.hint is not None and not query.fallback:
        usable = tuple(h for h in query.hint if h in query.hypotheses)
        answer, seconds, detail = _ask(query, usable, timeout_ms)
        return answer, seconds, detail, usable
    if query.hint is not None and all(h in query.hypotheses for h in query.hint):
        answer, seconds, detail = _ask(query, query.hint, min(timeout_ms, HINT_TIMEOUT_MS))
        spent += seconds
        if answer == PROVED:
            return answer, spent, detail, query.hint
    answer, seconds, detail = _ask(query, tuple(query.hypotheses), timeout_ms)
    return answer, spent + seconds, detail, tuple(query.hypotheses)


def _ask(query: _Query, lemmas: Sequence[str], timeout_ms: int
         ) -> tuple[ObligationAnswer, float, str]:
    solver = z3.Solver()
    limit(solver, timeout_ms)
    solver.add(*query.base)
    for lemma in lemmas:
        solver.add(*query.hypotheses[lemma])
    t0 = time.perf_counter()
    answer = solver.check()
    seconds = time.perf_counter() - t0
    if answer == z3.unsat:
        return PROVED, seconds, ""
    if answer == z3.sat:
        return FAILED, seconds, "a state satisfying the invariant steps out of it"
    return UNKNOWN, seconds, str(solver.reason_unknown())


def core(query: _Query, timeout_ms: int) -> tuple[str, ...] | None:
    """The lemmas a proof of `query` from the whole invariant used (an unsat core), or
    None if the whole invariant does not prove it."""
    solver = z3.Solver()
    limit(solver, timeout_ms)
    solver.set("unsat_core", True)
    solver.add(*query.base)
    for lemma, clauses in query.hypotheses.items():
        for i, clause in enumerate(clauses):
            solver.assert_and_track(clause, f"{lemma}#{i}")
    if solver.check() != z3.unsat:
        return None
    return tuple(sorted({str(c).split("#")[0] for c in solver.unsat_core()}))


_FORKED: list[_Query] = []
"""The queries of the check in progress, for the forked workers (Z3 terms do not pickle)."""


def _solve_forked(args: tuple[int, int]) -> Answer:
    index, timeout_ms = args
    return _solve(_FORKED[index], timeout_ms)


def check(universe: Universe, options: Design, invariant: Sequence[Invariantish], *,
          timeout_ms: int = 20_000, actions: Sequence[str] | None = None,
          goals: Sequence[str] | None = None, jobs: int = 1,
          hints: Mapping[tuple[str, str], Sequence[str]] | None = None,
          known: Mapping[tuple[str, str], Obligation] | None = None,
          frame: bool = True, fallback: bool = True) -> InductionReport:
    """Check that `invariant` (a conjunction) is inductive for the design `options`: every
    obligation for the lemmas named in `goals` (default all) and the actions named in
    `actions` (default all; initiation is checked unless `actions` is given).  With
    jobs > 1, the solver queries run in that many forked processes.  `hints`: (action,
    lemma) -> the lemmas to try assuming first.  `known`: obligations already proved for
    these options; one is taken as it is when every lemma it assumed is still in
    `invariant` (the same query, so the same answer).  `frame=False` sends the obligations
    the frame rule would close to the solver as well (an audit of the rule).
    `fallback=False`: an obligation with a hint assumes only the hint's lemmas (those still
    in `invariant`), never the whole invariant: faster where most hints fail (a variant's
    options), at the price of dropping a lemma the whole invariant might have kept."""
    ids = {lem.id for lem in invariant}
    items: list[Obligation | _Query] = []
    for item in queries(universe, options, invariant, actions=actions, goals=goals,
                        hints=hints, frame=frame, fallback=fallback):
        old = None if known is None else known.get((item.action, item.lemma))
        if (isinstance(item, _Query) and old is not None and old.answer == PROVED
                and set(old.assumed) <= ids):
            items.append(old)
        else:
            items.append(item)
    return _check(items, universe, options, invariant, timeout_ms, jobs)


def houdini(universe: Universe, options: Design, invariant: Sequence[Invariantish], *,
            timeout_ms: int = 20_000, jobs: int = 1,
            hints: Mapping[tuple[str, str], Sequence[str]] | None = None,
            fallback: bool = True
            ) -> tuple[InductionReport, list[tuple[str, Obligation]]]:
    """The largest inductive part of `invariant` (Houdini): drop every lemma with an
    obligation not proved, check the rest again, until nothing fails.  Returns the report of
    the last round (an inductive invariant: `report.invariant`, possibly empty) and each
    dropped lemma with its first failing obligation; the report's seconds are all rounds'."""
    started = time.perf_counter()
    current = list(invariant)
    dropped: list[tuple[str, Obligation]] = []
    known: dict[tuple[str, str], Obligation] = {}
    while True:
        report = check(universe, options, current, timeout_ms=timeout_ms, jobs=jobs,
                       hints=hints, known=known, fallback=fallback)
        known.update({(o.action, o.lemma): o for o in report.obligations})
        failing: dict[str, Obligation] = {}
        for o in report.failures():
            failing.setdefault(o.lemma, o)
        if not failing:
            return dataclasses.replace(report, seconds=time.perf_counter() - started), dropped
        dropped.extend(failing.items())
        current = [lem for lem in current if lem.id not in failing]


def queries(universe: Universe, options: Design, invariant: Sequence[Invariantish], *,
            actions: Sequence[str] | None = None, goals: Sequence[str] | None = None,
            hints: Mapping[tuple[str, str], Sequence[str]] | None = None,
            frame: bool = True, fallback: bool = True) -> list[Obligation | _Query]:
    """Every obligation, in order: an Obligation when the frame rule closes it (unless
    `frame` is off), else the query that decides it."""
    wanted = [lem for lem in invariant if goals is None or lem.id in goals]
    hints = hints or {}
    out: list[Obligation | _Query] = []
    if actions is None:
        init = initial_function_state(universe)
        for lemma in wanted:
            out.append(_Query(INITIAL, lemma.id, functools.partial(
                _initial_base, universe, lemma, init), {}, None))
    pre = free_function_state("s", universe)
    reads: dict[str, frozenset[str]] = {}
    hypotheses = {lem.id: _recording(universe, lem, pre, reads) for lem in invariant
                  if not getattr(lem, "by_representation", False)}
    for lem in wanted:
        if lem.id not in reads:
            reads[lem.id] = footprint(universe, lem)
    for step in steps(universe, options, pre, Pool("p")):
        if actions is not None and step.action not in actions:
            continue
        assert isinstance(step.next, FunctionState)
        changed = pre.changed(step.next)
        for lemma in wanted:
            if frame and not changed & reads[lemma.id]:
                out.append(Obligation(step.action, lemma.id, PROVED, 0.0, FRAME))
                continue
            hint = hints.get((step.action, lemma.id))
            out.append(_Query(step.action, lemma.id, functools.partial(
                _step_base, universe, lemma, step), hypotheses,
                None if hint is None else tuple(hint), fallback))
    return out


def _initial_base(universe: Universe, lemma: Invariantish, init: FunctionState
                  ) -> list[Expr]:
    return [*universe.assumptions(), _violation(universe, lemma, init, "goal")]


def _step_base(universe: Universe, lemma: Invariantish, step: Any) -> list[Expr]:
    return [*universe.assumptions(), step.enabled(),
            _violation(universe, lemma, step.next, "goal")]


def _recording(universe: Universe, lemma: Invariantish, state: FunctionState,
               reads: dict[str, frozenset[str]]) -> list[Expr]:
    """`lemma`'s clauses over `state`, noting in `reads` the tables and sets they read (its
    footprint: a lemma's violation reads what its clauses do)."""
    used: set[str] = set()
    clauses = _holds(universe, lemma, _recorder(state, used))
    reads[lemma.id] = frozenset(used)
    return clauses


def _check(items: list[Obligation | _Query], universe: Universe, options: Design,
           invariant: Sequence[Invariantish], timeout_ms: int, jobs: int) -> InductionReport:
    started = time.perf_counter()
    pending = [q for q in items if isinstance(q, _Query)]
    answers = iter(_run(pending, timeout_ms, jobs))
    results: list[Obligation] = []
    for item in items:
        if isinstance(item, Obligation):
            results.append(item)
            continue
        answer, seconds, detail, assumed = next(answers)
        results.append(Obligation(item.action, item.lemma, answer, seconds, SOLVER, detail,
                                  assumed))
    return InductionReport(universe.summary(), options, tuple(lem.id for lem in invariant),
                           tuple(results), time.perf_counter() - started)


def _run(queries: list[_Query], timeout_ms: int, jobs: int) -> list[Answer]:
    if jobs <= 1 or len(queries) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_solve(q, timeout_ms) for q in queries]
    global _FORKED
    _FORKED = queries
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as workers:
            return workers.map(_solve_forked, [(i, timeout_ms) for i in range(len(queries))],
                               chunksize=1)
    finally:
        _FORKED = []
