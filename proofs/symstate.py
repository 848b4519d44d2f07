"""Symbolic states: the model's State as Z3 terms, in three representations, and the
abstraction between concrete and symbolic states.

This module owns how a State is laid out for the solver.  The rules, read symbolically
(proofs/reading.py), read and write a state only through the `SymState` interface (read a
host, a nonce record or a client view; test membership in a set; write an entry; send an
element), so the same action code builds formulas over any representation:

- `FunctionState`: one uninterpreted function per table and set of the pre-state, and the
  post-state a macro over them (mypyvy/Ivy style).  It does not fix how many parties there
  are, and its queries need no array theory: the induction proofs use it.
- `ArrayState`: one array per table (indexed by a `Slot` pair: (ds, group), (ds, nonce
  index), (client, group)) and one array element -> Bool per network slot and ghost set;
  the agreement test's one-solver-per-configuration check uses it.
- `ExpandedState`: for one Config, one term per table entry and each set as the list of
  (flag, element) entries sent so far.  Bounded model checking starts from empty sets and
  adds a few entries per step, so membership is a short disjunction and no array theory is
  needed; this keeps counterexample search fast.

`Abstraction` maps a concrete State to closed terms of each representation (`abstract`,
`expand`, `functions`) and reads a State back from a Z3 model (`concretize`).  Entries
outside the Config's bounds keep the initial state's defaults, so the maps are inverse to
each other on every State of the Config (tests/test_proofs_agreement.py).

A little over 500 lines on purpose: the three representations implement one interface
and `Abstraction` must stay inverse to all three, so they are reviewed side by side.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterator
from typing import Any

import z3  # type: ignore[import-untyped]

from model import messages as mm
from model import state as ms
from model.config import NONE, Config

from .encoding import (
    NO_NONCE,
    Converter,
    Expr,
    FiniteUniverse,
    Rec,
    Universe,
    make,
    sentinel,
    sort_of,
    term,
)

# ---------------------------------------------------------------- the parts of a state

_HINTS = vars(mm) | vars(ms)

NETWORK_SLOTS: tuple[tuple[str, type[Any]], ...] = tuple(
    (name, typing.get_args(hint)[0])
    for name, hint in typing.get_type_hints(ms.Network, _HINTS).items()
)
"""(slot name, message type) for each network slot, in the model's order."""

GHOST_SETS: tuple[tuple[str, type[Any]], ...] = tuple(
    (name, typing.get_args(hint)[0])
    for name, hint in typing.get_type_hints(ms.Ghost, _HINTS).items()
)

SETS: dict[str, type[Any]] = dict(
    [*NETWORK_SLOTS, *((f"ghost_{name}", t) for name, t in GHOST_SETS)]
)
"""Every set-valued part of a state (network slots, then ghost sets prefixed ghost_) and
the type of its elements."""

_slot = z3.Datatype("Slot")
_slot.declare("Slot", ("first", z3.IntSort()), ("second", z3.IntSort()))
SlotSort = _slot.create()
"""The index of a table: (ds, group), (ds, nonce index) or (client, group)."""


def slot(a: Any, b: Any) -> Expr:
    return SlotSort.constructor(0)(a, b)


HostSort = sort_of(ms.Host)
NonceRecordSort = sort_of(ms.NonceRecord)
ClientViewSort = sort_of(ms.ClientView)

EMPTY_HOST = make(ms.Host, ms.ABSENT, NONE, NONE, sentinel("MigrationContent"), NONE)
ACTIVE0 = make(ms.Host, ms.ACTIVE, 0, NONE, sentinel("MigrationContent"), NONE)
UNUSED_RECORD = make(ms.NonceRecord, ms.UNUSED, sentinel("MigrationRequest"),
                     sentinel("MigrationContent"))
VIEW0 = make(ms.ClientView, 0, 0, NO_NONCE, NONE)

TABLES: dict[str, tuple[str, Expr]] = {
    "hosts": ("Host", EMPTY_HOST),
    "nonces": ("NonceRecord", UNUSED_RECORD),
    "views": ("ClientView", VIEW0),
}
"""Table name -> (record type, the value of an entry nobody wrote)."""


def _when(when: Expr | None, then: Expr, otherwise: Expr) -> Expr:
    return then if when is None else z3.If(when, then, otherwise)


