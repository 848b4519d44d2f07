"""Shortest witnesses of a step, not of a state: what a finding that breaks no safety
property looks like in the model.

This module owns two breadth-first searches over the concrete reading of the rules
(model/actions.successors, no symmetry reduction, so every trace is the model's own):

- `step_witness(config, taken)`: a shortest trace whose last step satisfies
  `taken(before, action, after)` (finding F6: a client ends its pending migration on a
  MigrationAborted for another nonce), or None when no reachable step does: with the
  search exhausted, that is a proof for the configuration;
- `continuation(config, prefix, goal)`: the longest prefix of a trace this design accepts,
  followed by a shortest run from there to a state satisfying `goal` (how the fixed design
  carries on where the unfixed one went wrong).

The findings report (docs/findings.md) and its figures read them; nothing else does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .actions import Action, ActionNotEnabled, replay, successors
from .config import Config
from .messages import MigrationAborted
from .state import State, initial_state

Taken = Callable[[State, Action, State], bool]
Goal = Callable[[State], bool]

MAX_STATES = 500_000
"""A witness search is for small configurations: past this many states it gives up."""


@dataclass(frozen=True)
class Search:
    """What a search found: the trace (None: none exists) and how many states it saw."""

    trace: tuple[Action, ...] | None
    states: int


def _bfs(config: Config, start: State, done: Callable[[State, Action, State], bool]) -> Search:
    seen: dict[State, tuple[State | None, Action | None]] = {start: (None, None)}
    queue = deque([start])

    def back(state: State) -> list[Action]:
        out: list[Action] = []
        while True:
            before, action = seen[state]
            if before is None or action is None:
                return out[::-1]
            out.append(action)
            state = before

    while queue:
        state = queue.popleft()
        for action, nxt in successors(config, state):
            if done(state, action, nxt):
                return Search((*back(state), action), len(seen))
            if nxt not in seen:
                if len(seen) >= MAX_STATES:
                    raise RuntimeError(f"{config.summary()}: more than {MAX_STATES} states")
                seen[nxt] = (state, action)
                queue.append(nxt)
    return Search(None, len(seen))


def step_witness(config: Config, taken: Taken) -> Search:
    """A shortest trace of `config` whose last step satisfies `taken`, or None (exhausted)."""
    return _bfs(config, initial_state(config), taken)


def continuation(config: Config, prefix: Sequence[Action], goal: Goal) -> tuple[Action, ...]:
    """The longest prefix of `prefix` that `config`'s design accepts, then a shortest run to
    a state satisfying `goal`."""
    kept: list[Action] = []
    for action in prefix:
        try:
            replay(config, [*kept, action])
        except ActionNotEnabled:
            break
        kept.append(action)
    start = replay(config, kept)[-1]
    if goal(start):
        return tuple(kept)
    found = _bfs(config, start, lambda _b, _a, after: goal(after))
    if found.trace is None:
        raise ValueError(f"{config.summary()}: no run from the prefix reaches the goal")
    return (*kept, *found.trace)


def abort_of_another_attempt(before: State, action: Action, after: State) -> bool:
    """Finding F6: a client ends its pending migration on a MigrationAborted that names
    another nonce (a forwarded rejection of another attempt)."""
    if action.name != "client_abort":
        return False
    client, group = action.arg("client"), action.arg("group")
    m = action.arg("aborted")
    assert isinstance(m, MigrationAborted)
    view = before.clients[client][group]
    return bool(view.pending and m.nonce != view.nonce)


def response_of_another_client(before: State, action: Action, after: State) -> bool:
    """Finding F4: a client acts on a MigrationResponse to another party's request."""
    if action.name != "client_init":
        return False
    return bool(action.arg("response").request.client != action.arg("client"))
