"""The model's subcommands (`check`, `variants`) and its `verify` checks, mounted on a fresh
argparse parser the way mimi_portability/cli.py mounts them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mimi_portability.commands.model import register, verify_checks
from model.actions import replay
from model.config import EXPLORED, VARIANTS, Config, variant
from model.properties import PROPERTY_IDS
from tests.subcommands import run_subcommand

ROOT = Path(__file__).resolve().parent.parent
ROW_KEYS = {"variant", "property", "verdict", "states", "transitions", "depth", "seconds", "trace"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_subcommand(register, capsys, *argv)


def test_variants_lists_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "variants")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == len(VARIANTS) + len(EXPLORED)
    for line, v in zip(lines, VARIANTS, strict=False):
        assert line.startswith(v.name) and f"breaks {v.expected}" in line
    for line, v in zip(lines[len(VARIANTS):], EXPLORED, strict=True):
        assert line.startswith(v.name) and "explored" in line and "breaks" not in line


def test_check_reference_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--variant", "reference", "--json", "--quiet")
    assert code == 0
    doc = json.loads(out)
    rows = doc["results"]
    assert [r["property"] for r in rows] == list(PROPERTY_IDS)
    for r in rows:
        assert set(r) == ROW_KEYS
        assert r["variant"] == "reference" and r["verdict"] == "holds" and r["trace"] is None
        assert r["states"] > 0 and r["transitions"] > 0 and r["depth"] > 0
    assert doc["problems"] == [] and doc["config"]["clients"] == Config().clients


def test_check_variant_json_trace_replays(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--variant", "unlock_on_timeout", "--json", "--quiet")
    assert code == 0
    rows = {r["property"]: r for r in json.loads(out)["results"]}
    assert rows["single_owner"]["verdict"] == "violated"
    assert rows["migration_completes"]["verdict"] == "violated"
    trace = rows["single_owner"]["trace"]
    assert all(set(step) == {"action", "args"} for step in trace)
    config = Config().with_options(variant("unlock_on_timeout").options)
    assert len(replay(config, trace)) == len(trace) + 1


def test_check_text_and_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--variant", "reference", "--variant",
                       "unsigned_init", "--traces", "--quiet", "--no-liveness")
    assert code == 0
    assert "ok:" in out and "authorized_migration violated in 2 steps" in out
    assert "<forged>" in out


def test_check_fails_when_a_variant_is_not_caught(capsys: pytest.CaptureFixture[str]) -> None:
    # without the rogue client no rogue can ask for a migration it then starts
    code, out, _ = run(capsys, "check", "--variant", "unsigned_init", "--no-rogue-client",
                       "--quiet")
    assert code == 1 and "error: unsigned_init does not violate authorized_migration" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (("--variant", "no_such_design"), "unknown variant"),
        (("--ds", "1"), "two honest DSs"),
        (("--clients", "0"), "clients"),
    ],
)
def test_check_errors(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                      message: str) -> None:
    code, out, err = run(capsys, "check", *argv, "--quiet")
    assert code == 1 and out == ""
    assert err.startswith("error: ") and message in err


def test_python_dash_m_mimi_portability() -> None:
    done = subprocess.run([sys.executable, "-m", "mimi_portability", "variants"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "fanout_before_ack" in done.stdout


def test_verify_checks_shape() -> None:
    checks = verify_checks()
    assert len(checks) >= 3 and all(isinstance(name, str) for name, _ in checks)
    by_name = dict(checks)
    status, detail = by_name["model: negative control reported violated"]()
    assert status == "pass" and detail


def test_quick_verify_checks_the_reference_alone() -> None:
    quick = dict(verify_checks(quick=True))
    assert list(quick) == ["model: reference design holds every property",
                           "model: negative control reported violated"]
    status, detail = quick["model: reference design holds every property"]()
    assert status == "pass" and "properties hold" in detail
