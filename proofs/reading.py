"""The symbolic reading of the rules: model/rules.py turned into Z3 terms.

This module owns `Symbolic`, the Z3 reading of the vocabulary of model/vocabulary.py, and
`steps`, which runs every rule of model/rules.py in it on one symbolic pre-state
(proofs/symstate.py) with one shared parameter pool (proofs/context.py).  There is no
per-action, per-property or per-adversary code here: what an action, a property or the
adversary says is read from model/ itself.

In this reading truth values are Z3 Booleans, records are Z3 datatype terms
(proofs/encoding.py), parameters are constants named after the rule's parameter names
(`content`, `target`, ...) and shared by the actions of one step, since one step runs one
action.  The parameter domains and the routing a concrete run enumerates become conjuncts
("candidates", "receiver"), and so does delivery ("delivered": the message is in the
network or the adversary can forge it, model/rules.can_forge).  An existential of a guard
(the adversary knows a response because it saw an Init carrying it) is a witness constant
of the pool: guards only occur positively.  A check the design drops reads as true.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3  # type: ignore[import-untyped]

from model.config import Config, DesignOptions
from model.rules import RULES, Rule, can_forge
from model.state import SLOT, SLOT_NAMES
from model.vocabulary import INDICES, Check, in_range

from .context import Pool, Step
from .encoding import Expr, NonceTerm, Rec, Universe, make, nonce, sentinel, sort_of, term
from .symstate import SETS, ExpandedState, SymState

ACTION_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)
"""The model's actions, in table order; the selector of a step is an index into it."""


class Symbolic:
    """The rules' vocabulary over Z3 terms, for one universe, design and parameter pool."""

    true = z3.BoolVal(True)
    false = z3.BoolVal(False)

    def __init__(self, universe: Universe, dropped: frozenset[str], pool: Pool) -> None:
        self.u = universe
        self.dropped = dropped
        self.pool = pool
        self.choices: list[Expr] = []

    @staticmethod
    def all(*xs: Any) -> Expr:
        return z3.And(*[term(v) for v in xs]) if xs else z3.BoolVal(True)

    @staticmethod
    def any(*xs: Any) -> Expr:
        return z3.Or(*[term(v) for v in xs]) if xs else z3.BoolVal(False)

    @staticmethod
    def no(v: Any) -> Expr:
        return z3.Not(term(v))

    @staticmethod
    def implies(a: Any, b: Any) -> Expr:
        return z3.Implies(term(a), term(b))

    @staticmethod
    def one_of(value: Any, *options: Any) -> Expr:
        return z3.Or(*[term(value) == o for o in options])

    @staticmethod
    def make(cls: type[Any], *fields: Any) -> Expr:
        return make(cls, *[term(f) for f in fields])

    @staticmethod
    def nonce(ds: Any, index: Any) -> NonceTerm:
        return NonceTerm(nonce(term(ds), term(index)))

    @staticmethod
    def none(cls: type[Any]) -> Expr:
        return sentinel(cls.__name__)

    def enforces(self, c: Check) -> bool:
        return c.id not in self.dropped

    def check(self, c: Check, value: Any) -> Any:
        return self.true if c.id in self.dropped else value

    def witness(self, tag: str, name: str) -> Callable[[], Rec]:
        cls = SETS[name]
        return lambda: self.pool.rec(f"witness.{tag}.{name}", cls)

    def first(self, name: str, domain: str, pred: Callable[[Expr], Expr]) -> tuple[Expr, Expr]:
        """A constant for the effect to use, and what pins it down: the least nonce index
        with `pred` (the only domain the rules take a least value of)."""
        if domain != INDICES:
            raise ValueError(f"first: {domain} (only {INDICES})")
        c = self.pool.int(f"choice.{name}")
        if not any(c.eq(other) for other in self.choices):
            self.choices.append(c)
        u = self.u
        return c, z3.And(u.index(c), pred(c), u.every_index(c, lambda k: z3.Not(pred(k))))


