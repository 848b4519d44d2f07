"""Directed lockstep sequences and source-level bug injection."""

from __future__ import annotations

import inspect
import textwrap
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


def mutate(func: Any, old: str, new: str) -> Any:
    """`func` recompiled with the source text `old` replaced by `new` (a deliberate bug)."""
    source = textwrap.dedent(inspect.getsource(func))
    assert old in source, (func.__qualname__, old)
    namespace: dict[str, Any] = {}
    exec(compile(source.replace(old, new), inspect.getsourcefile(func) or "<bug>", "exec"),
         func.__globals__, namespace)
    return namespace[func.__name__]
