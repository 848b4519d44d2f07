"""The `prove` subcommand: verdicts, JSON shape, exit codes, bad arguments; and its `verify`
checks.  Mounted on a fresh argparse parser the way mimi_portability/cli.py mounts it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mimi_portability.commands.proofs import register, verify_checks
from model.actions import Action, replay
from model.config import Config, variant
from model.properties import PROPERTIES, violated
from tests.subcommands import run_subcommand
from tests.test_model_cli import ROW_KEYS as CHECK_ROW_KEYS

ROOT = Path(__file__).resolve().parent.parent
ROW_KEYS = CHECK_ROW_KEYS | {"method", "bound", "diagnosis", "detail", "engine"}
"""The JSON of `check` plus "method" and "bound" (and the diagnosis, a detail line and the
engine that decided it: "z3" unless --engine says otherwise)."""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_subcommand(register, capsys, *argv)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, *argv, "--json")
    doc: dict[str, Any] = json.loads(out)
    return code, doc


def test_reference_is_proved_unbounded(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "prove")
    assert code == 0 and doc["problems"] == []
    rows = doc["results"]
    # The safety properties; liveness (migration_completes) is the explicit checker's alone.
    assert [r["property"] for r in rows] == [p.id for p in PROPERTIES]
    for row in rows:
        assert set(row) == ROW_KEYS
        assert (row["verdict"], row["method"]) == ("proved", "induction")
        assert row["bound"]["kind"] == "unbounded"
        assert "any number of clients" in row["bound"]["parameters"]
        assert row["trace"] is None and row["depth"] is None
    (induction,) = doc["induction"]
    assert induction["failed"] == [] and induction["obligations"] > induction["frame"] > 0
    assert {r["property"]: r["verdict"] for r in doc["negative_controls"]} == {
        "no_group_ever_moves": "violated", "target_never_imports": "violated"}
    assert doc["config"]["clients"] == Config().clients


def test_variant_counterexample_json_replays(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "prove", "--variant", "unsigned_content", "--no-induction",
                         "--depth", "3")
    assert code == 0 and doc["problems"] == [] and doc["negative_controls"] == []
    design = variant("unsigned_content")
    rows = {r["property"]: r for r in doc["results"]}
    hit = rows[str(design.expected)]
    assert (hit["verdict"], hit["method"]) == ("violated", "bmc")
    assert hit["bound"]["kind"] == "bounded" and hit["bound"]["depth"] == hit["depth"]
    trace = [Action.from_json(a) for a in hit["trace"]]
    config = Config().with_options(design.options)
    assert design.expected in violated(config, replay(config, trace)[-1])
    assert [c["id"] for d in hit["diagnosis"] for c in d["checks"]] == ["import.content_signed"]
    for pid, row in rows.items():
        if row["verdict"] == "proved":
            assert row["bound"] == {"kind": "bounded", "depth": 3, "config": doc["config"]}, pid


def test_text_report_shows_trace_and_missing_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "prove", "--variant", "unsigned_content", "--no-induction",
                       "--depth", "3", "--quiet")
    assert code == 0
    assert "violated in 2 steps (Z3, replayed through the model)" in out
    assert "missing check import.content_signed" in out and "docs/profile.md §5" in out
    assert "runs of <= 3 steps" in out and out.rstrip().endswith("negative controls refuted")


def test_unknown_is_never_a_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "prove", "--variant", "forget_consumed_nonces",
                         "--no-induction", "--deadline", "0.01")
    assert code == 1
    assert {r["verdict"] for r in doc["results"]} == {"unknown"}
    assert any("unknown" in p and "deadline" in p for p in doc["problems"])


def test_a_variant_not_caught_within_the_bound_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "prove", "--variant", "forget_consumed_nonces", "--no-induction",
                       "--depth", "2", "--quiet")
    assert code == 1
    expected = variant("forget_consumed_nonces").expected
    assert f"error: forget_consumed_nonces: {expected} not violated within the bound" in out


def test_bounds_are_passed_to_bmc(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "prove", "--variant", "no_nonce_check", "--no-induction",
                         "--depth", "4", "--clients", "1")
    assert code == 0 and doc["config"]["clients"] == 1
    assert all(r["bound"]["config"]["clients"] == 1 for r in doc["results"])


@pytest.mark.parametrize("argv", [("--depth", "0"), ("--depth", "x"), ("--jobs", "0"),
                                  ("--timeout", "0"), ("--deadline", "-1")])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as exc:
        run(capsys, "prove", *argv)
    assert exc.value.code == 2
    assert argv[0] in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (("--variant", "no_such_design"), "no_such_design"),
    (("--clients", "0"), "client"),
])
def test_bad_input_exits_1(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                           message: str) -> None:
    code, out, err = run(capsys, "prove", *argv)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and message in err


def test_the_entry_point_has_prove() -> None:
    done = subprocess.run([sys.executable, "-m", "mimi_portability", "prove", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--variant" in done.stdout and "--depth" in done.stdout


def test_verify_checks_shape() -> None:
    names = [name for name, _ in verify_checks()]
    assert len(names) == 4 and all(n.startswith("proofs: ") for n in names)
    assert verify_checks(quick=True) == []


def test_crosscheck_cells_agree_only_on_equal_verdicts() -> None:
    from proofs.crosscheck import Cell, Table, render

    def cell(explicit: str, e_len: int | None, z3: str, z_len: int | None,
             bound: str = "unbounded") -> Cell:
        return Cell("d", "single_owner", explicit, e_len, z3, z_len, bound)

    assert cell("violated", 3, "violated", 3).agrees()
    assert not cell("violated", 3, "violated", 4).agrees()  # not the shortest
    assert not cell("violated", 3, "proved", None).agrees()
    assert cell("holds", None, "proved", None).agrees()
    assert cell("holds", None, "proved", None, "<=5").agrees()
    assert not cell("holds", None, "violated", 2).agrees()
    assert not cell("holds", None, "unknown", None).agrees()  # unknown is never agreement
    others = [Cell("d", p.id, "holds", None, "proved", None, "unbounded")
              for p in PROPERTIES[1:]]
    table = Table((cell("violated", 3, "violated", 4), *others))
    assert table.mismatches() == ["d/single_owner: explicit X3/X4"]
    assert render(table)[-1].split("|")[1].split() == ["X3/X4", "!", *["ok/P*"] * len(others)]
