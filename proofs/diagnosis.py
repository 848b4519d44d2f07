"""Guard-level diagnosis: which check's absence lets a design variant break a property.

This module owns the explanation attached to a variant's counterexample.  For each design
option the variant switches on, the trace is replayed under the design with that option
off again (its check restored).  At the first step where the two part ways, either the
stricter design's guard fails (the check would have refused the step) or its effect
differs (the variant does something else, e.g. fans out early); an option whose check the
trace never meets is not needed for it and is not reported.  For a failing guard, each
labelled conjunct of the stricter design's Z3 guard (proofs/transitions.py) is decided on
the concrete state with the step's arguments; the false ones are the checks whose absence
allowed the step.  Each check id maps to the clause of docs/profile.md that it implements
(`CLAUSES`), and each design option to the checks it removes (`OPTION_CHECKS`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import z3  # type: ignore[import-untyped]

from model import actions as ma
from model.actions import Action, ActionNotEnabled
from model.config import Config
from model.state import initial_state

from .context import INT_PARAMS, Pool, param_sort
from .encoding import FiniteUniverse
from .symstate import Abstraction
from .transitions import CHECKS, steps

CLAUSES: dict[str, str] = {
    "respond.group_id_unique": '§5 "Group ids are unique per DS: the Target DS refuses a '
                               'request for a group id it already hosts or has pending, or '
                               'holds a tombstone for"',
    "init.response_signed": '§2 signers: MigrationResponse by the "Target DS (its key for '
                            'the suite)"',
    "lock.response_signed": '§2 "A message signed by any other key ... is refused" '
                            '(the response inside MigrationInit)',
    "lock.current_epoch": '§5 "The Source DS accepts a MigrationInit only with a migration '
                          'commit for the group\'s current epoch e"',
    "lock.member_signature": '§2 signers: MigrationInit by "the requesting client\'s MLS '
                             'leaf signature key" ... "only a current member can start a '
                             'migration"',
    "commit.not_locked": '§5 "The group is then locked: no other commit for epoch e is '
                         'sequenced"',
    "import.nonce_pending": '§5 "It imports only from a MigrationContent whose response '
                            'carries a pending nonce it issued for exactly that request"',
    "import.content_signed": '§5 "... signed by that request\'s source"',
    "reacknowledge.consumed_kept": '§5 "A consumed nonce ... is kept as long as the imported '
                                   'group exists, so a retried MigrationContent is '
                                   're-acknowledged"',
    "reject.consumed_kept": '§5 "... and never rejected"',
    "confirm.own_nonce": '§5 "A client switches to the Target DS on a valid '
                         'MigrationConfirmation that matches its own pending nonce"',
    "timeout.never": '§5 "Once its MigrationContent is sent the Source DS never unlocks on a '
                     'timeout"',
    "forge.nonce_known": '§5 "Nonces are unpredictable (32 bytes from a cryptographic '
                         'source)"',
    "lock.fanout_after_ack": '§5 "The Source DS fans the migration commit out only once it '
                             'holds a valid TargetMigrationComplete"',
    "import.consume_nonce": '§5 "Importing consumes the nonce"',
}
"""Each check id -> the clause of docs/profile.md it implements: its section and the words
quoted from it ("..." elides; the test suite finds every quoted part in the file)."""

OPTION_CHECKS: dict[str, tuple[str, ...]] = {
    "fanout_before_ack": ("lock.fanout_after_ack",),
    "unlock_on_timeout": ("timeout.never",),
    "no_nonce_check": ("import.nonce_pending",),
    "nonce_reuse": ("import.consume_nonce",),
    "unsigned_response": ("init.response_signed", "lock.response_signed"),
    "no_epoch_check": ("lock.current_epoch", "commit.not_locked"),
    "no_group_id_uniqueness": ("respond.group_id_unique",),
    "confirmation_without_nonce_check": ("confirm.own_nonce",),
    "forget_consumed_nonces": ("reacknowledge.consumed_kept", "reject.consumed_kept"),
    "predictable_nonces": ("forge.nonce_known",),
    "unsigned_content": ("import.content_signed",),
    "unsigned_init": ("lock.member_signature",),
}

_EFFECT_ACTIONS = {"lock": "source_lock_and_export", "import": "target_import"}


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
            out.append(f"  missing check {check}: {CHECKS.get(check, check)}")
            if check in CLAUSES:
                out.append(f"    docs/profile.md {CLAUSES[check]}")
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "action": self.action,
            "kind": self.kind,
            "checks": [
                {"id": c, "check": CHECKS.get(c, c), "profile": CLAUSES.get(c)}
                for c in self.checks
            ],
        }


def diagnose(config: Config, trace: Sequence[Action]) -> list[Diagnosis]:
    """For each design option of `config` that `trace` needs, where the design with that
    option switched off parts ways with it: the missing check's step, action and id.  Empty
    when the reference design itself takes every step alike."""
    out = []
    for option in config.options.enabled():
        restored = dataclasses.replace(config.options, **{option: False})
        found = _first_divergence(config, dataclasses.replace(config, options=restored),
                                  trace, option)
        if found is not None:
            out.append(found)
    return out


def _first_divergence(config: Config, stricter: Config, trace: Sequence[Action],
                      option: str) -> Diagnosis | None:
    state = initial_state(config)
    for i, action in enumerate(trace, 1):
        try:
            expected = ma.step(config, state, action)
        except ActionNotEnabled:
            return None  # not a trace of this design
        try:
            got = ma.step(stricter, state, action)
        except ActionNotEnabled:
            failing = _failing_conjuncts(stricter, state, action)
            return Diagnosis(i, action.name, "guard", _checks(failing, option))
        if got != expected:
            prefix = {v: k for k, v in _EFFECT_ACTIONS.items()}.get(action.name, "")
            checks = tuple(c for c in OPTION_CHECKS.get(option, ())
                           if c.startswith(prefix + ".") and c in _EFFECT_CHECKS)
            return Diagnosis(i, action.name, "effect", checks)
        state = expected
    return None


_EFFECT_CHECKS = frozenset({"lock.fanout_after_ack", "import.consume_nonce"})


def _checks(failing: Sequence[str], option: str) -> tuple[str, ...]:
    """The check ids among the failing conjunct labels; a failing 'delivered' (the
    adversary could not have produced the message) stands for the option's forge check."""
    ids = [label for label in failing if label in CHECKS]
    if not ids and "delivered" in failing:
        ids = [c for c in OPTION_CHECKS.get(option, ()) if c.startswith("forge.")]
    return tuple(dict.fromkeys(ids or failing))


def _failing_conjuncts(config: Config, state: Any, action: Action) -> list[str]:
    """Labels of the reference guard's conjuncts that no choice makes true on `state`
    with `action`'s arguments."""
    ab = Abstraction(config)
    universe = FiniteUniverse(config)
    pool = Pool("diagnosis")
    built = {s.action: s for s in steps(universe, config.options, ab.expand(state), pool)}
    step = built[action.name]
    spec = ma.ACTIONS_BY_NAME[action.name]
    pins = []
    for name, value in action.args:
        const = pool.const(name, param_sort(spec, name))
        if name in INT_PARAMS:
            pins.append(const == value)
        else:
            assert spec.receives is not None
            pins.append(const == ab.convert.to_z3(value, spec.receives.__name__))
    out = []
    for label, conjunct in step.guard:
        solver = z3.Solver()
        solver.add(*pins, conjunct)
        if solver.check() == z3.unsat:
            out.append(label)
    return out
