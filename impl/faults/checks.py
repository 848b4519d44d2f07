"""What must hold after every faulted or killed run, read from the servers' `GET /status`.

This module owns judging a settled loopback world from the outside, as a script would:
given each DS's status document (docs/wire.md: `{"domain", "groups": [{"group_id",
"phase", "epoch", "target"}], "nonces"}`) and the groups the driver created, it lists

* lost: a group no DS serves (no `active` entry anywhere);
* forked: a group `active` at two DSs, or a tombstone (`moved`) naming a DS outside the
  world;
* stuck: a group left `locked` once the run settled (a migration neither finished nor
  undone);
* members: a member whose view of a group (its DS and epoch, from its own state) is not
  the DS that serves it at the epoch that DS is in.

It decides nothing about the protocol; the servers' documents are the evidence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class Placement:
    """Where one group is served once the run settled."""

    group_id: str
    ds: str
    epoch: int


def placements(statuses: Mapping[str, Mapping[str, Any]],
               groups: Iterable[str]) -> tuple[dict[str, Placement], list[str]]:
    """(group -> where it is served, problems) for every group in `groups` (hex ids)."""
    entries: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for domain, status in statuses.items():
        if status.get("domain") != domain:
            entries.setdefault("", []).append((domain, status))
        for entry in status.get("groups", []):
            entries.setdefault(str(entry["group_id"]), []).append((domain, entry))
    problems: list[str] = [f"status of {d} names domain {s.get('domain')!r}"
                           for d, s in entries.pop("", [])]
    found: dict[str, Placement] = {}
    for gid in groups:
        here = entries.get(gid, [])
        active = [(d, e) for d, e in here if e["phase"] == "active"]
        locked = [d for d, e in here if e["phase"] == "locked"]
        if not active:
            problems.append(f"lost: group {gid} is served by no DS ({_describe(here)})")
        elif len(active) > 1:
            problems.append(f"forked: group {gid} is active at {sorted(d for d, _ in active)}")
        else:
            ds, entry = active[0]
            found[gid] = Placement(gid, ds, int(entry["epoch"]))
        if locked:
            problems.append(f"stuck: group {gid} still locked at {locked} after the run "
                            f"settled ({_describe(here)})")
        for d, e in here:
            if e["phase"] == "moved" and gid in found and e.get("target") not in statuses:
                problems.append(f"forked: {d}'s tombstone of {gid} names {e.get('target')!r}, "
                                "no DS of this world")
    return found, problems


def member_problems(placed: Mapping[str, Placement],
                    views: Mapping[str, Mapping[str, tuple[str, int]]]) -> list[str]:
    """Every member's view (member -> group -> (ds, epoch)) against where the group is."""
    problems = []
    for member, groups in sorted(views.items()):
        for gid, (ds, epoch) in sorted(groups.items()):
            where = placed.get(gid)
            if where is None:
                continue  # already reported as lost or forked
            if (ds, epoch) != (where.ds, where.epoch):
                problems.append(f"members: {member} follows group {gid} at {ds} epoch {epoch}, "
                                f"the group is at {where.ds} epoch {where.epoch}")
    return problems


def _describe(entries: list[tuple[str, Mapping[str, Any]]]) -> str:
    return ", ".join(f"{d}: {e['phase']} epoch {e.get('epoch')}" for d, e in entries) or "nowhere"


__all__ = ["Placement", "member_problems", "placements"]