class SymState:
    """What the actions may do with a state; see ArrayState and ExpandedState."""

    def host(self, ds: Expr, group: Expr) -> Rec:
        return Rec(self.read("hosts", ds, group), "Host")

    def record(self, ds: Expr, index: Expr) -> Rec:
        return Rec(self.read("nonces", ds, index), "NonceRecord")

    def view(self, client: Expr, group: Expr) -> Rec:
        return Rec(self.read("views", client, group), "ClientView")

    def with_host(self, ds: Expr, group: Expr, value: Expr, when: Expr | None = None
                  ) -> SymState:
        return self.write("hosts", ds, group, term(value), when)

    def with_record(self, ds: Expr, index: Expr, value: Expr, when: Expr | None = None
                    ) -> SymState:
        return self.write("nonces", ds, index, term(value), when)

    def with_view(self, client: Expr, group: Expr, value: Expr, when: Expr | None = None
                  ) -> SymState:
        return self.write("views", client, group, term(value), when)

    # the representation's primitives

    def read(self, table: str, a: Expr, b: Expr) -> Expr:
        raise NotImplementedError

    def write(self, table: str, a: Expr, b: Expr, value: Expr, when: Expr | None) -> SymState:
        raise NotImplementedError

    def has(self, name: str, element: Any) -> Expr:
        """`element` is in the set `name`."""
        raise NotImplementedError

    def some(self, name: str, pred: Callable[[Rec], Expr], witness: Callable[[], Rec]
             ) -> Expr:
        """Some member of the set `name` satisfies `pred`.  It occurs positively, so the
        member can be named by the constant `witness()` gives (ArrayState, FunctionState);
        ExpandedState, whose sets are finite, enumerates them instead."""
        w = witness()
        return z3.And(self.has(name, w), pred(w))

    def with_sent(self, name: str, element: Any, when: Expr | None = None) -> SymState:
        raise NotImplementedError


_FRESH = [0]


@dataclasses.dataclass(frozen=True)
class ArrayState(SymState):
    """Tables and sets as Z3 arrays (any number of parties)."""

    tables: dict[str, Expr]
    sets: dict[str, Expr]

    def read(self, table: str, a: Expr, b: Expr) -> Expr:
        return z3.Select(self.tables[table], slot(a, b))

    def write(self, table: str, a: Expr, b: Expr, value: Expr, when: Expr | None) -> SymState:
        old = self.tables[table]
        new = _when(when, z3.Store(old, slot(a, b), value), old)
        return dataclasses.replace(self, tables={**self.tables, table: new})

    def has(self, name: str, element: Any) -> Expr:
        return z3.Select(self.sets[name], term(element))

    def with_sent(self, name: str, element: Any, when: Expr | None = None) -> SymState:
        old = self.sets[name]
        new = _when(when, z3.Store(old, term(element), True), old)
        return dataclasses.replace(self, sets={**self.sets, name: new})

    def parts(self) -> Iterator[tuple[str, Expr]]:
        yield from self.tables.items()
        yield from self.sets.items()

    def equals(self, other: ArrayState) -> Expr:
        return z3.And(*[a == b for (_, a), (_, b) in zip(self.parts(), other.parts(),
                                                         strict=True)])


def fresh_array_state(prefix: str) -> ArrayState:
    """Unconstrained state variables named `prefix`.*."""
    return ArrayState(
        tables={name: z3.Array(f"{prefix}.{name}", SlotSort, sort_of(getattr(ms, rec)))
                for name, (rec, _) in TABLES.items()},
        sets={name: z3.Array(f"{prefix}.{name}", sort_of(t), z3.BoolSort())
              for name, t in SETS.items()},
    )


Reader = Callable[[Expr, Expr], Expr]
Member = Callable[[Expr], Expr]


