"""`--junit` and `--sarif`: schema-valid, one testcase and one result per verdict, failures
where the exit code says so, counterexamples pointing at the rules, bad paths a usage error.

The fast tier: small runs (the reference design and one variant, a starved variant, a design
that breaks the reference, two mutants).  tests/test_ci_formats_runs.py (slow) does
`check --variant all`, `prove --variant all` and `verify --quick`.  tests/schemas.py says
loads the two schemas (tests/data/PROVENANCE.md says where they come from).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mimi_portability import reports, verdicts
from mimi_portability.cli import main
from mimi_portability.junit import render
from mimi_portability.sarif import document
from model.checker import check, problems
from model.config import REFERENCE, Config
from model.properties import PROPERTY_IDS
from model.rules import RULES_BY_NAME
from tests.schemas import validate_junit, validate_sarif

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, *argv: str) -> tuple[int, Any, dict[str, Any]]:
    """Run the command with --junit and --sarif: (exit code, the JUnit tree, the SARIF log),
    both validated against their schemas."""
    import xml.etree.ElementTree as ET

    junit, sarif = tmp_path / "out.xml", tmp_path / "out.sarif"
    code = main([*argv, "--junit", str(junit), "--sarif", str(sarif)])
    validate_junit(junit)
    log = json.loads(sarif.read_text())
    validate_sarif(log)
    return code, ET.parse(junit).getroot(), log


def cases(root: Any) -> dict[str, Any]:
    """classname -> <testcase>."""
    return {c.get("classname"): c for c in root.iter("testcase")}


def assert_code_flows_point_at_guards(log: dict[str, Any]) -> int:
    """Every thread flow location is the `def` line of the action's guard in model/rules.py,
    with the step's action first in its message.  Returns how many steps were seen."""
    lines = (ROOT / "model" / "rules.py").read_text().splitlines()
    seen = 0
    for result in log["runs"][0]["results"]:
        for flow in result.get("codeFlows", []):
            for loc in flow["threadFlows"][0]["locations"]:
                physical = loc["location"]["physicalLocation"]
                assert physical["artifactLocation"]["uri"] == "model/rules.py"
                action = loc["location"]["message"]["text"].split()[1]
                line = lines[physical["region"]["startLine"] - 1]
                guard = RULES_BY_NAME[action].guard.__name__
                assert line.startswith(f"def {guard}("), (action, line)
                seen += 1
    return seen


