"""Model-guided lockstep: a transition tour of the reachable graph through the implementation.

`tour(config)` walks the model's reachable states (exact states, no symmetry reduction)
depth-first, forking the lockstep run (`Lockstep.fork`) at every state, and applies every
enabled action instance of every state it reaches: so every edge of the reachable graph is
run through the implementation in lockstep, with the abstraction checked after each.  At
each state it also delivers every refused network message and every misdelivery, checking
the implementation refuses them unchanged (tampered copies are left to the random
sessions, which make every field's change).  Chunking (`chunk`, `chunks`) splits the edge
checks between test cases: every chunk walks the spanning tree, and checks the edges whose
running number falls in its chunk.  Moves that run into a reported finding
(moves.known_finding) are counted, not run.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from model import state as ms
from model.config import Config

from .driver import Lockstep
from .moves import (
    Act,
    CrashAct,
    FieldTamper,
    Jump,
    Pair,
    Refuse,
    RefuseCommit,
    Restart,
    Tamper,
    known_finding,
    moves,
    perform,
)


@dataclass
class TourReport:
    states: int = 0
    edges: int = 0
    """Edges (enabled action instances, stutters included) run through the implementation."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Edges not run, by the finding they would run into."""
    refusals: int = 0
    pairs: set[Pair] = field(default_factory=set)
    seconds: float = 0.0


def tour(
    config: Config | None = None,
    *,
    chunk: int = 0,
    chunks: int = 1,
    refusals: bool = True,
    only: frozenset[str] | None = None,
) -> TourReport:
    """`only`: make just the refused deliveries of these actions (default: all)."""
    config = config or Config()
    report = TourReport()
    start = time.perf_counter()
    root = Lockstep(config)
    seen: set[ms.State] = {root.state}
    stack = [root]
    counter = 0
    while stack:
        ls = stack.pop()
        report.states += 1
        for pair, move in moves(ls, adversarial=refusals, known=True):
            if isinstance(move, Restart | CrashAct):
                # a crash is no edge of the graph: each kind is made once per chunk (the
                # random sessions of `conform` make them everywhere), on a copy, since a
                # crash after the commit takes the step
                if pair not in report.pairs and counter % chunks == chunk:
                    perform(ls.fork(), move)
                    report.refusals += 1
                    report.pairs.add(pair)
                counter += 1
                continue
            if not isinstance(move, Act | Jump):  # a jump is an edge too (its expiries)
                match move:
                    case RefuseCommit():
                        name: str | None = "commit_at_current_ds"
                    case Refuse(action):
                        name = action
                    case _:
                        name = None  # only refused deliveries and commits are restricted
                if only is not None and name not in only:
                    continue
                if not isinstance(move, Tamper | FieldTamper) and known_finding(ls, move) is None:
                    counter += 1
                    if counter % chunks == chunk:
                        perform(ls, move)
                        report.refusals += 1
                        report.pairs.add(pair)
                continue
            finding = known_finding(ls, move)
            if finding is not None:
                report.skipped[finding] += 1
                continue
            counter += 1
            mine = counter % chunks == chunk
            if not mine and move.after in seen:
                continue  # another chunk's edge, and not a tree edge: nothing to do here
            child = ls.fork()
            child.check = mine  # a tree edge of another chunk: that chunk checks it
            perform(child, move)
            child.check = True
            report.edges += mine
            if mine:
                report.pairs.add(pair)
            if child.state not in seen:
                seen.add(child.state)
                stack.append(child)
    report.seconds = time.perf_counter() - start
    return report