@dataclasses.dataclass(frozen=True)
class FunctionState(SymState):
    """Tables and sets as uninterpreted functions of the pre-state, and every later state
    as a macro over them (a write is an if-then-else around the old reader, a send a
    disjunction around the old membership test), in the style of mypyvy and Ivy.  No array
    theory: a query is first-order logic over the pre-state's functions, which E-matching
    and model-based quantifier instantiation handle well.  The induction proofs use it."""

    tables: dict[str, Reader]
    sets: dict[str, Member]

    def read(self, table: str, a: Expr, b: Expr) -> Expr:
        return self.tables[table](a, b)

    def write(self, table: str, a: Expr, b: Expr, value: Expr, when: Expr | None) -> SymState:
        old = self.tables[table]

        def reader(x: Expr, y: Expr) -> Expr:
            hit = z3.And(x == a, y == b) if when is None else z3.And(when, x == a, y == b)
            return z3.If(hit, value, old(x, y))

        return dataclasses.replace(self, tables={**self.tables, table: reader})

    def has(self, name: str, element: Any) -> Expr:
        return self.sets[name](term(element))

    def with_sent(self, name: str, element: Any, when: Expr | None = None) -> SymState:
        old = self.sets[name]
        e = term(element)

        def member(x: Expr) -> Expr:
            new = x == e if when is None else z3.And(when, x == e)
            return z3.Or(new, old(x))

        return dataclasses.replace(self, sets={**self.sets, name: member})

    def changed(self, other: FunctionState) -> set[str]:
        """The parts `other` (a later state) may differ in: those it rewrote."""
        out = {name for name, r in self.tables.items() if other.tables[name] is not r}
        return out | {name for name, m in self.sets.items() if other.sets[name] is not m}


def free_function_state(prefix: str, universe: Universe) -> FunctionState:
    """An arbitrary state of the parametric (or a finite) universe: one uninterpreted
    function per table and per set, except that every table entry outside the parties'
    bounds holds its initial value (lemma tables_bounded, stated by the representation: a
    read outside the bounds is the default, with no quantifier for the solver)."""

    def table(name: str) -> Reader:
        rec, default = TABLES[name]
        raw = z3.Function(f"{prefix}.{name}", z3.IntSort(), z3.IntSort(),
                          sort_of(getattr(ms, rec)))
        return lambda a, b: z3.If(in_table(universe, name, a, b), raw(a, b), default)

    def member(name: str) -> Member:
        f = z3.Function(f"{prefix}.{name}", sort_of(SETS[name]), z3.BoolSort())
        return lambda x: f(x)

    return FunctionState(tables={name: table(name) for name in TABLES},
                         sets={name: member(name) for name in SETS})


def initial_function_state(universe: Universe) -> FunctionState:
    """The model's initial state for any number of parties: every group active at d0 in
    epoch 0, every client a member using d0, no nonce used, nothing sent."""

    def hosts(a: Expr, b: Expr) -> Expr:
        return z3.If(z3.And(a == 0, universe.group(b)), ACTIVE0, EMPTY_HOST)

    def constant(value: Expr) -> Reader:
        return lambda a, b: value

    def empty(x: Expr) -> Expr:
        return z3.BoolVal(False)

    return FunctionState(
        tables={"hosts": hosts, "nonces": constant(UNUSED_RECORD), "views": constant(VIEW0)},
        sets={name: empty for name in SETS},
    )


def in_table(universe: Universe, table: str, a: Expr, b: Expr) -> Expr:
    """Whether entry (a, b) of `table` is within the parties' bounds."""
    if table == "hosts":
        return z3.And(universe.honest_ds_(a), universe.group(b))
    if table == "nonces":
        return z3.And(universe.honest_ds_(a), universe.index(b))
    return z3.And(universe.honest_client(a), universe.group(b))


def initial_array_state(groups: int) -> ArrayState:
    """The model's initial state (model/state.py initial_state) as closed array terms."""
    hosts = z3.K(SlotSort, EMPTY_HOST)
    for g in range(groups):
        hosts = z3.Store(hosts, slot(0, g), ACTIVE0)
    return ArrayState(
        tables={"hosts": hosts, "nonces": z3.K(SlotSort, UNUSED_RECORD),
                "views": z3.K(SlotSort, VIEW0)},
        sets={name: z3.K(sort_of(t), z3.BoolVal(False)) for name, t in SETS.items()},
    )


# ---------------------------------------------------------------- expanded states


def _int(x: Any) -> int | None:
    """The Python int of a numeral term (or int), else None."""
    if isinstance(x, int):
        return x
    if z3.is_int_value(x):
        return int(x.as_long())
    return None


