"""The model read symbolically: Z3 datatypes for its records, and the universes of parties.

This module owns the vocabulary the Z3 proofs speak.  The model (model/) is plain Python, so
the proofs use a hand-written Z3 encoding of it, kept honest by a two-way agreement test
(tests/test_proofs_agreement.py): on small configurations every concrete successor satisfies
the Z3 transition relation and every Z3 successor is a concrete successor.

- Every message and record of the model (model/messages.py, model/state.py) becomes a Z3
  datatype generated from the NamedTuple itself: same name, same fields in the same order, so
  nesting is kept (a MigrationContent's response carries its request) and a field the model
  adds appears here without a second copy.  Integers stay integers; a nonce is a pair; an
  optional `tuple[X, ...]` field (a lock, a nonce's request) holds X or a sentinel whose
  integers are all NONE.
- A `Universe` says how many parties there are.  `FiniteUniverse(config)` fixes them to one
  `Config` (bounded model checking, agreement tests); `ParametricUniverse` leaves them
  symbolic (integers constrained only to be at least the model's minimum, and arbitrary
  source and target policies), so a proof over it holds for any number of clients, DSs,
  groups and nonces.  Both build the same formulas; they differ in the numbers and in
  whether a quantifier over nonce indices is expanded.
- `Converter` turns concrete model values into Z3 terms and back; proofs/symstate.py builds
  whole states from it.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any

import z3  # type: ignore[import-untyped]

from model import messages as mm
from model import state as ms
from model.config import NONE, Config, Nonce, source_policy_allows, target_policy_allows

Expr = Any
"""A Z3 expression (z3 ships no type stubs)."""

# ---------------------------------------------------------------- datatypes from the model

NONCE = "Nonce"
RECORD_TYPES: tuple[type[Any], ...] = (
    mm.MigrationRequest,
    mm.MigrationResponse,
    mm.MigrationInit,
    mm.GroupState,
    mm.MigrationContent,
    mm.TargetMigrationComplete,
    mm.TargetMigrationRejected,
    mm.MigrationConfirmation,
    mm.MigrationAborted,
    mm.CommitFanout,
    ms.Host,
    ms.NonceRecord,
    ms.ClientView,
    ms.Commit,
    ms.Import,
    ms.Start,
    ms.Accepted,
)
"""Every NamedTuple of the model's state, in dependency order (a field's type comes first)."""

_BY_NAME: dict[str, type[Any]] = {t.__name__: t for t in RECORD_TYPES}


def _field_kind(hint: Any) -> tuple[str, str | None]:
    """('int'|'nonce'|'record'|'optional', record name) for a NamedTuple field's type."""
    if hint is int:
        return "int", None
    if hint is Nonce:
        return "nonce", None
    origin = typing.get_origin(hint)
    if origin is tuple:
        args = typing.get_args(hint)
        if args == (int, int):
            return "nonce", None
        if len(args) == 2 and args[1] is Ellipsis and args[0] in RECORD_TYPES:
            return "optional", args[0].__name__
    if hint in RECORD_TYPES:
        return "record", hint.__name__
    raise TypeError(f"no Z3 reading for field type {hint!r}")


@dataclasses.dataclass(frozen=True)
class Shape:
    """One record type: its Z3 datatype and, per field, its kind and record name."""

    cls: type[Any]
    sort: Expr
    fields: tuple[tuple[str, str, str | None], ...]


def _declare() -> tuple[Expr, dict[str, Shape]]:
    nonce = z3.Datatype(NONCE)
    nonce.declare(NONCE, ("ds", z3.IntSort()), ("index", z3.IntSort()))
    nonce_sort = nonce.create()
    shapes: dict[str, Shape] = {}
    for cls in RECORD_TYPES:
        hints = typing.get_type_hints(cls, vars(mm) | vars(ms) | {"Nonce": Nonce})
        fields = []
        z3_fields = []
        for name in cls._fields:
            kind, ref = _field_kind(hints[name])
            fields.append((name, kind, ref))
            if kind == "int":
                z3_fields.append((name, z3.IntSort()))
            elif kind == "nonce":
                z3_fields.append((name, nonce_sort))
            else:
                assert ref is not None
                z3_fields.append((name, shapes[ref].sort))
        dt = z3.Datatype(cls.__name__)
        dt.declare(cls.__name__, *z3_fields)
        shapes[cls.__name__] = Shape(cls, dt.create(), tuple(fields))
    return nonce_sort, shapes


