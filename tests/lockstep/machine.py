"""The Hypothesis RuleBasedStateMachine driving implementation and model in lockstep.

One rule per model action (its enabled instances, model-guided preconditions), plus rules for
refused deliveries, misdeliveries, tampered copies, rogue forgeries and refused commits.
Swarm testing: an initialize rule disables a random subset of the rules for the example.
Steering: each rule sorts its options least-covered first (impl.lockstep.moves.COUNTS) and
draws an index that shrinks towards 0.  Invariant: abstract(world) == model state, every
model property, and the implementation's own safety check (Lockstep.verify).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from impl.lockstep.driver import Lockstep
from impl.lockstep.moves import COUNTS, Move, Pair, moves, perform
from model.actions import ACTIONS
from model.config import Config

GROUPS: tuple[str, ...] = (
    *(spec.name for spec in ACTIONS),
    "refuse",
    "misdeliver",
    "tamper",
    "forge",
    "commit",
)


def group_of(pair: Pair, move: Move) -> str:
    if move[0] == "act":
        return str(move[1].name)
    if pair[0] == "forge":
        return "forge"
    return str(move[0])


class LockstepMachine(RuleBasedStateMachine):
    config = Config()

    def __init__(self) -> None:
        super().__init__()
        self.ls = Lockstep(self.config)
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
        return group not in self.disabled and bool(self.options().get(group))

    def run(self, group: str, data: Any) -> None:
        opts = sorted(self.options()[group], key=lambda o: COUNTS[o[0]])
        index = data.draw(st.integers(0, len(opts) - 1), label=group)
        pair, move = opts[index]
        perform(self.ls, move)
        COUNTS[pair] += 1

    @initialize(data=st.data())
    def swarm(self, data: Any) -> None:
        self.disabled = data.draw(
            st.frozensets(st.sampled_from(GROUPS), max_size=len(GROUPS) // 3), label="swarm"
        )

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
