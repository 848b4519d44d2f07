"""Guard-level diagnosis: which check's absence lets a design variant break a property.

This module owns the explanation attached to a variant's counterexample.  For each design
option the variant switches on, (and each check it drops ad hoc) the trace is replayed
under the design with it restored.  At the first step where the two part ways, either the
stricter design's guard fails (the check would have refused the step) or its effect
differs (the variant does something else, e.g. fans out early); an option whose check the
trace never meets is not needed for it and is not reported.  For a failing guard, each
labelled conjunct of the stricter design's guard (model/rules.py) is evaluated on the
concrete state with the step's arguments by the rules' concrete reading, no solver; the
false ones are the checks whose absence allowed the step.  Each check carries, beside it in
model/rules.py, the docs/profile.md clause it implements (`CLAUSES`) and the design options
that remove it (`OPTION_CHECKS`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from model import actions as ma
from model import refusals
from model.actions import Action, ActionNotEnabled
from model.config import Config
from model.rules import CHECKS, option_checks
from model.state import initial_state

CLAUSES: dict[str, str] = {c.id: c.clause for c in CHECKS.values() if c.clause}
"""Each check id -> the clause of docs/profile.md it implements (declared beside the check in
model/rules.py)."""

OPTION_CHECKS: dict[str, tuple[str, ...]] = option_checks()
"""Each design option -> the checks and switches it drops (declared beside each check)."""


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    step: int
    """1-based position in the trace of the first step the reference design would not take
    (or would take differently)."""
    action: str
    kind: str
    """"guard": the reference refuses the step; "effect": it takes it, with another result."""
    checks: tuple[str, ...]
    """Check ids (transitions.CHECKS) whose absence allowed the step."""

    def lines(self) -> list[str]:
        what = "refuses it" if self.kind == "guard" else "takes it, with another effect"
        out = [f"step {self.step} ({self.action}): with the check, the design {what}"]
        for check in self.checks:
            out.append(f"  missing check {check}: {_text(check)}")
            if check in CLAUSES:
                out.append(f"    docs/profile.md {CLAUSES[check]}")
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "action": self.action,
            "kind": self.kind,
            "checks": [
                {"id": c, "check": _text(c), "profile": CLAUSES.get(c)}
                for c in self.checks
            ],
        }


def _text(cid: str) -> str:
    found = CHECKS.get(cid)
    return found.text if found else cid


def units(config: Config) -> list[tuple[str, frozenset[str]]]:
    """What a diagnosis restores one at a time: each design option of `config` (the checks
    it drops) and each check dropped ad hoc (`Config.drop`)."""
    out = [(option, frozenset(OPTION_CHECKS[option])) for option in config.options.enabled()]
    out += [(f"drop:{cid}", frozenset({cid})) for cid in sorted(config.drop)]
    return out


def diagnose(config: Config, trace: Sequence[Action]) -> list[Diagnosis]:
    """For each design option of `config` (and each check it drops ad hoc) that `trace`
    needs, where the design with it restored parts ways with the trace: the missing check's
    step, action and id.  Empty when the reference design itself takes every step alike."""
    out = []
    for name, ids in units(config):
        stricter = _restore(config, name, ids)
        found = _first_divergence(config, stricter, trace, ids)
        if found is not None:
            out.append(found)
    return out


def _restore(config: Config, name: str, ids: frozenset[str]) -> Config:
    if name.startswith("drop:"):
        return dataclasses.replace(config, drop=config.drop - ids)
    return dataclasses.replace(config, options=dataclasses.replace(config.options,
                                                                   **{name: False}))


def _first_divergence(config: Config, stricter: Config, trace: Sequence[Action],
                      ids: frozenset[str]) -> Diagnosis | None:
    state = initial_state(config)
    for i, action in enumerate(trace, 1):
        try:
            expected = ma.step(config, state, action)
        except ActionNotEnabled:
            return None  # not a trace of this design
        try:
            got = ma.step(stricter, state, action)
        except ActionNotEnabled:
            failing = failing_conjuncts(stricter, state, action)
            return Diagnosis(i, action.name, "guard", _checks(failing, ids))
        if got != expected:
            switches = tuple(c for c in sorted(ids) if CHECKS[c].kind == "switch")
            return Diagnosis(i, action.name, "effect", switches)
        state = expected
    return None


def _checks(failing: Sequence[str], ids: frozenset[str]) -> tuple[str, ...]:
    """The restored check ids among the failing conjuncts; a failing 'delivered' (the
    adversary could not have produced the message) stands for the restored forge check."""
    found = [label for label in failing if label in ids]
    if not found and "delivered" in failing:
        found = [c for c in sorted(ids) if c.startswith("forge.")]
    return tuple(dict.fromkeys(found or failing))


def failing_conjuncts(config: Config, state: Any, action: Action) -> list[str]:
    """Labels of the guard's conjuncts that are false on `state` with `action`'s arguments,
    decided by the concrete reading of model/rules.py itself (model/refusals.py `failing`),
    and "delivered" first where the message is neither in the network nor one the
    adversary can forge."""
    spec = ma.ACTIONS_BY_NAME[action.name]
    given = dict(action.args)
    args = tuple(given[p] for p in spec.params)
    out = []
    if spec.receives is not None and not spec.delivered(config, state, args[-1]):
        out.append("delivered")
    return out + [c.id for c in refusals.failing(config, state, action.name, args)]