NonceSort, SHAPES = _declare()


def sort_of(cls: type[Any]) -> Expr:
    return SHAPES[cls.__name__].sort


def make(cls: type[Any], *args: Any) -> Expr:
    """The Z3 term of a record built from field terms (ints may be Python ints)."""
    return SHAPES[cls.__name__].sort.constructor(0)(*args)


def nonce(ds: Any, index: Any) -> Expr:
    return NonceSort.constructor(0)(ds, index)


def phase_in(phase: Expr, *phases: int) -> Expr:
    """`phase` is one of `phases`."""
    return z3.Or(*[phase == p for p in phases])


NO_NONCE = nonce(NONE, NONE)


class Rec:
    """A record-typed Z3 term whose fields read like the model's: `m.response.request`."""

    __slots__ = ("expr", "shape")

    def __init__(self, expr: Expr, cls_name: str | None = None) -> None:
        self.expr = expr
        self.shape = SHAPES[cls_name or expr.sort().name()]

    def __getattr__(self, name: str) -> Any:
        for i, (fname, kind, ref) in enumerate(self.shape.fields):
            if fname == name:
                value = self.shape.sort.accessor(0, i)(self.expr)
                if kind in ("record", "optional"):
                    return Rec(value, ref)
                if kind == "nonce":
                    return NonceTerm(value)
                return value
        raise AttributeError(name)

    def __eq__(self, other: object) -> Any:
        return self.expr == _term(other)

    def __ne__(self, other: object) -> Any:
        return self.expr != _term(other)

    __hash__ = None  # type: ignore[assignment]


class NonceTerm:
    """A nonce term: `.ds`, `.index`."""

    __slots__ = ("expr",)

    def __init__(self, expr: Expr) -> None:
        self.expr = expr

    @property
    def ds(self) -> Expr:
        return NonceSort.accessor(0, 0)(self.expr)

    @property
    def index(self) -> Expr:
        return NonceSort.accessor(0, 1)(self.expr)

    def __getitem__(self, i: int) -> Expr:
        """nonce[0] is the issuing DS, nonce[1] the index, as on the model's tuples."""
        return self.ds if i == 0 else self.index

    def __eq__(self, other: object) -> Any:
        return self.expr == _term(other)

    def __ne__(self, other: object) -> Any:
        return self.expr != _term(other)

    __hash__ = None  # type: ignore[assignment]


def _term(x: Any) -> Expr:
    if isinstance(x, Rec | NonceTerm):
        return x.expr
    return x


def term(x: Any) -> Expr:
    """The Z3 expression of a Rec, NonceTerm or expression."""
    return _term(x)


def sentinel(cls_name: str) -> Expr:
    """The value of an empty optional field: every integer NONE."""
    shape = SHAPES[cls_name]
    args = []
    for _, kind, ref in shape.fields:
        if kind == "int":
            args.append(z3.IntVal(NONE))
        elif kind == "nonce":
            args.append(NO_NONCE)
        else:
            assert ref is not None
            args.append(sentinel(ref))
    return shape.sort.constructor(0)(*args)


# ---------------------------------------------------------------- concrete <-> Z3 values

