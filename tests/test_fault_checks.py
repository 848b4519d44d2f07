"""impl/faults/checks.py on hand-made status documents: each problem it must name, and
silence on a settled world."""

from __future__ import annotations

from typing import Any

from impl.faults.checks import Placement, member_problems, placements

A, B = "source.example", "target.example"


def _status(domain: str, *groups: tuple[str, str, int, str | None]) -> dict[str, Any]:
    return {"domain": domain, "nonces": {"pending": 0},
            "groups": [{"group_id": g, "phase": p, "epoch": e, "target": t}
                       for g, p, e, t in groups]}


def test_a_settled_world_has_no_problem() -> None:
    statuses = {A: _status(A, ("01", "moved", 8, B), ("02", "active", 7, None)),
                B: _status(B, ("01", "active", 8, None))}
    placed, problems = placements(statuses, ["01", "02"])
    assert problems == []
    assert placed == {"01": Placement("01", B, 8), "02": Placement("02", A, 7)}
    views = {"m0": {"01": (B, 8), "02": (A, 7)}, "m1": {"01": (B, 8)}}
    assert member_problems(placed, views) == []


def test_lost_forked_locked_and_a_lagging_member_are_each_named() -> None:
    statuses = {A: _status(A, ("01", "active", 8, None), ("03", "locked", 7, None)),
                B: _status(B, ("01", "active", 8, None), ("03", "active", 8, None),
                           ("04", "moved", 9, "elsewhere.example"), ("05", "active", 9, None))}
    placed, problems = placements(statuses, ["01", "02", "03", "05"])
    assert any(p.startswith("forked: group 01 is active") for p in problems)
    assert any(p.startswith("lost: group 02") for p in problems)
    assert any(p.startswith("stuck: group 03 still locked") for p in problems)
    assert member_problems(placed, {"m0": {"05": (A, 9)}, "m1": {"05": (B, 8)}}) == [
        f"members: m0 follows group 05 at {A} epoch 9, the group is at {B} epoch 9",
        f"members: m1 follows group 05 at {B} epoch 8, the group is at {B} epoch 9"]


def test_a_status_document_of_another_domain_is_named() -> None:
    _, problems = placements({A: _status(B)}, [])
    assert problems == [f"status of {A} names domain {B!r}"]
