"""One typed verdict record for every command's results, and the conversions to it.

This module owns `Record`, what `--junit` and `--sarif` (mimi_portability/reports.py) write:
one verdict of one design on one property, whichever command decided it, with the design,
the property's stable id, its statement and docs/profile.md clause, what the engine said
(`verdict`), what was expected of it (`expected`), the `outcome` that follows, a detail line,
the counterexample as a list of steps, and where the property is defined.  It also owns the
conversions from each command's own results: `from_check` (model.checker.DesignReport, what
`check --json` prints), `from_prove` (proofs.prove.DesignProof and the negative controls'
verdicts, what `prove --json` prints), `from_mutate` (proofs.mutate.Mutant) and
`from_verify` (verify's rows).  Each conversion decides the outcome by the rule its command's
exit code follows (model.checker.problems, commands/proofs.problems, mutate.failures), so a
run exits non-zero exactly when some record's outcome is "fail" or "open".

Outcomes: "pass" (as expected, or decided where nothing is expected), "fail" (against what
was expected: a reference property violated, a variant's expected violation not found, a
negative control not refuted, a mutant that survived), "open" (undecided where a verdict is
needed), "skipped" (undecided or not run where nothing is expected of it).

proofs/ imports Z3, which `--help` must not load: the proofs' types are named for annotations
only, and their constants are the strings they stand for.
"""

from __future__ import annotations

import builtins
import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from model.actions import Action
from model.adversary import can_forge
from model.checker import HOLDS, UNKNOWN, VIOLATED, DesignReport, doomed_state, vacuity_matrix
from model.config import Config
from model.properties import LIVENESS_ID, LIVENESS_STATEMENT, NEGATIVE_CONTROLS, property_by_id
from model.rules import CHECKS, RULES_BY_NAME, action_of

from .traces import Location, describe_action, location_of, rule_location

if TYPE_CHECKING:
    from proofs.mutate import Mutant
    from proofs.prove import DesignProof, Verdict

Outcome = Literal["pass", "fail", "open", "skipped"]
#: The outcomes that make a run fail (and a JUnit testcase a failure).
FAILING: frozenset[str] = frozenset({"fail", "open"})


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of a counterexample: the action, its readable line, its rule's guard."""

    action: str
    text: str
    where: Location


@dataclasses.dataclass(frozen=True)
class Record:
    """One verdict of one design on one property (or one check, for `mutate` and `verify`)."""

    tool: str
    """The command that decided it: "check", "prove", "mutate" or "verify"."""
    design: str
    """"reference", a variant's name, "drop:ID" or, for `verify`, the part."""
    property: str
    """The stable id (a property id, a check id, a verify check's slug)."""
    text: str
    clause: str | None
    verdict: str
    """What the engine said: "holds", "proved", "violated", "unknown", a mutant's outcome..."""
    expected: str | None
    """What was expected of it ("holds", "violated", ...), None where nothing is."""
    outcome: Outcome
    detail: str
    trace: tuple[Step, ...] = ()
    where: Location | None = None
    """Where the property (or check) is defined."""
    seconds: float = 0.0

    @builtins.property  # the field `property` shadows the builtin in this class body
    def identity(self) -> str:
        return f"{self.design}/{self.property}"

    @builtins.property
    def failing(self) -> bool:
        return self.outcome in FAILING


def steps(config: Config, trace: Sequence[Action] | None) -> tuple[Step, ...]:
    return tuple(Step(a.name, describe_action(config, a), rule_location(a.name))
                 for a in trace or ())


_NEGATIVE = frozenset(p.id for p in NEGATIVE_CONTROLS)


def property_text(pid: str) -> tuple[str, str | None, Location]:
    """A property's statement, its docs/profile.md clause and where it is defined."""
    if pid == LIVENESS_ID:
        return (LIVENESS_STATEMENT, "docs/profile.md §7 liveness (migration_completes)",
                location_of(doomed_state))
    p = property_by_id(pid)
    if pid in _NEGATIVE:
        return p.statement, None, location_of(p.predicate)
    return p.statement, f"docs/profile.md §7 {pid}", location_of(p.predicate)


def _decided(expected: str | None, got: str, needed: bool) -> Outcome:
    """pass / fail against `expected`; an unknown is "open" where a verdict is `needed`."""
    if got == UNKNOWN:
        return "open" if needed else "skipped"
    return "pass" if expected is None or expected == got else "fail"


def _record(tool: str, design: str, pid: str, got: str, expected: str | None,
            outcome: Outcome, detail: str, trace: tuple[Step, ...], seconds: float) -> Record:
    text, clause, where = property_text(pid)
    return Record(tool, design, pid, text, clause, got, expected, outcome, detail, trace,
                  where, seconds)


def _length(trace: Sequence[Any] | None) -> str:
    return "" if trace is None else f"counterexample of {len(trace)} steps"


# ---------------------------------------------------------------- check


