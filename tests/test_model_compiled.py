"""The compiled guards (model/compiled.py) say what the rules' labelled conjuncts say.

Every rule's compiled guard is compared with the generic reading (the generator, a dropped
check read as true) on every candidate, network and forged, of a sample of reachable states,
for the reference design, every variant and every single dropped check; and the rewrites
that could change a meaning are pinned on their own.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from model import actions
from model.checker import explore
from model.compiled import _compile, _generic, compiled_body, compiled_guard
from model.config import ALL_DESIGNS, Config
from model.rules import CHECKS, RULES
from model.state import initial_state
from model.vocabulary import Check, StateView

SAMPLE = 150


def _states(config: Config) -> list[object]:
    ex = explore(config, symmetry=False, max_states=SAMPLE)
    return list(ex.states)[:SAMPLE]


def _disagreements(config: Config) -> list[str]:
    x = actions.reading(config)
    dropped = config.dropped
    out = []
    for state in _states(config):
        view = StateView(state)  # type: ignore[arg-type]
        for spec in actions.ACTIONS:
            fast = compiled_guard(spec.rule.guard, dropped)
            slow = _generic(spec.rule.guard, dropped)
            for args, _ in spec.sourced(config, state):  # type: ignore[arg-type]
                if fast(x, view, *args) != slow(x, view, *args):
                    out.append(f"{spec.name}{args}")
    return out


@pytest.mark.parametrize("design", ALL_DESIGNS, ids=lambda d: d.name)
def test_compiled_guards_agree_with_the_conjuncts_in_every_design(design: object) -> None:
    config = Config(clients=2, attempts=1).with_options(design.options)  # type: ignore[attr-defined]
    assert _disagreements(config) == []


@pytest.mark.parametrize("check_id", [c.id for c in CHECKS.values() if c.kind == "check"])
def test_compiled_guards_agree_with_a_check_dropped(check_id: str) -> None:
    config = Config(clients=1, attempts=1, drop=frozenset({check_id}))
    assert _disagreements(config) == []


def test_every_rule_compiles_rather_than_falling_back() -> None:
    for rule, dropped in itertools.product(RULES, (frozenset(), frozenset(CHECKS))):
        _compile(rule.guard, dropped)  # raises where the fallback would be taken


PROBE = Check("test.compiled_probe", "a probe for this test (not registered in CHECKS)")
OTHER = Check("test.other_probe", "another probe")


def _probe_guard(x: Any, s: Any, n: int) -> Any:
    """A guard of the rules' shape: two labelled conjuncts, the second reading the first."""
    yield PROBE, n > 1
    yield OTHER, x.implies(n > 2, x.all(n != 5, x.one_of(n, 3, 4, 6)))


def test_a_dropped_check_is_skipped_and_a_kept_one_refuses() -> None:
    x = actions.reading(Config())
    view = StateView(initial_state(Config()))
    both = _compile(_probe_guard, frozenset())
    without = _compile(_probe_guard, frozenset({PROBE.id}))
    generic = _generic(_probe_guard, frozenset())
    for n in range(8):
        assert both(x, view, n) is generic(x, view, n)
    assert both(x, view, 0) is False
    assert without(x, view, 0) is True
    assert both(x, view, 5) is False
    assert both(x, view, 6) is True


def test_the_comparison_notices_a_wrong_compilation() -> None:
    """Negative control: a compiled guard that ignores one conjunct is caught."""
    real = compiled_guard
    lenient = compiled_guard(RULES[0].guard, frozenset({"request.other_ds"}))

    def wrong(guard: Any, dropped: frozenset[str]) -> Any:
        return lenient if guard is RULES[0].guard else real(guard, dropped)

    globals()["compiled_guard"] = wrong
    try:
        assert _disagreements(Config(clients=1, attempts=1)) != []
    finally:
        globals()["compiled_guard"] = real


