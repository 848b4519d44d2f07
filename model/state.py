"""The model's state: what every party knows, the network, and the ghost history.

This module owns the shape of a state and the few functional updates actions use.  A state
is a NamedTuple of small tuples and frozensets, so it is hashable, cheap to copy (updates
share every part they do not touch, and frozensets cache their hash) and can be renamed by
the symmetry reduction (model/checker.py).

- `hosts[ds][group]`: the hosting status of a group at an honest DS: absent, active(epoch),
  locked(epoch, exported content) or moved(target) (the tombstone), and while it serves the
  group, the DS it imported the group from (`origin`).
- `nonces[ds][index]`: each honest DS's pool of nonces as a Target DS: unused,
  pending(request), consumed(request, content) or expired(request).
- `clients[client][group]`: an honest client's view: the DS it uses, its epoch, and its
  migration in progress if any: the target it asked (an outstanding MigrationRequest), then
  also the nonce of the response it acted on (a pending migration).
- `network`: every message ever sent, one frozenset per kind.  Receiving never removes a
  message, so any message may be delivered any number of times, in any order, or never.
- `ghost`: records no party holds, read only by the properties: the accepted commits of the
  group's history, the imports, the MigrationInits sources accepted, the migration commits
  fanned out, and the confirmations clients accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .config import NO_NONCE, NONE, Config, Nonce
from .messages import (
    NO_CONTENT,
    NO_REQUEST,
    CommitFanout,
    MigrationAborted,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    TargetMigrationComplete,
    TargetMigrationRejected,
)

# Host phases.
ABSENT, ACTIVE, LOCKED, MOVED = 0, 1, 2, 3
HOST_PHASES = ("absent", "active", "locked", "moved")

# Nonce phases.
UNUSED, PENDING, CONSUMED, EXPIRED = 0, 1, 2, 3
NONCE_PHASES = ("unused", "pending", "consumed", "expired")


class Host(NamedTuple):
    """A group at an honest DS.  `epoch`: the current epoch (active) or the epoch of the
    migration commit (locked); `target`: where it is going (locked) or went (moved);
    `lock`: the MigrationContent exported while locked, else NO_CONTENT; `origin`: while active
    or locked, the source of the MigrationContent it imported the group from (NONE: hosted
    from the start).  A DS knows who signed the content it imported; the proofs use it to
    tell a group the rogue DS made it import (another group with the same id, lockstep
    finding F1) from the group's own lineage."""

    phase: int
    epoch: int
    target: int
    lock: MigrationContent
    origin: int


ABSENT_HOST = Host(ABSENT, NONE, NONE, NO_CONTENT, NONE)


def active(epoch: int, origin: int = NONE) -> Host:
    return Host(ACTIVE, epoch, NONE, NO_CONTENT, origin)


def locked(epoch: int, content: MigrationContent, origin: int) -> Host:
    return Host(LOCKED, epoch, content.response.request.target, content, origin)


def moved(target: int) -> Host:
    return Host(MOVED, NONE, target, NO_CONTENT, NONE)


class NonceRecord(NamedTuple):
    """One nonce of a Target DS.  `request`: the request it was issued for, once issued
    (else NO_REQUEST); `content`: the content imported under it, once consumed (else
    NO_CONTENT)."""

    phase: int
    request: MigrationRequest
    content: MigrationContent


UNUSED_NONCE = NonceRecord(UNUSED, NO_REQUEST, NO_CONTENT)


class ClientView(NamedTuple):
    """An honest client's view of one group.  `target`: the DS it asked to take the group
    (NONE: no migration in progress); `nonce`: the nonce of the response it acted on
    (NO_NONCE while the request is outstanding), as the implementation's PendingMigration
    holds its request and then the nonce."""

    ds: int
    epoch: int
    nonce: Nonce
    target: int

    @property
    def pending(self) -> bool:
        """A pending migration: the client sent its MigrationInit for `nonce`."""
        return self.nonce != NO_NONCE

    @property
    def requested(self) -> bool:
        """An outstanding MigrationRequest to `target`, no response acted on yet."""
        return self.target != NONE and self.nonce == NO_NONCE

    @property
    def in_progress(self) -> bool:
        """A migration in progress: requested or pending."""
        return self.target != NONE


