"""The safety properties of docs/profile.md section 7, one named predicate each.

This module owns the properties' stable IDs (used by the CLI, the JSON, the tests, the proofs
and the diagrams) and their meaning as predicates over a state, ghost history included.
Each predicate is invariant under renaming interchangeable clients, DSs and groups, so the
checker may evaluate it on canonical states.  `migration_completes` (liveness) is not a state
predicate: model/checker.py decides it on the explicit state graph; its ID lives here so
every table lists it beside the others.

Rogue-signed messages never count as evidence: a property asks whether an honest party
signed something, and in the model only that party can put its id in `signer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .actions import honest_client, honest_ds
from .config import NO_NONCE, Config, source_policy_allows, target_policy_allows
from .messages import MigrationConfirmation, MigrationResponse, TargetMigrationComplete
from .state import ACTIVE, LOCKED, MOVED, State


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
    seen: dict[tuple[int, int], object] = {}
    for commit in state.ghost.history:
        key = (commit.group, commit.epoch)
        if seen.setdefault(key, commit) != commit:
            return False
    return all(i.replaced not in (ACTIVE, LOCKED) for i in state.ghost.imports) and all(
        i.replaced not in (ACTIVE, LOCKED) for i in state.ghost.reimports
    )


def no_fanout_before_ack(config: Config, state: State) -> bool:
    """No fan-out before acknowledgment: a commit carrying MigrationCommitAAD(T) reaches no
    member before the Source DS holds T's valid TargetMigrationComplete for that content."""
    completes = state.network.completes
    for content in state.ghost.fanned:
        target = content.response.request.target
        if TargetMigrationComplete(target, content) not in completes:
            return False
    return True


def nonce_binding(config: Config, state: State) -> bool:
    """Nonce binding: T imports state only under a nonce it issued for that exact request,
    at most once; a MigrationConfirmation is accepted only for the client's own pending
    nonce."""
    responses = state.network.responses
    used: dict[tuple[int, tuple[int, int]], object] = {}
    for target, content, _ in state.ghost.imports:
        response = content.response
        if MigrationResponse(target, response.request, response.nonce) not in responses:
            return False
        if used.setdefault((target, response.nonce), content) != content:
            return False
    if state.ghost.reimports:
        return False
    return all(a.nonce != NO_NONCE and a.confirmation.nonce == a.nonce
               for a in state.ghost.confirmations)


def state_integrity(config: Config, state: State) -> bool:
    """Integrity: the state T imports is exactly the state S exported (hash binding).

    An honest source exports exactly the contents it signs, so an import of a content for a
    request naming an honest source must carry that source's signature."""
    for _, content, _ in state.ghost.imports:
        source = content.response.request.source
        if honest_ds(config, source) and (
            content.signer != source or content not in state.network.contents
        ):
            return False
    return True


def authorized_migration(config: Config, state: State) -> bool:
    """Authorization: no migration starts without a current member's valid signature and
    both policies' consent."""
    for source, init in state.ghost.starts:
        request = init.response.request
        if not honest_client(config, init.signer) or init.signer != request.client:
            return False
        if not source_policy_allows(config, source, init.signer):
            return False
        if not target_policy_allows(config, request.target, request.client):
            return False
    return True


def export_consent(config: Config, state: State) -> bool:
    """Export consent: the Source DS sends a group's state only to a Target DS that signed a
    MigrationResponse for exactly that request."""
    responses = state.network.responses
    for content in state.network.contents:
        if not honest_ds(config, content.signer):
            continue
        response = content.response
        request = response.request
        if MigrationResponse(request.target, request, response.nonce) not in responses:
            return False
    return True


def confirmation_matches(config: Config, state: State) -> bool:
    """A client accepts a MigrationConfirmation only for its own pending migration."""
    for accepted in state.ghost.confirmations:
        c = accepted.confirmation
        if accepted.nonce == NO_NONCE or c.nonce != accepted.nonce:
            return False
        if c.target != accepted.target or c.group != accepted.group:
            return False
    return True


def no_group_ever_moves(config: Config, state: State) -> bool:
    """Negative control, deliberately false: no group is ever moved away from a DS."""
    return all(host.phase != MOVED for row in state.hosts for host in row)


Predicate = Callable[[Config, State], bool]


@dataclass(frozen=True)
class Property:
    id: str
    predicate: Predicate
    statement: str


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
)

LIVENESS_ID = "migration_completes"
LIVENESS_STATEMENT = (
    "Liveness: with fair delivery, every migration the target accepted completes (the "
    "source keeps a tombstone and the initiating client has moved past the migration "
    "commit); bounded configurations only."
)

PROPERTY_IDS: tuple[str, ...] = (*(p.id for p in PROPERTIES), LIVENESS_ID)

NEGATIVE_CONTROL = _prop(no_group_ever_moves)

_BY_ID = {p.id: p for p in (*PROPERTIES, NEGATIVE_CONTROL)}


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
