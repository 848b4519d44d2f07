"""Trace steps as people read them, and where each step's rule is defined.

This module owns the readable line of a model action (`describe_action`: the action's name,
then its parties and messages, forged ones marked), the numbered trace listing `check` and
`prove` print (`format_trace`), and the source location of an action's rule: the line of its
guard function in model/rules.py (`rule_location`), which the SARIF code flows point at.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import model
from model.actions import ACTIONS_BY_NAME, Action
from model.config import Config, client_name, ds_name
from model.messages import describe
from model.rules import RULES_BY_NAME

#: The folder holding the packages model/, proofs/, ...: source paths are given relative to it.
SOURCE_ROOT = Path(model.__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Location:
    """A line of the toolkit's source: `path` relative to SOURCE_ROOT, with "/"."""

    path: str
    line: int


def location_of(obj: Callable[..., Any]) -> Location:
    """Where a function is defined (its `def` line)."""
    source = inspect.getsourcefile(obj)
    if source is None:  # pragma: no cover - every function here is from a .py file
        raise ValueError(f"no source file for {obj!r}")
    path = Path(source).resolve()
    try:
        rel = path.relative_to(SOURCE_ROOT).as_posix()
    except ValueError:
        rel = path.as_posix()
    return Location(rel, inspect.getsourcelines(obj)[1])


def rule_location(name: str) -> Location:
    """The line of rule `name`'s guard function in model/rules.py."""
    return location_of(RULES_BY_NAME[name].guard)


_DS_PARAMS = frozenset({"source", "target"})


def describe_action(config: Config, action: Action) -> str:
    """One readable line for a trace step."""
    parts = []
    for name, value in action.args:
        if name == "client":
            parts.append(client_name(config, value))
        elif name in _DS_PARAMS:
            parts.append(ds_name(config, value))
        elif name == "group":
            parts.append(f"g{value}")
        elif isinstance(value, int):
            parts.append(f"{name}={value}")
        else:
            text = describe(config, value)
            signer = getattr(value, "signer", None)
            spec = ACTIONS_BY_NAME.get(action.name)
            if signer in (config.rogue_ds_id, config.rogue_client_id) and spec and spec.forged:
                text += "  <forged>"
            parts.append(text)
    return f"{action.name} " + " ".join(parts)


def format_trace(config: Config, trace: Sequence[Action]) -> list[str]:
    return [f"  {i:2}. {describe_action(config, a)}" for i, a in enumerate(trace, 1)]
