"""Design changes as data: every check of model/rules.py listed with its metadata, ad-hoc
designs with --drop, the explicit checker and Z3 agreeing on them, and diagnosis naming the
dropped check and its clause (evaluated on the model's own conjuncts)."""

from __future__ import annotations

import json
import re

import pytest

from mimi_portability.cli import main
from model.checker import VIOLATED, check
from model.config import OPTION_NAMES, Config
from model.rules import CHECKS, PREFIXES, RULES, action_of, option_checks
from proofs import bmc
from proofs.diagnosis import CLAUSES, diagnose
from proofs.properties import property_by_id

CONFIG = Config()


def test_checks_lists_every_check_with_its_action(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == list(CHECKS)
    names = {rule.name for rule in RULES} | {"adversary"}
    for r in rows:
        assert r["action"] in names and r["action"] == action_of(CHECKS[r["id"]])
        assert r["kind"] in ("check", "switch") and r["text"]
    assert set(PREFIXES.values()) == names


def test_every_design_option_is_a_set_of_check_ids() -> None:
    by_option = option_checks()
    assert set(by_option) == set(OPTION_NAMES)
    for ids in by_option.values():
        assert ids and all(i in CHECKS for i in ids)
        assert all(i in CLAUSES for i in ids), "an option's check names its profile clause"


def test_a_check_the_rules_do_not_have_is_a_clear_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--drop", "lock.no_such_check", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert re.search(r"unknown check id lock\.no_such_check", err)


def test_dropped_check_is_named_and_caught(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--drop", "lock.current_epoch", "--quiet", "--no-liveness",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["property"]: r for r in doc["results"]}
    assert {r["variant"] for r in doc["results"]} == {"drop:lock.current_epoch"}
    assert rows["single_owner"]["verdict"] == "violated"


def test_explicit_and_z3_agree_on_a_dropped_check_and_diagnosis_names_it() -> None:
    """`check --drop lock.current_epoch` and bounded model checking of the same ad-hoc design
    find the same violated property with traces of the same length; the diagnosis names the
    check and its docs/profile.md clause."""
    config = Config(drop=frozenset({"lock.current_epoch"}))
    report = check(config, liveness=False, stop_at=frozenset({"single_owner"}))
    result = report.result("single_owner")
    assert result.verdict == VIOLATED and result.trace is not None
    (z3_result,) = bmc.run(config, [property_by_id("single_owner")], len(result.trace))
    assert z3_result.verdict == "violated"
    assert z3_result.trace is not None and len(z3_result.trace) == len(result.trace)
    found = diagnose(config, result.trace)
    assert [c for d in found for c in d.checks] == ["lock.current_epoch"]
    assert CLAUSES["lock.current_epoch"] in "\n".join(found[0].lines())


def test_the_reference_with_nothing_dropped_is_not_caught_by_bmc() -> None:
    """Negative control for the test above: without the drop, no trace of that length."""
    (result,) = bmc.run(CONFIG, [property_by_id("single_owner")], 6)
    assert result.verdict != "violated"
