"""Steering a lockstep session towards the model states it has reached least.

This module owns the choice of protocol steps in random sessions (impl/lockstep/moves.py).
A `Steering` knows the configuration's whole reachable graph (model.checker.explore, exact
states, no symmetry reduction) and how often the session has been in each state.  It keeps a
goal: one of the least visited states still reachable from where the run is; each protocol
step is steered to a successor that is closest to that goal (breadth-first distance on the
reverse graph).  On reaching the goal, or when the run has moved past it (a commit makes
every earlier epoch unreachable), it picks the next goal.  So deep states (locked,
acknowledged, retried, redirected, moved back) come up about as often as shallow ones, and
the visits spread over the reachable graph instead of piling up near the initial state.

A configuration whose reachable graph has more than `GUIDED_STATES` states (more DSs,
groups or epochs than the default) is not enumerated: its sessions have no goal, steer to a
step into a state they have not been in where there is one (ties at random), and count the
distinct states they visit, with no total.
"""

from __future__ import annotations

import random
from array import array
from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Any

from model import state as ms
from model.checker import explore
from model.config import Config

UNREACHABLE = 1 << 30
GUIDED_STATES = 20_000
"""The largest reachable graph a session enumerates to steer by (the default
configuration's has 2,902 states; one more DS, group or epoch has hundreds of thousands)."""


@dataclass(frozen=True)
class Graph:
    """The exact reachable graph of one configuration."""

    index: dict[ms.State, int]
    succ: list[list[int]]
    pred: list[list[int]]
    depth: array[int]
    """Breadth-first depth of each state: the fewest steps that reach it."""


@cache
def graph(config: Config) -> Graph:
    ex = explore(config, symmetry=False, keep_edges=True)
    assert ex.edges is not None and ex.complete
    return _graph(ex)


@cache
def small_graph(config: Config) -> Graph | None:
    """`graph(config)` if it has at most GUIDED_STATES states, else None."""
    ex = explore(config, symmetry=False, keep_edges=True, max_states=GUIDED_STATES)
    if not ex.complete:
        return None
    return _graph(ex)


def _graph(ex: Any) -> Graph:
    assert ex.edges is not None
    n = len(ex.states)
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    src, dst, _ = ex.edges
    for a, b in zip(src, dst, strict=True):
        if a != b:
            succ[a].append(b)
            pred[b].append(a)
    return Graph(ex.index, succ, pred, ex.depth)


def _bfs(start: int, adjacency: list[list[int]], size: int) -> array[int]:
    dist = array("i", [UNREACHABLE]) * size
    dist[start] = 0
    queue = deque([start])
    while queue:
        i = queue.popleft()
        for j in adjacency[i]:
            if dist[j] == UNREACHABLE:
                dist[j] = dist[i] + 1
                queue.append(j)
    return dist


class Steering:
    """Visit counts per reachable state and the current goal of one session (`guided`
    False: the graph is too large to enumerate, `small_graph`; no goal, a step into a
    state not visited yet at distance 0 and any other at 1, and the set of states
    visited)."""

    def __init__(self, config: Config) -> None:
        g = small_graph(config)
        self.guided = g is not None
        if g is None:
            g = Graph({}, [], [], array("i"))
        self.index, self.succ, self.pred = g.index, g.succ, g.pred
        self.visits = array("i", [0]) * len(self.succ)
        self.seen: set[ms.State] = set()
        """The states an unguided session visited."""
        self.goal: int | None = None
        self.to_goal = array("i")

    @property
    def states(self) -> int:
        """The reachable states (0: not enumerated)."""
        return len(self.succ)

    def visited(self) -> int:
        """How many reachable states the session has been in."""
        if not self.guided:
            return len(self.seen)
        return sum(1 for v in self.visits if v)

    def visit(self, state: ms.State) -> None:
        if not self.guided:
            self.seen.add(state)
            return
        i = self.index[state]
        self.visits[i] += 1
        if i == self.goal:
            self.goal = None

    def distance(self, state: ms.State, rng: random.Random, here: ms.State) -> int:
        """Steps from `state` to the goal (a new goal is chosen from `here` if needed)."""
        if not self.guided:  # no graph to steer by: towards states not visited yet
            return 1 if state in self.seen else 0
        if self.goal is None or self.to_goal[self.index[here]] == UNREACHABLE:
            self._new_goal(self.index[here], rng)
        return self.to_goal[self.index[state]]

    def _new_goal(self, here: int, rng: random.Random) -> None:
        ahead = _bfs(here, self.succ, self.states)
        reachable = [i for i in range(self.states) if ahead[i] != UNREACHABLE and i != here]
        if not reachable:  # a dead end: every later step is a stutter
            reachable = [here]
        least = min(self.visits[i] for i in reachable)
        self.goal = rng.choice([i for i in reachable if self.visits[i] == least])
        self.to_goal = _bfs(self.goal, self.pred, self.states)
