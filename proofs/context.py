"""The building blocks of proofs/transitions.py: a step, its parameters, and what the
adversary can do.

This module owns the `Ctx` an action is built in (universe, design options, pre-state,
parameter pool) and the `Step` it gives (labelled guard conjuncts and the next state), the
`Pool` of Z3 constants a step's parameters and witnesses are, and the adversary's power
over the network (model/adversary.py): which nonces and responses it knows, what it can
forge, and delivery.  The actions themselves are in proofs/transitions.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import z3  # type: ignore[import-untyped]

from model import messages as mm
from model import state as ms
from model.actions import ActionSpec
from model.config import DesignOptions

from .encoding import Expr, NonceTerm, Rec, Universe, make, nonce, sort_of
from .symstate import SETS, SymState

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


class Ctx:
    """What an action is built from: universe, options, pre-state and parameter pool."""

    def __init__(self, universe: Universe, options: DesignOptions, state: SymState,
                 pool: Pool) -> None:
        self.u = universe
        self.opts = options
        self.s = state
        self.p = pool

    # ------------------------------------------------------------ parameters

    def int(self, name: str) -> Expr:
        return self.p.int(name)

    def msg(self, name: str, cls: type[Any]) -> Rec:
        return self.p.rec(name, cls)

    def witness(self, name: str, cls: type[Any]) -> Rec:
        return self.p.rec(f"witness.{name}", cls)

    # ------------------------------------------------------------ bounds

    # ------------------------------------------------------------ the adversary

    def some(self, name: str, pred: Callable[[Rec], Expr], tag: str) -> Expr:
        """Some member of set `name` satisfies `pred` (positively: a witness constant)."""
        cls = SETS[name]
        return self.s.some(name, pred, lambda: self.witness(f"{tag}.{name}", cls))

    def known_nonce(self, n: NonceTerm, tag: str) -> Expr:
        """The nonce appears in a message of the network (state.known_nonces)."""
        return z3.Or(
            self.some("responses", lambda w: w.nonce == n, tag),
            self.some("inits", lambda w: w.response.nonce == n, tag),
            self.some("contents", lambda w: w.response.nonce == n, tag),
            self.some("confirmations", lambda w: w.nonce == n, tag),
            self.some("aborts", lambda w: w.nonce == n, tag),
        )

    def adversary_nonce(self, n: NonceTerm, tag: str) -> Expr:
        """adversary.adversary_nonces: seen, R's own, or (predictable nonces) the nonce a
        target will issue next."""
        u = self.u
        options = [self.known_nonce(n, tag)]
        if u.rogue_ds:
            options.append(n == nonce(u.R, 0))
        if self.opts.predictable_nonces:
            options.append(z3.And(u.honest_ds_(n.ds), self.first_unused(n.ds, n.index)))
        return z3.Or(*options)

    def first_unused(self, target: Expr, index: Expr) -> Expr:
        """`index` is the first unused nonce of `target` (actions._first_unused)."""
        u, s = self.u, self.s
        return z3.And(u.index(index), s.record(target, index).phase == ms.UNUSED,
                      u.every_index(index, lambda j: s.record(target, j).phase != ms.UNUSED))

    def network_response(self, m: Rec, tag: str) -> Expr:
        """Seen alone, inside an Init or inside a Content (adversary._network_responses)."""
        return z3.Or(
            self.s.has("responses", m),
            self.some("inits", lambda w: w.response == m, f"{tag}.response"),
            self.some("contents", lambda w: w.response == m, f"{tag}.response"),
        )

    def knows_response(self, m: Rec, tag: str) -> Expr:
        u = self.u
        own = (z3.And(m.signer == u.R, u.request_in_bounds(m.request),
                      self.adversary_nonce(m.nonce, tag))
               if u.rogue_ds else z3.BoolVal(False))
        return z3.Or(self.network_response(m, tag), own)

    def can_forge(self, m: Rec) -> Expr:
        """adversary.can_forge: whether X or R can produce `m` now."""
        u = self.u
        kind = m.shape.cls
        x, r = u.X, u.R
        if kind is mm.MigrationRequest:
            return z3.And(z3.BoolVal(u.rogue_client), m.client == x, u.request_in_bounds(m))
        if kind is mm.MigrationInit:
            if not u.rogue_client:
                return z3.BoolVal(False)
            return z3.And(m.signer == x, self.knows_response(m.response, "forge"))
        if not u.rogue_ds:
            return z3.BoolVal(False)
        if kind is mm.MigrationResponse:
            return z3.And(m.signer == r, self.knows_response(m, "forge"))
        if kind is mm.MigrationContent:
            req = m.response.request
            return z3.And(m.signer == r, self.knows_response(m.response, "forge"),
                          m.state == make(mm.GroupState, req.group, req.epoch + 1))
        if kind in (mm.TargetMigrationComplete, mm.TargetMigrationRejected):
            return z3.And(m.signer == r, self.s.has("contents", m.content))
        if kind in (mm.MigrationConfirmation, mm.MigrationAborted):
            return z3.And(m.signer == r, self.adversary_nonce(m.nonce, "forge"))
        if kind is mm.CommitFanout:
            return m.ds == r
        raise TypeError(kind)

    def delivered(self, m: Rec, slot: str, forged: bool) -> Expr:
        """The receiver takes `m` from the network or, if `forged`, from the adversary."""
        if not forged:
            return self.s.has(slot, m)
        return z3.Or(self.s.has(slot, m), self.can_forge(m))

    # ------------------------------------------------------------ shared checks

    def response_authentic(self, response: Rec) -> Expr:
        if self.opts.unsigned_response:
            return z3.BoolVal(True)
        return response.signer == response.request.target

    def record_valid(self, target: Expr, content: Rec) -> Expr:
        """actions._nonce_record(...) is not None."""
        return z3.And(content.response.nonce.ds == target,
                      self.response_authentic(content.response))

    def content_signed(self, m: Rec) -> Expr:
        if self.opts.unsigned_content:
            return z3.BoolVal(True)
        return m.signer == m.response.request.source
