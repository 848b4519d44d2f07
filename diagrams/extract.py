"""Extract graphs from the model: the explicit reachable state graph and its projections.

This module owns reading the model's state space for the figures.  `explicit_graph` runs a
breadth-first search over `model.actions.successors` (no symmetry reduction, so party ids
stay what they are: d0 is the source, d1 the target) and cross-checks its states against
`model.checker.explore`.  `role_machine` projects that graph onto one role's local state
(a client's view, the source DS's hosting status, the target DS's hosting status and nonce
pool); `state_graph` draws the whole graph with every role's local state as node label.
Nothing here knows a rule of the protocol: states, actions and properties come from the
model, and if the model stops giving what a figure needs, the functions raise DiagramError.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from model.actions import ACTIONS, ACTIONS_BY_NAME, Action, successors
from model.checker import explore
from model.config import Config, client_name, ds_name, nonce_name
from model.messages import describe
from model.properties import violated
from model.state import (
    HOST_PHASES,
    NONCE_PHASES,
    UNUSED,
    ClientView,
    State,
    describe_host,
    initial_state,
)

from .forms import DiagramError, Edge, Graph, Node

ROLE_CONFIG = Config(clients=1, ds=2, attempts=1, rogue_ds=False, rogue_client=False)
"""The smallest configuration in which every host, nonce and client phase appears (checked
by `role_machines`): one client, the source d0, the target d1, one nonce, no adversary."""

GROUP = 0
SOURCE, TARGET = 0, 1
"""d0 hosts every group at the start; d1 is the target in the figures' configurations."""

MAX_STATES = 5000
"""The figures are for reading: a configuration with more states is a mistake."""

ACTION_ORDER = {spec.name: i for i, spec in enumerate(ACTIONS)}


@dataclass(frozen=True)
class Transition:
    source: int
    action: Action
    target: int


@dataclass(frozen=True)
class ExplicitGraph:
    """Reachable states in breadth-first order (`states[0]` is the initial state) and every
    transition between two different states (stutters left out, as model.checker does)."""

    config: Config
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    parent: tuple[int, ...]
    """Index of the state each state was first reached from (-1 for the initial state)."""
    via: tuple[Action | None, ...]
    """The action that first reached each state."""

    def trace_to(self, index: int) -> list[Action]:
        """A shortest trace from the initial state to state `index`."""
        trace: list[Action] = []
        while self.parent[index] >= 0:
            action = self.via[index]
            assert action is not None
            trace.append(action)
            index = self.parent[index]
        return trace[::-1]


def explicit_graph(config: Config) -> ExplicitGraph:
    """Breadth-first search of every state `config` reaches, with every transition."""
    start = initial_state(config)
    index: dict[State, int] = {start: 0}
    states = [start]
    parent = [-1]
    via: list[Action | None] = [None]
    transitions: list[Transition] = []
    queue = deque([0])
    while queue:
        i = queue.popleft()
        for action, nxt in successors(config, states[i]):
            if nxt == states[i]:
                continue
            j = index.get(nxt)
            if j is None:
                j = len(states)
                if j >= MAX_STATES:
                    raise DiagramError(
                        f"{config.summary()}: more than {MAX_STATES} states, too many to draw"
                    )
                index[nxt] = j
                states.append(nxt)
                parent.append(i)
                via.append(action)
                queue.append(j)
            transitions.append(Transition(i, action, j))
    checked = explore(config, properties=(), symmetry=False).states
    if set(checked) != set(states):
        raise DiagramError(
            f"{config.summary()}: model.checker.explore reaches {len(checked)} states, "
            f"model.actions.successors {len(states)}: the model's API moved"
        )
    return ExplicitGraph(config, tuple(states), tuple(transitions), tuple(parent), tuple(via))


# ---------------------------------------------------------------- parties and local states