class Network(NamedTuple):
    """Every message ever sent, by kind (the order of messages.MESSAGE_TYPES)."""

    requests: frozenset[MigrationRequest]
    responses: frozenset[MigrationResponse]
    inits: frozenset[MigrationInit]
    contents: frozenset[MigrationContent]
    completes: frozenset[TargetMigrationComplete]
    rejections: frozenset[TargetMigrationRejected]
    confirmations: frozenset[MigrationConfirmation]
    aborts: frozenset[MigrationAborted]
    fanouts: frozenset[CommitFanout]


SLOT: dict[type[Any], int] = {
    MigrationRequest: 0,
    MigrationResponse: 1,
    MigrationInit: 2,
    MigrationContent: 3,
    TargetMigrationComplete: 4,
    TargetMigrationRejected: 5,
    MigrationConfirmation: 6,
    MigrationAborted: 7,
    CommitFanout: 8,
}

EMPTY_NETWORK = Network(*(frozenset() for _ in SLOT))

SLOT_NAMES: tuple[str, ...] = Network._fields


class Commit(NamedTuple):
    """An accepted commit of the group's history: `committer` committed in `epoch`,
    sequenced by `ds`; `aad_target` is the migration target, NONE for a regular commit."""

    group: int
    epoch: int
    ds: int
    committer: int
    aad_target: int


class Import(NamedTuple):
    """`target` imported `content`; `replaced` is the phase the group had at the target
    then (importing a group it already serves starts a second, overlapping owner)."""

    target: int
    content: MigrationContent
    replaced: int


class Start(NamedTuple):
    """A source accepted `init` and locked the group: a migration started."""

    source: int
    init: MigrationInit


class Accepted(NamedTuple):
    """A client accepted `confirmation` while its pending migration was (nonce, target)."""

    client: int
    group: int
    nonce: Nonce
    target: int
    confirmation: MigrationConfirmation


class Ghost(NamedTuple):
    history: frozenset[Commit]
    imports: frozenset[Import]
    reimports: frozenset[Import]
    """Imports that happened a second time."""
    starts: frozenset[Start]
    fanned: frozenset[MigrationContent]
    """Contents whose migration commit the source fanned out."""
    confirmations: frozenset[Accepted]


EMPTY_GHOST = Ghost(frozenset(), frozenset(), frozenset(), frozenset(), frozenset(), frozenset())

SET_NAMES: tuple[str, ...] = (*SLOT_NAMES, *(f"ghost_{name}" for name in Ghost._fields))
"""Every set-valued part of a state by the name the rules use: the network slots, then the
ghost sets prefixed ghost_."""

_SET_INDEX: dict[str, tuple[int, int]] = {
    **{name: (0, i) for i, name in enumerate(SLOT_NAMES)},
    **{f"ghost_{name}": (1, i) for i, name in enumerate(Ghost._fields)},
}


class State(NamedTuple):
    hosts: tuple[tuple[Host, ...], ...]
    nonces: tuple[tuple[NonceRecord, ...], ...]
    clients: tuple[tuple[ClientView, ...], ...]
    network: Network
    ghost: Ghost


def initial_state(config: Config) -> State:
    """Every group active at d0 in epoch 0; every client a member using d0; nothing sent."""
    at_source = tuple(active(0) for _ in range(config.groups))
    elsewhere = tuple(ABSENT_HOST for _ in range(config.groups))
    hosts = (at_source, *(elsewhere for _ in range(1, config.honest_ds)))
    pool = tuple(UNUSED_NONCE for _ in range(config.attempts))
    view = tuple(ClientView(0, 0, NO_NONCE, NONE) for _ in range(config.groups))
    return State(
        hosts=hosts,
        nonces=tuple(pool for _ in range(config.honest_ds)),
        clients=tuple(view for _ in range(config.clients)),
        network=EMPTY_NETWORK,
        ghost=EMPTY_GHOST,
    )


# ---------------------------------------------------------------- functional updates


def _put(row: tuple[Any, ...], index: int, value: Any) -> tuple[Any, ...]:
    return (*row[:index], value, *row[index + 1 :])


