"""The safety properties of docs/profile.md section 7, each stated once.

This module owns the properties' stable IDs (used by the CLI, the JSON, the tests, the proofs
and the diagrams) and their meaning.  Each is a conjunction of `Clause`s of one shape: for
all x1..xn, each drawn from a set of the state or an integer range (model/vocabulary.RANGES),
body, written in the rules' vocabulary (model/vocabulary.py).  The concrete reading evaluates
the clauses here (the checker's predicates); proofs/properties.py reads the same clauses as
quantified Z3 formulas.  Each predicate is invariant under renaming interchangeable clients,
DSs and groups, so the checker may evaluate it on canonical states.  `migration_completes`
(liveness) is not a state predicate: model/checker.py decides it on the explicit state
graph; its ID lives here so every table lists it beside the others.

Rogue-signed messages never count as evidence: a property asks whether an honest party
signed something, and in the model only that party can put its id in `signer`.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .actions import honest_client, honest_ds, reading
from .compiled import compiled_body
from .config import NO_NONCE, NONE, Config
from .messages import MigrationConfirmation, MigrationResponse, TargetMigrationComplete
from .state import ABSENT, ACTIVE, LOCKED, MOVED, SET_NAMES, State, set_reader
from .vocabulary import GROUPS, HONEST_CLIENTS, HONEST_DS, RANGES, StateView, concrete_domain

Body = Callable[..., Any]
"""body(x, s, *variables) -> truth value, in either reading of the vocabulary."""


@dataclass(frozen=True)
class Clause:
    """For all variables, each ranging over a set of the state or an integer range: body."""

    over: tuple[str, ...]
    body: Body
    reads: tuple[str, ...] | None = ()
    """The parts of the state the body reads besides its variables: sets of SET_NAMES and
    tables of TABLES (None: unknown).  The concrete reading caches a clause's value per
    Config on those parts and its domains: states share most of their parts, so most
    evaluations are look-ups."""

    def __post_init__(self) -> None:
        parts = () if self.reads is None else tuple(
            d for d in (*self.over, *self.reads) if d in SET_NAMES or d in TABLES)
        object.__setattr__(self, "_parts", tuple(_part(d) for d in parts))
        object.__setattr__(self, "_over_sets",
                           tuple(set_reader(d) for d in self.over if d in SET_NAMES))

    def holds(self, config: Config, state: State) -> bool:
        """The concrete reading: every instance over the state's finite sets holds."""
        for over in self._over_sets:  # type: ignore[attr-defined]
            if not over(state):
                return True  # no instance at all (most ghost sets are empty most of the time)
        key: tuple[Any, ...] | None = None
        if self.reads is not None:
            # keyed by the parts' ids, the entry keeping the parts (so no id is reused while
            # it lives): the checker stores states with equal parts made one object
            # (checker.Interner), and hashing the tables anew for every clause cost more
            # than most clauses
            parts = [part(state) for part in self._parts]  # type: ignore[attr-defined]
            key = (id(self), *map(id, parts))
            cache: dict[Any, tuple[bool, Any]] = config.__dict__.setdefault("_clauses", {})
            hit = cache.get(key)
            if hit is not None:
                return hit[0]
        x = reading(config)
        view = StateView(state)
        body = compiled_body(self.body)
        domains = [concrete_domain(config, state, d) for d in self.over]
        value = all(body(x, view, *xs) for xs in itertools.product(*domains))
        if key is not None:
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            cache[key] = (value, parts)
        return value


_CACHE_LIMIT = 200_000


def _part(name: str) -> Callable[[State], Any]:
    """Reads the set or table `name` of a State (a clause's cache key is made of these)."""
    if name in TABLES:
        return operator.attrgetter(name)
    return set_reader(name)

TABLES = ("hosts", "nonces", "clients")
"""The tables of a model State a clause may read (Clause.reads)."""


def _distinct_commits(x: Any, s: Any, a: Any, b: Any) -> Any:
    return x.implies(x.all(a.group == b.group, a.epoch == b.epoch), a == b)


def _not_replacing(x: Any, s: Any, i: Any) -> Any:
    return x.all(i.replaced != ACTIVE, i.replaced != LOCKED)


def _acked(x: Any, s: Any, c: Any) -> Any:
    target = c.response.request.target
    return s.has("completes", x.make(TargetMigrationComplete, target, c))


