"""The unbounded proof: the reference invariant is inductive over the parametric universe,
every lemma is a true invariant of small configurations, the stored hints are current, and
the check does fail where it must (a false lemma, a missing strengthening, a variant)."""

from __future__ import annotations

import random
from functools import cache

import pytest
import z3

from model import state as ms
from model.checker import explore
from model.config import Config, DesignOptions, variant
from proofs import hints
from proofs.budget import limit
from proofs.encoding import ParametricUniverse
from proofs.induction import (
    FAILED,
    FRAME,
    INITIAL,
    PROVED,
    SOLVER,
    UNKNOWN,
    InductionReport,
    Lemma,
    _ask,
    _Query,
    _recording,
    check,
    core,
    footprint,
    houdini,
    queries,
)
from proofs.lemmas import BASIC
from proofs.ownership import OWNERSHIP
from proofs.properties import GROUPS, HONEST_DS, PROPERTIES, Clause, evaluate_clause
from proofs.prove import INVARIANT
from proofs.reading import ACTION_NAMES
from proofs.symstate import Abstraction, free_function_state

UNIVERSE = ParametricUniverse()


@cache
def reference_report() -> InductionReport:
    return check(UNIVERSE, DesignOptions(), INVARIANT, hints=hints.load(), jobs=2,
                 timeout_ms=60_000)


def test_the_reference_invariant_is_inductive_for_any_number_of_parties() -> None:
    report = reference_report()
    assert report.failures() == []
    assert report.proved
    assert "any number of clients, honest DSs, groups and nonces" in report.universe
    ids = [lem.id for lem in INVARIANT]
    assert len(set(ids)) == len(ids) and set(report.invariant) == set(ids)
    assert {p.id for p in PROPERTIES} <= set(report.invariant)


def test_one_obligation_per_action_and_lemma_plus_initiation() -> None:
    report = reference_report()
    pairs = [(o.action, o.lemma) for o in report.obligations]
    assert len(pairs) == len(set(pairs))
    expected = {(a, lem.id) for a in (INITIAL, *ACTION_NAMES) for lem in INVARIANT}
    assert set(pairs) == expected
    frame = [o for o in report.obligations if o.how == FRAME]
    solved = [o for o in report.obligations if o.how == SOLVER]
    assert frame and solved and all(o.action != INITIAL for o in frame)


def test_the_stored_hints_are_current() -> None:
    """Every solver obligation of the reference proof (initiation aside) is proved by its
    stored hint alone: a change to the model or the lemmas that makes them stale fails
    here (regenerate with `mimi-portability prove --refresh-hints`)."""
    stored = hints.load()
    assert stored, f"no hints in {hints.PATH}"
    for o in reference_report().obligations:
        if o.how != SOLVER or o.action == INITIAL:
            continue
        assert (o.action, o.lemma) in stored, f"no hint for {o.action} / {o.lemma}"
        assert o.assumed == stored[o.action, o.lemma], (
            f"{o.action} / {o.lemma}: the hint did not prove it")


def test_the_footprints_noted_while_building_the_hypotheses_are_the_lemmas_own() -> None:
    """queries() notes each lemma's footprint while building its clauses over the
    pre-state (the frame rule reads it): the same as building the lemma over a probe."""
    pre = free_function_state("s", UNIVERSE)
    for lemma in INVARIANT:
        noted: dict[str, frozenset[str]] = {}
        _recording(UNIVERSE, lemma, pre, noted)
        assert noted[lemma.id] == footprint(UNIVERSE, lemma), lemma.id
        assert noted[lemma.id], lemma.id


def test_a_minimal_hint_cannot_lose_a_lemma() -> None:
    """hints.minimal leaves out every lemma the rest proves the obligation without: on a
    sample of obligations, each lemma of the result is needed (or the whole core was kept
    because it was faster), and the result still proves it."""
    items = [q for q in queries(UNIVERSE, DesignOptions(), INVARIANT)
             if isinstance(q, _Query) and q.hypotheses]
    for q in random.Random(7).sample(items, 3):
        found = core(q, 60_000)
        assert found is not None
        small = hints.minimal(q, found)
        assert set(small) <= set(found)
        assert _ask(q, small, 60_000)[0] == PROVED
        if small != found:
            for lemma in small:
                rest = [x for x in small if x != lemma]
                assert _ask(q, rest, hints.TRIAL_TIMEOUT_MS)[0] != PROVED, (q.action, lemma)


def test_frame_obligations_are_really_unsat() -> None:
    """The frame rule is a shortcut, not an assumption: a sample of the obligations it
    closed are proved by the solver too."""
    report = reference_report()
    frame = [(o.action, o.lemma) for o in report.obligations if o.how == FRAME]
    sample = random.Random(5).sample(frame, 12)
    for action, lemma in sample:
        (o,) = check(UNIVERSE, DesignOptions(), INVARIANT, actions=[action], goals=[lemma],
                     hints=hints.load(), timeout_ms=60_000, frame=False).obligations
        assert o.how == SOLVER and o.answer == PROVED, (action, lemma, o)


# ---------------------------------------------------------------- lemmas are invariants