def test_compiled_clause_bodies_agree_with_the_written_ones() -> None:
    """Every clause of every property and negative control, on every instance over a sample
    of states of a design that violates several (so both truth values occur)."""
    from model.config import variant
    from model.properties import CLAUSES
    from model.vocabulary import concrete_domain

    seen: set[bool] = set()
    for name in ("reference", "fanout_before_ack", "no_epoch_check"):
        config = Config(clients=2, attempts=1).with_options(variant(name).options)
        x = actions.reading(config)
        for state in _states(config):
            view = StateView(state)  # type: ignore[arg-type]
            for clauses in CLAUSES.values():
                for clause in clauses:
                    fast = compiled_body(clause.body)
                    assert fast is not clause.body, clause.body.__name__
                    domains = [concrete_domain(config, state, d)  # type: ignore[arg-type]
                               for d in clause.over]
                    for xs in itertools.product(*domains):
                        want = bool(clause.body(x, view, *xs))
                        assert bool(fast(x, view, *xs)) is want
                        seen.add(want)
    assert seen == {True, False}


@pytest.mark.parametrize("design", ALL_DESIGNS, ids=lambda d: d.name)
def test_compiled_effects_make_the_same_next_states(design: object) -> None:
    from model.compiled import compiled_effect

    config = Config(clients=2, attempts=1).with_options(design.options)  # type: ignore[attr-defined]
    x = actions.reading(config)
    compared = 0
    for state in _states(config):
        for i, args, _ in actions.instances(config, state):  # type: ignore[arg-type]
            effect = actions.ACTIONS[i].rule.effect
            fast = compiled_effect(effect, config.dropped)
            assert fast is not effect
            assert (fast(x, StateView(state), *args).st  # type: ignore[arg-type]
                    == effect(x, StateView(state), *args).st)  # type: ignore[arg-type]
            compared += 1
    assert compared > SAMPLE


@pytest.mark.parametrize("design", ALL_DESIGNS, ids=lambda d: d.name)
def test_the_compiled_adversary_power_agrees_with_the_written_one(design: object) -> None:
    """`can_forge` compiled (the checker's forged-candidate filter) says what it says as
    written, on every forged candidate of every kind in a sample of reachable states."""
    from model import adversary
    from model.compiled import compiled_helper
    from model.rules import can_forge
    from model.state import SLOT

    config = Config(clients=2, attempts=1).with_options(design.options)  # type: ignore[attr-defined]
    fast = compiled_helper(can_forge)
    assert fast is not can_forge
    x = actions.reading(config)
    tried = 0
    for state in _states(config):
        view = StateView(state)  # type: ignore[arg-type]
        for kind in SLOT:
            for m in adversary.exhaustive(config, state, kind):  # type: ignore[arg-type]
                tried += 1
                assert bool(fast(x, view, kind, m)) == bool(can_forge(x, view, kind, m)), m
    assert tried > 1000


@pytest.mark.parametrize("design", ALL_DESIGNS, ids=lambda d: d.name)
def test_an_inert_action_never_changes_a_state_where_the_checker_leaves_it_out(
        design: object) -> None:
    """Rule.inert_unless is a claim the checker acts on (it skips the rule): wherever the
    design keeps those checks, every candidate of the rule is refused or a stutter."""
    config = Config(clients=2, attempts=1).with_options(design.options)  # type: ignore[attr-defined]
    skipped = [spec for spec in actions.ACTIONS if not actions.live(config, spec.rule)]
    tried = 0
    for state in _states(config):
        for spec in skipped:
            for args in spec.candidates(config, state):  # type: ignore[arg-type]
                tried += 1
                if spec.guard(config, state, *args):  # type: ignore[arg-type]
                    assert spec.effect(config, state, *args) == state, (spec.name, args)  # type: ignore[arg-type]
    if skipped:
        assert tried


def test_the_inert_claim_notices_an_action_that_changes_something() -> None:
    """Negative control: with the lock volatile, a restart does change states, so the rule
    is live there (and the check above would catch a claim that it is not)."""
    from model.config import variant

    config = Config(clients=2, attempts=1).with_options(variant("volatile_lock").options)
    spec = actions.ACTIONS_BY_NAME["ds_restart"]
    assert actions.live(config, spec.rule)
    changed = [state for state in _states(config)
               for args in spec.candidates(config, state)  # type: ignore[arg-type]
               if spec.guard(config, state, *args)  # type: ignore[arg-type]
               and spec.effect(config, state, *args) != state]  # type: ignore[arg-type]
    assert changed
