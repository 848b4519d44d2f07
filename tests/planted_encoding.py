"""Test helper: plant a bug in one action's Z3 encoding (proofs/transitions.BUILDERS), for
the negative controls of the agreement test and of bounded model checking."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from model import state as ms
from proofs import transitions
from proofs.context import Ctx, Step
from proofs.encoding import make


def plant(monkeypatch: pytest.MonkeyPatch, action: str,
          change: Callable[[Ctx, Step], None]) -> None:
    """From now on (undone with `monkeypatch`), `action`'s step is built, then changed."""
    original = transitions.BUILDERS[action]

    def builder(cx: Ctx) -> Step:
        step = original(cx)
        change(cx, step)
        return step

    monkeypatch.setitem(transitions.BUILDERS, action, builder)


def drop_guard(monkeypatch: pytest.MonkeyPatch, action: str, label: str) -> None:
    """The encoding forgets the guard conjunct labelled `label`."""

    def change(cx: Ctx, step: Step) -> None:
        step.guard[:] = [(lab, g) for lab, g in step.guard if lab != label]

    plant(monkeypatch, action, change)


def add_guard(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    """The encoding also demands client != 0, which the model does not."""

    def change(cx: Ctx, step: Step) -> None:
        step.guard.append(("planted", cx.int("client") != 0))

    plant(monkeypatch, action, change)


def wrong_effect(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    """The encoding also records a commit the model never makes."""

    def change(cx: Ctx, step: Step) -> None:
        step.next = step.next.with_sent("ghost_history", make(ms.Commit, 0, 7, 0, 0, -1))

    plant(monkeypatch, action, change)
