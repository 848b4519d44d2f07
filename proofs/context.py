"""The building blocks of a symbolic step: the `Step` a rule gives in the symbolic reading
(proofs/reading.py: labelled guard conjuncts and the next state) and the `Pool` of Z3
constants its parameters and witnesses are."""

from __future__ import annotations

import dataclasses
from typing import Any

import z3  # type: ignore[import-untyped]

from model.actions import ActionSpec

from .encoding import Expr, Rec, sort_of
from .symstate import SymState

INT_PARAMS = frozenset({"client", "group", "target", "source", "index"})
"""Parameters that are integers (party and group numbers, nonce indices); the one other
parameter of an action is the message it receives."""


@dataclasses.dataclass
class Step:
    """One action instance: labelled guard conjuncts and the state after it."""

    action: str
    guard: list[tuple[str, Expr]]
    next: SymState
    choices: list[Expr] = dataclasses.field(default_factory=list)
    """Constants the step's guard determines (which nonce is the first unused one)."""

    def enabled(self) -> Expr:
        return z3.And(*[g for _, g in self.guard])


class Pool:
    """The parameters and witnesses of one step: Z3 constants named `prefix.name`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.consts: dict[str, Expr] = {}

    def const(self, name: str, sort: Any) -> Expr:
        c = self.consts.get(name)
        if c is None:
            c = z3.Const(f"{self.prefix}.{name}", sort)
            self.consts[name] = c
        return c

    def int(self, name: str) -> Expr:
        return self.const(name, z3.IntSort())

    def rec(self, name: str, cls: type[Any]) -> Rec:
        return Rec(self.const(name, sort_of(cls)), cls.__name__)


def param_sort(spec: ActionSpec, name: str) -> Any:
    """The Z3 sort of one of an action's parameters."""
    if name in INT_PARAMS:
        return z3.IntSort()
    assert spec.receives is not None and name == spec.params[-1], (spec.name, name)
    return sort_of(spec.receives)
