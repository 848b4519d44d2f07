"""Restarts and crash points in the lockstep (impl/lockstep/driver.py, moves.py): a party
re-opened from its SQLite file comes back exactly as it was, a DS that crashes while it
handles a message is held to the model (before the commit: the message was never received;
after it: the change is durable and the outbox is resent), and the durability bugs of
tests/storage_planted.py that a crash can reveal are caught."""

from __future__ import annotations

import pytest

from impl.lockstep.driver import Divergence, Lockstep
from impl.lockstep.moves import RESTART_PAIRS, session
from impl.storage import CrashPoint, records
from model.actions import Action, successors
from tests.storage_planted import plant

HAPPY = ("client_request", "target_respond", "client_init", "source_lock_and_export",
         "target_import", "source_fanout_and_confirm")


def honest(ls: Lockstep, name: str) -> Action:
    """The first enabled instance of `name` that no rogue party asked for."""
    rogue = ls.config.rogue_client_id
    for action, _ in successors(ls.config, ls.state):
        args = dict(action.args)
        if action.name == name and args.get("client") != rogue and (
                "request" not in args or args["request"].client != rogue):
            return action
    raise AssertionError(f"{name} is not enabled")


def upto(ls: Lockstep, name: str) -> Action:
    """Walk the happy path until `name` is enabled, and return it."""
    for step in HAPPY[:HAPPY.index(name)]:
        ls.apply(honest(ls, step))
    return honest(ls, name)


@pytest.mark.parametrize("party", [("ds", 0), ("ds", 1), ("client", 0)])
def test_a_restarted_party_comes_back_as_it_was_at_every_step(
        party: tuple[str, int]) -> None:
    ls = Lockstep()
    for step in HAPPY:
        ls.restart(party)  # compares the whole role state, then the abstraction
        ls.apply(honest(ls, step))
    ls.restart(party)
    assert ls.restarts == len(HAPPY) + 1


@pytest.mark.parametrize("point", list(CrashPoint))
@pytest.mark.parametrize("name", ["target_respond", "source_lock_and_export", "target_import",
                                  "source_fanout_and_confirm"])
def test_a_crash_at_every_point_of_every_ds_step_is_held_to_the_model(
        name: str, point: CrashPoint) -> None:
    ls = Lockstep()
    ls.apply_crashing(upto(ls, name), point)
    if point != CrashPoint.BEFORE_COMMIT:  # the step happened: the run goes on from it
        rest = HAPPY[HAPPY.index(name) + 1:]
        for step in rest:
            ls.apply(honest(ls, step))


def test_sessions_restart_and_crash_and_cover_both() -> None:
    report = session(25, 3)
    assert not report.divergences
    assert set(RESTART_PAIRS.values()) <= report.covered
    assert {("crash", str(p)) for p in CrashPoint} & report.covered


@pytest.mark.parametrize(("bug", "name", "point", "expected"), [
    ("state_outside_transaction", "target_respond", CrashPoint.BEFORE_COMMIT,
     "crashed before its commit"),
    ("outbox_row_dropped", "target_respond", CrashPoint.AFTER_COMMIT, "responses"),
    ("send_before_commit", "target_respond", CrashPoint.BEFORE_COMMIT, "responses"),
])
def test_planted_durability_bugs_are_caught_at_their_crash_point(
        bug: str, name: str, point: CrashPoint, expected: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ls = Lockstep()
    action = upto(ls, name)
    plant(monkeypatch, bug)
    with pytest.raises(Divergence, match=expected):
        ls.apply_crashing(action, point)


def test_a_restore_that_forgets_a_lock_is_caught_by_a_restart(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ls = Lockstep()
    ls.apply(upto(ls, "source_lock_and_export"))
    real = records.restore_ds

    def forgetting(ds, tables, events):  # type: ignore[no-untyped-def]
        real(ds, tables, events)
        for hosted in ds.groups.values():
            hosted.lock = None

    monkeypatch.setattr(records, "restore_ds", forgetting)
    with pytest.raises(Divergence, match="re-opened from its file differs"):
        ls.restart(("ds", 0))