def test_check_reference_and_a_variant(tmp_path: Path) -> None:
    code, root, log = run(tmp_path, "check", "--variant", "reference", "--variant",
                          "unlock_on_timeout", "--quiet")
    assert code == 0
    assert [s.get("name") for s in root.iter("testsuite")] == ["reference", "unlock_on_timeout"]
    for suite in root.iter("testsuite"):
        assert [c.get("name") for c in suite.iter("testcase")] == list(PROPERTY_IDS)
        assert suite.get("failures") == "0"
    by_id = cases(root)
    assert set(by_id) == {f"{d}/{p}" for d in ("reference", "unlock_on_timeout")
                          for p in PROPERTY_IDS}
    caught = by_id["unlock_on_timeout/single_owner"]
    assert "counterexample, 7 steps" in caught.findtext("system-out", "")
    run_ = log["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == list(PROPERTY_IDS)
    assert run_["tool"]["driver"]["rules"][0]["properties"]["clause"] == (
        "docs/profile.md §7 single_owner")
    results = run_["results"]
    assert len(results) == 2 * len(PROPERTY_IDS)
    assert {r["kind"] for r in results} == {"pass"} and {r["level"] for r in results} == {"none"}
    assert run_["invocations"][0]["exitCode"] == 0
    assert assert_code_flows_point_at_guards(log) >= 7
    for r in results:  # each result's location is its property's definition
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri in ("model/properties.py", "model/checker.py")


def test_a_starved_variant_fails_in_both(tmp_path: Path) -> None:
    """A deliberately failing run: a state budget too small to catch the variant."""
    code, root, log = run(tmp_path, "check", "--variant", "fanout_before_ack",
                          "--max-states", "20", "--quiet")
    assert code == 1
    assert int(root.get("failures")) >= 1
    failure = cases(root)["fanout_before_ack/no_fanout_before_ack"].find("failure")
    assert failure is not None and failure.get("type") == "open"
    assert "(expected: violated)" in (failure.text or "")
    # what nothing is expected of is skipped, not failed (check exits on the expected only)
    assert cases(root)["fanout_before_ack/nonce_binding"].find("skipped") is not None
    results = {r["properties"]["identity"]: r for r in log["runs"][0]["results"]}
    assert results["fanout_before_ack/no_fanout_before_ack"]["kind"] == "open"
    assert results["fanout_before_ack/no_fanout_before_ack"]["properties"]["outcome"] == "open"
    assert log["runs"][0]["invocations"][0]["exitCode"] == 1


def test_a_reference_property_not_holding_is_a_failure_with_its_trace() -> None:
    """The reference design's name on a configuration that drops a check it needs: what the
    records say is what `problems` says, and each failure carries its counterexample."""
    report = check(Config(drop=frozenset({"lock.current_epoch"})), design=REFERENCE,
                   liveness=False)
    found = problems([report], vacuity=False)
    records = verdicts.from_check([report], vacuity=False)
    failing = [r for r in records if r.failing]
    assert found and [f"reference violates {r.property}" for r in failing] == found
    assert all(r.outcome == "fail" and r.trace for r in failing)
    xml = render(records, "test")
    validate_junit(xml)
    assert b"counterexample, " in xml and b"model/rules.py:" in xml
    log = document(records, "test", 1)
    validate_sarif(log)
    bad = [r for r in log["runs"][0]["results"] if r["kind"] == "fail"]
    assert len(bad) == len(failing) and {r["level"] for r in bad} == {"error"}
    assert assert_code_flows_point_at_guards(log) == sum(len(r.trace) for r in failing)


def test_mutate_survivor_fails(tmp_path: Path) -> None:
    code, root, log = run(tmp_path, "mutate", "--only", "lock.current_epoch,lock.group_hosted",
                          "--no-proofs", "--quiet")
    assert code == 1  # without the redundancy proof, lock.group_hosted survives
    by_id = cases(root)
    assert set(by_id) == {"drop:lock.current_epoch/lock.current_epoch",
                          "drop:lock.group_hosted/lock.group_hosted"}
    assert by_id["drop:lock.current_epoch/lock.current_epoch"].find("failure") is None
    assert by_id["drop:lock.group_hosted/lock.group_hosted"].find("failure") is not None
    kinds = {r["ruleId"]: r["kind"] for r in log["runs"][0]["results"]}
    assert kinds == {"lock.current_epoch": "pass", "lock.group_hosted": "fail"}


def test_verify_rows_map_to_testcases_skipped_and_failed() -> None:
    def fn() -> tuple[str, str]:
        return "pass", ""

    rows = [("impl", "vectors", "pass", "ok", 0.5, fn),
            ("impl", "MLS vectors", "skipped", "set MLS_TEST_VECTORS", 0.0, fn),
            ("model", "model: reference", "fail", "reference violates x", 1.25, fn)]
    records = verdicts.from_verify(rows)
    assert [(r.design, r.property, r.outcome) for r in records] == [
        ("impl", "vectors", "pass"), ("impl", "mls-vectors", "skipped"),
        ("model", "model-reference", "fail")]
    xml = render(records, "verify")
    validate_junit(xml)
    assert b"<skipped" in xml and b"<failure" in xml
    log = document(records, "mimi-portability verify", 1)
    validate_sarif(log)
    assert [r["kind"] for r in log["runs"][0]["results"]] == ["pass", "notApplicable", "fail"]


@pytest.mark.parametrize("where", ["missing/out.xml", ".", "file/out.xml"])
@pytest.mark.parametrize("option", ["--junit", "--sarif"])
def test_an_unwritable_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch, option: str,
                                             where: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--variant", "reference", option, where])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and "Traceback" not in err
    assert ("is a folder" in err) if where == "." else ("no folder" in err)


def test_a_write_that_fails_late_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system that refuses only when the file is written (the folder went away)."""
    monkeypatch.setattr(reports, "output_path", Path)
    target = tmp_path / "gone" / "out.sarif"
    code = main(["check", "--variant", "fanout_before_ack", "--max-states", "20", "--quiet",
                 "--sarif", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and f"error: cannot write {target}:" in err and "Traceback" not in err


def test_help_names_both_options(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("check", "prove", "mutate", "verify"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "--junit FILE" in out and "--sarif FILE" in out
