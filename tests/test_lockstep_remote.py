"""`conform --remote` against real servers: ours with 0 divergences, and planted bugs caught.

The test starts two `mimi-portability serve` processes on free loopback ports set up for the
remote lockstep (impl/lockstep/remote_config.py `running_remote`: every peer at the test's
recorder, the test's clients, R and X known, nonces that outlive the run) and drives them
over HTTP (impl/lockstep/remote_run.py).  Negative controls: a server with a role bug of
tests/lockstep/planted.py planted by tests/planted_site/sitecustomize.py
(MIMI_LOCKSTEP_BUG), at least one per DS role, must be caught, with the rules' check id.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from impl.lockstep.remote_config import running_remote
from impl.lockstep.remote_run import run_remote
from mimi_portability.cli import main

ROOT = Path(__file__).resolve().parent.parent

PLANTED: dict[str, tuple[str, str]] = {
    # bug -> (DS role it breaks, the check id conform --remote reports)
    "tombstone_missing": ("source", "rule:source_fanout_and_confirm"),
    "migration_fanout_leaves_member_out": ("source", "rule:source_fanout_and_confirm"),
    "target_answers_duplicate_group": ("target", "target_respond:respond.group_id_unique"),
    "nonce_not_consumed": ("target", "rule:target_import"),
    "content_signer_not_checked": ("target", "target_import:import.content_signed"),
    "group_exists_swallowed": ("target", "target_respond:respond.group_id_unique"),
    "redirect_carries_content_hash": ("source", "commit_at_current_ds:commit.at_member_epoch"),
}


def test_own_servers_conform(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_remote(tmp_path / "w") as config:
        code = main(["conform", "--remote", str(config), "--examples", "100", "--json"])
    data = json.loads(capsys.readouterr().out)
    print(data)
    assert code == 0 and data["divergences"] == 0
    assert data["actions_covered"] == data["actions_total"] == 12
    assert data["pairs_covered"] >= data["pairs_total"] - 1  # the redirected commit is rare
    assert data["refusals"].get("wrong_epoch") and data["refusals"].get("group_exists")


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_planted_bug_caught(bug: str, tmp_path: Path) -> None:
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "planted_site"), str(ROOT)]),
           "MIMI_LOCKSTEP_BUG": bug}
    with running_remote(tmp_path / "w", env=env) as config:
        result = run_remote(config, 100, 0)
    data = result.as_json()
    assert data["divergences"] == 1, bug
    assert PLANTED[bug][1] in data["divergence"]["check"], data["divergence"]
    print(f"{bug} ({PLANTED[bug][0]}): {data['divergence']['check']} after "
          f"{data['steps'] + 1} steps (step {data['divergence']['steps']} of example "
          f"{data['divergence']['example']})")


def test_divergence_trace_and_itf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "planted_site"), str(ROOT)]),
           "MIMI_LOCKSTEP_BUG": "target_answers_duplicate_group"}
    with running_remote(tmp_path / "w", env=env) as config:
        code = main(["conform", "--remote", str(config), "--examples", "20",
                     "--itf", str(tmp_path / "itf")])
    out = capsys.readouterr().out
    assert code == 1
    assert "DIVERGENCE in example" in out and "respond.group_id_unique" in out
    (itf,) = (tmp_path / "itf").glob("*.itf.json")
    assert main(["replay", str(itf)]) == 0
