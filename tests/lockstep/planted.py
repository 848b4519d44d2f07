"""Planted implementation bugs for the lockstep, each a replacement of one role method.

A bug is a `Bug`: its name, the role class and method it replaces, and a `make(original)`
that returns the buggy method (most wrap the original and undo or skip one thing it does,
so an unrelated edit of the role's source does not break them; none patches source text).
`plant(bug, monkeypatch)` installs it for one test (the class attribute and the role's
handler table, which holds the functions themselves).  tests/test_lockstep_bugs.py runs the
lockstep against each and prints the planted-bug table (`bench/planted.py` prints it too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from impl.ds import DeliveryService
from impl.envelope import Kind

Method = Callable[..., Any]


@dataclass(frozen=True)
class Bug:
    name: str
    cls: type[Any]
    method: str
    make: Callable[[Method], Method]
    hole: str
    """The class of bug (issue #19's holes) it stands for."""
    only: frozenset[str] | None = None
    """If the random sessions may miss it: the actions whose refused deliveries the
    transition tour makes to find it."""


def plant(bug: Bug, monkeypatch: pytest.MonkeyPatch) -> None:
    original = getattr(bug.cls, bug.method)
    broken = bug.make(original)
    monkeypatch.setattr(bug.cls, bug.method, broken)
    handlers = bug.cls._HANDLERS
    for kind, handler in list(handlers.items()):
        if handler is original:
            monkeypatch.setitem(handlers, kind, broken)


# -- a member left out of the fan-out -------------------------------------------------------


def _fanout_leaves_last_member_out(original: Method) -> Method:
    def _on_complete(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        out: list[Any] = original(self, envelope, now)
        fanouts = [e for e in out if e.kind == Kind.Fanout]
        return [e for e in out if not fanouts or e is not fanouts[-1]]

    return _on_complete


BUGS: list[Bug] = [
    Bug("migration_fanout_leaves_member_out", DeliveryService, "_on_complete",
        _fanout_leaves_last_member_out, "a member left out of the fan-out"),
]

__all__ = ["BUGS", "Bug", "plant"]
