"""Proof hints: which lemmas each obligation of the reference proof needs.

This module owns proofs/hints.json: for every (action, lemma) obligation that the solver
decides, the lemmas of the invariant its last proof used: its unsat core, then made
minimal by deletion (each lemma of the core left out in turn and kept out if the rest still
proves the obligation).  A minimal core is a smaller query, which for the slowest
obligations took half the time or less; where the smaller set proves it slower than the
whole core (Z3's search is not monotone in what it assumes), the core is kept.  proofs/induction.py
tries those first and falls back to the whole invariant, so hints only make the proof fast
(a query assuming four lemmas takes a fraction of one assuming forty) and never decide what
is proved.  `refresh` recomputes them (`mimi-portability prove --refresh-hints`); the test
suite checks that the committed file still proves every obligation with its hint alone, so
a change to the model or the lemmas that makes the hints stale is noticed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from model.config import DesignOptions

from .encoding import Universe
from .induction import PROVED, Invariantish, _ask, _Query, core, queries

PATH = Path(__file__).with_name("hints.json")

Hints = dict[tuple[str, str], tuple[str, ...]]


def load(path: Path = PATH) -> Hints:
    """The stored hints ({} if there is no file or it is not a hints file)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("hints"), dict):
        return {}
    out: Hints = {}
    for key, lemmas in data["hints"].items():
        action, _, lemma = str(key).partition(" / ")
        if isinstance(lemmas, list) and all(isinstance(x, str) for x in lemmas):
            out[action, lemma] = tuple(lemmas)
    return out


def refresh(universe: Universe, options: DesignOptions, invariant: Sequence[Invariantish],
            *, timeout_ms: int = 60_000) -> tuple[Hints, list[tuple[str, str]]]:
    """New hints from unsat cores, and the obligations the whole invariant did not prove."""
    hints: Hints = {}
    unproved: list[tuple[str, str]] = []
    for item in queries(universe, options, invariant):
        if not isinstance(item, _Query) or not item.hypotheses:
            continue
        lemmas = core(item, timeout_ms)
        if lemmas is None:
            unproved.append((item.action, item.lemma))
        else:
            hints[item.action, item.lemma] = minimal(item, lemmas)
    return hints, unproved


TRIAL_TIMEOUT_MS = 2_000
"""A deletion trial that takes longer than this keeps the lemma it left out."""


def minimal(query: _Query, lemmas: Sequence[str]) -> tuple[str, ...]:
    """A subset of `lemmas` (an unsat core of `query`) that still proves it and from which
    no lemma can be left out, or `lemmas` itself where Z3 proves the query faster from it."""
    kept = list(lemmas)
    for lemma in lemmas:
        trial = [x for x in kept if x != lemma]
        if _ask(query, trial, TRIAL_TIMEOUT_MS)[0] == PROVED:
            kept = trial
    if len(kept) == len(lemmas):
        return tuple(lemmas)
    small = min(_ask(query, kept, TRIAL_TIMEOUT_MS)[1] for _ in range(2))
    whole = min(_ask(query, lemmas, TRIAL_TIMEOUT_MS)[1] for _ in range(2))
    return tuple(kept) if small <= whole else tuple(lemmas)


def save(hints: Hints, path: Path = PATH) -> None:
    doc = {
        "about": "Unsat cores of the reference proof's obligations: the lemmas to assume "
                 "first (proofs/hints.py). Regenerate: mimi-portability prove --refresh-hints",
        "hints": {f"{a} / {lem}": list(lemmas) for (a, lem), lemmas in sorted(hints.items())},
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")
