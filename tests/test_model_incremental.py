"""The incremental successor generation (model/expander.py Expander over the footprints of
model/footprint.py) is the plain one: the same transitions in the same order, so the same
states, counts, verdicts and shortest traces; and the footprints it relies on cover what
the guards, can_forge and the adversary's `useful` generator read."""

from __future__ import annotations

from typing import Any

import pytest

from model import adversary
from model.actions import ACTIONS, live, reading, steps
from model.checker import Exploration, check, explore
from model.compiled import compiled_guard, compiled_helper
from model.config import ALL_DESIGNS, REFERENCE, Config, Variant, variant
from model.expander import Expander
from model.footprint import reads
from model.messages import MESSAGE_TYPES
from model.rules import can_forge
from model.state import SET_NAMES, State, members
from model.vocabulary import StateView

SMALL = Config(clients=1, attempts=1)


def same_search(a: Exploration, b: Exploration) -> None:
    assert a.states == b.states
    assert list(a.parent) == list(b.parent) and list(a.depth) == list(b.depth)
    assert (a.violations, a.transitions, a.complete) == (b.violations, b.transitions,
                                                         b.complete)
    assert a.edges is not None and b.edges is not None
    assert [list(e) for e in a.edges] == [list(e) for e in b.edges]


@pytest.mark.parametrize("design", ALL_DESIGNS, ids=lambda d: d.name)
def test_the_incremental_search_is_the_plain_one_step_for_step(design: Variant) -> None:
    config = SMALL.with_options(design.options)
    same_search(explore(config, keep_edges=True, max_states=20_000),
                explore(config, keep_edges=True, max_states=20_000, incremental=False))


def test_the_expander_gives_the_steps_of_every_state_in_order() -> None:
    config = Config()
    ex = explore(config, max_states=3_000, symmetry=False)
    expander = Expander(config)
    for state in ex.states:
        assert list(expander.steps(state)) == list(steps(config, state))


@pytest.mark.parametrize("name", ["reference", "unlock_on_timeout", "unsigned_response",
                                  "predictable_nonces"])
def test_verdicts_counts_and_trace_lengths_are_the_plain_search_s(name: str) -> None:
    design = REFERENCE if name == "reference" else variant(name)
    fast = check(Config(), design=design, max_states=30_000)
    plain = check(Config(), design=design, max_states=30_000, incremental=False)
    assert (fast.states, fast.transitions, fast.depth) == (plain.states, plain.transitions,
                                                           plain.depth)
    assert [(r.property, r.verdict, r.length) for r in fast.results] == [
        (r.property, r.verdict, r.length) for r in plain.results]


class Recording(StateView):
    """A StateView that notes every part of the state read through it."""

    __slots__ = ("log",)

    def __init__(self, state: State) -> None:
        super().__init__(state)
        self.log: set[str] = set()

    def host(self, ds: int, group: int) -> Any:
        self.log.add("hosts")
        return super().host(ds, group)

    def record(self, ds: int, index: int) -> Any:
        self.log.add("nonces")
        return super().record(ds, index)

    def view(self, client: int, group: int) -> Any:
        self.log.add("clients")
        return super().view(client, group)

    def has(self, name: str, element: Any) -> bool:
        self.log.add(name)
        return super().has(name, element)

    def some(self, name: str, pred: Any, witness: Any = None) -> bool:
        self.log.add(name)
        return super().some(name, pred, witness)


def explored(design: Variant, config: Config = SMALL) -> tuple[Config, list[State]]:
    config = config.with_options(design.options)
    return config, explore(config, symmetry=False, max_states=5_000).states


@pytest.mark.parametrize("design", ALL_DESIGNS, ids=lambda d: d.name)
def test_every_guard_reads_within_its_footprint(design: Variant) -> None:
    config, states = explored(design)
    x = reading(config)
    for spec in ACTIONS:
        footprint = reads(spec.rule.guard)
        if footprint is None or not live(config, spec.rule):
            continue
        holds = compiled_guard(spec.rule.guard, config.dropped)
        for state in states:
            for args in spec.candidates(config, state):
                view = Recording(state)
                holds(x, view, *args)
                assert view.log <= footprint, (spec.name, args)


@pytest.mark.parametrize("design", ALL_DESIGNS, ids=lambda d: d.name)
def test_can_forge_reads_within_its_footprint_per_kind(design: Variant) -> None:
    config, states = explored(design)
    x = reading(config)
    forgeable = compiled_helper(can_forge)
    for kind in MESSAGE_TYPES:
        footprint = reads(can_forge, 1, ("kind", kind))
        assert footprint is not None
        for state in states:
            for m in adversary.exhaustive(config, state, kind):
                view = Recording(state)
                forgeable(x, view, kind, m)
                assert view.log <= footprint, (kind.__name__, m)


def parts(state: State, names: frozenset[str]) -> tuple[Any, ...]:
    return tuple(members(state, n) if n in SET_NAMES else getattr(state, n)
                 for n in sorted(names))


@pytest.mark.parametrize("design", [d for d in ALL_DESIGNS
                                    if adversary.useful_applies(SMALL.with_options(d.options))],
                         ids=lambda d: d.name)
def test_useful_reads_only_what_useful_reads_says(design: Variant) -> None:
    for config, states in (explored(design), explored(design, Config(attempts=1))):
        for kind in MESSAGE_TYPES:
            found: dict[tuple[Any, ...], list[Any]] = {}
            for state in states:
                made = list(adversary.useful(config, state, kind))
                footprint = adversary.useful_reads(config, kind)
                if footprint is None:
                    assert made == [], kind.__name__
                    continue
                key = parts(state, footprint)
                assert found.setdefault(key, made) == made, kind.__name__
