"""SARIF 2.1.0 from verdict records (`--sarif FILE`), as plain dicts.

This module owns how mimi_portability.verdicts.Record maps onto a SARIF log: one run of the
tool `mimi-portability`, one rule per property (its stable id, its statement, its
docs/profile.md clause, in `help` and the rule's property bag), one result per record.  A
result's `kind` is its outcome: "pass", "fail", "open" for an undecided verdict (where a
verdict is needed or not), "notApplicable" for a check that did not run; `level` is "error"
for a failure and "none" otherwise (SARIF allows no other level beside a kind that is not
"fail").  Its location is where the property (or check) is defined, and a counterexample is a
`codeFlow` of one `threadFlow` whose locations are, step by step, the guard of the step's
rule in model/rules.py, with the step's readable line as the message.  Paths are relative to
the source root (the folder holding model/), under the uriBaseId SRCROOT, so code scanning
finds them in a checkout.  The result's property bag keeps the design, the verdict and what
was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .traces import Location
from .verdicts import Record

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://datatracker.ietf.org/doc/draft-kohbrok-mimi-portability/"


def _location(where: Location, message: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": {"uri": where.path, "uriBaseId": "SRCROOT"},
        "region": {"startLine": where.line},
    }}
    if message is not None:
        out["message"] = {"text": message}
    return out


def kind(r: Record) -> str:
    if r.outcome == "skipped":
        return "open" if r.verdict == "unknown" else "notApplicable"
    return r.outcome


def rule(r: Record) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.property,
        "shortDescription": {"text": r.text},
        "fullDescription": {"text": r.text + (f" ({r.clause})" if r.clause else "")},
        "properties": {"clause": r.clause, "tool": r.tool},
    }
    if r.clause:
        out["help"] = {"text": f"Implements {r.clause}."}
    return out


def result(r: Record, index: int) -> dict[str, Any]:
    expected = "" if r.expected is None else f" (expected: {r.expected})"
    out: dict[str, Any] = {
        "ruleId": r.property,
        "ruleIndex": index,
        "kind": kind(r),
        "level": "error" if r.outcome == "fail" else "none",
        "message": {"text": f"{r.identity}: {r.verdict}{expected}. {r.detail}"},
        "properties": {"design": r.design, "identity": r.identity, "verdict": r.verdict,
                       "expected": r.expected, "outcome": r.outcome},
    }
    if r.where is not None:
        out["locations"] = [_location(r.where)]
    if r.trace:
        out["codeFlows"] = [{
            "message": {"text": f"counterexample of {len(r.trace)} steps ({r.identity})"},
            "threadFlows": [{"locations": [
                {"location": _location(s.where, f"{i}. {s.text}"), "executionOrder": i}
                for i, s in enumerate(r.trace, 1)
            ]}],
        }]
    return out


def document(records: Sequence[Record], command_line: str, exit_code: int) -> dict[str, Any]:
    """The SARIF log of one run: its rules (first appearance order) and its results."""
    rules: dict[str, dict[str, Any]] = {}
    for r in records:
        rules.setdefault(r.property, rule(r))
    index = {rid: i for i, rid in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mimi-portability",
                "informationUri": INFORMATION_URI,
                "rules": list(rules.values()),
            }},
            "invocations": [{
                "commandLine": command_line,
                "executionSuccessful": True,
                "exitCode": exit_code,
            }],
            "columnKind": "unicodeCodePoints",
            "results": [result(r, index[r.property]) for r in records],
        }],
    }
