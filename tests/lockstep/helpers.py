"""Directed lockstep sequences."""

from __future__ import annotations

from typing import Any

from impl.lockstep.driver import Lockstep
from model.actions import Action, successors


def act(ls: Lockstep, name: str, **match: Any) -> Action:
    """The enabled model action `name` whose arguments include `match`; applied to both."""
    for action, _ in successors(ls.config, ls.state):
        if action.name == name and all(action.arg(k) == v for k, v in match.items()):
            ls.apply(action)
            return action
    raise AssertionError(f"{name}{match} not enabled")