def actor(config: Config, action: Action) -> str:
    """The model's name of the party that takes `action` (c0, d1, ...)."""
    spec = ACTIONS_BY_NAME.get(action.name)
    if spec is None:
        raise DiagramError(f"action {action.name!r} is not in model.actions.ACTIONS")
    if spec.role == "client":
        return client_name(config, action.arg("client"))
    if spec.role in ("source", "target"):
        return ds_name(config, action.arg(spec.role))
    raise DiagramError(f"action {action.name!r}: unknown role {spec.role!r}")


def client_label(config: Config, view: ClientView) -> str:
    """A client's view of the group, on two or three lines."""
    where = f"at {ds_name(config, view.ds)}, epoch {view.epoch}"
    if not view.in_progress:
        return f"{where}\nno migration pending"
    target = ds_name(config, view.target)
    if view.requested:
        return f"{where}\nasked {target}, no response yet"
    return f"{where}\nmigrating to {target}\nnonce {nonce_name(config, view.nonce)}"


def nonce_pool_label(config: Config, state: State, ds: int) -> str:
    return ", ".join(
        f"{nonce_name(config, (ds, k))} {NONCE_PHASES[record.phase]}"
        for k, record in enumerate(state.nonces[ds])
    )


def target_label(config: Config, state: State, ds: int) -> str:
    return f"{describe_host(config, state.hosts[ds][GROUP])}\n{nonce_pool_label(config, state, ds)}"


@dataclass(frozen=True)
class Role:
    """One role of the protocol, played by one party of the figures' configuration."""

    name: str
    """File stem: "role-client", "role-source-ds", "role-target-ds"."""
    title: str
    acts_as: str
    """The ActionSpec.role of the actions this role takes."""
    party: Callable[[Config], str]
    local: Callable[[Config, State], str]
    """The role's local state, as the label of its node."""


ROLES: tuple[Role, ...] = (
    Role(
        "role-client",
        "Client (initiator c0): its view of the group",
        "client",
        lambda config: client_name(config, 0),
        lambda config, state: client_label(config, state.clients[0][GROUP]),
    ),
    Role(
        "role-source-ds",
        "Source DS (d0): its hosting status of the group",
        "source",
        lambda config: ds_name(config, SOURCE),
        lambda config, state: describe_host(config, state.hosts[SOURCE][GROUP]),
    ),
    Role(
        "role-target-ds",
        "Target DS (d1): its hosting status of the group and its nonce pool",
        "target",
        lambda config: ds_name(config, TARGET),
        lambda config, state: target_label(config, state, TARGET),
    ),
)


def slug(label: str) -> str:
    """A node id made of the label's words: stable as long as the label is."""
    return re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")


def merge_edges(ends: Iterable[tuple[str, str, str]]) -> tuple[Edge, ...]:
    """One edge per (source, target), its labels in the order of the ACTIONS table."""
    merged: dict[tuple[str, str], set[str]] = {}
    for source, target, label in ends:
        merged.setdefault((source, target), set()).add(label)
    return tuple(
        Edge(source=s, target=t, labels=tuple(sorted(labels, key=_action_key)))
        for (s, t), labels in sorted(merged.items())
    )


def _action_key(name: str) -> tuple[int, str]:
    return ACTION_ORDER.get(name, len(ACTION_ORDER)), name


def role_machine(graph: ExplicitGraph, role: Role) -> Graph:
    """`graph` projected onto `role`'s local state.  An edge is a transition that changes
    the local state, or one the role takes itself without changing it (a self-loop: it sent
    something or answered)."""
    config = graph.config
    labels = [role.local(config, s) for s in graph.states]
    ids: dict[str, str] = {}
    for label in labels:
        node_id = slug(label)
        if ids.setdefault(node_id, label) != label:
            raise DiagramError(f"{role.name}: labels {label!r} and {ids[node_id]!r} share id")
    party = role.party(config)
    ends = []
    for t in graph.transitions:
        before, after = labels[t.source], labels[t.target]
        own = ACTIONS_BY_NAME[t.action.name].role == role.acts_as and (
            actor(config, t.action) == party
        )
        if before != after or own:
            ends.append((slug(before), slug(after), t.action.name))
    initial = slug(labels[0])
    nodes = tuple(
        Node(id=node_id, label=label, initial=node_id == initial)
        for node_id, label in sorted(ids.items())
    )
    title = (
        f"{role.title}\nprojected from {len(graph.states)} reachable states "
        f"({config.summary()})"
    )
    return Graph(name=role.name, title=title, nodes=nodes, edges=merge_edges(ends))


