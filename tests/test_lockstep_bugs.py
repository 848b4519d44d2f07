"""The lockstep finds deliberate implementation bugs (tests/lockstep/planted.py: each a
replacement of one role method, none a patch of source text): within a bounded budget of
random swarm sessions (what `conform` runs), or, for a bug only a long specific sequence
reaches, by the model-guided transition tour restricted to the refused deliveries of the
action that bug concerns (it stops at the first divergence).  `test_the_table_is_current`
prints the planted-bug table (bench/planted.py prints it too) and checks docs/lockstep.md
names every bug."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lockstep.planted import BUGS, Bug, Found, hunt, table

FOUND: dict[str, Found] = {}


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_lockstep_finds_bug(bug: Bug) -> None:
    found = hunt(bug)
    assert found is not None, f"{bug.name}: not found"
    FOUND[bug.name] = found


def test_the_planted_bugs_cover_every_hole_of_issue_19() -> None:
    holes = {b.hole for b in BUGS}
    assert {"a member left out of the fan-out", "a check done after the state change",
            "a redirect carrying the wrong bytes", "a field of a signed message not checked",
            "a misuse call accepted", "a late-arrival bug",
            "a bug only a second group shows"} <= holes
    assert len({b.name for b in BUGS}) == len(BUGS)


def test_the_table_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs after the hunts (pytest keeps a module's order): prints the table, and the
    docs name every bug."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "lockstep.md").read_text()
    missing = [b.name for b in BUGS if f"`{b.name}`" not in doc]
    assert not missing, f"docs/lockstep.md lacks {missing} (bench/planted.py prints the table)"
    if len(FOUND) == len(BUGS):
        with capsys.disabled():
            print("\n" + table([FOUND[b.name] for b in BUGS]))
