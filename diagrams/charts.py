"""Extract sequence charts from model traces: the happy path and one counterexample per variant.

This module owns finding the traces (the happy path by breadth-first search in the reference
design, each variant's shortest counterexample from `model.checker.check`) and turning a
trace into a `SequenceChart`.  A trace is replayed through `model.actions.replay`; each
message an action adds to the network becomes an arrow from its sender to the parties it is
addressed to, which the message itself names (the draft's routing: a request goes to its
target, a response to its client, ...); the messages of one step come in the order the
draft sends them (DRAFT_ORDER: the Commit fan-out before the MigrationConfirmation).  A
message an honest party receives that nobody sent is forged: an arrow from the rogue whose
key signed it.  A message received twice, or by a party it was not addressed to, gets a
second arrow.  A step that sends nothing shows as a note on the actor's lifeline with its
new local state.

A little over 500 lines on purpose: each of its three kinds of chart (the happy path, the
counterexamples, the findings) is a short search plus the one way a trace becomes a chart
(`chart_from_trace` and its helpers, most of the file); split, each would import it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from model import routing, witness
from model.actions import ACTIONS_BY_NAME, Action, ActionNotEnabled, replay
from model.checker import VIOLATED, check
from model.config import (
    NONE,
    VARIANTS,
    Config,
    DesignOptions,
    Variant,
    client_name,
    ds_name,
    variant,
)
from model.messages import (
    MESSAGE_TYPES,
    CommitFanout,
    MigrationAborted,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    TargetMigrationComplete,
    TargetMigrationRejected,
    describe,
)
from model.properties import LIVENESS_ID, PROPERTIES
from model.state import ACTIVE, LOCKED, MOVED, State, describe_host, sent

from .extract import GROUP, SOURCE, actor, explicit_graph, nonce_pool_label
from .forms import LOCAL, DiagramError, Participant, SequenceChart, Step

HAPPY_CONFIG = Config(clients=2, ds=2, attempts=1, rogue_ds=False, rogue_client=False)
"""The initiator c0, one more member c1 for the fan-out, source d0, target d1, no adversary."""

COUNTEREXAMPLE_CONFIGS = (Config(clients=1, attempts=1), Config(clients=2, attempts=1))
"""Tried in order for each variant: the first that violates its property gives the chart.
Both have the rogue DS R and the rogue client X."""

LABELS: dict[type[Any], str] = {t: t.__name__ for t in MESSAGE_TYPES}
LABELS[MigrationInit] = "MigrationInit + Commit"
LABELS[CommitFanout] = "Commit fan-out"


def label(m: Any) -> str:
    """The draft's struct name of `m`; a fan-out says whether it is the migration commit."""
    if isinstance(m, CommitFanout) and m.aad_target == NONE:
        return "Commit fan-out (regular)"
    return LABELS[type(m)]


# ---------------------------------------------------------------- finding the traces


def migrated(config: Config, state: State) -> bool:
    """The group moved at the source, is hosted by the target, and every client switched."""
    source = state.hosts[SOURCE][GROUP]
    if source.phase != MOVED:
        return False
    return state.hosts[source.target][GROUP].phase == ACTIVE and all(
        view[GROUP].ds == source.target and not view[GROUP].in_progress for view in state.clients
    )


def happy_path_trace(config: Config = HAPPY_CONFIG) -> list[Action]:
    """A shortest trace of the reference design that moves the group and every client."""
    if config.options != DesignOptions() or config.rogue_ds or config.rogue_client:
        raise DiagramError("the happy path is for the reference design without an adversary")
    graph = explicit_graph(config)
    for index, state in enumerate(graph.states):
        if migrated(config, state):
            return graph.trace_to(index)
    raise DiagramError(f"{config.summary()}: no reachable state where the group has moved")


@dataclass(frozen=True)
class Counterexample:
    variant: Variant
    property: str
    config: Config
    trace: list[Action]