def require_coverage(graph: ExplicitGraph) -> None:
    """Raise unless the role machines of `graph` show every host phase (at the source or the
    target), every nonce phase (at the target) and every client phase (idle, asked and
    migrating at the source, idle at the target)."""
    hosts: set[int] = set()
    nonces: set[int] = set()
    clients: set[tuple[int, bool, bool]] = set()
    for s in graph.states:
        hosts.update({s.hosts[SOURCE][GROUP].phase, s.hosts[TARGET][GROUP].phase})
        nonces.update(r.phase for r in s.nonces[TARGET])
        view = s.clients[0][GROUP]
        clients.add((view.ds, view.requested, view.pending))
    missing = [HOST_PHASES[p] for p in range(len(HOST_PHASES)) if p not in hosts]
    missing += [f"nonce {NONCE_PHASES[p]}" for p in range(len(NONCE_PHASES)) if p not in nonces]
    wanted = {(SOURCE, False, False): "client idle", (SOURCE, True, False): "client asked",
              (SOURCE, False, True): "client migrating", (TARGET, False, False): "client moved"}
    missing += [name for key, name in wanted.items() if key not in clients]
    if missing:
        raise DiagramError(
            f"{graph.config.summary()} no longer shows {', '.join(missing)}: "
            "give diagrams.extract.ROLE_CONFIG larger bounds"
        )


def role_machines(config: Config = ROLE_CONFIG) -> tuple[Graph, ...]:
    graph = explicit_graph(config)
    require_coverage(graph)
    return tuple(role_machine(graph, role) for role in ROLES)


# ---------------------------------------------------------------- the whole state graph


def short_kind(config: Config, message: object) -> str:
    """A message kind as model.messages.describe names it (Request, Response, ...)."""
    return re.split(r"[\[(]", describe(config, message), maxsplit=1)[0]


def state_label(config: Config, state: State) -> str:
    """Every role's local state, one line per party, then the kinds of message sent."""
    lines = []
    for c in range(config.clients):
        view = client_label(config, state.clients[c][GROUP]).replace("\n", ", ")
        lines.append(f"{client_name(config, c)}: {view}")
    for d in range(config.honest_ds):
        host = describe_host(config, state.hosts[d][GROUP])
        if any(r.phase != UNUSED for r in state.nonces[d]):
            host += f", {nonce_pool_label(config, state, d)}"
        lines.append(f"{ds_name(config, d)}: {host}")
    sent = [short_kind(config, min(slot)) for slot in state.network if slot]
    lines.append("sent: " + (" ".join(sent) if sent else "nothing"))
    return "\n".join(lines)


def state_graph(graph: ExplicitGraph, *, name: str, design: str) -> Graph:
    """Every reachable state, labelled with the local states, violations marked."""
    config = graph.config
    width = len(str(len(graph.states) - 1))
    ids = [f"s{i:0{width}d}" for i in range(len(graph.states))]
    nodes = tuple(
        Node(
            id=ids[i],
            label=state_label(config, s),
            initial=i == 0,
            violated=tuple(violated(config, s)),
        )
        for i, s in enumerate(graph.states)
    )
    ends = [(ids[t.source], ids[t.target], t.action.name) for t in graph.transitions]
    bad = sum(1 for n in nodes if n.violated)
    title = (
        f"Reachable states of the {design} design, smallest configuration "
        f"({config.summary()}): {len(nodes)} states"
        + (f", {bad} violating a property (double outline)" if bad
           else ", none violating a property")
    )
    return Graph(name=name, title=title, nodes=nodes, edges=merge_edges(ends))
