"""Spec mutation: one mutant per check and switch of model/rules.py, each checked.

This module owns `mimi-portability mutate`.  A mutant is the reference design with exactly
one check dropped (read as true wherever the rules use it) or one switch turned off.  Each is
exhausted by the explicit checker on a small configuration and reported:

- `killed`: some property is violated, with the shortest counterexample's length, on the
  configuration given or, where that kills nothing, on the same bounds with strict
  policies (`with_policies`: the source denies c1, the target denies c0), so that a policy
  check has a client to refuse, or, where that kills nothing either, one epoch deeper with
  one nonce per target (`deeper`), so that an epoch check has a later epoch to confuse;
- `redundant (proved)`: nothing is violated, and Z3 proves the check changes nothing in the
  reference design: wherever the rules read it, the guard with the check and the guard
  without it agree in every state satisfying the reference design's inductive invariant
  (proofs/prove.INVARIANT), for any number of parties; one query per action that reads it;
- `kept: <reason>`: nothing is violated and the check carries, beside it in model/rules.py,
  why it is kept (a bound of the model, an implementation limit): quoted as it is there;
- `survived`: anything else.  A survivor means a property is missing or a check is
  redundant without a proof, and makes the command exit non-zero.

A kept or redundant check that a property does kill is reported `killed` all the same: the
reason beside it is then wrong, and the run says so.  Bounds of the model (a kept reason of
model/rules.BOUND) are not run: dropping one leaves the configuration's state space
unbounded, which is what they are there to prevent.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import z3  # type: ignore[import-untyped]

from model.actions import Action
from model.checker import UNKNOWN, VIOLATED, check
from model.config import Config
from model.rules import BOUND, CHECKS, RULES, action_of
from model.vocabulary import Check

from .budget import limit
from .context import Pool
from .encoding import ParametricUniverse
from .induction import _holds
from .reading import build
from .symstate import free_function_state

KILLED = "killed"
REDUNDANT = "redundant (proved)"
KEPT = "kept"
SURVIVED = "survived"

MUTANT_BUDGET = 200_000
"""States one mutant's search may visit before its undecided verdicts count as unknown."""

REDUNDANCY_TIMEOUT_MS = 5_000
"""Per query; the first query of each action, without the invariant, is usually instant."""


@dataclasses.dataclass(frozen=True)
class Mutant:
    check: str
    kind: str
    action: str
    outcome: str
    killed_by: tuple[tuple[str, int], ...] = ()
    """(property, shortest counterexample length) for each property the mutant violates."""
    detail: str = ""
    states: int = 0
    seconds: float = 0.0
    config: Config | None = None
    """The configuration the killing counterexamples are runs of (the mutant's design)."""
    counterexamples: tuple[tuple[str, tuple[Action, ...]], ...] = ()
    """(property, shortest counterexample) for each property in `killed_by`."""

    def as_json(self) -> dict[str, Any]:
        return {"check": self.check, "kind": self.kind, "action": self.action,
                "outcome": self.outcome,
                "killed_by": [{"property": p, "length": n} for p, n in self.killed_by],
                "detail": self.detail, "states": self.states,
                "seconds": round(self.seconds, 3)}

    def line(self) -> str:
        if self.outcome == KILLED:
            by = ", ".join(f"{p}({n})" for p, n in self.killed_by)
            what = f"killed by {by}" + (f" {self.detail}" if self.detail else "")
        elif self.outcome == KEPT:
            what = f"kept: {self.detail}"
        else:
            what = self.outcome + (f": {self.detail}" if self.detail else "")
        return f"{self.check:36} {self.action:26} {what}"


def with_policies(config: Config) -> Config | None:
    """The same bounds with a client each policy refuses (None with a single client)."""
    if config.clients < 2:
        return None
    return dataclasses.replace(config, source_denies=frozenset({1}),
                               target_denies=frozenset({0}))


def deeper(config: Config) -> Config:
    """One more epoch, one nonce per target: a check about epochs needs a group that has
    moved on, and one nonce keeps the run as small as the configuration given."""
    return dataclasses.replace(config, max_epoch=config.max_epoch + 1, attempts=1)


PASSES: tuple[tuple[Callable[[Config], Config | None], str], ...] = (
    (with_policies, "with strict policies (the source denies c1, the target denies c0)"),
    (deeper, "one epoch deeper, one nonce per target"),
)
"""Where a mutant the configuration given does not kill is tried next, in order."""


def mutants() -> list[Check]:
    """Every check and switch of the rules, in declaration order."""
    return [c for c in CHECKS.values() if c.kind in ("check", "switch")]