@dataclasses.dataclass(frozen=True)
class ExpandedState(SymState):
    """One Config's state as one term per table entry and a list of entries per set."""

    tables: dict[str, dict[tuple[int, int], Expr]]
    sets: dict[str, tuple[tuple[Expr, Expr], ...]]
    """Set name -> ((flag, element), ...): the members are the elements whose flag holds."""

    def read(self, table: str, a: Expr, b: Expr) -> Expr:
        entries = self.tables[table]
        default = TABLES[table][1]
        ia, ib = _int(a), _int(b)
        if ia is not None and ib is not None:
            return entries.get((ia, ib), default)
        out = default
        for (i, j), value in entries.items():
            out = z3.If(z3.And(a == i, b == j), value, out)
        return out

    def write(self, table: str, a: Expr, b: Expr, value: Expr, when: Expr | None) -> SymState:
        ia, ib = _int(a), _int(b)
        new = {}
        for (i, j), old in self.tables[table].items():
            if ia is not None and ib is not None:
                new[i, j] = _when(when, value, old) if (i, j) == (ia, ib) else old
            else:
                hit = z3.And(a == i, b == j) if when is None else z3.And(when, a == i, b == j)
                new[i, j] = z3.If(hit, value, old)
        return dataclasses.replace(self, tables={**self.tables, table: new})

    def has(self, name: str, element: Any) -> Expr:
        e = term(element)
        return z3.Or(*[z3.And(flag, elem == e) for flag, elem in self.sets[name]])

    def some(self, name: str, pred: Callable[[Rec], Expr], witness: Callable[[], Rec]
             ) -> Expr:
        cls = SETS[name].__name__
        return z3.Or(*[z3.And(flag, pred(Rec(elem, cls))) for flag, elem in self.sets[name]])

    def with_sent(self, name: str, element: Any, when: Expr | None = None) -> SymState:
        entry = (z3.BoolVal(True) if when is None else when, term(element))
        return dataclasses.replace(self, sets={**self.sets, name: (*self.sets[name], entry)})

    def members(self, name: str) -> tuple[tuple[Expr, Expr], ...]:
        return self.sets[name]


def table_keys(config: Config) -> dict[str, list[tuple[int, int]]]:
    """The in-bounds entries of each table for one Config."""
    return {
        "hosts": [(d, g) for d in range(config.honest_ds) for g in range(config.groups)],
        "nonces": [(d, i) for d in range(config.honest_ds) for i in range(config.attempts)],
        "views": [(c, g) for c in range(config.clients) for g in range(config.groups)],
    }


def initial_expanded_state(config: Config) -> ExpandedState:
    keys = table_keys(config)
    tables = {name: {k: TABLES[name][1] for k in keys[name]} for name in TABLES}
    for g in range(config.groups):
        tables["hosts"][0, g] = ACTIVE0
    return ExpandedState(tables, {name: () for name in SETS})


# ---------------------------------------------------------------- abstraction


