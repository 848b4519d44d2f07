"""The crash matrix (impl/storage/crashes.py) on SQLite, and its negative controls.

A migration with three members is crashed at every (party, protocol step, crash point) the
durable drivers pass, each retry order of the crashed delivery, one crash per run, each run
on its own SQLite files in tmp_path; once for a migration that completes and once for one
the target rejects.  After every run: 0 groups lost, 0 forks, every store's integrity_check
ok, and the migration completed (the first) or cleanly aborted (the second).  Each of four
planted durability bugs (tests/storage_planted.py) is caught by the same matrix, and the
check that catches it is named.  The counts are printed (run with -s) and recorded as
JUnit properties.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from impl.storage import crashes
from impl.storage.driver import CrashPoint
from impl.world import SOURCE, TARGET
from tests.storage_planted import BUGS, plant

MEMBERS = 3


def test_the_matrix_covers_every_party_step_and_point() -> None:
    cases = crashes.cases(MEMBERS)
    parties = {c.party for c in cases}
    assert parties == {SOURCE, TARGET} | {f"member-{i}@client.example" for i in range(MEMBERS)}
    assert {c.point for c in cases} == set(CrashPoint)
    handled = {c.handling for c in cases}
    assert handled == {"start_migration", "MigrationRequest", "MigrationResponse",
                       "MigrationInitWithCommit", "MigrationContent",
                       "TargetMigrationComplete", "Fanout"}
    # the source's acknowledgment sends the fan-out and the confirmation: every point
    ack = {c.point for c in cases if c.handling == "TargetMigrationComplete"}
    assert ack == set(CrashPoint)
    assert len(cases) == len(set(cases))


@pytest.mark.parametrize(("scenario", "outcome"), [("complete", "completed"),
                                                   ("abort", "aborted")])
def test_a_crash_at_every_step_and_point_loses_no_group_and_forks_none(
        scenario: str, outcome: str, tmp_path: Path,
        record_property: Callable[[str, object], None]) -> None:
    report = crashes.matrix(tmp_path, members=MEMBERS, scenario=scenario)
    print(f"\ncrash matrix on SQLite, a migration that ends {outcome}:", report.summary())
    record_property("crashes", report.crashes)
    record_property("summary", report.summary())
    assert report.crashes == len(report.results) == len(crashes.cases(MEMBERS, scenario)) > 40
    assert [r.case for r in report.failures] == []
    for r in report.results:
        assert r.crashed and r.problems == [] and r.integrity == ["ok"] * (2 + MEMBERS)
        assert r.outcome == outcome, (r.case, r.outcome)
        assert r.restarts == 1


def test_the_aborted_migration_s_matrix_crashes_the_rejection_at_both_ends() -> None:
    cases = crashes.cases(MEMBERS, "abort")
    assert {c.party for c in cases if c.handling == "TargetMigrationRejected"} == {
        SOURCE, "member-0@client.example"}
    assert {c.point for c in cases if c.party == SOURCE
            and c.handling == "TargetMigrationRejected"} == set(CrashPoint) - {
                CrashPoint.MID_SEND}


def test_a_restart_of_every_party_after_every_step_changes_nothing(tmp_path: Path) -> None:
    result, _ = crashes.run(tmp_path, members=MEMBERS, restart_all=True)
    assert result.ok and result.outcome == "completed"
    assert result.restarts == (2 + MEMBERS) * (result.steps + 1)


#: For each planted bug, a case the matrix must fail on and how it shows.
EXPECTED = {
    "state_outside_transaction": ("MigrationRequest", "stuck"),
    "outbox_row_dropped": ("TargetMigrationComplete", "stuck"),
    "idempotency_record_missing": ("MigrationRequest", "stuck"),
    "send_before_commit": ("TargetMigrationComplete", "no_group_lost"),
}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_a_planted_durability_bug_is_caught(bug: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    plant(monkeypatch, bug)
    report = crashes.matrix(tmp_path, members=MEMBERS)
    print(f"\nplanted {bug}:", report.summary())
    assert report.failures, f"{bug}: no crash case caught it"
    handling, symptom = EXPECTED[bug]
    caught = [r for r in report.failures if r.case is not None and (
        r.case.handling == handling or any(handling in p for p in r.problems))]
    assert caught, [r.case for r in report.failures]
    assert any(r.outcome.startswith(symptom) or any(symptom in p for p in r.problems)
               for r in caught), [(r.outcome, r.problems) for r in caught]
    monkeypatch.undo()
    clean, _ = crashes.run(None, members=MEMBERS)  # and the reference is itself again
    assert clean.ok
