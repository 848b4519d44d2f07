"""Z3 verdicts per (design, property): an unbounded proof if the invariant is inductive,
else bounded model checking with shortest, replayed, diagnosed counterexamples.

This module owns how the proofs decide a design.  First the reference invariant (the nine
safety properties with the lemmas of proofs/lemmas.py and proofs/ownership.py) is checked
for induction under the design's options over the parametric universe, Houdini style
(proofs/induction.houdini): lemmas with a failing obligation are dropped until what is left
is inductive.  Every property left in it is "proved", unbounded, for any number of parties.
Every other property (a variant broke it, or a lemma it needs) goes to bounded model
checking on a Config: "violated" with a shortest trace of model actions (replayed through
model.actions before it is reported) and the missing check it exploits
(proofs/diagnosis.py), "proved" for every run of at most the depth reached (the bound is
part of the verdict), or "unknown" when a solver gave up or the deadline came.  `unknown`
never counts as a pass.
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
import time
from collections.abc import Sequence
from typing import Any

from model.actions import Action
from model.config import Config, Variant, config_json

from . import bmc, hints, portfolio
from .diagnosis import Diagnosis, diagnose
from .encoding import ParametricUniverse
from .induction import InductionReport, Invariantish, houdini
from .lemmas import BASIC
from .ownership import OWNERSHIP
from .properties import NEGATIVE_CONTROLS, PROPERTIES, SymProperty


class ProofVerdict(enum.StrEnum):
    """Z3's verdict on one property of one design: proved (by induction, unbounded, or by
    bounded model checking to a depth), violated (a replayed counterexample), or unknown."""

    PROVED = "proved"
    VIOLATED = "violated"
    UNKNOWN = "unknown"


PROVED, VIOLATED, UNKNOWN = ProofVerdict
INDUCTION, BMC = "induction", "bmc"

INVARIANT: tuple[Invariantish, ...] = (*PROPERTIES, *BASIC, *OWNERSHIP)
"""The reference design's inductive invariant: the properties and their lemmas."""

REFERENCE_TIMEOUT_MS = 5_000
HINT_ONLY_TIMEOUT_MS = 1_000
"""Per induction query.  With its hint, every reference obligation is proved in under
0.3 s (bench/prove.py), so a hint-only query still open after 1 s is taken as failed."""


@dataclasses.dataclass(frozen=True)
class Verdict:
    design: str
    property: str
    verdict: ProofVerdict
    """"proved" | "violated" | "unknown"."""
    method: str
    """"induction" (an inductive invariant) or "bmc" (bounded model checking)."""
    bound: dict[str, Any]
    """{"kind": "unbounded", "parameters": ...} or {"kind": "bounded", "depth": k,
    "config": ...}: what a "proved" covers, or how far a search went."""
    seconds: float
    trace: tuple[Action, ...] | None = None
    diagnosis: tuple[Diagnosis, ...] = ()
    detail: str = ""
    engine: str = "z3"
    """Who decided it: "z3", or "explicit" (a bounded verdict the explicit checker won the
    race for: proofs/portfolio.py)."""

    @builtins.property  # the field `property` shadows the builtin in this class body
    def length(self) -> int | None:
        return None if self.trace is None else len(self.trace)

    def bound_text(self) -> str:
        if self.bound["kind"] == "unbounded":
            return "unbounded, any number of parties"
        return f"runs of <= {self.bound['depth']} steps"

    def as_json(self) -> dict[str, Any]:
        return {
            "variant": self.design,
            "property": self.property,
            "verdict": self.verdict,
            "states": None,  # check's row keys, so one reader takes both; Z3 counts none
            "transitions": None,
            "method": self.method,
            "bound": self.bound,
            "depth": self.length,
            "seconds": round(self.seconds, 3),
            "trace": None if self.trace is None else [a.to_json() for a in self.trace],
            "diagnosis": [d.as_json() for d in self.diagnosis],
            "detail": self.detail,
            "engine": self.engine,
        }


@dataclasses.dataclass(frozen=True)
class DesignProof:
    design: Variant
    config: Config
    verdicts: tuple[Verdict, ...]
    induction: InductionReport | None
    seconds: float

    def verdict(self, pid: str) -> Verdict:
        for v in self.verdicts:
            if v.property == pid:
                return v
        raise KeyError(pid)


def unbounded(universe: ParametricUniverse) -> dict[str, Any]:
    return {"kind": "unbounded", "parameters": universe.summary()}