def _issued(x: Any, s: Any, i: Any) -> Any:
    r = i.content.response
    return s.has("responses", x.make(MigrationResponse, i.target, r.request, r.nonce))


def _once(x: Any, s: Any, a: Any, b: Any) -> Any:
    same = x.all(a.target == b.target, a.content.response.nonce == b.content.response.nonce)
    return x.implies(same, a.content == b.content)


def _never(x: Any, s: Any, i: Any) -> Any:
    return x.false


def _own_nonce(x: Any, s: Any, a: Any) -> Any:
    return x.all(a.nonce != x.nonce(*NO_NONCE), a.confirmation.nonce == a.nonce)


def _integrity(x: Any, s: Any, i: Any) -> Any:
    c = i.content
    source = c.response.request.source
    return x.implies(x.u.honest_ds_(source), x.all(c.signer == source, s.has("contents", c)))


def _authorized(x: Any, s: Any, st: Any) -> Any:
    init = st.init
    request = init.response.request
    return x.all(x.u.honest_client(init.signer), init.signer == request.client,
                 x.u.source_allows(init.signer), x.u.target_allows(request.client))


def _consented(x: Any, s: Any, c: Any) -> Any:
    request = c.response.request
    issued = x.make(MigrationResponse, request.target, request, c.response.nonce)
    return x.implies(x.u.honest_ds_(c.signer), s.has("responses", issued))


def _matches(x: Any, s: Any, a: Any) -> Any:
    c = a.confirmation
    return x.all(a.nonce != x.nonce(*NO_NONCE), c.nonce == a.nonce, c.target == a.target,
                 c.group == a.group)


def _serving(x: Any, host: Any) -> Any:
    """The host serves the group as part of its lineage: active or locked, and not a copy
    the rogue DS had it import under the same id (another group: finding F1)."""
    return x.all(x.one_of(host.phase, ACTIVE, LOCKED), host.origin != x.u.R)


def _at_a_lineage_host(x: Any, s: Any, c: Any, g: Any) -> Any:
    v = s.view(c, g)
    host = s.host(v.ds, g)
    copy = x.all(x.one_of(host.phase, ACTIVE, LOCKED), host.origin == x.u.R)
    return x.all(host.phase != ABSENT, x.no(copy),
                 x.implies(_serving(x, host), v.epoch <= host.epoch))


def _behind_every_host(x: Any, s: Any, c: Any, d: Any, g: Any) -> Any:
    host = s.host(d, g)
    return x.implies(_serving(x, host), s.view(c, g).epoch <= host.epoch)


def _along_the_history(x: Any, s: Any, c: Any, g: Any, h: Any) -> Any:
    """A member past the group's commit `h` went where `h` leads: the same DS for a regular
    commit, the target its AAD names for a migration commit."""
    v = s.view(c, g)
    leads = x.implies(h.aad_target == NONE, v.ds == h.ds)
    moves = x.implies(h.aad_target != NONE, v.ds == h.aad_target)
    return x.implies(x.all(h.group == g, h.epoch + 1 == v.epoch), x.all(leads, moves))


def _served(x: Any, s: Any, g: Any) -> Any:
    """Some honest DS serves the group (active or locked), or one handed it to the rogue DS
    (which a compromised target may then drop: not this protocol's to prevent)."""
    def serves(d: Any) -> Any:
        host = s.host(d, g)
        return x.any(x.one_of(host.phase, ACTIVE, LOCKED),
                     x.all(host.phase == MOVED, host.target == x.u.R))

    return x.u.some_ds(serves)


def _handed_over(x: Any, s: Any, d: Any, g: Any) -> Any:
    """A DS that moved the group to an honest target did so while that target serves it (or
    has since handed it on)."""
    host = s.host(d, g)
    there = s.host(host.target, g)
    honest_target = x.all(host.target >= 0, host.target != x.u.R)
    return x.implies(x.all(host.phase == MOVED, honest_target),
                     x.one_of(there.phase, ACTIVE, LOCKED, MOVED))


def _never_moved(x: Any, s: Any, d: Any, g: Any) -> Any:
    return s.host(d, g).phase != MOVED


