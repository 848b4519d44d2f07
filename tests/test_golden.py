"""Golden files: the JSON of `check --variant all` and of `prove`, compared with tests/golden/.

The verdict tables of the explicit checker and of the Z3 proofs are this project's results;
a change of the model, the proofs or their engines must leave them as they are unless the
change means to alter them.  Each test runs the command in-process, normalises what varies
from run to run and compares the JSON with the committed file (the `.expect` practice of
mypyvy): tests/golden/check-all.json (`check --variant all --json`, every design, every
property, the shortest counterexamples, the matrix) and tests/golden/prove-all.json
(`prove --variant all --json`: the reference proof by induction, every variant's verdicts,
the negative controls).  The slow tier (this module is in tests/conftest.py's SLOW_MODULES)
compares check-all.json in full, and the reference design's part of prove-all.json (its
proof, its induction summary and the negative controls) by running `prove` alone; the whole
of prove-all.json (`prove --variant all`, about ten minutes on two cores) is compared only
when MIMI_GOLDEN_PROVE_ALL=1 is set (`make golden-check`).

Normalised out: every "seconds" (wall-clock time); whether an induction query that did not
prove was refuted or timed out ("failed" / "unknown" in a variant's "not inductive here"
detail and in the induction answers), which depends on the machine's load; and, in `prove`
documents only, which shortest counterexample Z3 returned: a Z3 trace is one of many of the
same length, and which one depends on what the solver was asked before, so a prove golden
keeps each trace's length ("trace": the number of steps) and each diagnosis without its
step number.  Nothing else: verdicts, methods, bounds, depths, the missing checks a diagnosis
names, and the whole of `check` (its breadth-first traces are the figures' counterexamples)
are compared as they are.  Each command runs in a fresh interpreter.

To regenerate after an intended change: `make golden` (MIMI_GOLDEN_UPDATE=1; it rewrites
every file, prove-all.json included, and the tests report themselves skipped); review the
diff with `git diff tests/golden/` before committing it.
"""
from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden"
TIMEOUT = 1800
UPDATE = os.environ.get("MIMI_GOLDEN_UPDATE") == "1"
PROVE_ALL = UPDATE or os.environ.get("MIMI_GOLDEN_PROVE_ALL") == "1"

CHECK_ALL = ("check", "--variant", "all", "--json", "--quiet")
PROVE_ALL_ARGV = ("prove", "--variant", "all", "--json", "--quiet")
#: The slow tier proves the reference design again (the unbounded proof, with the negative
#: controls) and compares it with its part of prove-all.json.  Variants are not in it: their
#: induction queries have a one-second limit, so on a loaded machine a proved cell could
#: fall back to bounded model checking and the comparison would flap; the variants' bounded
#: verdicts are the slow tier's in tests/test_proofs_bmc.py, and `make golden-check` compares
#: them all.
PROVE_REFERENCE = ("prove", "--json", "--quiet")

_NOT_PROVED = re.compile(r"\((\w+): (?:failed|unknown)\)")


def normalise(value: Any, *, z3: bool) -> Any:
    """`value` without what varies between runs of the same code (see the module docstring);
    `z3`: a `prove` document, whose traces and diagnosis steps are the solver's choice."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "seconds" or (z3 and key == "step"):
                continue
            if key == "answer" and item in ("failed", "unknown"):
                item = "not proved"
            if z3 and key == "trace" and isinstance(item, list):
                item = len(item)
            out[key] = normalise(item, z3=z3)
        return out
    if isinstance(value, list):
        return [normalise(item, z3=z3) for item in value]
    if isinstance(value, str):
        return _NOT_PROVED.sub(r"(\1: not proved)", value)
    return value


def run_json(argv: tuple[str, ...]) -> tuple[int, Any]:
    """Run `mimi-portability ARGV` in a fresh interpreter; (exit code, normalised JSON)."""
    proc = subprocess.run([sys.executable, "-m", "mimi_portability", *argv], cwd=REPO,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if not proc.stdout.strip():
        pytest.fail(f"{' '.join(argv)} printed nothing; stderr:\n{proc.stderr}", pytrace=False)
    return proc.returncode, normalise(json.loads(proc.stdout), z3=argv[0] == "prove")


def dump(doc: Any) -> str:
    return json.dumps(doc, indent=2) + "\n"


def compare(name: str, got: Any, expected: Any) -> None:
    """Fail with a unified diff of the two JSON texts if they differ."""
    if got == expected:
        return
    diff = difflib.unified_diff(
        dump(expected).splitlines(), dump(got).splitlines(),
        f"tests/golden/{name}", "this run", lineterm="", n=2,
    )
    lines = list(diff)
    shown = "\n".join(lines[:200]) + ("\n..." if len(lines) > 200 else "")
    pytest.fail(f"{name} differs from this run (`make golden` rewrites it):\n{shown}",
                pytrace=False)


def golden(name: str, argv: tuple[str, ...]) -> None:
    """Run `argv` and compare with (or, under MIMI_GOLDEN_UPDATE=1, rewrite) golden/`name`."""
    code, doc = run_json(argv)
    assert code == 0, doc.get("problems")
    path = GOLDEN / name
    if UPDATE:
        path.write_text(dump(doc))
        pytest.skip(f"rewrote {path.relative_to(GOLDEN.parent.parent)}; review git diff")
    compare(name, doc, json.loads(path.read_text()))


def reference_part(doc: dict[str, Any]) -> dict[str, Any]:
    """What `prove` alone reports of a `prove --variant all` document: the reference design."""
    return {
        "config": doc["config"],
        "depth": doc["depth"],
        "results": [r for r in doc["results"] if r["variant"] == "reference"],
        "negative_controls": doc["negative_controls"],
        "induction": [i for i in doc["induction"] if i["variant"] == "reference"],
        "problems": doc["problems"],
    }


def test_check_all_matches_golden() -> None:
    golden("check-all.json", CHECK_ALL)


def test_prove_reference_matches_golden() -> None:
    code, doc = run_json(PROVE_REFERENCE)
    assert code == 0, doc.get("problems")
    expected = reference_part(json.loads((GOLDEN / "prove-all.json").read_text()))
    compare("prove-all.json (the reference design's part)", doc, expected)


@pytest.mark.skipif(not PROVE_ALL, reason="about ten minutes: set MIMI_GOLDEN_PROVE_ALL=1 "
                    "(make golden-check) to compare the whole of prove --variant all")
def test_prove_all_matches_golden() -> None:
    golden("prove-all.json", PROVE_ALL_ARGV)


def test_normalise_drops_only_what_varies() -> None:
    row = {"seconds": 1.5, "states": 7, "detail": "not inductive here (target_import: unknown)",
           "failed": [{"action": "a", "lemma": "l", "answer": "unknown"}]}
    assert normalise(row, z3=False) == {
        "states": 7, "detail": "not inductive here (target_import: not proved)",
        "failed": [{"action": "a", "lemma": "l", "answer": "not proved"}]}
    found = {"verdict": "violated", "trace": [{"action": "a"}, {"action": "b"}],
             "diagnosis": [{"step": 2, "action": "b", "checks": [{"id": "x"}]}]}
    assert normalise(found, z3=False) == found
    assert normalise(found, z3=True) == {
        "verdict": "violated", "trace": 2, "diagnosis": [{"action": "b", "checks": [{"id": "x"}]}]}
    assert normalise({"trace": None, "verdict": "unknown"}, z3=True) == {
        "trace": None, "verdict": "unknown"}