def counterexample(variant: Variant, drop: frozenset[str] = frozenset()) -> Counterexample:
    """The shortest trace on which `variant` (with the checks `drop` names also dropped)
    violates its expected property, in the first of COUNTEREXAMPLE_CONFIGS that has one."""
    expected = variant.expected
    properties = tuple(p for p in PROPERTIES if p.id == expected)
    liveness = expected == LIVENESS_ID
    if not properties and not liveness:
        raise DiagramError(f"{variant.name}: expected property {expected!r} is not in the model")
    for config in COUNTEREXAMPLE_CONFIGS:
        config = dataclasses.replace(config, drop=drop)
        report = check(config, design=variant, properties=properties, liveness=liveness)
        result = report.result(str(expected))
        if result.verdict == VIOLATED and result.trace is not None:
            return Counterexample(variant, str(expected), report.config, result.trace)
    tried = "; ".join(c.summary() for c in COUNTEREXAMPLE_CONFIGS)
    raise DiagramError(f"{variant.name} does not violate {expected} in {tried}")


def counterexamples() -> list[Counterexample]:
    return [counterexample(v) for v in VARIANTS]


# ---------------------------------------------------------------- who sends what to whom


def _client(config: Config, client: int) -> str:
    return client_name(config, client)


def _ds(config: Config, ds: int) -> str:
    return ds_name(config, ds)


def _party(config: Config, party: str, i: int) -> str:
    return _client(config, i) if party == "client" else _ds(config, i)


def sender(config: Config, m: Any) -> str:
    """The party whose key signed `m` (whose channel carried it, for a request), as
    model/routing.py reads it off the rules."""
    kind = type(m)
    if kind not in routing.SENDERS:
        raise DiagramError(f"unknown message kind {kind.__name__}")
    return _party(config, routing.sending_party(kind), routing.signer(m))


def _initiator(config: Config, state: State, m: MigrationConfirmation | MigrationAborted) -> (
    list[str]
):
    """The client whose migration `m` (naming only its nonce) is about."""
    net = state.network
    requests = [r.request for r in net.responses]
    requests += [i.response.request for i in net.inits]
    requests += [c.response.request for c in net.contents]
    nonces = [r.nonce for r in net.responses]
    nonces += [i.response.nonce for i in net.inits]
    nonces += [c.response.nonce for c in net.contents]
    found = {
        _client(config, r.client)
        for r, n in zip(requests, nonces, strict=True)
        if n == m.nonce and r.group == m.group
    }
    return sorted(found) or [_client(config, c) for c in range(config.clients)]


def addressees(config: Config, before: State, after: State, m: Any) -> list[str]:
    """The parties `m` is for: as its receiving rules route it (model/routing.py), narrowed,
    for the kinds every member of a group receives, to the ones it concerns."""
    if isinstance(m, MigrationConfirmation | MigrationAborted):
        return _initiator(config, after, m)
    if isinstance(m, MigrationResponse):
        # Any member may be handed it (client_init's routing); it answers its requester.
        return [_client(config, m.request.client)]
    if isinstance(m, CommitFanout):
        members = [
            c
            for c in range(config.clients)
            if before.clients[c][m.group].ds == m.ds and before.clients[c][m.group].epoch == m.epoch
        ]
        others = [c for c in members if c != m.committer]
        return [_client(config, c) for c in (others or members)]
    if type(m) not in routing.RECEIVERS:
        raise DiagramError(f"unknown message kind {type(m).__name__}")
    return [_party(config, party, i) for party, i in routing.addressed(config, m)]


def forger(config: Config, m: Any) -> str:
    """The rogue that produced a forged `m`: the one whose id the message carries."""
    rogues = [
        name
        for name in (_ds(config, config.rogue_ds_id), _client(config, config.rogue_client_id))
        if name != "-"
    ]
    named = sender(config, m)
    if named in rogues:
        return named
    if not rogues:
        raise DiagramError(f"{describe(config, m)} is forged but there is no rogue party")
    return rogues[0]