class Converter:
    """Concrete model values to Z3 terms and back (cached: states share their messages)."""

    def __init__(self) -> None:
        self._cache: dict[Any, Expr] = {}
        self._back: dict[int, tuple[Expr, Any]] = {}
        """AST id -> (the AST, kept alive so its id is not reused; its value)."""

    def to_z3(self, value: Any, cls_name: str) -> Expr:
        key = (cls_name, value)
        out = self._cache.get(key)
        if out is None:
            shape = SHAPES[cls_name]
            args = []
            for (name, kind, ref), item in zip(shape.fields, value, strict=True):
                del name
                if kind == "int":
                    args.append(z3.IntVal(item))
                elif kind == "nonce":
                    args.append(nonce(item[0], item[1]))
                elif kind == "record":
                    assert ref is not None
                    args.append(self.to_z3(item, ref))
                else:
                    assert ref is not None
                    args.append(self.to_z3(item[0], ref) if item else sentinel(ref))
            out = shape.sort.constructor(0)(*args)
            self._cache[key] = out
        return out

    def from_z3(self, value: Expr, cls_name: str) -> Any:
        """A closed Z3 term (a model value) back to the model's NamedTuple."""
        key = value.get_id()
        hit = self._back.get(key)
        if hit is not None:
            return hit[1]
        shape = SHAPES[cls_name]
        items = []
        for i, (_, kind, ref) in enumerate(shape.fields):
            arg = value.arg(i)
            if kind == "int":
                items.append(arg.as_long())
            elif kind == "nonce":
                items.append(Nonce(arg.arg(0).as_long(), arg.arg(1).as_long()))
            elif kind == "record":
                assert ref is not None
                items.append(self.from_z3(arg, ref))
            else:
                assert ref is not None
                inner = self.from_z3(arg, ref)
                items.append(() if _all_none(inner) else (inner,))
        out = shape.cls(*items)
        self._back[key] = (value, out)
        return out


def _all_none(value: Any) -> bool:
    if isinstance(value, int):
        return value == NONE
    return all(_all_none(v) for v in value)


# ---------------------------------------------------------------- universes


class Universe:
    """How many parties there are, and how the formulas quantify over them.

    Ids are integers as in the model: honest clients 0..clients-1, the rogue client X =
    clients; honest DSs 0..honest_ds-1, the rogue DS R = honest_ds; NONE = -1."""

    clients: Expr
    honest_ds: Expr
    groups: Expr
    attempts: Expr
    max_epoch: Expr
    rogue_client: bool
    rogue_ds: bool
    parametric: bool
    name: str

    @property
    def X(self) -> Expr:
        return self.clients

    @property
    def R(self) -> Expr:
        return self.honest_ds

    @property
    def all_clients(self) -> Expr:
        """Client ids in use: honest ones, and X if present."""
        return self.clients + 1 if self.rogue_client else self.clients

    @property
    def all_ds(self) -> Expr:
        return self.honest_ds + 1 if self.rogue_ds else self.honest_ds

    def honest_client(self, c: Expr) -> Expr:
        return z3.And(c >= 0, c < self.clients)

    def honest_ds_(self, d: Expr) -> Expr:
        return z3.And(d >= 0, d < self.honest_ds)

    def any_client(self, c: Expr) -> Expr:
        return z3.And(c >= 0, c < self.all_clients)

    def any_ds(self, d: Expr) -> Expr:
        return z3.And(d >= 0, d < self.all_ds)

    def group(self, g: Expr) -> Expr:
        return z3.And(g >= 0, g < self.groups)

    def index(self, i: Expr) -> Expr:
        return z3.And(i >= 0, i < self.attempts)

    def request_in_bounds(self, r: Rec) -> Expr:
        """A MigrationRequest within the parties' bounds: one the adversary may write
        (model/adversary._in_bounds) and the only kind a target records."""
        return z3.And(self.any_client(r.client), self.any_ds(r.source),
                      self.honest_ds_(r.target), r.source != r.target, self.group(r.group),
                      r.epoch >= 0, r.epoch < self.max_epoch)

    def source_allows(self, client: Expr) -> Expr:
        raise NotImplementedError

    def target_allows(self, client: Expr) -> Expr:
        raise NotImplementedError

    def every_index(self, upto: Expr, body: Callable[[Expr], Expr]) -> Expr:
        """For every nonce index j < upto (upto <= attempts): body(j)."""
        raise NotImplementedError

    def some_index(self, body: Callable[[Expr], Expr]) -> Expr:
        """Some nonce index j < attempts with body(j), under a negation or not."""
        return z3.Not(self.every_index(self.attempts, lambda j: z3.Not(body(j))))

    def some_ds(self, body: Callable[[Expr], Expr]) -> Expr:
        """Some honest DS d with body(d)."""
        raise NotImplementedError

    def assumptions(self) -> list[Expr]:
        """Facts about the symbolic numbers (none for a finite universe)."""
        return []

    def summary(self) -> str:
        raise NotImplementedError


