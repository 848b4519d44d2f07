"""Test helper: plant a bug in the symbolic reading of one action (proofs/reading.BUILD),
for the negative controls of the agreement test and of bounded model checking."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from model import state as ms
from model.rules import Rule
from proofs import reading
from proofs.context import Pool, Step
from proofs.encoding import Universe, make
from proofs.symstate import SymState


def plant(monkeypatch: pytest.MonkeyPatch, action: str,
          change: Callable[[Pool, Step], None]) -> None:
    """From now on (undone with `monkeypatch`), `action`'s step is built, then changed."""
    original = reading.BUILD["step"]

    def builder(rule: Rule, universe: Universe, dropped: frozenset[str], state: SymState,
                pool: Pool) -> Step:
        step = original(rule, universe, dropped, state, pool)
        if rule.name == action:
            change(pool, step)
        return step

    monkeypatch.setitem(reading.BUILD, "step", builder)


def drop_guard(monkeypatch: pytest.MonkeyPatch, action: str, label: str) -> None:
    """The encoding forgets the guard conjunct labelled `label`."""

    def change(pool: Pool, step: Step) -> None:
        assert any(lab == label for lab, _ in step.guard), (action, label)
        step.guard[:] = [(lab, g) for lab, g in step.guard if lab != label]

    plant(monkeypatch, action, change)


def add_guard(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    """The encoding also demands client != 0, which the model does not."""

    def change(pool: Pool, step: Step) -> None:
        step.guard.append(("planted", pool.int("client") != 0))

    plant(monkeypatch, action, change)


def wrong_effect(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    """The encoding also records a commit the model never makes."""

    def change(pool: Pool, step: Step) -> None:
        step.next = step.next.with_sent("ghost_history", make(ms.Commit, 0, 7, 0, 0, -1))

    plant(monkeypatch, action, change)