def local_change(config: Config, before: State, after: State, party: str) -> str:
    """How `party`'s local state changed, in the words of the role machines."""
    for c in range(config.clients):
        if _client(config, c) == party:
            view = after.clients[c][GROUP]
            where = f"at {_ds(config, view.ds)}, epoch {view.epoch}"
            if view.requested:
                return f"{where}, asked {_ds(config, view.target)}"
            return f"{where}, migrating to {_ds(config, view.target)}" if view.pending else where
    for d in range(config.honest_ds):
        if _ds(config, d) == party:
            if before.hosts[d][GROUP] != after.hosts[d][GROUP]:
                return describe_host(config, after.hosts[d][GROUP])
            return nonce_pool_label(config, after, d)
    return "no change"


# ---------------------------------------------------------------- trace -> chart


def format_action(config: Config, action: Action) -> str:
    """An action and its arguments as the model names them."""
    parts = []
    for key, value in action.args:
        if type(value) in MESSAGE_TYPES:
            text = describe(config, value)
        elif key == "client":
            text = _client(config, value)
        elif key in ("source", "target"):
            text = _ds(config, value)
        elif key == "group":
            text = f"g{value}"
        else:
            text = str(value)
        parts.append(f"{key}={text}")
    return f"{action.name}({', '.join(parts)})"


DRAFT_ORDER: tuple[type[Any], ...] = (
    MigrationRequest,
    MigrationResponse,
    MigrationInit,
    MigrationContent,
    TargetMigrationComplete,
    TargetMigrationRejected,
    CommitFanout,
    MigrationConfirmation,
    MigrationAborted,
)
"""The order in which the draft has a party send the messages one model step adds: the
source DS fans the Commit out to the group, then confirms the migration to the client
(the model's `source_fanout_and_confirm` sends both in one step)."""


def drawn_order(before: State, after: State) -> list[Any]:
    """The messages the step from `before` to `after` sent, in DRAFT_ORDER (messages of
    one kind sorted)."""
    new = [m for slot_before, slot_after in zip(before.network, after.network, strict=True)
           for m in sorted(slot_after - slot_before)]
    return sorted(new, key=lambda m: DRAFT_ORDER.index(type(m)))


class _Deliveries:
    """What the chart has drawn so far: who first sent each message, whom an arrow of it
    reached, and which party received it."""

    def __init__(self, config: Config, draft_names: bool) -> None:
        self.config = config
        self.draft_names = draft_names
        self.first_sender: dict[Any, str] = {}
        self.arrows_to: dict[Any, set[str]] = {}
        self.received: set[tuple[str, Any]] = set()

    def rows(self, k: int, action: Action, before: State, after: State,
             highlight: bool) -> list[Step]:
        """The chart rows of trace step `k`."""
        config = self.config
        party = actor(config, action)
        row: list[Step] = []

        def arrow(frm: str, to: str, m: Any, note: str = "") -> None:
            row.append(Step(sender=frm, receiver=to, label=label(m), note=note,
                            trace_index=k, highlight=highlight))

        spec = ACTIONS_BY_NAME[action.name]
        if spec.receives is not None:
            m = action.arg(spec.params[-1])
            reached = self.arrows_to.setdefault(m, set())
            if not sent(before, m):
                arrow(forger(config, m), party, m, "again" if (party, m) in self.received else "")
            elif party not in reached:
                whom = ", ".join(sorted(reached))
                arrow(self.first_sender[m], party, m, f"meant for {whom}" if whom else "")
                reached.add(party)
            elif (party, m) in self.received:
                arrow(self.first_sender[m], party, m, "again")
            self.received.add((party, m))
        for m in drawn_order(before, after):
            frm = sender(config, m)
            self.first_sender[m] = frm
            for to in addressees(config, before, after, m):
                self.arrows_to.setdefault(m, set()).add(to)
                if to != frm:
                    arrow(frm, to, m)
        if not row:
            change = local_change(config, before, after, party)
            text = change if self.draft_names else f"{action.name}: {change}"
            row.append(Step(sender=party, receiver=party, kind=LOCAL, trace_index=k,
                            label=text, highlight=highlight))
        return row


