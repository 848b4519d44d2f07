"""Proof hints: which lemmas each obligation of the reference proof needs.

This module owns proofs/hints.json: for every (action, lemma) obligation that the solver
decides, the lemmas of the invariant its last proof used (its unsat core).  proofs/induction.py
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
from .induction import Invariantish, _Query, core, queries

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
            hints[item.action, item.lemma] = lemmas
    return hints, unproved


def save(hints: Hints, path: Path = PATH) -> None:
    doc = {
        "about": "Unsat cores of the reference proof's obligations: the lemmas to assume "
                 "first (proofs/hints.py). Regenerate: mimi-portability prove --refresh-hints",
        "hints": {f"{a} / {lem}": list(lemmas) for (a, lem), lemmas in sorted(hints.items())},
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")