def bounded(config: Config, depth: int) -> dict[str, Any]:
    return {"kind": "bounded", "depth": depth, "config": config_json(config)}


def prove_design(design: Variant, config: Config | None = None, *, depth: int = 8,
                 jobs: int = 1, deadline: float | None = None, induction: bool = True,
                 properties: Sequence[SymProperty] = PROPERTIES,
                 timeout_ms: int | None = None, bmc_timeout_ms: int | None = None,
                 fallback: bool | None = None, engine: str = "z3") -> DesignProof:
    """The Z3 verdict on every property of `design`; BMC runs on `config` (default
    Config()) to `depth` steps, giving up after `deadline` seconds.  `timeout_ms` is the
    nominal timeout of each induction query, a budget of Z3 resource units
    (proofs/budget.py; one that spends it counts as failed: its lemma is dropped; default
    REFERENCE_TIMEOUT_MS, or HINT_ONLY_TIMEOUT_MS without the fallback), `bmc_timeout_ms`
    that of each bounded model checking query (None: no limit).  `fallback`: an
    obligation its hint does not prove is asked again assuming the whole invariant (default:
    for the reference design only; a variant's lemmas that lose their proof are dropped
    at once, which is what Houdini would do after waiting for the timeout).  `engine`
    answers the bounded part (proofs/portfolio.py: "z3", "explicit" or "portfolio"); the
    unbounded part is always Z3's induction."""
    started = time.perf_counter()
    config = (config or Config()).with_options(design.options)
    universe = ParametricUniverse()
    report = None
    found: dict[str, Verdict] = {}
    why: dict[str, str] = {}
    if induction:
        if fallback is None:
            fallback = design.expected is None
        if timeout_ms is None:
            timeout_ms = REFERENCE_TIMEOUT_MS if fallback else HINT_ONLY_TIMEOUT_MS
        report, dropped = houdini(universe, config.dropped, INVARIANT, jobs=jobs,
                                  hints=hints.load(), timeout_ms=timeout_ms,
                                  fallback=fallback)
        for p in properties:
            if p.id in report.invariant:
                found[p.id] = Verdict(design.name, p.id, PROVED, INDUCTION,
                                      unbounded(universe), report.solver_seconds(p.id),
                                      detail=_induction_detail(report))
        for lemma, o in dropped:
            why[lemma] = f"not inductive here ({o.action}: {o.answer}); "
    rest = [p for p in properties if p.id not in found]
    if rest:
        for r in portfolio.run(config, rest, depth, engine=engine, deadline=deadline,
                               timeout_ms=bmc_timeout_ms):
            found[r.property] = _from_bmc(design, config, r, why.get(r.property, ""))
    verdicts = tuple(found[p.id] for p in properties)
    return DesignProof(design, config, verdicts, report, time.perf_counter() - started)


def _induction_detail(report: InductionReport) -> str:
    frame = sum(1 for o in report.obligations if o.how == "frame")
    return (f"part of an inductive invariant of {len(report.invariant)} lemmas: "
            f"{len(report.obligations)} obligations, {frame} closed by the frame rule, the "
            "rest by Z3")


def _from_bmc(design: Variant, config: Config, r: bmc.BmcResult, why: str) -> Verdict:
    by = "" if r.engine == "z3" else f" (found by the {r.engine} search)"
    if r.verdict == bmc.VIOLATED:
        assert r.trace is not None
        return Verdict(design.name, r.property, VIOLATED, BMC, bounded(config, r.depth),
                       r.seconds, r.trace, tuple(diagnose(config, r.trace)),
                       f"shortest counterexample, {r.depth} steps, replayed through the "
                       f"model{by}", r.engine)
    if r.verdict == bmc.CLEAN:
        return Verdict(design.name, r.property, PROVED, BMC, bounded(config, r.depth),
                       r.seconds, detail=why + f"no violation in any run of at most "
                       f"{r.depth} steps of {config.summary()}{by}", engine=r.engine)
    return Verdict(design.name, r.property, UNKNOWN, BMC, bounded(config, r.depth), r.seconds,
                   detail=why + (r.reason or "the solver gave up") + by, engine=r.engine)


def refute_negative_controls(config: Config | None = None, depth: int = 8) -> list[Verdict]:
    """The deliberately false properties on the reference design: each must come back
    violated, with a replayed trace."""
    from model.config import REFERENCE

    config = config or Config()
    results = bmc.run(config, NEGATIVE_CONTROLS, depth)
    return [_from_bmc(REFERENCE, config, r, "") for r in results]