def _steps(config: Config, trace: Sequence[Action], highlight_last: bool, draft_names: bool) -> (
    tuple[list[Step], State]
):
    """The chart rows of `trace`, and the state it ends in."""
    try:
        states = replay(config, trace)
    except ActionNotEnabled as err:
        raise DiagramError(f"trace does not replay through the model: {err}") from None
    deliveries = _Deliveries(config, draft_names)
    steps: list[Step] = []
    for k, action in enumerate(trace, start=1):
        highlight = highlight_last and k == len(trace)
        steps += deliveries.rows(k, action, states[k - 1], states[k], highlight)
    return steps, states[-1]


def _requests(value: Any) -> list[MigrationRequest]:
    """Every MigrationRequest inside a message (or a plain action argument)."""
    if isinstance(value, MigrationRequest):
        return [value]
    if isinstance(value, tuple):
        return [r for item in value for r in _requests(item)]
    return []


def _participants(config: Config, steps: Sequence[Step], trace: Sequence[Action],
                  final: State, draft_names: bool) -> tuple[Participant, ...]:
    used = {s.sender for s in steps} | {s.receiver for s in steps}
    requests = [r for a in trace for _, value in a.args for r in _requests(value)]
    requests += [r for slot in final.network for m in slot for r in _requests(m)]
    initiators = {_client(config, r.client) for r in requests}
    targets = {_ds(config, r.target) for r in requests}
    rogue = {name: title for name, title in ((_ds(config, config.rogue_ds_id), "Rogue DS"),
             (_client(config, config.rogue_client_id), "Rogue client")) if name != "-"}
    honest_clients = [_client(config, c) for c in range(config.clients)]
    honest_ds = [_ds(config, d) for d in range(config.honest_ds)]

    def rank(p: str) -> tuple[int, str]:
        if p in honest_clients:
            return (0 if p in initiators else 3), p
        if p in honest_ds:
            return (1 if p == _ds(config, SOURCE) else 2), p
        return (4 if p == _ds(config, config.rogue_ds_id) else 5), p

    def role(p: str) -> str:
        if p in honest_clients:
            return "Client" if p in initiators else "Member"
        if p in honest_ds:
            roles = ["Source"] * (p == _ds(config, SOURCE)) + ["Target"] * (p in targets)
            name = "/".join(roles) or "Bystander"
            return f"{name} Delivery Service" if draft_names else f"{name} DS"
        if p in rogue:
            return rogue[p]
        raise DiagramError(f"unknown participant {p}")

    order = sorted(used, key=rank)
    roles = [role(p) for p in order]
    out = []
    for p, r in zip(order, roles, strict=True):
        unique = draft_names and roles.count(r) == 1
        out.append(Participant(id=p, label=r if unique else f"{r} {p}", rogue=p in rogue))
    return tuple(out)


def chart_from_trace(config: Config, trace: Sequence[Action], *, name: str, title: str,
                     highlight_last: bool, draft_names: bool,
                     short_notes: bool = False) -> SequenceChart:
    """`short_notes`: a local step's note without its action's name (the legend lists
    every action), as with `draft_names`."""
    steps, final = _steps(config, trace, highlight_last, draft_names or short_notes)
    legend = () if draft_names else tuple(
        f"{k:>2}. {format_action(config, a)}" for k, a in enumerate(trace, start=1)
    )
    return SequenceChart(
        name=name,
        title=title,
        participants=_participants(config, steps, trace, final, draft_names),
        steps=tuple(steps),
        legend=legend,
        numbered=not draft_names,
    )


def happy_path_chart(config: Config = HAPPY_CONFIG) -> SequenceChart:
    trace = happy_path_trace(config)
    final = replay(config, trace)[-1]
    source, target = _ds(config, SOURCE), _ds(config, final.hosts[SOURCE][GROUP].target)
    title = (
        f"Happy path: the group moves from {source} to {target}\n"
        f"reference design, {config.summary()}\nshortest trace, {len(trace)} model steps"
    )
    chart = chart_from_trace(config, trace, name="happy-path", title=title,
                             highlight_last=False, draft_names=True)
    if any(s.note for s in chart.steps) or any(p.rogue for p in chart.participants):
        raise DiagramError("the happy path has an adversary or a repeated message")
    return chart