CLAUSES: dict[str, tuple[Clause, ...]] = {
    "single_owner": (
        Clause(("ghost_history", "ghost_history"), _distinct_commits),
        Clause(("ghost_imports",), _not_replacing),
        Clause(("ghost_reimports",), _not_replacing),
    ),
    "no_fanout_before_ack": (Clause(("ghost_fanned",), _acked, ("completes",)),),
    "nonce_binding": (
        Clause(("ghost_imports",), _issued, ("responses",)),
        Clause(("ghost_imports", "ghost_imports"), _once),
        Clause(("ghost_reimports",), _never),
        Clause(("ghost_confirmations",), _own_nonce),
    ),
    "state_integrity": (Clause(("ghost_imports",), _integrity, ("contents",)),),
    "authorized_migration": (Clause(("ghost_starts",), _authorized),),
    "export_consent": (Clause(("contents",), _consented, ("responses",)),),
    "confirmation_matches": (Clause(("ghost_confirmations",), _matches),),
    "members_follow_owner": (
        Clause((HONEST_CLIENTS, GROUPS), _at_a_lineage_host, ("clients", "hosts")),
        Clause((HONEST_CLIENTS, HONEST_DS, GROUPS), _behind_every_host, ("clients", "hosts")),
        Clause((HONEST_CLIENTS, GROUPS, "ghost_history"), _along_the_history, ("clients",)),
    ),
    "no_group_lost": (
        Clause((GROUPS,), _served, ("hosts",)),
        Clause((HONEST_DS, GROUPS), _handed_over, ("hosts",)),
    ),
    "no_group_ever_moves": (Clause((HONEST_DS, GROUPS), _never_moved, None),),
    "target_never_imports": (Clause(("ghost_imports",), _never),),
}
"""Each property (and negative control) as its clauses: the one statement both readings
use."""


def _holds(pid: str, config: Config, state: State) -> bool:
    for clause in CLAUSES[pid]:  # noqa: SIM110 - no generator per state on the hot path
        if not clause.holds(config, state):
            return False
    return True


def single_owner(config: Config, state: State) -> bool:
    """Single owner: for every group and epoch, at most one DS ever sequences a commit; no
    two DSs serve the same group at overlapping epochs; the group's commit history is one
    line.

    Checked on the ghost history of accepted commits: regular commits sequenced by an honest
    DS, and a migration commit once it takes effect (the target imports the state after it,
    or the source fans it out): at most one commit per (group, epoch).  And on the imports:
    an import makes the target serve the group from the imported epoch on, so importing a
    group the target already serves (active or locked) makes two owners of overlapping
    epochs at one DS."""
    return _holds("single_owner", config, state)


def no_fanout_before_ack(config: Config, state: State) -> bool:
    """No fan-out before acknowledgment: a commit carrying MigrationCommitAAD(T) reaches no
    member before the Source DS holds T's valid TargetMigrationComplete for that content."""
    return _holds("no_fanout_before_ack", config, state)


def nonce_binding(config: Config, state: State) -> bool:
    """Nonce binding: T imports state only under a nonce it issued for that exact request,
    at most once; a MigrationConfirmation is accepted only for the client's own pending
    nonce."""
    return _holds("nonce_binding", config, state)


def state_integrity(config: Config, state: State) -> bool:
    """Integrity: the state T imports is exactly the state S exported (hash binding).

    An honest source exports exactly the contents it signs, so an import of a content for a
    request naming an honest source must carry that source's signature."""
    return _holds("state_integrity", config, state)


def authorized_migration(config: Config, state: State) -> bool:
    """Authorization: no migration starts without a current member's valid signature and
    both policies' consent."""
    return _holds("authorized_migration", config, state)


def export_consent(config: Config, state: State) -> bool:
    """Export consent: the Source DS sends a group's state only to a Target DS that signed a
    MigrationResponse for exactly that request."""
    return _holds("export_consent", config, state)


def confirmation_matches(config: Config, state: State) -> bool:
    """A client accepts a MigrationConfirmation only for its own pending migration."""
    return _holds("confirmation_matches", config, state)


def members_follow_owner(config: Config, state: State) -> bool:
    """Members follow the owner: every member stands at a DS that holds the group (never at
    a copy the rogue DS planted under the same id), is never ahead of a DS serving the
    group, and went where the group's commit before its epoch leads (the same DS after a
    regular commit, the target after a migration commit).

    Checked on the client views, the hosting tables and the ghost history: a member that
    took a forged or stale commit, took the migration commit for a regular one, or switched
    on a confirmation that was not its DS's, stands at an epoch no DS serving the group has
    reached, at a DS that never held it, or off the group's one line of commits."""
    return _holds("members_follow_owner", config, state)