def run_one(c: Check, config: Config, *, prove: bool = True,
            budget: int = MUTANT_BUDGET) -> Mutant:
    started = time.perf_counter()
    action = action_of(c)
    if c.kept == BOUND:
        return Mutant(c.id, c.kind, action, KEPT, detail=c.kept)
    mutated = dataclasses.replace(config, drop=config.drop | {c.id})
    report = killer = check(mutated, max_states=budget)
    killed = tuple((p.property, p.length or 0) for p in report.results
                   if p.verdict == VIOLATED)
    unknown = [p.property for p in report.results if p.verdict == UNKNOWN]
    where = ""
    for make, named in PASSES:
        other = make(mutated)
        if killed or other is None:
            continue
        where = named
        again = killer = check(other, max_states=budget)
        killed = tuple((p.property, p.length or 0) for p in again.results
                       if p.verdict == VIOLATED)
        unknown += [p.property for p in again.results
                    if p.verdict == UNKNOWN and p.property not in unknown]
    seconds = time.perf_counter() - started
    states = report.states
    if killed:
        wrong = (f"the reason beside it is wrong: {c.kept}" if c.kept else "")
        traces = tuple((p.property, tuple(p.trace)) for p in killer.results
                       if p.verdict == VIOLATED and p.trace is not None)
        return Mutant(c.id, c.kind, action, KILLED, killed, wrong or where, seconds=seconds,
                      config=killer.config, counterexamples=traces, states=states)
    if unknown:
        return Mutant(c.id, c.kind, action, SURVIVED, (),
                      f"undecided within {budget:,} states: {', '.join(unknown)}",
                      seconds=seconds, states=states)
    if c.kept:
        return Mutant(c.id, c.kind, action, KEPT, (), c.kept, seconds=seconds, states=states)
    if prove and c.kind == "check":
        answer = redundancy(c)
        seconds = time.perf_counter() - started
        if answer == "proved":
            return Mutant(c.id, c.kind, action, REDUNDANT, (), "", seconds=seconds, states=states)
        return Mutant(c.id, c.kind, action, SURVIVED, (),
                      f"no property kills it and its redundancy is {answer}",
                      seconds=seconds, states=states)
    return Mutant(c.id, c.kind, action, SURVIVED, (), "no property kills it",
                  seconds=seconds, states=states)


def redundancy(c: Check, timeout_ms: int = REDUNDANCY_TIMEOUT_MS) -> str:
    """"proved" when, for every action whose guard reads `c`, the guard with `c` and the
    guard without it agree on every state of the reference design's inductive invariant
    (any number of parties); else "refuted" or "unknown"."""
    from .prove import INVARIANT  # prove imports the checker side; load it on use only

    universe = ParametricUniverse()
    pre = free_function_state("s", universe)
    hypotheses = [h for lem in INVARIANT if not getattr(lem, "by_representation", False)
                  for h in _holds(universe, lem, pre)]
    for rule in RULES:
        with_c = build(rule, universe, frozenset(), pre, Pool("p"))
        without = build(rule, universe, frozenset({c.id}), pre, Pool("p"))
        if all(a.eq(b) for (_, a), (_, b) in zip(with_c.guard, without.guard, strict=True)):
            continue  # the rule does not read c in its guard
        differ = with_c.enabled() != without.enabled()
        # First without the invariant: most redundant conjuncts follow from the others alone.
        if _answer([*universe.assumptions(), differ], timeout_ms) == z3.unsat:
            continue
        answer = _answer([*universe.assumptions(), *hypotheses, differ], timeout_ms)
        if answer == z3.sat:
            return "refuted"
        if answer != z3.unsat:
            return "unknown"
    return "proved"


def _answer(facts: list[Any], timeout_ms: int) -> Any:
    solver = z3.Solver()
    limit(solver, timeout_ms)
    solver.add(*facts)
    return solver.check()


def run(config: Config, checks: Sequence[Check] | None = None, *, prove: bool = True,
        progress: Callable[[Mutant], None] | None = None) -> list[Mutant]:
    out = []
    for c in checks if checks is not None else mutants():
        m = run_one(c, config, prove=prove)
        if progress is not None:
            progress(m)
        out.append(m)
    return out


def failures(results: Sequence[Mutant]) -> list[str]:
    """What makes `mutate` exit non-zero: survivors, and kept or redundant checks a property
    kills (their reason is wrong)."""
    out = [f"{m.check} survived ({m.detail})" for m in results if m.outcome == SURVIVED]
    out += [f"{m.check}: {m.detail}" for m in results
            if m.outcome == KILLED and m.detail.startswith("the reason beside it is wrong")]
    return out


def summary(results: Sequence[Mutant]) -> dict[str, int]:
    counts = {KILLED: 0, REDUNDANT: 0, KEPT: 0, SURVIVED: 0}
    for m in results:
        counts[m.outcome] += 1
    return {"mutants": len(results), **counts}