def counterexample_chart(cx: Counterexample) -> SequenceChart:
    title = (
        f"Counterexample: variant {cx.variant.name} violates {cx.property}\n"
        f"{cx.variant.description}\n"
        f"shortest trace: {len(cx.trace)} steps, {cx.config.summary()}"
    )
    return chart_from_trace(cx.config, cx.trace, name=f"counterexample-{cx.variant.name}",
                            title=title, highlight_last=True, draft_names=False)



# ---------------------------------------------------------------- the findings' figures

FINDING_CONFIG = Config(clients=1)
"""F6's witness: one member (its own earlier attempt's abort ends its newer one; with two,
the chart is wider than an Internet-Draft takes), two nonces per target (the aborted
attempt and the newer one), the rogue DS and client."""


@dataclass(frozen=True)
class FindingTrace:
    """A figure of docs/findings.md beyond the variants' counterexamples: a finding's bug
    (a step the unfixed design takes) or its fix (the fixed design on the same run)."""

    name: str
    finding: str
    design: str
    config: Config
    trace: tuple[Action, ...]
    title: str
    highlight_last: bool
    states: int = 0
    """States the search saw (a bug's witness search), 0 where no search ran."""


def _fixed(config: Config) -> Config:
    return dataclasses.replace(config, options=DesignOptions())


def finding_traces() -> list[FindingTrace]:
    """F4's fix, F6's bug and F6's fix, computed from the model.  (F4's bug is the
    counterexample of the variant response_names_no_client.)  A fix is the bug's run in the
    reference design: its longest accepted prefix, then a shortest run to the group having
    moved with every member (the step the unfixed design took is refused)."""
    out: list[FindingTrace] = []
    f4 = counterexample(variant("response_names_no_client"))
    # One more nonce than the counterexample's configuration: the nonce the adversary's
    # request took stays pending, so the client's own request needs another.
    config = dataclasses.replace(_fixed(f4.config), attempts=f4.config.attempts + 1)
    fix = witness.continuation(config, f4.trace,
                               lambda s: s.hosts[SOURCE][GROUP].phase == LOCKED)
    out.append(FindingTrace(
        "finding-f4-fix", "F4", "reference", config, fix,
        "Finding F4 fixed: the response names its client (init.own_request)\n"
        f"reference design: the first {_kept(config, f4.trace)} steps of the F4 trace, then "
        f"a shortest run to the source's lock on the client's own response\n"
        f"{len(fix)} steps, {config.summary()}", False))
    bug_design = variant("abort_names_no_nonce")
    bug_config = FINDING_CONFIG.with_options(bug_design.options)
    found = witness.step_witness(bug_config, witness.abort_of_another_attempt)
    if found.trace is None:
        raise DiagramError("abort_names_no_nonce: no client ends an attempt on another's abort")
    out.append(FindingTrace(
        "finding-f6-bug", "F6", bug_design.name, bug_config, found.trace,
        "Finding F6: a forwarded rejection ends a newer attempt\n"
        f"design {bug_design.name}: the client takes an abort of another nonce\n"
        f"shortest trace: {len(found.trace)} steps, {bug_config.summary()}", True,
        found.states))
    config = _fixed(bug_config)
    fix = witness.continuation(config, found.trace, lambda s: migrated(config, s))
    out.append(FindingTrace(
        "finding-f6-fix", "F6", "reference", config, fix,
        "Finding F6 fixed: the abort names its nonce (abort.own_nonce)\n"
        f"reference design: the first {_kept(config, found.trace)} steps of the F6 trace, "
        f"then a shortest run to the move\n{len(fix)} steps, {config.summary()}", False))
    return out


def _kept(config: Config, trace: Sequence[Action]) -> int:
    """How many steps of `trace` `config`'s design accepts before it refuses one."""
    for k in range(len(trace), -1, -1):
        try:
            replay(config, trace[:k])
        except ActionNotEnabled:
            continue
        return k
    return 0


def finding_chart(f: FindingTrace) -> SequenceChart:
    return chart_from_trace(f.config, f.trace, name=f.name, title=f.title,
                            highlight_last=f.highlight_last, draft_names=False,
                            short_notes=True)
