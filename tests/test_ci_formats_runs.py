"""`--junit` and `--sarif` from whole runs: `check --variant all`, `prove --variant all`,
`prove` and `verify --quick`, each schema-valid, each the same verdicts as its `--json`.

The slow tier (tests/conftest.py SLOW_MODULES): `check --variant all` exhausts every design
(about 80 s); `prove --variant all` runs bounded model checking only, to depth 3 (seconds, not
the ten minutes of the full proof), which is also the deliberately failing run: every variant
whose shortest counterexample is longer than 3 steps, and the negative control
no_group_ever_moves, are failures in both formats, and nothing else is.  `prove` (the
reference design, unbounded) and `verify --quick` pass.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from mimi_portability.cli import main
from model.config import ALL_DESIGNS
from model.properties import PROPERTY_IDS
from tests.schemas import validate_junit, validate_sarif
from tests.test_ci_formats import assert_code_flows_point_at_guards

SAFETY = [p for p in PROPERTY_IDS if p != "migration_completes"]


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
        *argv: str) -> tuple[int, Any, Any, dict[str, Any]]:
    """(exit code, the --json document or None, the JUnit root, the SARIF log), validated."""
    junit, sarif = tmp_path / "out.xml", tmp_path / "out.sarif"
    code = main([*argv, "--junit", str(junit), "--sarif", str(sarif)])
    out = capsys.readouterr().out
    validate_junit(junit)
    log = json.loads(sarif.read_text())
    validate_sarif(log)
    doc = json.loads(out) if "--json" in argv else None
    return code, doc, ET.parse(junit).getroot(), log


def failing(root: Any) -> set[str]:
    return {c.get("classname") for c in root.iter("testcase") if c.find("failure") is not None}


def same_verdicts(rows: list[dict[str, Any]], root: Any, log: dict[str, Any]) -> None:
    """Every --json row is one testcase and one result, with the same verdict."""
    results = {r["properties"]["identity"]: r for r in log["runs"][0]["results"]}
    names = {c.get("classname") for c in root.iter("testcase")}
    for row in rows:
        identity = f"{row['variant']}/{row['property']}"
        assert identity in names
        assert results[identity]["properties"]["verdict"] == row["verdict"]
        flows = results[identity].get("codeFlows")
        if row["trace"] is None:
            assert flows is None
        else:
            assert len(flows[0]["threadFlows"][0]["locations"]) == len(row["trace"])


def test_check_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, root, log = run(tmp_path, capsys, "check", "--variant", "all", "--json",
                               "--quiet")
    assert code == 0 and doc["problems"] == []
    assert [s.get("name") for s in root.iter("testsuite")] == [
        *(d.name for d in ALL_DESIGNS), "matrix"]
    assert root.get("failures") == "0" and failing(root) == set()
    same_verdicts(doc["results"], root, log)
    # undecided where nothing is expected (predictable_nonces' other properties): skipped
    unknown = {f"{r['variant']}/{r['property']}" for r in doc["results"]
               if r["verdict"] == "unknown"}
    skipped = {c.get("classname") for c in root.iter("testcase") if c.find("skipped") is not None}
    assert unknown and skipped == unknown
    kinds = {r["kind"] for r in log["runs"][0]["results"]}
    assert kinds == {"pass", "open"}
    assert assert_code_flows_point_at_guards(log) > 0


def test_prove_all_bounded_is_a_failing_run(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, root, log = run(tmp_path, capsys, "prove", "--variant", "all",
                               "--no-induction", "--depth", "3", "--json", "--quiet")
    assert code == 1
    same_verdicts(doc["results"] + doc["negative_controls"], root, log)
    # the variants not caught within 3 steps, as `prove` itself says, and the negative control
    uncaught = {f"{d.name}/{d.expected}" for d in ALL_DESIGNS if d.expected is not None
                and f"{d.name}: {d.expected} not violated within the bound" in doc["problems"]}
    refuted = {f"reference/{v['property']}" for v in doc["negative_controls"]
               if v["verdict"] != "violated"}
    assert uncaught and refuted == {"reference/no_group_ever_moves"}
    assert failing(root) == uncaught | refuted
    assert int(root.get("failures")) == len(doc["problems"])
    errors = {r["properties"]["identity"] for r in log["runs"][0]["results"]
              if r["kind"] == "fail"}
    assert errors == uncaught | refuted
    assert all(r["level"] == "error" for r in log["runs"][0]["results"] if r["kind"] == "fail")
    assert log["runs"][0]["invocations"][0]["exitCode"] == 1
    assert assert_code_flows_point_at_guards(log) > 0


def test_prove_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, root, log = run(tmp_path, capsys, "prove", "--json", "--quiet")
    assert code == 0 and failing(root) == set()
    same_verdicts(doc["results"] + doc["negative_controls"], root, log)
    assert [c.get("name") for c in root.iter("testcase")] == [
        *SAFETY, "no_group_ever_moves", "target_never_imports"]
    assert {r["kind"] for r in log["runs"][0]["results"]} == {"pass"}


def test_verify_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, root, log = run(tmp_path, capsys, "verify", "--quick")
    assert code == 0 and failing(root) == set()
    parts = [s.get("name") for s in root.iter("testsuite")]
    assert "model" in parts and "impl" in parts
    names = [c.get("name") for c in root.iter("testcase")]
    assert "model-negative-control-reported-violated" in names
    assert len(log["runs"][0]["results"]) == len(names)
