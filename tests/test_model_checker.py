"""The explicit-state checker: verdicts, replayable counterexamples, liveness, symmetry, the
adversary's generators, vacuity and a negative control."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from model import adversary
from model.actions import Action, replay
from model.checker import (
    HOLDS,
    UNKNOWN,
    VIOLATED,
    DesignReport,
    Progress,
    check,
    doomed_state,
    explore,
    trace_to,
    vacuity_matrix,
)
from model.config import ALL_DESIGNS, REFERENCE, VARIANTS, Config, Variant, variant
from model.properties import (
    LIVENESS_ID,
    NEGATIVE_CONTROL,
    PROPERTIES,
    PROPERTY_IDS,
    migrations_open,
    property_by_id,
)
from model.state import State
from model.symmetry import Renaming, Symmetry
from model.symmetry import _ordered as symmetry_ordered

CFG = Config()


def replays_to_violation(report: DesignReport, pid: str) -> list[Action]:
    """The reported trace replays through the model's own actions and ends in a state that
    violates the property (for liveness: with an open migration that cannot complete)."""
    result = report.result(pid)
    assert result.verdict == VIOLATED and result.trace is not None
    states = replay(report.config, result.trace)
    again = replay(report.config, json.loads(json.dumps([a.to_json() for a in result.trace])))
    assert again == states
    if pid == LIVENESS_ID:
        assert migrations_open(report.config, states[-1])
    else:
        assert not property_by_id(pid).predicate(report.config, states[-1])
        assert all(property_by_id(pid).predicate(report.config, s) for s in states[:-1])
    return result.trace


@pytest.fixture(scope="module")
def reference() -> DesignReport:
    return check(CFG, design=REFERENCE)


def test_reference_holds_every_property_at_the_default_configuration(
    reference: DesignReport,
) -> None:
    assert [r.property for r in reference.results] == list(PROPERTY_IDS)
    assert all(r.verdict == HOLDS and r.trace is None for r in reference.results)
    assert reference.states > 1000 and reference.transitions > reference.states
    assert reference.depth > 10


@pytest.fixture(scope="module")
def variant_reports() -> dict[str, DesignReport]:
    """Each variant searched until its expected property is violated (shortest trace)."""
    out = {}
    for v in VARIANTS:
        assert v.expected is not None
        out[v.name] = check(CFG, design=v, stop_at=frozenset({v.expected}), liveness=False)
    return out


@pytest.mark.parametrize("name", [v.name for v in VARIANTS])
def test_every_variant_violates_its_expected_property(
    name: str, variant_reports: dict[str, DesignReport]
) -> None:
    report = variant_reports[name]
    expected = report.design.expected
    assert expected is not None
    trace = replays_to_violation(report, expected)
    assert 1 <= len(trace) <= 10


@pytest.fixture(scope="module")
def unlock_on_timeout() -> DesignReport:
    return check(CFG, design=variant("unlock_on_timeout"))


def test_liveness_fails_when_the_source_unlocks_on_a_timeout(
    unlock_on_timeout: DesignReport,
) -> None:
    assert unlock_on_timeout.result("single_owner").verdict == VIOLATED
    trace = replays_to_violation(unlock_on_timeout, LIVENESS_ID)
    assert [a.name for a in trace][-2:] == ["source_timeout", "commit_at_current_ds"]


def test_vacuity_no_empty_row_or_column(
    variant_reports: dict[str, DesignReport], unlock_on_timeout: DesignReport
) -> None:
    reports = [*variant_reports.values(), unlock_on_timeout]
    matrix = vacuity_matrix(reports)
    assert matrix.uncaught_variants() == []
    assert matrix.idle_properties() == []
    text = matrix.render()
    assert all(v.name in text for v in VARIANTS)


def test_negative_control_is_reported_violated() -> None:
    report = check(CFG, design=REFERENCE, properties=(NEGATIVE_CONTROL,), liveness=False)
    result = report.result(NEGATIVE_CONTROL.id)
    assert result.verdict == VIOLATED and result.trace is not None
    final = replay(CFG, result.trace)[-1]
    assert not NEGATIVE_CONTROL.predicate(CFG, final)
    assert result.trace[-1].name == "source_fanout_and_confirm"


def test_a_state_budget_gives_unknown_never_holds() -> None:
    report = check(CFG, design=REFERENCE, max_states=200)
    assert report.states <= 200 + 50
    assert all(r.verdict == UNKNOWN for r in report.results)


def test_counterexamples_are_shortest() -> None:
    # fanout_before_ack: request, respond, init, lock+fan-out is the least a fan-out needs
    report = check(CFG, design=variant("fanout_before_ack"),
                   stop_at=frozenset({"no_fanout_before_ack"}), liveness=False)
    assert report.result("no_fanout_before_ack").length == 4


def test_progress_is_reported_on_long_runs() -> None:
    seen: list[Progress] = []
    explore(CFG, progress=seen.append, progress_after=0.0)
    assert seen and seen[0].states > 0 and "states/s" in seen[0].line()


def test_every_explored_state_has_a_replayable_trace() -> None:
    ex = explore(Config(clients=1, attempts=1))
    for index in range(0, len(ex.states), 7):
        trace = trace_to(ex, index)
        final = replay(ex.config, trace)[-1]
        assert Symmetry(ex.config).canonical(final) == ex.states[index]


def test_liveness_needs_the_graph() -> None:
    ex = explore(Config(clients=1, attempts=1))
    with pytest.raises(ValueError):
        doomed_state(ex)


# ---------------------------------------------------------------- symmetry


def _sample(config: Config) -> Iterator[State]:
    ex = explore(config, symmetry=False, max_states=3000)
    yield from ex.states[::37]


def test_canonical_form_is_idempotent_and_invariant_under_renaming() -> None:
    config = Config(clients=3, ds=4, groups=2, attempts=1)
    sym = Symmetry(config)
    assert sym.count() == 6 * 2 * 2
    swap = Renaming([1, 2, 0, 3, -1], [0, 2, 1, 3, -1], [1, 0, -1])
    for state in _sample(config):
        c = sym.canonical(state)
        assert sym.canonical(c) == c
        assert sym.canonical(swap.state(state)) == c
        for p in PROPERTIES:
            assert p.predicate(config, c) == p.predicate(config, state)


def _least_by_definition(sym: Symmetry, state: State) -> State:
    """The canonical form as model/symmetry.py's docstring defines it: over every renaming,
    the one whose (client rows, hosts, nonces, network, ghost) is least."""
    keyed = []
    for dg in range(len(sym._dg)):
        for arrangement in itertools.product(*(itertools.permutations(ids)
                                               for ids in sym.classes)):
            cm = list(sym._identity_c)
            for ids, order in zip(sym.classes, arrangement, strict=True):
                for old, new in zip(order, ids, strict=True):
                    cm[old] = new
            renamed = Renaming(cm, *sym._dg[dg]).state(state)
            keyed.append(((renamed.clients, renamed.hosts, renamed.nonces,
                           *symmetry_ordered(renamed)), renamed))
    return min(keyed, key=lambda pair: pair[0])[1]


@pytest.mark.parametrize("bounds", [{"clients": 3, "ds": 4, "groups": 2, "attempts": 1},
                                    {"clients": 2, "ds": 4, "max_epoch": 2},
                                    {"clients": 3, "source_denies": frozenset({1})}],
                         ids=["c3-ds4-g2", "ds4-e2", "c3-deny"])
def test_canonical_form_is_the_least_renaming(bounds: dict[str, Any]) -> None:
    """The staged comparison (client table first, hosts and pools only for the renamings
    still least, the sets only on a tie) picks exactly the least renaming."""
    config = Config(**bounds)
    sym = Symmetry(config)
    for state in _sample(config):
        assert sym.canonical(state) == _least_by_definition(sym, state)


def test_symmetry_changes_counts_not_verdicts() -> None:
    config = Config(clients=2, attempts=1)
    for design in (REFERENCE, variant("unlock_on_timeout")):
        with_sym = check(config, design=design)
        without = check(config, design=design, symmetry=False)
        assert with_sym.states < without.states
        assert [(r.property, r.verdict, r.length) for r in with_sym.results] == [
            (r.property, r.verdict, r.length) for r in without.results
        ]


# ---------------------------------------------------------------- the adversary


PRUNED_BY_NONCE = {"unsigned_response", "predictable_nonces"}


@pytest.mark.parametrize("design", ALL_DESIGNS, ids=lambda d: d.name)
def test_useful_generator_agrees_with_the_adversarys_definition(
    design: Variant, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config(clients=1, attempts=1).with_options(design.options)
    monkeypatch.setattr(adversary, "GENERATOR", "useful")
    useful = explore(config, symmetry=False)
    monkeypatch.setattr(adversary, "GENERATOR", "exhaustive")
    full = explore(config, symmetry=False)
    depth = {p: full.depth[i] for p, i in full.violations.items()}
    assert {p: useful.depth[i] for p, i in useful.violations.items()} == depth
    if design.name in PRUNED_BY_NONCE:
        assert set(useful.states) < set(full.states)
    else:
        assert set(useful.states) == set(full.states)


UNBOUNDED_MUTANTS = {"advance.own_epoch": "a member taking a commit of another epoch runs "
                                         "past max_epoch: the state space has no end"}
"""Mutants whose state space is unbounded (spec mutation reports them undecided)."""


def _useful_mutants() -> list[str]:
    from model.rules import BOUND, CHECKS

    return [c.id for c in CHECKS.values()
            if c.kind != "frame" and c.kept != BOUND and c.id not in UNBOUNDED_MUTANTS
            and adversary.useful_applies(Config(drop=frozenset({c.id})))]


@pytest.mark.parametrize("dropped", _useful_mutants())
def test_useful_generator_agrees_on_every_mutant_it_covers(
    dropped: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spec mutation drops one check at a time; where `useful` claims to cover the design
    (adversary.useful_applies), the violations it finds are the exhaustive generator's.
    Bounds of the model (dropping one leaves the state space unbounded; mutate never runs
    them) and UNBOUNDED_MUTANTS are left out: both searches must be complete to compare."""
    config = Config(clients=1, attempts=1, drop=frozenset({dropped}))
    monkeypatch.setattr(adversary, "GENERATOR", "useful")
    useful = explore(config, symmetry=False, max_states=20_000)
    monkeypatch.setattr(adversary, "GENERATOR", "exhaustive")
    full = explore(config, symmetry=False, max_states=20_000)
    assert useful.complete and full.complete
    depth = {p: full.depth[i] for p, i in full.violations.items()}
    assert {p: useful.depth[i] for p, i in useful.violations.items()} == depth
    assert set(useful.states) <= set(full.states)