_new = tuple.__new__
"""Builds a NamedTuple from its fields without `_replace`'s keyword handling (the
functional updates below run on every transition of the checker)."""


def set_host(state: State, ds: int, group: int, host: Host) -> State:
    hosts = state.hosts
    return _new(State, (_put(hosts, ds, _put(hosts[ds], group, host)), state.nonces,
                        state.clients, state.network, state.ghost))


def set_nonce(state: State, ds: int, index: int, record: NonceRecord) -> State:
    pools = state.nonces
    return _new(State, (state.hosts, _put(pools, ds, _put(pools[ds], index, record)),
                        state.clients, state.network, state.ghost))


def set_view(state: State, client: int, group: int, view: ClientView) -> State:
    views = state.clients
    return _new(State, (state.hosts, state.nonces,
                        _put(views, client, _put(views[client], group, view)),
                        state.network, state.ghost))


def sent(state: State, message: object) -> bool:
    """Whether `message` is in the network."""
    return message in state.network[SLOT[type(message)]]


def send(state: State, *messages: object) -> State:
    """The state with `messages` added to the network (already-sent ones change nothing)."""
    net: list[frozenset[Any]] = list(state.network)
    changed = False
    for m in messages:
        slot = SLOT[type(m)]
        if m not in net[slot]:
            net[slot] = net[slot] | {m}
            changed = True
    if not changed:
        return state
    return _new(State, (state.hosts, state.nonces, state.clients, _new(Network, net),
                        state.ghost))


def record(state: State, **additions: object) -> State:
    """The state with one element added to each named ghost set."""
    ghost = state.ghost
    updates: dict[str, Any] = {}
    for name, item in additions.items():
        current: frozenset[Any] = getattr(ghost, name)
        if item not in current:
            updates[name] = current | {item}
    return state._replace(ghost=ghost._replace(**updates)) if updates else state


def members(state: State, name: str) -> frozenset[Any]:
    """The set `name` of SET_NAMES."""
    part, index = _SET_INDEX[name]
    return (state.network if part == 0 else state.ghost)[index]


def set_reader(name: str) -> Callable[[State], frozenset[Any]]:
    """`members(state, name)` as a function of the state alone, for hot loops."""
    part, index = _SET_INDEX[name]
    if part == 0:
        return lambda state: state.network[index]
    return lambda state: state.ghost[index]


def add_to(state: State, name: str, element: Any) -> State:
    """The state with `element` added to the set `name` of SET_NAMES."""
    part, index = _SET_INDEX[name]
    if part == 0:
        net = state.network
        sent: frozenset[Any] = net[index]
        if element in sent:
            return state
        new_net = (*net[:index], sent | {element}, *net[index + 1:])
        return _new(State, (state.hosts, state.nonces, state.clients, _new(Network, new_net),
                            state.ghost))
    ghost = state.ghost
    recorded: frozenset[Any] = ghost[index]
    if element in recorded:
        return state
    new_ghost = (*ghost[:index], recorded | {element}, *ghost[index + 1:])
    return _new(State, (state.hosts, state.nonces, state.clients, state.network,
                        _new(Ghost, new_ghost)))


def pending_nonce_for_group(state: State, target: int, group: int) -> bool:
    """Whether `target` has a pending nonce issued for a request about `group`."""
    return any(r.phase == PENDING and r.request.group == group for r in state.nonces[target])


def known_nonces(state: State) -> frozenset[Nonce]:
    """Every nonce that appears in a message of the network."""
    net = state.network
    seen: set[Nonce] = {r.nonce for r in net.responses}
    seen.update(i.response.nonce for i in net.inits)
    seen.update(c.response.nonce for c in net.contents)
    seen.update(c.nonce for c in net.confirmations)
    seen.update(a.nonce for a in net.aborts)
    return frozenset(seen)


def describe_host(config: Config, host: Host) -> str:
    from .config import ds_name

    if host.phase == ACTIVE:
        return f"active(e{host.epoch})"
    if host.phase == LOCKED:
        return f"locked(e{host.epoch}->{ds_name(config, host.target)})"
    if host.phase == MOVED:
        return f"moved(->{ds_name(config, host.target)})"
    return "absent"