class FiniteUniverse(Universe):
    """The parties of one Config: every number a numeral."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.clients = z3.IntVal(config.clients)
        self.honest_ds = z3.IntVal(config.honest_ds)
        self.groups = z3.IntVal(config.groups)
        self.attempts = z3.IntVal(config.attempts)
        self.max_epoch = z3.IntVal(config.max_epoch)
        self.rogue_client = config.rogue_client
        self.rogue_ds = config.rogue_ds
        self.parametric = False
        self.name = "finite"

    def source_allows(self, client: Expr) -> Expr:
        denied = [c for c in range(self.config.clients + 1)
                  if not source_policy_allows(self.config, 0, c)]
        return z3.And(*[client != c for c in denied]) if denied else z3.BoolVal(True)

    def target_allows(self, client: Expr) -> Expr:
        denied = [c for c in range(self.config.clients + 1)
                  if not target_policy_allows(self.config, 0, c)]
        return z3.And(*[client != c for c in denied]) if denied else z3.BoolVal(True)

    def every_index(self, upto: Expr, body: Callable[[Expr], Expr]) -> Expr:
        return z3.And(*[z3.Implies(j < upto, body(z3.IntVal(j)))
                        for j in range(self.config.attempts)])

    def some_ds(self, body: Callable[[Expr], Expr]) -> Expr:
        return z3.Or(*[body(z3.IntVal(d)) for d in range(self.config.honest_ds)])

    def summary(self) -> str:
        return self.config.summary()


class ParametricUniverse(Universe):
    """Any number of each party (at least the model's minimum), any source and target
    policy, the rogue client and the rogue DS present.  `max_epoch` may be fixed."""

    def __init__(self, max_epoch: int | None = None) -> None:
        self.clients = z3.Int("N_clients")
        self.honest_ds = z3.Int("N_honest_ds")
        self.groups = z3.Int("N_groups")
        self.attempts = z3.Int("N_attempts")
        self.max_epoch = z3.Int("N_max_epoch") if max_epoch is None else z3.IntVal(max_epoch)
        self.fixed_epoch = max_epoch
        self.rogue_client = True
        self.rogue_ds = True
        self.parametric = True
        self.name = "parametric"
        self._source_denies = z3.Function("source_denies", z3.IntSort(), z3.BoolSort())
        self._target_denies = z3.Function("target_denies", z3.IntSort(), z3.BoolSort())

    def source_allows(self, client: Expr) -> Expr:
        return z3.Not(self._source_denies(client))

    def target_allows(self, client: Expr) -> Expr:
        return z3.Not(self._target_denies(client))

    def every_index(self, upto: Expr, body: Callable[[Expr], Expr]) -> Expr:
        j = z3.FreshInt("j")
        return z3.ForAll([j], z3.Implies(z3.And(j >= 0, j < upto), body(j)))

    def some_ds(self, body: Callable[[Expr], Expr]) -> Expr:
        d = z3.FreshInt("d")
        return z3.Exists([d], z3.And(d >= 0, d < self.honest_ds, body(d)))

    def assumptions(self) -> list[Expr]:
        return [self.clients >= 1, self.honest_ds >= 2, self.groups >= 1, self.attempts >= 1,
                self.max_epoch >= 1]

    def summary(self) -> str:
        epochs = "any max_epoch" if self.fixed_epoch is None else f"max_epoch={self.fixed_epoch}"
        return (
            "parameterised: any number of clients, honest DSs, groups and nonces per DS, "
            f"{epochs}, any source and target policy; one rogue client X and one "
            "compromised DS R, colluding"
        )