def from_check(reports: Sequence[DesignReport], *, vacuity: bool) -> list[Record]:
    """`check`'s verdicts, one per design and property, in the order of `check --json`; with
    `vacuity` (every design ran), also one per property of the design x property matrix
    (design "matrix": whether the property catches some variant)."""
    out = []
    for r in reports:
        d = r.design
        for p in r.results:
            if d.exploratory:
                expected, needed = None, True
            elif d.expected is None:
                expected, needed = HOLDS, True
            elif p.property == d.expected:
                expected, needed = VIOLATED, True
            else:
                expected, needed = None, False
            outcome = _decided(expected, p.verdict, needed)
            detail = _check_detail(p.verdict, expected, outcome, p.trace, r.complete)
            # one search decides every property: each gets its share of the design's time
            out.append(_record("check", d.name, p.property, p.verdict, expected, outcome,
                               detail, steps(r.config, p.trace), r.seconds / len(r.results)))
    if vacuity and reports:
        m = vacuity_matrix(reports)
        for pid in m.properties:
            caught = [v for v in m.variants if (v, pid) in m.caught]
            outcome = "pass" if caught else "fail"
            detail = ("catches " + ", ".join(caught)) if caught else "catches no variant"
            out.append(_record("check", "matrix", pid, "catches" if caught else "idle",
                               "catches", outcome, detail, (), 0.0))
    return out


def _check_detail(got: str, expected: str | None, outcome: Outcome,
                  trace: Sequence[Action] | None, complete: bool) -> str:
    if got == UNKNOWN:
        return "undecided: the state budget was reached" + (
            "" if outcome == "open" else " (nothing is expected of it in this design)")
    said = f"{got}" + (f", {_length(trace)}" if trace is not None else "")
    if expected is None:
        return said + " (nothing is expected of it in this design)"
    if outcome == "pass":
        return said + f", as expected ({expected})"
    return said + f", but {expected} was expected" + ("" if complete else
                                                      " (the state budget was reached)")


# ---------------------------------------------------------------- prove


def from_prove(proofs: Sequence[DesignProof], negatives: Sequence[Verdict],
               config: Config) -> list[Record]:
    """`prove`'s verdicts, in the order of `prove --json`: every design's, then the negative
    controls' (refuted on `config`, the run's bounds)."""
    out = []
    for proof in proofs:
        d = proof.design
        for v in proof.verdicts:
            if d.exploratory:
                expected = None
            elif d.expected is None:
                expected = "proved"
            elif v.property == d.expected:
                expected = VIOLATED
            else:
                expected = None
            out.append(_prove_record(v, expected, proof.config))
    out.extend(_prove_record(v, VIOLATED, config) for v in negatives)
    return out


def _prove_record(v: Verdict, expected: str | None, config: Config) -> Record:
    # every unknown fails `prove` (commands/proofs.problems), expected or not
    outcome = _decided(expected, v.verdict, True)
    said = f"{v.verdict} ({v.method}, {v.bound_text()})"
    if v.trace is not None:
        said += f", {_length(v.trace)}"
        said += "".join(f"; {line}" for d in v.diagnosis for line in d.lines()[:1])
    if v.detail:
        said += f": {v.detail}"
    if expected is not None and outcome == "fail":
        said += f"; {expected} was expected"
    return _record("prove", v.design, v.property, v.verdict, expected, outcome, said,
                   steps(config, v.trace), v.seconds)


# ---------------------------------------------------------------- mutate


def from_mutate(mutants: Iterable[Mutant]) -> list[Record]:
    """`mutate`'s results: one record per mutant, design "drop:ID", property the check id.
    A survivor fails, and so does a kept or redundant check some property kills (the reason
    beside it is wrong), as in proofs.mutate.failures."""
    from proofs.mutate import KILLED, SURVIVED

    out = []
    for m in mutants:
        c = CHECKS[m.check]
        wrong = m.outcome == KILLED and m.detail.startswith("the reason beside it is wrong")
        outcome: Outcome = "fail" if m.outcome == SURVIVED or wrong else "pass"
        if m.outcome == KILLED:
            detail = "killed by " + ", ".join(f"{p} (counterexample of {n} steps)"
                                              for p, n in m.killed_by)
            detail += f"; {m.detail}" if m.detail else ""
        else:
            detail = m.outcome + (f": {m.detail}" if m.detail else "")
        rule = RULES_BY_NAME.get(action_of(c))
        out.append(Record(
            "mutate", f"drop:{m.check}", m.check, c.text, c.clause, m.outcome,
            "killed, redundant (proved) or kept", outcome, detail,
            where=location_of(rule.guard if rule is not None else can_forge),
            seconds=m.seconds))
    return out


# ---------------------------------------------------------------- verify


def slug(text: str) -> str:
    """A stable id for a verify check's name: lower case, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def from_verify(rows: Iterable[tuple[str, str, str, str, float, Callable[..., Any]]]
                ) -> list[Record]:
    """`verify`'s rows (part, check name, status, detail, seconds, the check function): one
    record per check, design its part ("impl", "model", ...), id the slug of its name."""
    out = []
    for part, name, status, detail, seconds, fn in rows:
        outcome: Outcome = ("pass" if status == "pass" else
                            "skipped" if status == "skipped" else "fail")
        out.append(Record("verify", part, slug(name), name, None, status, "pass", outcome,
                          detail, where=location_of(fn), seconds=seconds))
    return out
