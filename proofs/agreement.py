"""The agreement check between the two readings of the rules, both directions.

The rules are written once (model/rules.py) and read concretely (model/actions.py) and
symbolically (proofs/reading.py); this module owns the test that the two readings of that one
statement agree.  For one concrete state s of a Config it asks the solver for every action
instance the Z3 transition relation enables in abstract(s), one model at a time, blocking
each (action, arguments) found, and compares with the model:

- every instance Z3 enables is one the model enables (model.actions.enabled: the model's
  candidates and guard), and the state Z3 computes after it, read back with `concretize`,
  is exactly the model's successor;
- every instance the model enables is found by Z3.

Comparing action instances (not only successor states) is the stronger check: it also
covers the trace extraction of proofs/bmc.py, which reads the action and its arguments from
a model.  The model's instances are enumerated with the adversary's exhaustive generator
(model/adversary.py), which lists everything `can_forge` allows, since the encoding reads
`can_forge` itself; the faster `useful` generator omits forged messages the model's own tests
show change no verdict.  Every state representation is checked: symstate.ArrayState,
symstate.ExpandedState (bounded model checking) and symstate.FunctionState (the induction
proofs; its successors are compared with the model's by queries that look for a table
entry or a set element on which the two differ).
"""

from __future__ import annotations

from typing import Any

import z3  # type: ignore[import-untyped]

from model import adversary
from model import state as ms
from model.actions import ACTIONS, every_enabled
from model.config import Config

from .context import Pool, Step, param_sort
from .encoding import Expr, sort_of
from .reading import steps
from .symstate import SETS, Abstraction, ArrayState, FunctionState, fresh_array_state

MAX_INSTANCES = 2_000
"""More Z3 models than this for one state means an unconstrained parameter: a failure."""


