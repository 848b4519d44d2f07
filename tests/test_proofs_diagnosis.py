"""Guard-level diagnosis: each variant's counterexample names the action and the check whose
absence allowed it, and the docs/profile.md clause (quoted exactly) that check implements."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from model.checker import check
from model.config import OPTION_NAMES, REFERENCE, VARIANTS, Config, variant
from model.properties import NEGATIVE_CONTROL
from model.rules import CHECKS
from proofs.diagnosis import CLAUSES, OPTION_CHECKS, diagnose

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Config()


def _profile_text() -> str:
    text = (ROOT / "docs" / "profile.md").read_text()
    return re.sub(r"\s+", " ", re.sub(r"[*`|]", "", text))


def test_every_check_has_a_profile_clause_quoted_exactly() -> None:
    assert set(CLAUSES) <= set(CHECKS)
    assert {c for ids in OPTION_CHECKS.values() for c in ids} <= set(CLAUSES)
    profile = _profile_text()
    for check_id, clause in CLAUSES.items():
        assert re.match(r"§\d ", clause), check_id
        quotes = re.findall(r'"(.*?)"', clause)
        assert quotes, f"{check_id}: no quoted words"
        for quote in quotes:
            for part in (p.strip() for p in quote.split("...")):
                if part:
                    assert re.sub(r"\s+", " ", part) in profile, (check_id, part)


def test_every_option_removes_known_checks() -> None:
    assert set(OPTION_CHECKS) == set(OPTION_NAMES)
    for checks in OPTION_CHECKS.values():
        assert checks and set(checks) <= set(CHECKS)


@pytest.mark.parametrize("name", [v.name for v in VARIANTS])
def test_each_variant_is_diagnosed_with_its_missing_check(name: str) -> None:
    design = variant(name)
    assert design.expected is not None
    config = CONFIG.with_options(design.options)
    report = check(config, liveness=False, stop_at=frozenset({design.expected}))
    trace = report.result(design.expected).trace
    assert trace is not None
    found = diagnose(config, trace)
    assert found, f"{name}: no diagnosis"
    named = {c for d in found for c in d.checks}
    removed = {c for option in design.options.enabled() for c in OPTION_CHECKS[option]}
    assert named and named <= removed, (name, named, removed)
    for d in found:
        assert 1 <= d.step <= len(trace)
        assert d.action == trace[d.step - 1].name
        assert d.kind in ("guard", "effect")
        text = "\n".join(d.lines())
        assert d.action in text and all(c in text and "docs/profile.md" in text
                                        for c in d.checks)
        doc = d.as_json()
        assert [c["id"] for c in doc["checks"]] == list(d.checks)
        assert all(c["profile"] == CLAUSES[c["id"]] for c in doc["checks"])


def test_the_reference_design_has_nothing_to_diagnose() -> None:
    report = check(CONFIG, design=REFERENCE, liveness=False, properties=(NEGATIVE_CONTROL,),
                   stop_at=frozenset({NEGATIVE_CONTROL.id}))
    trace = report.result(NEGATIVE_CONTROL.id).trace
    assert trace is not None
    assert diagnose(CONFIG, trace) == []


def test_an_option_the_trace_does_not_need_is_not_reported() -> None:
    """The fan-out variant's trace, checked under a design that also drops the epoch check:
    only the fan-out option parts ways with the trace."""
    fanout = variant("fanout_before_ack")
    assert fanout.expected is not None
    config = CONFIG.with_options(fanout.options)
    trace = check(config, liveness=False, stop_at=frozenset({fanout.expected})).result(
        fanout.expected).trace
    assert trace is not None
    both = CONFIG.with_options(dataclasses.replace(fanout.options, no_epoch_check=True))
    found = diagnose(both, trace)
    assert [c for d in found for c in d.checks] == ["lock.fanout_after_ack"]