def build(rule: Rule, universe: Universe, dropped: frozenset[str], state: SymState,
          pool: Pool) -> Step:
    """One rule on one symbolic pre-state: its labelled conjuncts and its next state."""
    x = Symbolic(universe, dropped, pool)
    args: list[Any] = []
    for name in rule.params:
        if rule.receives is not None and name == rule.params[-1]:
            args.append(pool.rec(name, rule.receives))
        else:
            args.append(pool.int(name))
    guard: list[tuple[str, Expr]] = []
    if rule.receives is None:
        guard.append(("candidates", z3.And(*[in_range(universe, d, a) for d, a in
                                              zip(rule.domains, args, strict=True)])))
    else:
        assert rule.to is not None
        m = args[-1]
        fixed = rule.to(m)
        parts = []
        for name, domain, a in zip(rule.params[:-1], rule.domains[:-1], args[:-1], strict=True):
            parts.append(in_range(universe, domain, term(fixed.get(name, a))))
            if name in fixed:
                parts.append(a == term(fixed[name]))
        guard.append(("receiver", z3.And(*parts)))
        slot = SLOT_NAMES[SLOT[rule.receives]]
        delivered = state.has(slot, m)
        if rule.forged:
            delivered = z3.Or(delivered, term(can_forge(x, state, rule.receives, m)))
        guard.append(("delivered", delivered))
    for chk, value in rule.guard(x, state, *args):
        if chk.kind == "check" and chk.id in dropped:
            value = z3.BoolVal(True)
        guard.append((chk.id, _bool(value)))
    nxt = rule.effect(x, state, *args)
    return Step(rule.name, guard, nxt, list(x.choices))


def _bool(value: Any) -> Expr:
    return z3.BoolVal(value) if isinstance(value, bool) else term(value)


Builder = Callable[[Rule, Universe, frozenset[str], SymState, Pool], Step]
BUILD: dict[str, Builder] = {"step": build}
"""The step builder `steps` uses (a test may wrap it to plant an encoding bug)."""


Design = DesignOptions | frozenset[str]
"""A design: its options, or the ids of the checks it drops (model/config.Config.dropped)."""


def dropped_by(design: Design) -> frozenset[str]:
    if isinstance(design, DesignOptions):
        return Config(options=design).dropped
    return design


def steps(universe: Universe, design: Design, state: SymState, pool: Pool) -> list[Step]:
    """Every action of the table, built on one pre-state and one shared parameter pool."""
    dropped = dropped_by(design)
    return [BUILD["step"](rule, universe, dropped, state, pool) for rule in RULES]


def expanded_relation(universe: Universe, design: Design, pre: ExpandedState,
                      pool: Pool, selector: Expr, prefix: str
                      ) -> tuple[list[Expr], ExpandedState]:
    """T(pre, post) over expanded states: (constraints, post).  `post` has one fresh
    constant per table entry, and per set the entries of `pre` followed by fresh
    (flag, element) slots, as many as the action sending most to that set needs."""
    built = steps(universe, design, pre, pool)
    nexts: list[ExpandedState] = []
    for step in built:
        assert isinstance(step.next, ExpandedState)
        nexts.append(step.next)
    tables = {
        name: {key: z3.Const(f"{prefix}.{name}.{key[0]}.{key[1]}", value.sort())
               for key, value in entries.items()}
        for name, entries in pre.tables.items()
    }
    sets: dict[str, tuple[tuple[Expr, Expr], ...]] = {}
    added: dict[str, list[tuple[Expr, Expr]]] = {}
    for name, entries in pre.sets.items():
        width = max(len(n.sets[name]) - len(entries) for n in nexts)
        slots = [(z3.Bool(f"{prefix}.{name}.{j}.sent"),
                  z3.Const(f"{prefix}.{name}.{j}", sort_of(SETS[name])))
                 for j in range(width)]
        added[name] = slots
        sets[name] = (*entries, *slots)
    constraints = [z3.And(selector >= 0, selector < len(ACTION_NAMES))]
    for i, (step, nxt) in enumerate(zip(built, nexts, strict=True)):
        parts = [step.enabled()]
        for name, cells in nxt.tables.items():
            for key, value in cells.items():
                parts.append(tables[name][key] == value)
        for name, slots in added.items():
            new = nxt.sets[name][len(pre.sets[name]):]
            for j, (flag, elem) in enumerate(slots):
                if j < len(new):
                    parts += [flag == new[j][0], elem == new[j][1]]
                else:
                    parts.append(z3.Not(flag))
        constraints.append(z3.Implies(selector == i, z3.And(*parts)))
    return constraints, ExpandedState(tables, sets)