class Checker:
    """Agreement checks for the states of one Config, in one representation."""

    def __init__(self, config: Config, representation: str = "array") -> None:
        if representation not in ("array", "expanded", "function"):
            raise ValueError(representation)
        self.config = config
        self.representation = representation
        self.abstraction = Abstraction(config)
        self.universe = self.abstraction.universe
        self.selector = z3.Int("action")
        if representation == "array":
            # one solver, the relation built once over state variables pinned per state
            self.pre: ArrayState | None = fresh_array_state("pre")
            self.pool = Pool("p")
            self.steps = steps(self.universe, config.dropped, self.pre, self.pool)
            self.solver = z3.Solver()
            self.solver.add(self._enabled(self.steps))
        else:
            self.pre = None

    def _enabled(self, built: list[Step]) -> Expr:
        sel = self.selector
        parts = [z3.And(sel >= 0, sel < len(built))]
        parts += [z3.Implies(sel == i, step.enabled()) for i, step in enumerate(built)]
        return z3.And(*parts)

    def _arguments(self, pool: Pool, step: Step, index: int) -> list[Expr]:
        spec = ACTIONS[index]
        return [pool.const(name, param_sort(spec, name)) for name in spec.params] + step.choices

    def check_state(self, state: ms.State) -> list[str]:
        """Disagreements on `state` (empty when the two readings agree)."""
        cfg = self.config
        model_instances: dict[tuple[str, tuple[Any, ...]], ms.State] = {}
        generator = adversary.GENERATOR
        adversary.GENERATOR = "exhaustive"  # can_forge's own reach, as the encoding reads it
        try:
            for spec, args in every_enabled(cfg, state):
                model_instances[spec.name, args] = spec.effect(cfg, state, *args)
        finally:
            adversary.GENERATOR = generator
        if self.representation == "array":
            assert self.pre is not None
            solver, pool, built = self.solver, self.pool, self.steps
            solver.push()
            solver.add(self.pre.equals(self.abstraction.abstract(state)))
        else:
            pool = Pool("p")
            pre = (self.abstraction.expand(state) if self.representation == "expanded"
                   else self.abstraction.functions(state))
            built = steps(self.universe, cfg.dropped, pre, pool)
            solver = z3.Solver()
            solver.add(self._enabled(built))
        problems: list[str] = []
        found: set[tuple[str, tuple[Any, ...]]] = set()
        try:
            for _ in range(MAX_INSTANCES):
                answer = solver.check()
                if answer == z3.unsat:
                    break
                if answer != z3.sat:
                    problems.append(f"solver answered {answer}: {solver.reason_unknown()}")
                    return problems
                model = solver.model()
                index = model.eval(self.selector, model_completion=True).as_long()
                spec = ACTIONS[index]
                consts = self._arguments(pool, built[index], index)
                values = [model.eval(c, model_completion=True) for c in consts]
                args = tuple(self._value(spec, name, v)
                             for name, v in zip(spec.params, values, strict=False))
                key = (spec.name, args)
                if key in found:
                    problems.append(f"{spec.name}{args}: found twice (blocking failed)")
                    return problems
                found.add(key)
                expected = model_instances.get(key)
                if expected is None:
                    problems.append(f"Z3 enables {spec.name}{args}, the model does not")
                elif isinstance(built[index].next, FunctionState):
                    problems += self._compare_functions(model, consts, values,
                                                        built[index].next, expected,
                                                        f"{spec.name}{args}")
                else:
                    got = self.abstraction.concretize(model, built[index].next)
                    if got != expected:
                        problems.append(f"{spec.name}{args}: Z3's successor differs from the "
                                        f"model's: {_difference(expected, got)}")
                solver.add(z3.Not(z3.And(self.selector == index,
                                         *[c == v for c, v in zip(consts, values, strict=True)])))
            else:
                problems.append(f"more than {MAX_INSTANCES} instances: a parameter is free")
        finally:
            if self.representation == "array":
                solver.pop()
        for key in sorted(set(model_instances) - found, key=repr):
            problems.append(f"the model enables {key[0]}{key[1]}, Z3 does not")
        return problems

    def _compare_functions(self, model: Any, consts: list[Expr], values: list[Expr],
                           got: FunctionState, expected: ms.State, what: str) -> list[str]:
        """A FunctionState successor against the model's: every table entry (in bounds or
        not: out of bounds it must keep the default) and every set, each decided by a
        query that looks for an element on which they differ."""
        want = self.abstraction.functions(expected)
        pins = [c == v for c, v in zip(consts, values, strict=True)]
        a, b = z3.Ints("agreement.a agreement.b")
        out = []
        for name in got.tables:
            solver = z3.Solver()
            solver.add(*pins, got.read(name, a, b) != want.read(name, a, b))
            if solver.check() != z3.unsat:
                out.append(f"{what}: Z3's {name} differs from the model's at "
                           f"{solver.model().eval(a)}, {solver.model().eval(b)}")
        for name, cls in SETS.items():
            x = z3.Const(f"agreement.{name}", sort_of(cls))
            solver = z3.Solver()
            solver.add(*pins, got.has(name, x) != want.has(name, x))
            if solver.check() != z3.unsat:
                out.append(f"{what}: Z3's {name} differs from the model's on "
                           f"{solver.model().eval(x)}")
        del model
        return out

    def _value(self, spec: Any, name: str, value: Expr) -> Any:
        if z3.is_int_value(value):
            return value.as_long()
        return self.abstraction.convert.from_z3(value, spec.receives.__name__)


def _difference(expected: ms.State, got: ms.State) -> str:
    parts = []
    for field in ms.State._fields:
        a, b = getattr(expected, field), getattr(got, field)
        if a != b:
            parts.append(f"{field}: model {a!r} / Z3 {b!r}")
    return "; ".join(parts)[:600]


def check_states(config: Config, states: list[ms.State], representation: str = "array"
                 ) -> list[str]:
    """Disagreements over `states` (each prefixed with the state's position)."""
    checker = Checker(config, representation)
    out = []
    for i, state in enumerate(states):
        out += [f"state {i}: {p}" for p in checker.check_state(state)]
    return out

