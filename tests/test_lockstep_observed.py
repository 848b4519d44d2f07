"""The lockstep misses nothing a peer can observe (issue #19), each with a negative control.

- Nothing skipped silently: a move the model allows that the driver cannot make is a
  divergence with its reason (driver.CannotPerform); only a configuration the driver does
  not cover is skipped, and `conform` reports how many and why.
- Every member observed: each fanned-out commit must reach exactly the group's members
  (abstraction.fanout_divergences); tests/lockstep/planted.py leaves one member out.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from impl.envelope import Envelope, Kind
from impl.lockstep.driver import CannotPerform, Divergence, Lockstep
from impl.lockstep.moves import session
from mimi_portability.cli import main
from model import messages as mm
from model.config import Config
from tests.lockstep.helpers import act


def _conform(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["conform", *argv])
    return code, capsys.readouterr().out


def test_conform_reports_nothing_skipped_in_the_default_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _conform(capsys, "--examples", "4", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["divergences"] == 0 and data["skipped"] == 0 and data["skipped_why"] == {}
    code, out = _conform(capsys, "--examples", "2")
    assert code == 0 and "skipped 0" in out and "SKIPPED" not in out


def test_a_configuration_the_driver_does_not_cover_is_skipped_with_why() -> None:
    report = session(3, 0, config=Config(ds=4))
    assert report.divergences == [] and report.steps == 0
    assert sum(report.skipped.values()) == 3
    (why,) = report.skipped
    assert "needs 2 honest DSs" in why
    assert report.as_json(Config())["skipped"] == 3


class _NoForgedContent(Lockstep):
    """A driver that cannot build the rogue's MigrationContent (as if its forging code had
    a gap): every such move the model allows must come out as a divergence."""

    def forge(self, m: Any) -> Envelope:
        if isinstance(m, mm.MigrationContent):
            raise CannotPerform(f"cannot forge {m}")
        return super().forge(m)


def test_a_move_the_driver_cannot_make_is_a_divergence_not_a_skip() -> None:
    report = session(60, 0, factory=lambda: _NoForgedContent(Config()))
    assert report.divergences, "a move the driver cannot make went unreported"
    assert not report.skipped
    assert "the driver cannot make it on the implementation" in report.divergences[0]
    assert "cannot forge MigrationContent" in report.divergences[0]


def test_a_commit_fanned_out_to_a_non_member_diverges() -> None:
    ls = Lockstep(Config())
    act(ls, "commit_at_current_ds", client=0)
    ls.verify("the commit, fanned out to both members")
    sent = next(e for e in ls.table.values() if e.kind == Kind.Fanout)
    rogue = ls.world.rogue_client.identity
    ls._emit([Envelope(sender=sent.sender, recipient=rogue, kind=Kind.Fanout,
                       payload=sent.payload)])
    with pytest.raises(Divergence, match=r"non-members \[2\]"):
        ls.verify("the commit also sent to X")