SMALL_CONFIGS = (
    Config(),
    Config(max_epoch=2),
    Config(ds=4),
    Config(groups=2, clients=1),
    Config(clients=2, max_epoch=2),
)


@pytest.mark.parametrize("config", SMALL_CONFIGS, ids=lambda c: c.summary())
def test_every_lemma_holds_on_reachable_states(config: Config) -> None:
    """A lemma that is not even an invariant is caught here with a concrete state."""
    states = explore(config, symmetry=True, max_states=20_000).states
    sample = random.Random(config.summary()).sample(states, min(30, len(states)))
    ab = Abstraction(config)
    for state in sample:
        expanded = ab.expand(state)
        for lemma in INVARIANT:
            for clause in lemma.clauses:
                assert evaluate_clause(ab, clause, expanded), (lemma.id, state)


# ---------------------------------------------------------------- negative controls
# A counterexample to induction over quantified lemmas is often out of the solver's reach
# (it answers unknown rather than sat), so these check the short timeout's verdict is
# never "proved": a failure to prove is what an invariant check must report.

REFUTE_MS = 3_000


def _never_moved(u: object, s: object, d: z3.ArithRef, g: z3.ArithRef) -> z3.BoolRef:
    return s.host(d, g).phase != ms.MOVED  # type: ignore[attr-defined,no-any-return]


FALSE_LEMMA = Lemma("no_tombstones", "deliberately false", (Clause((HONEST_DS, GROUPS),
                                                                   _never_moved),))


def test_a_false_lemma_fails_naming_the_action() -> None:
    report = check(UNIVERSE, DesignOptions(), [*INVARIANT, FALSE_LEMMA],
                   goals=[FALSE_LEMMA.id], hints=hints.load(), timeout_ms=REFUTE_MS, jobs=2)
    assert not report.proved
    # Only the fan-out leaves a tombstone (model.actions.source_fanout_effect); every other
    # action is proved to keep the lemma, most by the frame rule.
    assert {o.action for o in report.failures()} == {"source_fanout_and_confirm"}
    assert {o.lemma for o in report.failures()} == {FALSE_LEMMA.id}


def test_houdini_drops_the_false_lemma_and_keeps_the_rest() -> None:
    report, dropped = houdini(UNIVERSE, DesignOptions(), [*INVARIANT, FALSE_LEMMA],
                              hints=hints.load(), jobs=2, timeout_ms=REFUTE_MS)
    assert [lemma for lemma, _ in dropped] == [FALSE_LEMMA.id]
    assert report.proved and set(report.invariant) == {lem.id for lem in INVARIANT}


def test_the_properties_alone_are_not_inductive() -> None:
    """The strengthening lemmas are needed: without them some property's obligation has
    a counterexample to induction (an unreachable state the lemmas exclude)."""
    report = check(UNIVERSE, DesignOptions(), PROPERTIES, timeout_ms=REFUTE_MS, jobs=2)
    assert {o.lemma for o in report.failures()} & {p.id for p in PROPERTIES}
    assert FAILED in {o.answer for o in report.failures()}


def test_without_the_ownership_lemmas_single_owner_is_not_proved() -> None:
    assert OWNERSHIP
    report = check(UNIVERSE, DesignOptions(), [*PROPERTIES, *BASIC], goals=["single_owner"],
                   timeout_ms=REFUTE_MS, jobs=2)
    assert not report.proved, "single_owner proved without the ownership lemmas"


@pytest.mark.parametrize("name", ["fanout_before_ack", "no_nonce_check", "unsigned_content"])
def test_a_variant_breaks_its_property_obligation(name: str) -> None:
    design = variant(name)
    assert design.expected is not None
    report = check(UNIVERSE, design.options, INVARIANT, goals=[design.expected],
                   hints=hints.load(), timeout_ms=REFUTE_MS, jobs=2)
    assert not report.proved, f"{name}: {design.expected} proved"


def test_a_spent_budget_is_unknown_never_proved() -> None:
    """A query's budget is Z3 resource units (proofs/budget.py): one too small to prove an
    obligation leaves it unknown, named as a spent budget, and the invariant unproved."""
    report = check(UNIVERSE, DesignOptions(), INVARIANT, goals=["single_owner"],
                   actions=["source_fanout_and_confirm"], timeout_ms=1)
    spent = [o for o in report.obligations if o.answer == UNKNOWN]
    assert spent and not report.proved
    assert all("resource limit" in o.detail for o in spent), {o.detail for o in spent}


def test_a_budget_decides_the_same_whatever_the_load() -> None:
    """The same query with the same budget spends the same resource units each time,
    whatever the wall clock did meanwhile: its answer is a function of the query."""
    def spent() -> tuple[str, int]:
        x = z3.Int("x")
        solver = z3.Solver()
        limit(solver, 1)
        solver.add(x * x * x - 3 * x * x + 2 == x + 7 * x * x * x, x > 0)
        before = _units()
        answer = solver.check()
        return str(answer), _units() - before

    first = spent()
    assert first[1] > 0
    assert spent() == first


def _units() -> int:
    probe = z3.Solver()
    probe.check()
    return int(probe.statistics().get_key_value("rlimit count"))