class Abstraction:
    """Concrete States of one Config <-> closed Z3 terms, in either representation."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.universe = FiniteUniverse(config)
        self.convert = Converter()
        self.keys = table_keys(config)
        self._set_cache: dict[tuple[str, frozenset[Any]], Expr] = {}
        self._init = initial_array_state(config.groups)

    def _rows(self, state: ms.State) -> dict[str, dict[tuple[int, int], Any]]:
        return {
            "hosts": {(d, g): h for d, row in enumerate(state.hosts) for g, h in enumerate(row)},
            "nonces": {(d, i): r for d, pool in enumerate(state.nonces)
                       for i, r in enumerate(pool)},
            "views": {(c, g): v for c, row in enumerate(state.clients)
                      for g, v in enumerate(row)},
        }

    @staticmethod
    def _members(state: ms.State) -> Iterator[tuple[str, frozenset[Any]]]:
        for (name, _), sent in zip(NETWORK_SLOTS, state.network, strict=True):
            yield name, sent
        for (name, _), recorded in zip(GHOST_SETS, state.ghost, strict=True):
            yield f"ghost_{name}", recorded

    def _set_term(self, name: str, members: frozenset[Any]) -> Expr:
        key = (name, members)
        out = self._set_cache.get(key)
        if out is None:
            cls = SETS[name].__name__
            out = z3.K(sort_of(SETS[name]), z3.BoolVal(False))
            for m in sorted(members):
                out = z3.Store(out, self.convert.to_z3(m, cls), True)
            self._set_cache[key] = out
        return out

    def abstract(self, state: ms.State) -> ArrayState:
        """The ArrayState of `state` (closed terms)."""
        init = initial_expanded_state(self.config)
        tables = {}
        for name, rows in self._rows(state).items():
            table = self._init.tables[name]
            cls = TABLES[name][0]
            for key, value in rows.items():
                converted = self.convert.to_z3(value, cls)
                if not converted.eq(init.tables[name][key]):
                    table = z3.Store(table, slot(*key), converted)
            tables[name] = table
        sets = {name: self._set_term(name, members) for name, members in self._members(state)}
        return ArrayState(tables, sets)

    def expand(self, state: ms.State) -> ExpandedState:
        """The ExpandedState of `state` (closed terms)."""
        tables = {name: {key: self.convert.to_z3(value, TABLES[name][0])
                         for key, value in rows.items()}
                  for name, rows in self._rows(state).items()}
        true = z3.BoolVal(True)
        sets = {name: tuple((true, self.convert.to_z3(m, SETS[name].__name__))
                            for m in sorted(members))
                for name, members in self._members(state)}
        return ExpandedState(tables, sets)

    def functions(self, state: ms.State) -> FunctionState:
        """The FunctionState of `state`: each table an if-then-else over its entries, each
        set a disjunction over its members (closed, quantifier-free terms)."""
        expanded = self.expand(state)

        def table(name: str) -> Reader:
            cells = expanded.tables[name]
            default = TABLES[name][1]

            def read(a: Expr, b: Expr) -> Expr:
                out = default
                for (i, j), value in cells.items():
                    out = z3.If(z3.And(a == i, b == j), value, out)
                return out

            return read

        def member(name: str) -> Member:
            elements = [e for _, e in expanded.sets[name]]
            return lambda x: z3.Or(*[x == e for e in elements])

        return FunctionState(tables={n: table(n) for n in TABLES},
                             sets={n: member(n) for n in SETS})

    def concretize(self, model: Any, state: SymState) -> ms.State:
        """The concrete State a Z3 model gives `state`, read within the Config's bounds."""
        fz = self.convert.from_z3

        def ev(x: Expr) -> Expr:
            return model.eval(x, model_completion=True)

        tables = {}
        for name, (cls, _) in TABLES.items():
            tables[name] = {k: fz(ev(state.read(name, z3.IntVal(k[0]), z3.IntVal(k[1]))), cls)
                            for k in self.keys[name]}
        sets: dict[str, frozenset[Any]] = {}
        for name, t in SETS.items():
            if isinstance(state, ExpandedState):
                elems = [ev(e) for f, e in state.members(name) if z3.is_true(ev(f))]
            else:
                assert isinstance(state, ArrayState)
                elems = members_of(ev(state.sets[name]))
            sets[name] = frozenset(fz(e, t.__name__) for e in elems)
        cfg = self.config
        hosts = tuple(tuple(tables["hosts"][d, g] for g in range(cfg.groups))
                      for d in range(cfg.honest_ds))
        nonces = tuple(tuple(tables["nonces"][d, i] for i in range(cfg.attempts))
                       for d in range(cfg.honest_ds))
        views = tuple(tuple(tables["views"][c, g] for g in range(cfg.groups))
                      for c in range(cfg.clients))
        network = ms.Network(*(sets[name] for name, _ in NETWORK_SLOTS))
        ghost = ms.Ghost(*(sets[f"ghost_{name}"] for name, _ in GHOST_SETS))
        return ms.State(hosts, nonces, views, network, ghost)


def members_of(value: Expr) -> list[Expr]:
    """The elements of a set-valued model value: a chain of Stores over a constant array;
    raises ValueError on any other shape (never guesses)."""
    out: list[Expr] = []
    seen: set[int] = set()
    while z3.is_store(value):
        elem, flag = value.arg(1), value.arg(2)
        key = elem.get_id()
        if key not in seen:
            seen.add(key)
            if z3.is_true(flag):
                out.append(elem)
            elif not z3.is_false(flag):
                raise ValueError(f"set entry is not a truth value: {flag}")
        value = value.arg(0)
    if z3.is_K(value) and z3.is_false(value.arg(0)):
        return out
    raise ValueError(f"cannot read the members of {value}")
