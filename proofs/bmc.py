"""Bounded model checking: the shortest counterexample to each property, as a model trace.

This module owns unrolling the transition relation (the rules' symbolic reading,
proofs/reading.py) from the initial
state of one Config, one step at a time (incremental: one solver, the steps asserted once),
and asking at each depth k, in its own push/pop frame per property, whether a state reached
in exactly k steps violates it.  Depth rises from 0, so the first sat answer gives a shortest
counterexample.  Its trace is read from the model (the action selected at each step and the
parameters it took), replayed through the concrete model (model.actions.replay), and
reported only if the replayed run ends in a state the model's own predicate rejects;
otherwise `ReplayMismatch` is raised: the encoding disagrees with the model.

A clean run to depth k proves nothing beyond k steps; callers say so
(mimi_portability/commands/proofs.py).
`unknown` (a timeout included) is its own verdict and never counts as a pass.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Sequence
from typing import Any

import z3  # type: ignore[import-untyped]

from model.actions import ACTIONS, Action, ActionNotEnabled, replay
from model.config import Config

from .budget import limit
from .context import Pool, param_sort
from .encoding import Expr, FiniteUniverse
from .properties import SymProperty
from .reading import expanded_relation
from .symstate import Abstraction, ExpandedState, initial_expanded_state


class BmcVerdict(enum.StrEnum):
    """Bounded model checking's answer for one property: a counterexample of some depth, no
    violation in any run up to the depth, or the solver or the deadline gave up."""

    VIOLATED = "violated"
    CLEAN = "clean"
    UNKNOWN = "unknown"


VIOLATED, CLEAN, UNKNOWN = BmcVerdict


class ReplayMismatch(Exception):
    """A Z3 counterexample that the concrete model does not reproduce (an encoding bug)."""


@dataclasses.dataclass(frozen=True)
class BmcResult:
    """What bounded model checking found for one property.

    verdict: "violated" (a shortest trace of `depth` steps), "clean" (no violation in any
    run of at most `depth` steps) or "unknown" (the solver gave up at `depth`)."""

    property: str
    verdict: BmcVerdict
    depth: int
    trace: tuple[Action, ...] | None
    seconds: float
    reason: str = ""
    engine: str = "z3"
    """Who answered: "z3" (this module) or "explicit" (proofs/portfolio.py)."""


class Unrolling:
    """s0 = initial, T(s0, s1), ..., T(s(k-1), sk) in one incremental solver."""

    def __init__(self, config: Config, *, timeout_ms: int | None = None) -> None:
        self.config = config
        self.universe = FiniteUniverse(config)
        self.abstraction = Abstraction(config)
        self.states: list[ExpandedState] = [initial_expanded_state(config)]
        self.pools: list[Pool] = []
        self.selectors: list[Expr] = []
        self.solver = z3.Solver()
        if timeout_ms is not None:
            limit(self.solver, timeout_ms)

    @property
    def depth(self) -> int:
        return len(self.states) - 1

    def extend(self) -> None:
        k = self.depth
        pool = Pool(f"step{k}")
        selector = z3.Int(f"step{k}.action")
        constraints, post = expanded_relation(self.universe, self.config.dropped,
                                              self.states[-1], pool, selector, f"s{k + 1}")
        self.solver.add(*constraints)
        self.states.append(post)
        self.pools.append(pool)
        self.selectors.append(selector)

    def check(self, prop: SymProperty) -> tuple[str, Any]:
        """Whether the state at the current depth can violate `prop`: (sat|unsat|unknown,
        model or reason)."""
        return self.check_any([prop])

    def violates(self, model: Any, prop: SymProperty) -> bool:
        """Whether the last state of `model`'s run violates `prop` (quantifier-free over an
        expanded state, so the model decides it)."""
        value = model.eval(prop.violation(self.universe, self.states[-1], "eval"),
                           model_completion=True)
        return bool(z3.is_true(value))

    def check_any(self, props: Sequence[SymProperty]) -> tuple[str, Any]:
        """Whether the state at the current depth can violate one of `props`."""
        self.solver.push()
        try:
            self.solver.add(z3.Or(*[p.violation(self.universe, self.states[-1],
                                                f"{p.id}@{self.depth}") for p in props]))
            answer = self.solver.check()
            if answer == z3.sat:
                return "sat", self.solver.model()
            if answer == z3.unsat:
                return "unsat", None
            return "unknown", self.solver.reason_unknown()
        finally:
            self.solver.pop()

    def trace(self, model: Any) -> list[Action]:
        """The model actions a Z3 model selects, with their arguments."""
        convert = self.abstraction.convert
        out = []
        for pool, selector in zip(self.pools, self.selectors, strict=True):
            spec = ACTIONS[model.eval(selector, model_completion=True).as_long()]
            args = []
            for name in spec.params:
                value = model.eval(pool.const(name, param_sort(spec, name)),
                                   model_completion=True)
                if z3.is_int_value(value):
                    args.append((name, value.as_long()))
                else:
                    assert spec.receives is not None
                    args.append((name, convert.from_z3(value, spec.receives.__name__)))
            out.append(Action(spec.name, tuple(args)))
        return out


def confirm(config: Config, prop: SymProperty, trace: Sequence[Action]) -> None:
    """Replay `trace` through the concrete model; raise ReplayMismatch unless every step is
    enabled and the last state violates `prop` by the model's own predicate (and no earlier
    state does: the trace is meant to be a shortest one)."""
    try:
        states = replay(config, list(trace))
    except ActionNotEnabled as err:
        raise ReplayMismatch(f"{prop.id}: Z3 trace does not replay: {err}") from None
    if prop.concrete(config, states[-1]):
        raise ReplayMismatch(f"{prop.id}: replayed trace ends in a state where it holds")
    for i, state in enumerate(states[:-1]):
        if not prop.concrete(config, state):
            raise ReplayMismatch(f"{prop.id}: replayed trace violates it at step {i} already")


def run(config: Config, properties: Sequence[SymProperty], depth: int, *,
        timeout_ms: int | None = None, deadline: float | None = None) -> list[BmcResult]:
    """Bounded model checking of each property to `depth` steps: one unrolling shared by
    all of them, and at each depth one query (in its own push/pop frame) asking whether any
    property still open is violated.  A model names every property it violates; those are
    closed (each trace replayed through the model) and the depth asked again for the rest,
    so each counterexample found at depth k is a shortest one.  `deadline` (seconds) stops
    the deepening: what is open then is "unknown" at the depth reached."""
    started = time.perf_counter()
    unrolling = Unrolling(config, timeout_ms=timeout_ms)
    open_ = list(properties)
    results: dict[str, BmcResult] = {}
    k = 0
    while open_:
        t0 = time.perf_counter()
        answer, detail = unrolling.check_any(open_)
        seconds = time.perf_counter() - t0
        if answer == "sat":
            trace = unrolling.trace(detail)
            hit = [p for p in open_ if unrolling.violates(detail, p)]
            for prop in hit:
                confirm(config, prop, trace)
                results[prop.id] = BmcResult(prop.id, VIOLATED, k, tuple(trace),
                                             time.perf_counter() - started)
                open_.remove(prop)
            continue  # the same depth again, for the properties still open
        if answer == "unknown":
            for prop in open_:
                results[prop.id] = BmcResult(prop.id, UNKNOWN, k, None, seconds, str(detail))
            open_ = []
            break
        if k == depth:
            break
        if deadline is not None and time.perf_counter() - started > deadline:
            for prop in open_:
                results[prop.id] = BmcResult(prop.id, UNKNOWN, k, None,
                                             time.perf_counter() - started,
                                             f"deadline reached after depth {k}")
            open_ = []
            break
        k += 1
        unrolling.extend()
    for prop in open_:
        results[prop.id] = BmcResult(prop.id, CLEAN, depth, None, time.perf_counter() - started)
    return [results[p.id] for p in properties]
