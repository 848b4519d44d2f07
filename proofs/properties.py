"""The safety properties of model/properties.py as Z3 formulas, and the negative controls.

This module owns the quantifier machinery of the symbolic reading.  Each property is stated
once, in model/properties.py, as a conjunction of clauses of one shape: for all x1..xn, each
drawn from a set of the state (or an integer range), body(x1..xn), the body written in the
rules' vocabulary; here the body is read over Z3 (proofs/reading.Symbolic) and the lemmas of
proofs/lemmas.py and proofs/ownership.py, written directly over Z3, share the same `Clause`.
That shape gives three readings from one text:

- `holds(u, s)`: the quantified formula (a hypothesis of an induction query);
- `violation(u, s, prefix)`: an existential counterexample with fresh witness constants
  (the goal of a bounded model checking query, or the negated goal of an induction query);
- `evaluate(abstraction, state)`: on a concrete state the quantifiers range over the members
  of finite sets, so the formula is decided by instantiating them and simplifying; the test
  suite checks this agrees with the model's predicate on every reachable state.

Negative controls are properties known to be false ("no group ever moves", "the target never
imports"): the checkers must refute them with a replayable trace.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import z3  # type: ignore[import-untyped]

from model import messages as mm
from model import state as ms
from model.config import Config
from model.properties import NEGATIVE_CONTROLS as MODEL_NEGATIVE
from model.properties import PROPERTIES as MODEL_PROPERTIES
from model.properties import Clause as ModelClause
from model.properties import Property

from .context import Pool
from .encoding import Expr, FiniteUniverse, Rec, Universe, sort_of, term
from .reading import Symbolic
from .symstate import Abstraction, ExpandedState, SymState

SET_OF: dict[str, type[Any]] = {
    "requests": mm.MigrationRequest,
    "responses": mm.MigrationResponse,
    "inits": mm.MigrationInit,
    "contents": mm.MigrationContent,
    "completes": mm.TargetMigrationComplete,
    "rejections": mm.TargetMigrationRejected,
    "confirmations": mm.MigrationConfirmation,
    "aborts": mm.MigrationAborted,
    "fanouts": mm.CommitFanout,
    "ghost_history": ms.Commit,
    "ghost_imports": ms.Import,
    "ghost_reimports": ms.Import,
    "ghost_starts": ms.Start,
    "ghost_fanned": mm.MigrationContent,
    "ghost_confirmations": ms.Accepted,
}

HONEST_DS = "honest_ds"
GROUPS = "groups"
INDICES = "indices"
HONEST_CLIENTS = "honest_clients"
INTS = "ints"
RANGES = (HONEST_DS, GROUPS, INDICES, HONEST_CLIENTS, INTS)
"""Integer domains a clause may quantify over (the others range over a set's members).
INTS is every integer: a clause over it speaks of table entries outside the parties'
bounds, which only an ArrayState or a FunctionState has (an ExpandedState has none, so there the
clause holds trivially)."""

Body = Callable[..., Expr]
"""body(universe, state, *variables) -> Bool."""


@dataclasses.dataclass(frozen=True)
class Clause:
    """For all variables, each ranging over the members of a set of the state or an integer
    range: body."""

    over: tuple[str, ...]
    body: Body

    def variables(self, prefix: str) -> list[Any]:
        out: list[Any] = []
        for i, domain in enumerate(self.over):
            name = f"{prefix}.{i}"
            if domain in RANGES:
                out.append(z3.Int(name))
            else:
                out.append(Rec(z3.Const(name, sort_of(SET_OF[domain])),
                               SET_OF[domain].__name__))
        return out

    def domain(self, u: Universe, s: SymState, variables: Sequence[Any]) -> Expr:
        parts = []
        for dom, v in zip(self.over, variables, strict=True):
            if dom == HONEST_DS:
                parts.append(u.honest_ds_(v))
            elif dom == GROUPS:
                parts.append(u.group(v))
            elif dom == INDICES:
                parts.append(u.index(v))
            elif dom == HONEST_CLIENTS:
                parts.append(u.honest_client(v))
            elif dom == INTS:
                pass
            else:
                parts.append(s.has(dom, v))
        return z3.And(*parts) if parts else z3.BoolVal(True)

    def holds(self, u: Universe, s: SymState, prefix: str) -> Expr:
        xs = self.variables(prefix)
        guard = self.domain(u, s, xs)
        body = z3.Implies(guard, self.body(u, s, *xs))
        return z3.ForAll([term(x) for x in xs], body)

    def violation(self, u: Universe, s: SymState, prefix: str) -> Expr:
        """Some instance breaks the body.  On an ExpandedState the variables range over the
        entries of the sets (and the integers of a Config); otherwise they are witness
        constants named `prefix`.i."""
        if isinstance(s, ExpandedState):
            assert isinstance(u, FiniteUniverse)
            if INTS in self.over:
                return z3.BoolVal(False)
            domains: list[list[tuple[Expr, Any]]] = []
            for dom in self.over:
                if dom in RANGES:
                    bound = _range_size(u.config, dom)
                    domains.append([(z3.BoolVal(True), z3.IntVal(i)) for i in range(bound)])
                else:
                    cls = SET_OF[dom].__name__
                    domains.append([(flag, Rec(elem, cls)) for flag, elem in s.members(dom)])
            cases = []
            for combo in itertools.product(*domains):
                flags = [flag for flag, _ in combo]
                cases.append(z3.And(*flags, z3.Not(self.body(u, s, *[x for _, x in combo]))))
            return z3.Or(*cases)
        xs = self.variables(prefix)
        return z3.And(self.domain(u, s, xs), z3.Not(self.body(u, s, *xs)))


def _range_size(config: Config, dom: str) -> int:
    sizes = {HONEST_DS: config.honest_ds, GROUPS: config.groups, INDICES: config.attempts,
             HONEST_CLIENTS: config.clients}
    return sizes[dom]


@dataclasses.dataclass(frozen=True)
class SymProperty:
    id: str
    statement: str
    clauses: tuple[Clause, ...]
    concrete: Callable[[Config, ms.State], bool]
    """The model's predicate (for replaying a counterexample)."""

    def holds(self, u: Universe, s: SymState, prefix: str) -> Expr:
        return z3.And(*[c.holds(u, s, f"{prefix}.{i}") for i, c in enumerate(self.clauses)])

    def violation(self, u: Universe, s: SymState, prefix: str) -> Expr:
        return z3.Or(*[c.violation(u, s, f"{prefix}.{i}") for i, c in enumerate(self.clauses)])

    def evaluate(self, ab: Abstraction, state: ms.State) -> bool:
        return all(evaluate_clause(ab, c, state) for c in self.clauses)


def evaluate_clause(ab: Abstraction, clause: Clause, state: ms.State | ExpandedState) -> bool:
    """Decide a clause on a concrete state: on the state's ExpandedState every quantifier
    ranges over finitely many entries, so its violation simplifies to a constant."""
    expanded = state if isinstance(state, ExpandedState) else ab.expand(state)
    value = z3.simplify(clause.violation(ab.universe, expanded, "eval"))
    if z3.is_false(value):
        return True
    if z3.is_true(value):
        return False
    raise ValueError(f"clause does not simplify to a constant: {value}")


# ---------------------------------------------------------------- the properties


def _symbolic(clause: ModelClause) -> Clause:
    """A clause of model/properties.py read symbolically: its body over the Z3 reading."""
    body = clause.body

    def reading_body(u: Universe, s: SymState, *xs: Any) -> Expr:
        value = body(Symbolic(u, frozenset(), Pool("property")), s, *xs)
        return z3.BoolVal(value) if isinstance(value, bool) else term(value)

    return Clause(clause.over, reading_body)


def _read(p: Property) -> SymProperty:
    return SymProperty(p.id, p.statement, tuple(_symbolic(c) for c in p.clauses), p.predicate)


PROPERTIES: tuple[SymProperty, ...] = tuple(_read(p) for p in MODEL_PROPERTIES)
"""The model's safety properties, in its order, read from their one statement."""

NEGATIVE_CONTROLS: tuple[SymProperty, ...] = tuple(_read(p) for p in MODEL_NEGATIVE)


def property_by_id(pid: str) -> SymProperty:
    for p in (*PROPERTIES, *NEGATIVE_CONTROLS):
        if p.id == pid:
            return p
    raise KeyError(pid)
