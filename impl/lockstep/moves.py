"""The moves of a lockstep run, (action, outcome) coverage, and random swarm sessions.

A move is a tagged frozen dataclass (`Move`), dispatched with `match` in `perform`, so a
list of moves reads as a program:
- `Act(action, after)`: a model-enabled action instance, applied to both sides (the model
  state it leads to rides along, for steering and the tour; not shown in its repr);
- `RefuseCommit(client, group)`: an ordinary commit by `client` in `group` that no model
  state allows;
- `Refuse(action, args)`: a network message delivered to a party of `action`'s role whose
  guard does not hold for it (nor for any other action receiving that kind there);
- `Misdeliver(kind, party, message)`: a network message delivered to an honest party that
  no action lets receive it;
- `Tamper(kind, party, message, offset)`: a network message with one byte flipped (at
  `offset`; negative: a byte drawn by `perform`'s generator), delivered to its receiver
  (requests excepted: the transport authenticates the sender);
- `Jump(target, late, after)`: time at a DS jumps `late` (negative: drawn) past the
  deadlines of every nonce it has pending, with no tick, so the next message arrives late;
- `Misuse(call, client, code, group)`: an application call the rules refuse (a second migration
  while one is in progress, abandoning none): the client must raise that local error and
  change nothing;
- `FieldTamper(kind, party, message, field, resign)`: a network message of a signed kind
  re-encoded with exactly one field changed, re-signed by the tampering party or not
  (impl/lockstep/tampering.py): it must be refused, the receiver unchanged.
Coverage is counted per (action, outcome) pair, outcome "accepted", "refused" or, for a
refused delivery to a DS the group has moved away from, "redirected" (the peer must get a
group_moved redirect: `refused_pair`).  Each refused delivery's answer is compared with what
the rules say the peer gets (model/refusals.py; Lockstep.refuse).
`session` runs examples with a random generator: per example a random subset of action
names is disabled (swarm testing), and each step is steered: a protocol step heads for the
least visited reachable model state (impl/lockstep/steering.py), so deep states (locked,
acknowledged, retried, redirected) come up often; any other move prefers the least covered
pair.
Hypothesis drives the same moves in tests/lockstep/machine.py.

Over 500 lines on purpose: the moves, their dispatch (`perform`) and the session that
chooses among them change together (a new kind of move is a dataclass, a case of
`_perform`, its offer in `_moves` and its coverage pair), so they are read in one place.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model import adversary
from model import messages as mm
from model import state as ms
from model.actions import ACTIONS, ACTIONS_BY_NAME, Action, live, step, successors
from model.checker import explore
from model.config import Config
from model.refusals import group_of, misdelivered, refused_calls, refused_delivery
from model.routing import deliveries, receiving_rules, relaxed
from model.rules import CHECKS, action_of

from ..envelope import Envelope, Kind
from ..storage import CrashPoint
from .driver import CannotPerform, Divergence, Lockstep, Unsupported, check_config
from .steering import Steering, small_graph
from .tampering import CLIENT_SIGNED, FIELDS, tamper

Pair = tuple[str, str]

FORGEABLE: tuple[type[Any], ...] = (
    mm.MigrationResponse,
    mm.MigrationContent,
    mm.TargetMigrationComplete,
    mm.TargetMigrationRejected,
    mm.MigrationConfirmation,
)
"""Kinds the rogue DS R signs with its own key in refused-forgery moves."""
FORGED_PER_KIND = 4
Party = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Act:
    """A model-enabled action instance; `after` is the model state it leads to."""

    action: Action
    after: ms.State = field(repr=False)


@dataclass(frozen=True, slots=True)
class RefuseCommit:
    """An ordinary commit by `client` in `group` that the model refuses
    (commit_at_current_ds)."""

    client: int
    group: int = 0


@dataclass(frozen=True, slots=True)
class Refuse:
    """The last of `args` (a model message) delivered to the party of `action`'s role
    named by `args`, whose guard does not hold for it."""

    action: str
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Misdeliver:
    """A model message of `kind` delivered to an honest `party` that cannot receive it."""

    kind: str
    party: Party
    message: Any


@dataclass(frozen=True, slots=True)
class Tamper:
    """A model message of `kind`, one byte of its bytes flipped, delivered to `party`."""

    kind: str
    party: Party
    message: Any
    offset: int


@dataclass(frozen=True, slots=True)
class FieldTamper:
    """A model message of `kind` re-encoded with exactly one field of its signed payload
    changed (impl/lockstep/tampering.py), re-signed by the tampering party (`resign`) or
    not, delivered to `party`; `field` None: drawn by `perform`'s generator (with
    `resign`)."""

    kind: str
    party: Party
    message: Any
    field: str | None = None
    resign: bool | None = None


@dataclass(frozen=True, slots=True)
class Jump:
    """Time at DS `target` jumps `late` (negative: drawn) past the deadline of every nonce
    it has pending, with no tick (Lockstep.jump): the next message to it arrives late."""

    target: int
    late: int
    after: ms.State = field(repr=False)


@dataclass(frozen=True, slots=True)
class Misuse:
    """An application call of honest `client` the rules refuse (model/refusals.py
    refused_calls): the role must raise the LocalProtocolError `code`, unchanged."""

    call: str
    client: int
    code: str
    group: int = 0


@dataclass(frozen=True, slots=True)
class Restart:
    """An honest `party` crashes and is re-opened from its SQLite file (Lockstep.restart)."""

    party: Party


@dataclass(frozen=True, slots=True)
class CrashAct:
    """A model-enabled action whose receiving DS crashes at `point` while handling the
    message and is re-opened from its SQLite file (Lockstep.apply_crashing)."""

    action: Action
    point: CrashPoint
    after: ms.State = field(repr=False)


Move = (Act | RefuseCommit | Refuse | Misdeliver | Tamper | FieldTamper | Misuse | Restart
        | CrashAct | Jump)

CRASHING: frozenset[str] = frozenset(
    name for name, role in ((s.name, s.role) for s in ACTIONS)
    if role in ("source", "target") and ACTIONS_BY_NAME[name].receives is not None
) | {"commit_at_current_ds"}
"""The actions in which an honest DS handles a message, where a crash move can strike."""

TIMED: frozenset[str] = frozenset({"target_expire_nonce", "source_retry"})
"""The actions a DS takes when its time passes (a tick): only a driver that sets the DSs'
time makes them (Lockstep.drives_time)."""

JUMP_PAIR: Pair = ("target_expire_nonce", "jumped")
"""The coverage pair of a jump of time (the model's target_expire_nonce, taken late)."""

RESTART_PAIRS: dict[str, Pair] = {"ds": ("ds_restart", "accepted"),
                                  "client": ("client_restart", "accepted")}
"""The coverage pair of a restart of each kind of party: the model's restart action."""

WIRE_KIND: dict[str, Kind] = {
    "MigrationResponse": Kind.MigrationResponse, "MigrationInit": Kind.MigrationInitWithCommit,
    "MigrationContent": Kind.MigrationContent,
    "TargetMigrationComplete": Kind.TargetMigrationComplete,
    "TargetMigrationRejected": Kind.TargetMigrationRejected,
    "MigrationAborted": Kind.TargetMigrationRejected,
    "MigrationConfirmation": Kind.MigrationConfirmation,
}
"""Model message kinds -> the signed envelope kind carrying them (field tampering)."""

RECEIVERS: dict[type[Any], list[str]] = {
    kind: receiving_rules(kind) for kind in mm.MESSAGE_TYPES if receiving_rules(kind)
}
"""Each message kind -> the actions that receive it (model/routing.py)."""


REDIRECTING: frozenset[str] = frozenset(
    action_of(c) for c in CHECKS.values() if "group_moved" in c.refusal
)
"""The actions some check of which the rules answer with a group_moved redirect."""


def refused_pair(config: Config, state: ms.State, name: str, ds: int | None,
                 group: int = 0) -> Pair:
    """The coverage pair of a refused delivery of action `name` to DS `ds` (None: a
    client): (name, "redirected") where that DS's host of the group has moved and the
    rules answer `name`'s refusal with a group_moved redirect (model/refusals.py), else
    (name, "refused")."""
    if name in REDIRECTING and ds is not None and state.hosts[ds][group].phase == ms.MOVED:
        return name, "redirected"
    return name, "refused"


def _refused_pair(config: Config, state: ms.State, name: str, args: tuple[Any, ...]) -> Pair:
    ds = None if ACTIONS_BY_NAME[name].role == "client" else int(args[0])
    return refused_pair(config, state, name, ds, group_of(args[-1]))


def untimed_states(config: Config) -> list[ms.State]:
    """The states reachable with no action of `TIMED` (a driver that does not set the DSs'
    time reaches no others)."""
    seen = {ms.initial_state(config)}
    todo = list(seen)
    while todo:
        for action, after in successors(config, todo.pop()):
            if action.name not in TIMED and after not in seen:
                seen.add(after)
                todo.append(after)
    return list(seen)


def reachable_pairs(config: Config, *, timed: bool = True) -> set[Pair]:
    """Every (action, outcome) pair some reachable state of `config` offers (`timed`
    False: of the states reachable with no `TIMED` action, and no such action's pair)."""
    pairs: set[Pair] = set()
    states = explore(config, symmetry=False).states if timed else untimed_states(config)
    for state in states:
        for action, _ in successors(config, state):
            if action.name in TIMED and not timed:
                continue
            pairs.add((action.name, "accepted"))
            if action.name == "target_expire_nonce":
                pairs.add(JUMP_PAIR)
        for name, args, ok in deliveries(config, state):
            pairs.add((name, "accepted") if ok else _refused_pair(config, state, name, args))
        pairs.update(RESTART_PAIRS.values())  # any party may crash in any state
        pairs.update(("misuse", call) for call, *_ in refused_calls(config, state))
        if any(a.name in CRASHING for a, _ in successors(config, state)):
            pairs.update(("crash", str(p)) for p in CrashPoint)
        big_config, big_state = relaxed(config, state)
        commit = ACTIONS_BY_NAME["commit_at_current_ds"].guard
        for client, group in itertools.product(range(config.clients), range(config.groups)):
            if not commit(config, state, client, group) and not commit(
                big_config, big_state, client, group
            ):
                pairs.add(refused_pair(config, state, "commit_at_current_ds",
                                       state.clients[client][group].ds, group))
    return pairs


_PAIRS_CACHE: dict[Config, set[Pair]] = {}


def pairs_config(config: Config) -> Config:
    """The configuration whose reachable pairs `pairs_total` counts for `config`: itself if
    its graph is small enough to enumerate (steering.small_graph), else the same clients
    and attempts with 2 honest DSs, 1 group and 1 epoch, whose every pair `config` reaches
    too (its d0, d1 and group 0 behave as there): a lower bound of `config`'s pairs."""
    if small_graph(config) is not None:
        return config
    return dataclasses.replace(config, ds=config.ds - config.honest_ds + 2, groups=1,
                               max_epoch=1)


def pairs_total(config: Config) -> set[Pair]:
    config = pairs_config(config)
    if config not in _PAIRS_CACHE:
        _PAIRS_CACHE[config] = reachable_pairs(config)
    return _PAIRS_CACHE[config]


def honest_parties(config: Config) -> list[tuple[str, int]]:
    return [("ds", d) for d in range(config.honest_ds)] + [
        ("client", c) for c in range(config.clients)
    ]


def _pending_nonces(client: Any) -> int:
    """How many of an implementation client's groups have a migration past its response."""
    return sum(1 for m in client.groups.values() if m.pending is not None
               and m.pending.nonce is not None)


def known_finding(ls: Lockstep, move: Move) -> str | None:
    """The reported model/implementation disagreement a move would run into, if any.

    F4: a MigrationResponse handed to another honest client (a Refuse of client_init, or a
        Misdeliver) whose own pending request
        has the same (source, target, group, epoch): the implementation's MigrationResponse
        does not name the requesting client (the draft's struct has no such field), so that
        client accepts it and uses the other client's nonce; the model's request names the
        client (authenticated channel) and client_init_accepts requires r.client == client.
    (F5, a response to a request made before an abort, is fixed: the model's client view
    now records the outstanding request, as the implementation's PendingMigration does.)
    F6: a forwarded TargetMigrationRejected (model: MigrationAborted) for another attempt,
        delivered to a client with a pending migration (of that group or, with more than
        one group, of another), or the rejection of one of two groups' pending migrations:
        the implementation's client cannot tell which attempt it ends (the rejection names
        only a content hash it never saw) and abandons the first it holds; the model's
        client_abort_accepts requires the abort's nonce to be the pending one.
    """
    w = ls.world

    def membership(client: int, group: int) -> Any:
        return w.clients[client].groups[ls._group_id(group)]

    match move:
        case Refuse(action="client_abort", args=(client, _, *_)):
            # any group's: the client takes the rejection for the migration of whichever
            # group it has one pending at that DS (`conform --groups 2` ran into it)
            if _pending_nonces(w.clients[client]):
                return "F6"
        case Act(action=a) if a.name == "client_abort":
            if _pending_nonces(w.clients[a.arg("client")]) > 1:
                return "F6"  # which of two groups' migrations it ends, it cannot tell
        case Misdeliver(party=("client", c), message=mm.MigrationResponse() as m):
            pending = membership(c, m.request.group).pending
            if pending is not None and pending.request == ls._impl_request(m.request):
                return "F4"
        case Refuse(action="client_init", args=(c, group, mm.MigrationResponse() as m)):
            # Any member may be handed a response (client_init's routing): the model's
            # init.own_request refuses another's; the implementation cannot tell.
            pending = membership(c, group).pending
            if (m.request.client != c and pending is not None
                    and pending.request == ls._impl_request(m.request)):
                return "F4"
    return None


def moves(
    ls: Lockstep, *, adversarial: bool = True, known: bool = False
) -> list[tuple[Pair, Move]]:
    """Every move available now, each with the coverage key it counts for; moves that run
    into a reported finding (`known_finding`) only when `known`."""
    out = _moves(ls, adversarial=adversarial)
    if known:
        return out
    return [o for o in out if known_finding(ls, o[1]) is None]


@functools.lru_cache(maxsize=4096)
def _forged_sample(
    config: Config, slot: int, network: ms.Network, nonces: tuple[Any, ...]
) -> tuple[tuple[Any, str], ...]:
    """(message, coverage label) of about FORGED_PER_KIND of the messages of the network
    slot's kind that R can forge and that are not in the network, evenly spread over
    adversary.exhaustive's list, and, for MigrationContent, of every content R can sign for
    a response some target may import under (adversary.useful: a state at the wrong epoch
    under a pending nonce, "at another epoch") or has imported R's content under (R's other
    states for it, a second content for that nonce: "again for a consumed nonce").  The one
    content a target's answer turns on is rarely in the even sample; a label of its own
    makes a session try it where it is offered.  What R can forge depends on the network
    and the nonce pools alone, so the sample is cached on them."""
    state = ms.State((), nonces, (), network, ms.EMPTY_GHOST)
    sent = network[slot]
    kind = mm.MESSAGE_TYPES[slot]
    forged = [m for m in adversary.exhaustive(config, state, kind) if m not in sent]
    sample = [(m, kind.__name__) for m in forged[:: max(1, len(forged) // FORGED_PER_KIND)]]
    if kind is mm.MigrationContent:
        # R's other states for a nonce a target consumed with R's content: a second content
        # under that nonce (useful lists only what may import)
        again = [mm.MigrationContent(rec.content.signer, rec.content.response, other)
                 for pool in nonces for rec in pool
                 if rec.phase == ms.CONSUMED and rec.content.signer == config.rogue_ds_id
                 for other in adversary.forged_states(state, rec.content.response)
                 if other != rec.content.state]
        for m in adversary.useful(config, state, kind):
            r = m.response.request
            if m not in sent and m.state.epoch != r.epoch + 1:
                sample.append((m, f"{kind.__name__} at another epoch"))
        sample += [(m, f"{kind.__name__} again for a consumed nonce") for m in again]
    return tuple(sample)


def _moves(ls: Lockstep, *, adversarial: bool = True) -> list[tuple[Pair, Move]]:
    config, state = ls.config, ls.state
    out: list[tuple[Pair, Move]] = []
    for action, after in successors(config, state):
        if action.name == "target_expire_nonce" and not ls.expire_allowed(
            *(v for _, v in action.args)
        ):
            continue
        if action.name in TIMED and not ls.drives_time:
            continue
        out.append(((action.name, "accepted"), Act(action, after)))
        if action.name in CRASHING and ls.drives_processes:
            for point in CrashPoint:
                if point == CrashPoint.BEFORE_COMMIT and action.name == "commit_at_current_ds":
                    continue  # the client's commit is no DS delivery the model can undo
                out.append((("crash", str(point)), CrashAct(action, point, after)))
    for party in honest_parties(config):
        if party[0] == "client" or ls.drives_processes:
            out.append((RESTART_PAIRS[party[0]], Restart(party)))
    for target in range(config.honest_ds if ls.drives_time else 0):
        expiries = ls.jump_actions(target)
        if expiries:
            after = state
            for action in expiries:
                after = step(config, after, action)
            out.append((JUMP_PAIR, Jump(target, -1, after)))
    for call, client, group, code in refused_calls(config, state):
        out.append((("misuse", call), Misuse(call, client, code, group)))
    if not adversarial:
        return out
    big_config, big_state = relaxed(config, state)
    commit = ACTIONS_BY_NAME["commit_at_current_ds"].guard
    for client, group in itertools.product(range(config.clients), range(config.groups)):
        if not commit(config, state, client, group) and not commit(
            big_config, big_state, client, group
        ):
            pair = refused_pair(config, state, "commit_at_current_ds",
                                state.clients[client][group].ds, group)
            out.append((pair, RefuseCommit(client, group)))
    for kind in FORGEABLE:
        for m, label in _forged_sample(config, ms.SLOT[kind], state.network, state.nonces):
            for name in RECEIVERS[kind]:
                spec = ACTIONS_BY_NAME[name]
                if not spec.forged or not live(config, spec.rule):
                    continue
                assert spec.parties is not None and spec.accepts is not None
                for args in spec.parties(config, state, m):
                    if not spec.accepts(config, state, *args) and not spec.accepts(
                        big_config, big_state, *args
                    ):
                        out.append((("forge", label), Refuse(name, args)))
    receivers: dict[Any, set[tuple[str, int]]] = {}
    for name, args, ok in deliveries(config, state):
        party = ls.receiver(name, args)
        receivers.setdefault(args[-1], set()).add(party)
        if not ok:
            out.append((_refused_pair(config, state, name, args), Refuse(name, args)))
    for m, parties in receivers.items():
        kname = type(m).__name__
        for party in honest_parties(config):
            # MigrationAborted is the target's TargetMigrationRejected, forwarded: to a DS
            # its bytes are that rejection, a network message the refuse moves cover.
            if party not in parties and not (kname == "MigrationAborted" and party[0] == "ds"):
                out.append((("misdeliver", kname), Misdeliver(kname, party, m)))
        if kname != "MigrationRequest":
            for party in sorted(parties):
                out.append((("tamper", kname), Tamper(kname, party, m, -1)))
                if kname in WIRE_KIND:
                    path, resign = next_field(ls, WIRE_KIND[kname])
                    how = "re-signed" if resign else "as signed"
                    out.append((("tamper_field", f"{WIRE_KIND[kname]}.{path} {how}"),
                                FieldTamper(kname, party, m, path, resign)))
    return out


def perform(ls: Lockstep, move: Move, rng: random.Random | None = None) -> None:
    """Make `move` on both sides; a move the driver cannot make on the implementation is a
    divergence naming the move and the reason (CannotPerform)."""
    try:
        _perform(ls, move, rng)
    except CannotPerform as err:
        raise CannotPerform(f"{move!r}: the model allows it, the driver cannot make it on "
                            f"the implementation: {err}") from err


def next_field(ls: Lockstep, kind: Kind, rng: random.Random | None = None) -> tuple[str, bool]:
    """The (field, re-signed) of `kind` tampered least so far in this run (the session's
    count, when a session runs it): the first such, or one drawn by `rng`."""
    made = ls.tampered_fields
    combos = [(f, b) for f in FIELDS[kind] for b in (False, True)]
    low = min(made[(kind, f, b)] for f, b in combos)
    least = [(f, b) for f, b in combos if made[(kind, f, b)] == low]
    return least[0] if rng is None else rng.choice(least)


def _perform(ls: Lockstep, move: Move, rng: random.Random | None) -> None:
    match move:
        case RefuseCommit(client, group):
            ls.refuse_commit(client, group)
        case Act(action):
            ls.apply(action)
        case Refuse(name, args):
            party = ls.receiver(name, args)
            m = args[-1]
            forged = m not in ls.state.network[ms.SLOT[type(m)]]
            ls.refuse(party, ls.envelope(m, party), f"refused {name}{args}", forged=forged,
                      expected=refused_delivery(ls.config, ls.state, m, args))
        case Misdeliver(_, party, m):
            ls.refuse(party, ls.envelope(m, party), f"misdelivered {m} to {party}",
                      expected=misdelivered(ls.config, ls.state, m, party))
        case Tamper(_, party, m, offset):
            _tamper(ls, party, m, offset, rng)
        case FieldTamper(kind, party, m, path, resign):
            env = ls.envelope(m, party)
            if path is None or resign is None:
                path, resign = next_field(ls, env.kind, rng)
            client_signed = env.kind in CLIENT_SIGNED
            key = (None if not resign else
                   ls.world.rogue_client.key if client_signed else ls.world.rogue_ds.key)
            ls.tampered_fields[(env.kind, path, resign)] += 1
            who = "X" if client_signed else "R"
            how = f"re-signed by {who}" if resign else "not re-signed"
            ls.refuse(party, tamper(env, path, key),
                      f"{kind} {m} with {path} changed ({how}) to {party}")
        case Jump(target, late):
            ls.jump(target, late if late >= 0 else (rng or random.Random(0)).randrange(1 << 30))
        case Misuse(call, client, code, group):
            ls.misuse(client, call, code, group)
        case Restart(party):
            ls.restart(party)
        case CrashAct(action, point):
            ls.apply_crashing(action, point)


def _tamper(
    ls: Lockstep, party: Party, m: Any, offset: int, rng: random.Random | None
) -> None:
    env = ls.envelope(m, party)
    if offset < 0:
        offset = (rng or random.Random(0)).randrange(max(1, len(env.payload)))
    data = bytearray(env.payload)
    if data:
        data[offset % len(data)] ^= 0x01
    tampered = Envelope(
        sender=env.sender,
        recipient=env.recipient,
        kind=env.kind,
        payload=bytes(data),
        cipher_suite=env.cipher_suite,
    )
    ls.tampered(party, tampered, m, f"tampered {m} (byte {offset}) to {party}")


@dataclass
class Report:
    steps: int = 0
    examples: int = 0
    seconds: float = 0.0
    covered: set[Pair] = field(default_factory=set)
    divergences: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Examples not run, by why: a configuration or design the driver does not cover
    (driver.Unsupported, raised when the run is built); 0 in the default configuration."""
    tampered_fields: Counter[tuple[Kind, str, bool]] = field(default_factory=Counter)
    """(envelope kind, field, re-signed) -> one-field tamper moves made (FieldTamper)."""
    refusals: Counter[str] = field(default_factory=Counter)
    """The refusal codes refused moves were answered with, each compared with the rules'
    (model/refusals.py); "ignored": no answer."""
    caught: tuple[Pair, Move] | None = None
    """The move (and its coverage pair) that ran into the first divergence, if any."""
    states_visited: int = 0
    """Distinct reachable model states the session's runs were in (impl/lockstep/steering)."""
    states_total: int = 0

    def as_json(self, config: Config) -> dict[str, Any]:
        # a configuration the driver does not cover ran nothing: its model is not explored
        total = pairs_total(config) if self.examples > sum(self.skipped.values()) else set()
        actions_total = {name for name, outcome in total if outcome == "accepted"}
        return {
            "steps": self.steps,
            "seconds": round(self.seconds, 3),
            "actions_covered": len({n for n, o in self.covered if o == "accepted"}),
            "actions_total": len(actions_total),
            "pairs_covered": len(self.covered & total),
            "pairs_total": len(total),
            "pairs_beyond": len({p for p in self.covered - total if p[0] in ACTIONS_BY_NAME}),
            "pairs_total_of": pairs_config(config).summary(),
            "divergences": len(self.divergences),
            "refusals": dict(sorted(self.refusals.items())),
            "fields_tampered": len(self.tampered_fields),
            "fields_total": 2 * sum(len(f) for f in FIELDS.values()),
            "skipped": sum(self.skipped.values()),
            "skipped_why": dict(sorted(self.skipped.items())),
            "states_visited": self.states_visited,
            "states_total": self.states_total,
        }


def choose(
    rng: random.Random, options: list[tuple[Pair, Move]], counts: Counter[Pair]
) -> tuple[Pair, Move]:
    """Steering for any move: the least covered pair first (ties at random), sometimes
    plain random."""
    if rng.random() < 0.25:
        return rng.choice(options)
    low = min(counts[p] for p, _ in options)
    return rng.choice([o for o in options if counts[o[0]] == low])


def steer(
    rng: random.Random, acts: list[tuple[Pair, Act]], ls: Lockstep, steering: Steering
) -> tuple[Pair, Act]:
    """Steering for protocol steps: towards the goal of impl/lockstep/steering.py, sometimes
    plain random; ties at random."""
    if rng.random() < 0.1:
        return rng.choice(acts)
    dist = [steering.distance(move.after, rng, ls.state) for _, move in acts]
    low = min(dist)
    return rng.choice([o for o, d in zip(acts, dist, strict=True) if d == low])


def run_example(
    ls: Lockstep,
    rng: random.Random,
    report: Report,
    *,
    max_steps: int = 60,
    swarm: bool = True,
    counts: Counter[Pair] | None = None,
    steering: Steering | None = None,
) -> None:
    counts = Counter() if counts is None else counts
    steering = steering or Steering(ls.config)
    names = [s.name for s in ACTIONS if live(ls.config, s.rule)]
    disabled = set(rng.sample(names, rng.randrange(len(names) // 3))) if swarm else set()
    adversarial = rng.random() < 0.8
    steering.visit(ls.state)
    ls.tampered_fields = report.tampered_fields  # the session's: each field in turn
    try:
        _run_steps(ls, rng, report, max_steps, disabled, adversarial, counts, steering)
    finally:
        report.refusals.update(ls.refusals)


def _run_steps(ls: Lockstep, rng: random.Random, report: Report, max_steps: int,
               disabled: set[str], adversarial: bool, counts: Counter[Pair],
               steering: Steering) -> None:
    for _ in range(max_steps):
        options = [o for o in moves(ls, adversarial=adversarial) if o[0][0] not in disabled]
        if not options:
            return
        acts = [(p, m) for p, m in options if isinstance(m, Act)]
        fresh = [o for o in options if not counts[o[0]]]
        move: Move
        if fresh:  # a pair the session never made: make it while the state offers it
            pair, move = rng.choice(fresh)
        elif acts and rng.random() < 0.75:  # keep the protocol moving: deep states need acts
            pair, move = steer(rng, acts, ls, steering)
        else:
            pair, move = choose(rng, options, counts)
        try:
            perform(ls, move, rng)
        except Divergence:
            report.caught = (pair, move)
            raise
        counts[pair] += 1
        steering.visit(ls.state)
        report.covered.add(pair)
        report.steps += 1


def session(
    examples: int,
    seed: int,
    *,
    config: Config | None = None,
    max_steps: int = 60,
    stop_on_divergence: bool = True,
    progress: Callable[[int, int], None] | None = None,
    factory: Callable[[], Lockstep] | None = None,
) -> Report:
    """Run `examples` random swarm/steered examples; divergences are collected.  Steering
    counts are the session's own, so a session depends on its seed alone."""
    config = config or Config()
    report = Report()
    try:
        check_config(config)
    except Unsupported as err:  # every example would be skipped: not even steering is built
        report.skipped[str(err)] += examples
        report.examples = examples
        return report
    rng = random.Random(seed)
    counts: Counter[Pair] = Counter()
    steering = Steering(config)
    start = time.perf_counter()
    for i in range(examples):
        try:
            ls = factory() if factory is not None else Lockstep(config)
        except Unsupported as err:  # the configuration: every example would be skipped
            report.skipped[str(err)] += 1
            report.examples = i + 1
            continue
        try:
            run_example(ls, rng, report, max_steps=max_steps, counts=counts,
                        steering=steering)
        except Divergence as err:  # CannotPerform included: a move the driver cannot make
            report.divergences.append(str(err))
            if stop_on_divergence:
                report.examples = i + 1
                break
        report.examples = i + 1
        if progress is not None:
            progress(i + 1, examples)
    report.seconds = time.perf_counter() - start
    report.states_visited, report.states_total = steering.visited(), steering.states
    return report


def text_progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(1, total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


__all__ = [
    "Act",
    "Action",
    "Misdeliver",
    "Move",
    "Pair",
    "Party",
    "Refuse",
    "RefuseCommit",
    "Report",
    "Tamper",
    "deliveries",
    "moves",
    "perform",
    "session",
]
