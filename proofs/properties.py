"""The safety properties of model/properties.py as Z3 formulas, and the negative controls.

This module owns the symbolic reading of the properties (same stable ids, same meaning).
Each is a conjunction of `Clause`s of one shape: for all x1..xn, each drawn from a set of the
state (or an integer range), body(x1..xn).  That shape gives three readings from one text:

- `holds(u, s)`: the quantified formula (a hypothesis of an induction query);
- `violation(u, s, prefix)`: an existential counterexample with fresh witness constants
  (the goal of a bounded model checking query, or the negated goal of an induction query);
- `evaluate(abstraction, state)`: on a concrete state the quantifiers range over the members
  of finite sets, so the formula is decided by instantiating them and simplifying; the test
  suite checks this agrees with the model's predicate on every reachable state.

Negative controls are properties known to be false ("no group ever moves", "the target never
imports"): the checkers must refute them with a replayable trace (style.md item 9).
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
from model.properties import PROPERTIES as MODEL_PROPERTIES
from model.properties import no_group_ever_moves

from .encoding import NO_NONCE, Expr, FiniteUniverse, Rec, Universe, make, sort_of, term
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


def _response(u: Universe, signer: Any, request: Rec, n: Any) -> Expr:
    return make(mm.MigrationResponse, signer, request.expr, term(n))


def _distinct_commits(u: Universe, s: SymState, a: Rec, b: Rec) -> Expr:
    return z3.Implies(z3.And(a.group == b.group, a.epoch == b.epoch), a == b)


def _not_replacing(u: Universe, s: SymState, i: Rec) -> Expr:
    return z3.And(i.replaced != ms.ACTIVE, i.replaced != ms.LOCKED)


def _acked(u: Universe, s: SymState, c: Rec) -> Expr:
    target = c.response.request.target
    return s.has("completes", make(mm.TargetMigrationComplete, target, c.expr))


def _issued(u: Universe, s: SymState, i: Rec) -> Expr:
    r = i.content.response
    return s.has("responses", _response(u, i.target, r.request, r.nonce))


def _once(u: Universe, s: SymState, a: Rec, b: Rec) -> Expr:
    same = z3.And(a.target == b.target, a.content.response.nonce == b.content.response.nonce)
    return z3.Implies(same, a.content == b.content)


def _never(u: Universe, s: SymState, i: Rec) -> Expr:
    return z3.BoolVal(False)


def _own_nonce(u: Universe, s: SymState, a: Rec) -> Expr:
    return z3.And(a.nonce != NO_NONCE, a.confirmation.nonce == a.nonce)


def _integrity(u: Universe, s: SymState, i: Rec) -> Expr:
    c = i.content
    source = c.response.request.source
    return z3.Implies(u.honest_ds_(source),
                      z3.And(c.signer == source, s.has("contents", c)))


def _authorized(u: Universe, s: SymState, st: Rec) -> Expr:
    init = st.init
    request = init.response.request
    return z3.And(u.honest_client(init.signer), init.signer == request.client,
                  u.source_allows(init.signer), u.target_allows(request.client))


def _consented(u: Universe, s: SymState, c: Rec) -> Expr:
    request = c.response.request
    return z3.Implies(u.honest_ds_(c.signer),
                      s.has("responses", _response(u, request.target, request,
                                                   c.response.nonce)))


def _matches(u: Universe, s: SymState, a: Rec) -> Expr:
    c = a.confirmation
    return z3.And(a.nonce != NO_NONCE, c.nonce == a.nonce, c.target == a.target,
                  c.group == a.group)


def _never_moved(u: Universe, s: SymState, d: Expr, g: Expr) -> Expr:
    return s.host(d, g).phase != ms.MOVED


_CLAUSES: dict[str, tuple[Clause, ...]] = {
    "single_owner": (
        Clause(("ghost_history", "ghost_history"), _distinct_commits),
        Clause(("ghost_imports",), _not_replacing),
        Clause(("ghost_reimports",), _not_replacing),
    ),
    "no_fanout_before_ack": (Clause(("ghost_fanned",), _acked),),
    "nonce_binding": (
        Clause(("ghost_imports",), _issued),
        Clause(("ghost_imports", "ghost_imports"), _once),
        Clause(("ghost_reimports",), _never),
        Clause(("ghost_confirmations",), _own_nonce),
    ),
    "state_integrity": (Clause(("ghost_imports",), _integrity),),
    "authorized_migration": (Clause(("ghost_starts",), _authorized),),
    "export_consent": (Clause(("contents",), _consented),),
    "confirmation_matches": (Clause(("ghost_confirmations",), _matches),),
}

PROPERTIES: tuple[SymProperty, ...] = tuple(
    SymProperty(p.id, p.statement, _CLAUSES[p.id], p.predicate) for p in MODEL_PROPERTIES
)
"""The model's safety properties, in its order (an id the model adds fails here at import)."""


def _target_never_imports(config: Config, state: ms.State) -> bool:
    """Negative control, deliberately false: no Target DS ever imports a group."""
    return not state.ghost.imports


NEGATIVE_CONTROLS: tuple[SymProperty, ...] = (
    SymProperty("no_group_ever_moves", "Negative control: no group ever moves away from a DS.",
                (Clause((HONEST_DS, GROUPS), _never_moved),), no_group_ever_moves),
    SymProperty("target_never_imports", "Negative control: no Target DS ever imports a group.",
                (Clause(("ghost_imports",), _never),), _target_never_imports),
)


def property_by_id(pid: str) -> SymProperty:
    for p in (*PROPERTIES, *NEGATIVE_CONTROLS):
        if p.id == pid:
            return p
    raise KeyError(pid)
