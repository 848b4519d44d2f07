"""Spec mutation (proofs/mutate.py): each check of model/rules.py dropped in turn.

Killed mutants name the property and the shortest trace; a check no property needs must be
proved redundant or carry a kept reason; the redundancy proof itself is shown to fail on a
check that is not redundant (a negative control), and a kept reason a property contradicts
is reported as wrong."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mimi_portability.cli import main
from model.config import Config
from model.rules import BOUND, CHECKS
from proofs import mutate

SMALL = Config(clients=1, attempts=1)


def test_every_check_and_switch_is_a_mutant() -> None:
    ids = [c.id for c in mutate.mutants()]
    assert ids == [c.id for c in CHECKS.values() if c.kind in ("check", "switch")]
    assert len(ids) == len(set(ids))


def test_a_check_a_property_needs_is_killed_with_its_shortest_trace() -> None:
    m = mutate.run_one(CHECKS["lock.current_epoch"], Config())
    assert m.outcome == mutate.KILLED
    assert ("single_owner", 6) in m.killed_by


def test_a_switch_is_mutated_too() -> None:
    m = mutate.run_one(CHECKS["lock.fanout_after_ack"], Config())
    assert m.outcome == mutate.KILLED
    assert dict(m.killed_by)["no_fanout_before_ack"] == 4


def test_a_policy_check_is_killed_under_strict_policies() -> None:
    """The default bounds deny nobody, so a policy check has nothing to refuse there; the
    mutant is also checked with a client each policy refuses."""
    m = mutate.run_one(CHECKS["lock.source_policy"], Config(), prove=False)
    assert m.outcome == mutate.KILLED and dict(m.killed_by) == {"authorized_migration": 4}
    assert "strict policies" in m.detail and not mutate.failures([m])


def test_a_bound_is_kept_without_running() -> None:
    m = mutate.run_one(CHECKS["request.below_max_epoch"], Config())
    assert m.outcome == mutate.KEPT and m.detail == BOUND and m.states == 0


def test_redundancy_is_proved_for_a_conjunct_the_others_imply() -> None:
    """lock.group_hosted (active or locked) follows from lock.current_epoch (active)."""
    assert mutate.redundancy(CHECKS["lock.group_hosted"]) == "proved"


def test_redundancy_is_not_proved_for_a_check_that_matters() -> None:
    """Negative control: the proof must not call a needed check redundant (Z3 answers
    refuted or unknown: the invariant's quantifiers rarely give it a model)."""
    assert mutate.redundancy(CHECKS["lock.current_epoch"]) != "proved"


def test_a_wrong_kept_reason_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept reason on a check a property needs is flagged, not trusted."""
    planted = dataclasses.replace(CHECKS["lock.member_signature"], kept="planted reason")
    m = mutate.run_one(planted, Config())
    assert m.outcome == mutate.KILLED and "reason beside it is wrong" in m.detail
    assert mutate.failures([m])


def test_mutate_command_reports_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["mutate", "--only", "lock.current_epoch,lock.group_hosted,timeout.never",
                 "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, doc["problems"]
    assert doc["summary"]["mutants"] == 3
    outcomes = {m["check"]: m["outcome"] for m in doc["mutants"]}
    assert outcomes == {"lock.current_epoch": "killed", "lock.group_hosted": "redundant (proved)",
                        "timeout.never": "killed"}


def test_an_unknown_check_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mutate", "--only", "nope.nothing"]) == 1
    assert "unknown check id nope.nothing" in capsys.readouterr().err
