"""Bounded model checking: every variant's counterexample is found, as short as the explicit
checker's, and replays through the model; a wrong encoding is caught by the replay; the
negative controls are refuted on the reference design."""

from __future__ import annotations

from functools import cache

import pytest

from model.actions import replay
from model.checker import check
from model.config import REFERENCE, VARIANTS, Config, variant
from model.properties import NEGATIVE_CONTROL, violated
from model.properties import PROPERTIES as MODEL_PROPERTIES
from proofs import bmc
from proofs.properties import NEGATIVE_CONTROLS, PROPERTIES, property_by_id
from proofs.prove import VIOLATED, refute_negative_controls
from tests.planted_encoding import drop_guard

CONFIG = Config()


@cache
def explicit_length(design: str, pid: str) -> int:
    """The explicit checker's shortest counterexample to `pid` under `design`."""
    report = check(CONFIG, design=variant(design), liveness=False, stop_at=frozenset({pid}))
    length = report.result(pid).length
    assert length is not None, f"explicit checker: {design} does not violate {pid}"
    return length


def test_the_symbolic_properties_are_the_models() -> None:
    assert [p.id for p in PROPERTIES] == [p.id for p in MODEL_PROPERTIES]


@pytest.mark.parametrize("name", [v.name for v in VARIANTS])
def test_each_variant_violates_its_property_as_soon_as_the_explicit_checker(name: str) -> None:
    design = variant(name)
    assert design.expected is not None
    k = explicit_length(name, design.expected)
    config = CONFIG.with_options(design.options)
    (result,) = bmc.run(config, [property_by_id(design.expected)], k)
    assert result.verdict == bmc.VIOLATED and result.depth == k
    assert result.trace is not None and len(result.trace) == k
    states = replay(config, list(result.trace))
    assert design.expected in violated(config, states[-1])
    assert all(design.expected not in violated(config, s) for s in states[:-1])


def test_a_shallow_bound_is_clean_not_proved_beyond_it() -> None:
    """One step short of the shortest counterexample, BMC is clean to exactly that depth."""
    design = variant("no_epoch_check")
    assert design.expected is not None
    k = explicit_length(design.name, design.expected)
    (result,) = bmc.run(CONFIG.with_options(design.options),
                        [property_by_id(design.expected)], k - 1)
    assert result.verdict == bmc.CLEAN and result.depth == k - 1 and result.trace is None


def test_reference_is_clean_to_a_small_depth() -> None:
    results = bmc.run(CONFIG, PROPERTIES, 4)
    assert [r.verdict for r in results] == [bmc.CLEAN] * len(PROPERTIES)


def test_a_solver_timeout_is_unknown_never_clean() -> None:
    design = variant("forget_consumed_nonces")
    assert design.expected is not None
    (result,) = bmc.run(CONFIG.with_options(design.options),
                        [property_by_id(design.expected)], 12, timeout_ms=1)
    assert result.verdict == bmc.UNKNOWN and result.reason


def test_a_deadline_is_unknown_never_clean() -> None:
    (result,) = bmc.run(CONFIG, [PROPERTIES[0]], 30, deadline=0.01)
    assert result.verdict == bmc.UNKNOWN and "deadline" in result.reason


def test_a_wrong_encoding_is_caught_by_the_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plant an encoding bug: the Z3 target_import no longer checks the content's
    signature.  The reference design then has a Z3 counterexample the model refuses."""
    drop_guard(monkeypatch, "target_import", "import.content_signed")
    unsigned = variant("unsigned_content")
    assert unsigned.expected is not None
    k = explicit_length(unsigned.name, unsigned.expected)
    with pytest.raises(bmc.ReplayMismatch, match="does not replay"):
        bmc.run(CONFIG, [property_by_id(unsigned.expected)], k)


def test_negative_controls_are_refuted_as_soon_as_the_explicit_checker() -> None:
    verdicts = refute_negative_controls(CONFIG)
    assert [v.property for v in verdicts] == [p.id for p in NEGATIVE_CONTROLS]
    for v in verdicts:
        assert v.verdict == VIOLATED and v.trace is not None
        states = replay(CONFIG, list(v.trace))
        assert property_by_id(v.property).concrete(CONFIG, states[-1]) is False
    moves = next(v for v in verdicts if v.property == "no_group_ever_moves")
    report = check(CONFIG, design=REFERENCE, liveness=False, properties=(NEGATIVE_CONTROL,),
                   stop_at=frozenset({"no_group_ever_moves"}))
    assert moves.length == report.result("no_group_ever_moves").length
