"""Incremental successor generation: each action's guards evaluated once per distinct value
of the parts of the state they read.

This module owns `Expander`, the explicit checker's `steps` for one Config over the guards'
footprints (model/footprint.py), and `part_ids` / `part_key`, the identity keys of a state's
parts that its memo (and the checker's interned states, model/checker.py) key on.  It
changes no successor and no order: tests/test_model_incremental.py holds it to the plain
`actions.steps` for every design.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import adversary
from .actions import Router, _plan, reading
from .compiled import Compiled, compiled_effect, compiled_helper
from .config import Config
from .footprint import reads
from .rules import can_forge
from .state import SET_NAMES, SLOT_NAMES, State
from .vocabulary import StateView


class Expander:
    """`steps` for one Config, with each action's guards evaluated once per distinct value
    of the parts of the state they read (model/footprint.py): the successor generation
    that re-evaluates only the actions whose footprint changed.

    An action whose guard reads, say, the client views and the responses of the network has
    the same enabled instances in every state with those two parts (the parameter values a
    non-receiving action tries are the Config's, a receiving one's come from its slot of the
    network), so they are kept per (id of each part): states share their parts, and
    model/checker.py stores states with equal parts made identical (`Interner`), so most
    look-ups hit.  The forged messages of an action are tried on every state (what the
    adversary can produce reads more of it).  The steps come out in the order `steps` gives
    them, so the search and every trace are the same; tests/test_model_checker.py checks it.
    The memo of a part keeps that part alive (its id is not reused while the entry lives),
    and is dropped whole past `LIMIT` entries."""

    LIMIT = 4_000_000

    def __init__(self, config: Config, memo: bool = True) -> None:
        self.config = config
        self.x = reading(config)
        self.forgeable = compiled_helper(can_forge)
        self.size = 0
        self.memos: list[dict[Any, Any]] = []
        useful = adversary.GENERATOR == "useful" and adversary.useful_applies(config)
        entries: list[tuple[Any, ...]] = []
        for i, rule, slot, route, tuples, holds in _plan(config):
            parts = reads(rule.guard) if memo else None
            if parts is not None and rule.receives is not None:
                parts = parts | {SLOT_NAMES[slot]}
            kind = rule.receives if rule.forged else None
            forged_parts = None
            generated = None if kind is None else adversary.useful_reads(config, kind)
            if kind is not None and useful and generated is None:
                kind = None  # `useful` forges nothing of this kind in this design
            fixed = None
            if kind is not None and parts is not None and generated is not None and useful:
                forge_reads = reads(can_forge, 1, ("kind", kind))
                if forge_reads is not None:
                    forged_parts = parts | forge_reads | generated
                if forge_reads == frozenset() and generated == frozenset() and route:
                    fixed = self._fixed(kind, route)
            entries.append((i, slot, route, tuples, holds, self._memo(parts), kind,
                            self._memo(forged_parts),
                            compiled_effect(rule.effect, config.dropped), fixed))
        self.entries = entries

    def _fixed(self, kind: type[Any], route: Router) -> list[tuple[Any, Iterable[Any]]]:
        """(message, its receivers' parameters) of every message of `kind` the adversary
        can forge, where neither `useful` nor can_forge reads the state for that kind (X's
        requests): the same in every state, so listed once."""
        from .state import initial_state

        state = initial_state(self.config)
        view = StateView(state)
        out = []
        for m in adversary.candidates(self.config, state, kind):
            routed = route(m)
            if routed and self.forgeable(self.x, view, kind, m):
                out.append((m, routed))
        return out

    def _memo(self, parts: frozenset[str] | None
              ) -> tuple[dict[Any, Any], Callable[[tuple[int, ...]], Any]] | None:
        if parts is None:
            return None
        self.memos.append({})
        return self.memos[-1], part_key(parts)

    def _note(self) -> None:
        """One more memo entry; all of them dropped past LIMIT (bounds memory)."""
        self.size += 1
        if self.size > self.LIMIT:
            for each in self.memos:
                each.clear()
            self.size = 0

    def enabled(self, state: State, view: StateView, slot: int, route: Router | None,
                tuples: list[tuple[Any, ...]], holds: Compiled) -> list[tuple[Any, ...]]:
        """The arguments of the instances enabled by a message of the network (or by the
        Config's parameter values) in `state`."""
        x = self.x
        if route is None:
            return [args for args in tuples if holds(x, view, *args)]
        return [args for m in state.network[slot] for args in route(m)
                if holds(x, view, *args)]

    def forged(self, state: State, view: StateView, kind: type[Any], slot: int,
               route: Router, holds: Compiled,
               fixed: list[tuple[Any, Iterable[Any]]] | None = None) -> list[tuple[Any, ...]]:
        """The arguments of the instances enabled by a message the adversary forges now."""
        x, forgeable = self.x, self.forgeable
        sent = state.network[slot]
        out: list[tuple[Any, ...]] = []
        if fixed is not None:
            for m, routed in fixed:
                if m not in sent:
                    out.extend(args for args in routed if holds(x, view, *args))
            return out
        for m in adversary.candidates(self.config, state, kind):
            if m in sent:
                continue
            routed = route(m)
            if routed and forgeable(x, view, kind, m):
                out.extend(args for args in routed if holds(x, view, *args))
        return out

    def steps(self, state: State) -> Iterator[tuple[int, State]]:
        """What `steps(config, state)` gives, in the same order."""
        x = self.x
        view = StateView(state)
        ids = part_ids(state)
        for (i, slot, route, tuples, holds, memo, kind, forged_memo, effect,
             fixed) in self.entries:
            if memo is None:
                found = self.enabled(state, view, slot, route, tuples, holds)
            else:
                table, keyer = memo
                key = keyer(ids)
                hit = table.get(key)
                if hit is None:
                    found = self.enabled(state, view, slot, route, tuples, holds)
                    table[key] = (found or (), state)  # the state keeps the parts keyed on alive
                    self._note()
                else:
                    found = hit[0]
            label = 2 * i
            for args in found:
                yield label, effect(x, view, *args).st
            if kind is None:
                continue
            if forged_memo is None:
                found = self.forged(state, view, kind, slot, route, holds, fixed)
            else:
                table, keyer = forged_memo
                key = keyer(ids)
                hit = table.get(key)
                if hit is None:
                    found = self.forged(state, view, kind, slot, route, holds, fixed)
                    table[key] = (found or (), state)
                    self._note()
                else:
                    found = hit[0]
            label += 1
            for args in found:
                yield label, effect(x, view, *args).st


PART_ORDER: tuple[str, ...] = ("hosts", "nonces", "clients", *SET_NAMES)
"""The parts of a State in the order of `part_ids`: the tables, the network's sets, the
ghost's sets."""


def part_ids(state: State) -> tuple[int, ...]:
    """The ids of the parts of `state`, in PART_ORDER."""
    hosts, nonces, clients, net, ghost = state
    return (id(hosts), id(nonces), id(clients), *map(id, net), *map(id, ghost))


def part_key(parts: Iterable[str]) -> Callable[[tuple[int, ...]], Any]:
    """part_ids(state) -> a key made of the ids of `parts` (the same parts, the same key:
    an exact key as long as the parts keyed on are kept alive)."""
    indices = sorted(PART_ORDER.index(name) for name in parts)
    if not indices:
        return lambda ids: ()
    return operator.itemgetter(*indices)
