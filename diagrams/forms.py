"""The intermediate form of every figure: plain frozen dataclasses, no model, no layout.

This module owns the shapes the extractors (diagrams/extract.py, diagrams/charts.py) build
from the model and the renderers (diagrams/render_dot.py, diagrams/render_ascii.py) read: a
role state machine and the reachable state graph (`Graph`: nodes and merged edges), and a
message sequence chart (`SequenceChart`: participants and steps).  Everything is sorted and
carries stable ids, so rendering is a pure function of the form and the tests can compare
rendered output against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class DiagramError(Exception):
    """The model no longer gives what a figure needs (an API moved, a trace vanished, a
    configuration stopped covering a role's states), or a figure could not be written."""


@dataclass(frozen=True, kw_only=True)
class Node:
    """A state of a role machine or of the state graph."""

    id: str
    label: str
    initial: bool = False
    violated: tuple[str, ...] = ()
    """Property ids the state violates (state graphs of a variant only)."""

    def __post_init__(self) -> None:
        if not self.id or not self.id.replace("_", "").isalnum():
            raise ValueError(f"node id {self.id!r} is not a plain identifier")


@dataclass(frozen=True, kw_only=True)
class Edge:
    """Every transition between the same two nodes, merged: `labels` are the action names,
    in the order of the model's ACTIONS table."""

    source: str
    target: str
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.labels:
            raise ValueError(f"edge {self.source}->{self.target} has no label")


@dataclass(frozen=True, kw_only=True)
class Graph:
    """A role state machine or a state graph: nodes sorted by id, edges by (source, target),
    at most one edge per ordered pair of nodes."""

    name: str
    """File stem of the figure, e.g. "role-client"."""
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def __post_init__(self) -> None:
        ids = [n.id for n in self.nodes]
        if ids != sorted(set(ids)):
            raise ValueError(f"{self.name}: node ids not sorted and unique")
        ends = [(e.source, e.target) for e in self.edges]
        if ends != sorted(set(ends)):
            raise ValueError(f"{self.name}: edges not sorted, or two edges with the same ends")
        known = set(ids)
        for e in self.edges:
            if e.source not in known or e.target not in known:
                raise ValueError(f"{self.name}: edge {e.source}->{e.target} to an unknown node")

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


@dataclass(frozen=True, kw_only=True)
class Participant:
    """A lifeline: `id` is the model's name of the party (c0, d1, R, X)."""

    id: str
    label: str
    rogue: bool = False
    """The rogue DS R or the rogue client X: its arrows are the adversary's messages."""


MESSAGE, LOCAL = "message", "local"


@dataclass(frozen=True, kw_only=True)
class Step:
    """One row of a sequence chart.  A message goes from `sender` to `receiver`; a local step
    (`sender == receiver`) is a party changing state without sending anything.  `trace_index`
    is the 1-based model trace step the row comes from; `highlight` marks the violating step
    of a counterexample; `note` says how the message travelled when it is not a plain send:
    "again" for a repeated delivery, "meant for c0" for a message that reaches a party it was not
    addressed to (the adversary's own messages come from a rogue participant instead)."""

    sender: str
    receiver: str
    label: str
    kind: str = MESSAGE
    trace_index: int
    highlight: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (MESSAGE, LOCAL):
            raise ValueError(f"unknown step kind {self.kind!r}")
        if (self.kind == LOCAL) != (self.sender == self.receiver):
            raise ValueError("a local step has sender == receiver, a message does not")


@dataclass(frozen=True, kw_only=True)
class SequenceChart:
    """A trace as a message sequence chart; `legend` lists the model trace, one line per
    step, so a reader can replay it (empty for the happy path, which is the draft's
    figure)."""

    name: str
    title: str
    participants: tuple[Participant, ...]
    steps: tuple[Step, ...]
    legend: tuple[str, ...] = field(default=())
    numbered: bool = False
    """Whether labels carry the trace step number (counterexamples)."""

    def __post_init__(self) -> None:
        ids = [p.id for p in self.participants]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.name}: duplicate participant")
        for s in self.steps:
            if s.sender not in ids or s.receiver not in ids:
                raise ValueError(f"{self.name}: step {s.label!r} names an unknown participant")

    def column(self, participant: str) -> int:
        return [p.id for p in self.participants].index(participant)

    def note_side(self, step: Step) -> int:
        """Where a local step's note goes: +1 right of the lifeline, -1 left of it (the last
        lifeline, so a note never widens the chart beyond its headers)."""
        column = self.column(step.sender)
        return -1 if column == len(self.participants) - 1 and column > 0 else 1

    def text(self, step: Step) -> str:
        """The label a renderer shows for `step`."""
        text = step.label if not step.note else f"{step.label} ({step.note})"
        return f"{step.trace_index}: {text}" if self.numbered else text
