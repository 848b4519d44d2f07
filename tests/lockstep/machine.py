"""The Hypothesis RuleBasedStateMachine driving implementation and model in lockstep.

One rule per model action (its enabled instances, model-guided preconditions), plus rules for
refused deliveries, misdeliveries, tampered copies (a flipped byte, or one field changed),
rogue forgeries, refused commits, restarts
of an honest party and crashes inside a delivery (every kind of move in impl/lockstep/moves.py
belongs to one rule: `group_of` is exhaustive).
Swarm testing: an initialize rule disables a random subset of the rules for the example.
Steering, kept a function of the drawn data alone (Hypothesis replays and shrinks examples):
each rule sorts its protocol steps by the model state they lead to, those not yet visited in
this example first, then the deepest (the breadth-first depth of the reachable graph,
impl/lockstep/steering.py), and draws an index that shrinks towards 0; and
`hypothesis.target` rewards examples that visit many distinct model states.
A tamper move's byte offset is drawn from the data like every other choice.
Invariant: abstract(world) == model state, every model property, and the implementation's
own safety check (Lockstep.verify).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any, assert_never

from hypothesis import note, target
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from impl.lockstep.driver import Lockstep
from impl.lockstep.moves import (
    WIRE_KIND,
    Act,
    CrashAct,
    FieldTamper,
    Jump,
    Misdeliver,
    Misuse,
    Move,
    Pair,
    Refuse,
    RefuseCommit,
    Restart,
    Tamper,
    moves,
    perform,
)
from impl.lockstep.steering import graph
from impl.lockstep.tampering import FIELDS
from model.actions import ACTIONS
from model.config import Config
from model.state import State

TAMPERED: dict[tuple[str, int], set[int]] = {}
"""(message kind, payload size) -> the byte offsets tamper moves flipped (tests read it)."""
ACTION_NAMES = frozenset(spec.name for spec in ACTIONS)
GROUPS: tuple[str, ...] = (
    *(spec.name for spec in ACTIONS),
    "refuse",
    "misdeliver",
    "tamper",
    "tamper_field",
    "misuse",
    "jump",
    "forge",
    "commit",
    "restart",
    "crash",
)


def group_of(pair: Pair, move: Move) -> str:
    match move:
        case Act(action):
            return action.name
        case _ if pair[0] == "forge":
            return "forge"
        case RefuseCommit():
            return "commit"
        case Refuse():
            return "refuse"
        case Misdeliver():
            return "misdeliver"
        case Tamper():
            return "tamper"
        case FieldTamper():
            return "tamper_field"
        case Misuse():
            return "misuse"
        case Jump():
            return "jump"
        case Restart():
            return "restart"
        case CrashAct():
            return "crash"
        case _:
            assert_never(move)


class LockstepMachine(RuleBasedStateMachine):
    config = Config()

    def __init__(self) -> None:
        super().__init__()
        self.ls = Lockstep(self.config)
        self.graph = graph(self.config)
        self.visits: Counter[State] = Counter({self.ls.state: 1})
        self.disabled: frozenset[str] = frozenset()
        self._cache: tuple[int, dict[str, list[tuple[Pair, Move]]]] | None = None

    def options(self) -> dict[str, list[tuple[Pair, Move]]]:
        key = self.ls.steps
        if self._cache is None or self._cache[0] != key:
            grouped: dict[str, list[tuple[Pair, Move]]] = {}
            for pair, move in moves(self.ls):
                grouped.setdefault(group_of(pair, move), []).append((pair, move))
            self._cache = (key, grouped)
        return self._cache[1]

    def enabled(self, group: str) -> bool:
        """The group has a move, and the swarm has not switched it off; where the swarm has
        switched off every group that has a move, they are all back on (Hypothesis refuses
        a state in which no rule applies)."""
        options = self.options()
        if not options.get(group):
            return False
        if group not in self.disabled:
            return True
        return all(g in self.disabled for g, found in options.items() if found)

    def run(self, group: str, data: Any) -> None:
        opts = self.options()[group]
        if group in ACTION_NAMES:
            opts = sorted(opts, key=self._steering_key)
        index = data.draw(st.integers(0, len(opts) - 1), label=group)
        _, move = opts[index]
        if isinstance(move, Tamper) and move.offset < 0:
            # the byte to flip is drawn too (so it shrinks and replays with the example)
            size = len(self.ls.envelope(move.message, move.party).payload)
            offset = data.draw(st.integers(0, max(0, size - 1)), label="tamper offset")
            move = dataclasses.replace(move, offset=offset)
            TAMPERED.setdefault((move.kind, size), set()).add(offset)
        if isinstance(move, Jump) and move.late < 0:  # how far past the deadlines: drawn
            move = dataclasses.replace(move, late=data.draw(st.integers(0, 1 << 30), label="late"))
        if isinstance(move, FieldTamper):  # the field, and whether R or X re-signs, drawn
            path = data.draw(st.sampled_from(FIELDS[WIRE_KIND[move.kind]]), label="field")
            move = dataclasses.replace(move, field=path, resign=data.draw(st.booleans()))
        note(f"{group}: {move!r}")  # a shrunk failure then reads as the program of its moves
        perform(self.ls, move)
        self.visits[self.ls.state] += 1

    def _steering_key(self, option: tuple[Pair, Move]) -> tuple[int, int]:
        move = option[1]
        assert isinstance(move, Act)  # only protocol steps are steered
        after = move.after
        return self.visits[after], -self.graph.depth[self.graph.index[after]]

    @initialize(data=st.data())
    def swarm(self, data: Any) -> None:
        self.disabled = data.draw(
            st.frozensets(st.sampled_from(GROUPS), max_size=len(GROUPS) // 3), label="swarm"
        )

    def teardown(self) -> None:
        target(float(len(self.visits)), label="distinct model states")

    @invariant()
    def agrees(self) -> None:
        self.ls.verify("invariant")


def _make_rule(group: str) -> Any:
    @precondition(lambda self: self.enabled(group))
    @rule(data=st.data())
    def step(self: LockstepMachine, data: Any) -> None:
        self.run(group, data)

    step.__name__ = group
    return step


for _group in GROUPS:
    setattr(LockstepMachine, _group, _make_rule(_group))