def no_group_lost(config: Config, state: State) -> bool:
    """No group lost: no group is ever left with no DS serving it, crashes and restarts
    included; a source hands a group over only while the target serves it.

    A group is served by an honest DS that hosts it (active or locked), or by the rogue DS
    once an honest one handed it over (a compromised target can drop a group it accepted:
    not this protocol's to prevent; the hand-over itself waits for the target's signed
    acknowledgment, which no_fanout_before_ack checks).  A DS that moved the group to an
    honest target did so only while that target serves it: the target is active or locked,
    or has handed the group on in its turn."""
    return _holds("no_group_lost", config, state)


def no_group_ever_moves(config: Config, state: State) -> bool:
    """Negative control, deliberately false: no group is ever moved away from a DS."""
    return _holds("no_group_ever_moves", config, state)


def target_never_imports(config: Config, state: State) -> bool:
    """Negative control, deliberately false: no Target DS ever imports a group."""
    return _holds("target_never_imports", config, state)


Predicate = Callable[[Config, State], bool]


@dataclass(frozen=True)
class Property:
    id: str
    predicate: Predicate
    statement: str

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return CLAUSES[self.id]


def _prop(predicate: Predicate) -> Property:
    doc = (predicate.__doc__ or "").strip().split("\n\n")[0]
    return Property(predicate.__name__, predicate, " ".join(doc.split()))


PROPERTIES: tuple[Property, ...] = (
    _prop(single_owner),
    _prop(no_fanout_before_ack),
    _prop(nonce_binding),
    _prop(state_integrity),
    _prop(authorized_migration),
    _prop(export_consent),
    _prop(confirmation_matches),
    _prop(members_follow_owner),
    _prop(no_group_lost),
)

LIVENESS_ID = "migration_completes"
LIVENESS_STATEMENT = (
    "Liveness: with fair delivery, every migration the target accepted completes (the "
    "source keeps a tombstone and the initiating client has moved past the migration "
    "commit); bounded configurations only."
)

PROPERTY_IDS: tuple[str, ...] = (*(p.id for p in PROPERTIES), LIVENESS_ID)

NEGATIVE_CONTROL = _prop(no_group_ever_moves)
NEGATIVE_CONTROLS: tuple[Property, ...] = (NEGATIVE_CONTROL, _prop(target_never_imports))

_BY_ID = {p.id: p for p in (*PROPERTIES, *NEGATIVE_CONTROLS)}


def footprint(p: Property) -> frozenset[str] | None:
    """The parts of a State (tables, sets of SET_NAMES) `p` reads, or None if some clause
    does not say (Clause.reads); states equal on them get the same verdict."""
    if p.id not in CLAUSES:
        return None
    out: set[str] = set()
    for clause in CLAUSES[p.id]:
        if clause.reads is None:
            return None
        out.update(d for d in (*clause.over, *clause.reads) if d in SET_NAMES or d in TABLES)
        if any(d not in SET_NAMES and d not in TABLES and d not in RANGES
               for d in (*clause.over, *clause.reads)):
            return None
    return frozenset(out)


def property_by_id(pid: str) -> Property:
    return _BY_ID[pid]


def violated(config: Config, state: State,
             properties: tuple[Property, ...] = PROPERTIES) -> list[str]:
    """IDs of the safety properties `state` violates."""
    return [p.id for p in properties if not p.predicate(config, state)]


def migrations_open(config: Config, state: State) -> bool:
    """Whether some migration a target accepted (imported, from an honest source) has not
    completed: its source has not sent the MigrationConfirmation for it, or its initiator
    has not moved past the migration commit.  Both only grow, so once every accepted
    migration completed it stays so until a new one is accepted."""
    confirmations = state.network.confirmations
    for _, content, _ in state.ghost.imports:
        request = content.response.request
        if not honest_ds(config, request.source):
            continue
        done = MigrationConfirmation(
            request.source, request.target, content.response.nonce, request.group
        )
        if done not in confirmations:
            return True
        if honest_client(config, request.client):
            view = state.clients[request.client][request.group]
            if view.epoch <= request.epoch:
                return True
    return False
