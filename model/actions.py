"""Every rule of the protocol: the ACTIONS table of named, parameterised, guarded transitions.

This module is the one place that says what a party may do and what happens when it does
(style.md item 2).  Each action is an `ActionSpec`: a name, parameter names, the candidate
parameter values in a state, a guard and an effect, one small function each.  The explicit
checker, the lockstep test, the Z3 encoding and the diagrams all iterate `ACTIONS`; nothing
else states a rule.

Receiving actions take their message from the network, a set: any message ever sent may be
delivered again, duplicated, reordered or lost.  They may also take a message the rogue
client X or the rogue DS R can produce (model/adversary.py): that is how the adversary acts,
so forged messages appear in traces as the argument of the honest step that receives them,
with the rogue's id as signer.  Each design option of model/config.py switches off exactly
the check it names; look for `config.options`.

Two actions are stutters kept because the implementation has them: `source_retry` re-sends
the same MigrationContent and `target_reacknowledge` answers it with the same
TargetMigrationComplete; on a set network neither changes the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import adversary
from .config import (
    NO_NONCE,
    NONE,
    Config,
    source_policy_allows,
    target_policy_allows,
)
from .messages import (
    CommitFanout,
    GroupState,
    MigrationAborted,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    TargetMigrationComplete,
    TargetMigrationRejected,
    message_from_json,
    message_to_json,
)
from .state import (
    ACTIVE,
    CONSUMED,
    EXPIRED,
    LOCKED,
    MOVED,
    PENDING,
    SLOT,
    UNUSED,
    Accepted,
    ClientView,
    Commit,
    Import,
    NonceRecord,
    Start,
    State,
    active,
    locked,
    moved,
    pending_nonce_for_group,
    record,
    send,
    set_host,
    set_nonce,
    set_view,
)


class Action(NamedTuple):
    """One step of a trace: the action's name and its arguments as (name, value) pairs."""

    name: str
    args: tuple[tuple[str, Any], ...]

    def arg(self, key: str) -> Any:
        for k, v in self.args:
            if k == key:
                return v
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        return {"action": self.name, "args": {k: message_to_json(v) for k, v in self.args}}

    @staticmethod
    def from_json(entry: Mapping[str, Any]) -> Action:
        args = entry.get("args", {})
        return Action(
            str(entry["action"]), tuple((k, message_from_json(v)) for k, v in args.items())
        )


@dataclass(frozen=True)
class ActionSpec:
    """A named, parameterised, guarded transition."""

    name: str
    role: str
    """Who acts: "client", "source", "target" or "adversary"."""
    params: tuple[str, ...]
    candidates: Callable[[Config, State], Iterable[tuple[Any, ...]]]
    """A superset of the parameter values for which the guard can hold."""
    guard: Callable[..., bool]
    effect: Callable[..., State]
    forged: bool
    """Whether the message parameter may also be one the adversary forges."""
    receives: type[Any] | None = None
    parties: Callable[..., Iterable[tuple[Any, ...]]] | None = None
    """For receiving actions: the parameter tuples (ending in the message) that would
    receive a given message."""
    accepts: Callable[..., bool] | None = None
    """For receiving actions: the guard minus "the message is in the network"."""
    doc: str = ""


# ---------------------------------------------------------------- shared checks


def honest_client(config: Config, client: int) -> bool:
    return 0 <= client < config.clients


def honest_ds(config: Config, ds: int) -> bool:
    return 0 <= ds < config.honest_ds


def response_authentic(config: Config, response: MigrationResponse) -> bool:
    """Signed by the request's target (nobody can check it when responses are unsigned)."""
    return config.options.unsigned_response or response.signer == response.request.target


def _view(state: State, client: int, group: int) -> ClientView:
    return state.clients[client][group]


def _first_unused(state: State, target: int) -> int:
    for index, rec in enumerate(state.nonces[target]):
        if rec.phase == UNUSED:
            return index
    return NONE


def _nonce_record(config: Config, state: State, target: int, content: MigrationContent) -> (
    NonceRecord | None
):
    """The target's record of the nonce `content` carries, if its response is authentic."""
    nonce = content.response.nonce
    if nonce[0] != target or not response_authentic(config, content.response):
        return None
    return state.nonces[target][nonce[1]]


# ---------------------------------------------------------------- clients


def client_request_candidates(config: Config, state: State) -> Iterator[tuple[int, int, int]]:
    for client in range(config.clients):
        for group in range(config.groups):
            for target in range(config.honest_ds):
                yield client, group, target


def client_request_guard(config: Config, state: State, client: int, group: int, target: int) -> (
    bool
):
    """A client with no migration in progress asks an honest DS other than its own to take
    the group from the next epoch on (again, after an aborted attempt)."""
    v = _view(state, client, group)
    return not v.in_progress and target != v.ds and v.epoch < config.max_epoch


def client_request_effect(config: Config, state: State, client: int, group: int, target: int) -> (
    State
):
    """Remember the outstanding request (its target) and send it."""
    v = _view(state, client, group)
    state = set_view(state, client, group, ClientView(v.ds, v.epoch, NO_NONCE, target))
    return send(state, MigrationRequest(client, v.ds, target, group, v.epoch))


def client_init_parties(config: Config, state: State, m: MigrationResponse) -> Iterator[
    tuple[int, int, MigrationResponse]
]:
    if honest_client(config, m.request.client):
        yield m.request.client, m.request.group, m


def client_init_accepts(config: Config, state: State, client: int, group: int,
                        response: MigrationResponse) -> bool:
    """A response to exactly the client's outstanding request, signed by its target."""
    r = response.request
    v = _view(state, client, group)
    return (
        r.client == client
        and r.group == group
        and v.requested
        and r.target == v.target
        and r.source == v.ds
        and r.epoch == v.epoch
        and response_authentic(config, response)
    )


def client_init_effect(config: Config, state: State, client: int, group: int,
                       response: MigrationResponse) -> State:
    """Send MigrationInit together with the migration commit (AAD names the target)."""
    r = response.request
    v = _view(state, client, group)
    state = set_view(state, client, group, ClientView(v.ds, v.epoch, response.nonce, r.target))
    return send(state, MigrationInit(client, response, v.epoch, r.target))


def _each_client(config: Config, state: State, m: Any) -> Iterator[tuple[int, int, Any]]:
    for client in range(config.clients):
        yield client, m.group, m


def client_confirm_accepts(config: Config, state: State, client: int, group: int,
                           m: MigrationConfirmation) -> bool:
    """Signed by the client's current DS, for its own pending nonce and target."""
    v = _view(state, client, group)
    if m.group != group or m.signer != v.ds or v.epoch >= config.max_epoch:
        return False
    if config.options.confirmation_without_nonce_check:
        return True
    return v.pending and m.nonce == v.nonce and m.target == v.target


def client_confirm_effect(config: Config, state: State, client: int, group: int,
                          m: MigrationConfirmation) -> State:
    """Switch to the target at the epoch after the migration commit."""
    v = _view(state, client, group)
    state = set_view(state, client, group, ClientView(m.target, v.epoch + 1, NO_NONCE, NONE))
    return record(state, confirmations=Accepted(client, group, v.nonce, v.target, m))


def client_abort_accepts(config: Config, state: State, client: int, group: int,
                         m: MigrationAborted) -> bool:
    """The client's DS signed that the migration with its pending nonce is off."""
    v = _view(state, client, group)
    return m.group == group and v.pending and m.signer == v.ds and m.nonce == v.nonce


def client_abort_effect(config: Config, state: State, client: int, group: int,
                        m: MigrationAborted) -> State:
    v = _view(state, client, group)
    return set_view(state, client, group, ClientView(v.ds, v.epoch, NO_NONCE, NONE))


def member_advance_accepts(config: Config, state: State, client: int, group: int,
                           m: CommitFanout) -> bool:
    """A regular commit fanned out by the member's DS for the member's epoch."""
    v = _view(state, client, group)
    return m.aad_target == NONE and m.group == group and m.ds == v.ds and m.epoch == v.epoch


def member_advance_effect(config: Config, state: State, client: int, group: int,
                          m: CommitFanout) -> State:
    v = _view(state, client, group)
    return set_view(state, client, group, ClientView(v.ds, v.epoch + 1, NO_NONCE, NONE))


def member_switch_accepts(config: Config, state: State, client: int, group: int,
                          m: CommitFanout) -> bool:
    """The migration commit fanned out by the member's DS for the member's epoch."""
    v = _view(state, client, group)
    return m.aad_target != NONE and m.group == group and m.ds == v.ds and m.epoch == v.epoch


def member_switch_effect(config: Config, state: State, client: int, group: int,
                         m: CommitFanout) -> State:
    v = _view(state, client, group)
    return set_view(state, client, group, ClientView(m.aad_target, v.epoch + 1, NO_NONCE, NONE))


def commit_candidates(config: Config, state: State) -> Iterator[tuple[int, int]]:
    for client in range(config.clients):
        for group in range(config.groups):
            yield client, group


def commit_at_current_ds_guard(config: Config, state: State, client: int, group: int) -> bool:
    """The member's DS sequences a commit only if the group is active at the member's epoch
    and not locked (no_epoch_check: locked or not)."""
    v = _view(state, client, group)
    if v.epoch >= config.max_epoch:
        return False
    host = state.hosts[v.ds][group]
    if host.epoch != v.epoch:
        return False
    if config.options.no_epoch_check:
        return host.phase in (ACTIVE, LOCKED)
    return host.phase == ACTIVE


def commit_at_current_ds_effect(config: Config, state: State, client: int, group: int) -> State:
    v = _view(state, client, group)
    host = state.hosts[v.ds][group]
    if host.phase == ACTIVE:
        state = set_host(state, v.ds, group, active(v.epoch + 1, host.origin))
    state = set_view(state, client, group, ClientView(v.ds, v.epoch + 1, NO_NONCE, NONE))
    state = send(state, CommitFanout(v.ds, group, v.epoch, client, NONE))
    return record(state, history=Commit(group, v.epoch, v.ds, client, NONE))


# ---------------------------------------------------------------- the source DS


def source_lock_parties(config: Config, state: State, m: MigrationInit) -> Iterator[
    tuple[int, MigrationInit]
]:
    source = m.response.request.source
    if honest_ds(config, source):
        yield source, m


def _export(source: int, init: MigrationInit) -> MigrationContent:
    r = init.response.request
    return MigrationContent(source, init.response, GroupState(r.group, r.epoch + 1))


def source_lock_accepts(config: Config, state: State, source: int, m: MigrationInit) -> bool:
    """MigrationInit with the migration commit for the group's current epoch, AAD naming the
    request's target, signed by a current member who is the requester, allowed by the source
    policy, with a response signed by the target."""
    opts = config.options
    r = m.response.request
    if r.source != source or r.target == source or r.epoch >= config.max_epoch:
        return False
    if m.commit_epoch != r.epoch or m.aad_target != r.target:
        return False
    host = state.hosts[source][r.group]
    if opts.no_epoch_check:
        if host.phase not in (ACTIVE, LOCKED) or host.lock == (_export(source, m),):
            return False
    elif host.phase != ACTIVE or host.epoch != r.epoch:
        return False
    if m.signer != r.client:
        return False
    if not opts.unsigned_init and not honest_client(config, m.signer):
        return False
    return source_policy_allows(config, source, m.signer) and response_authentic(
        config, m.response
    )


def source_lock_effect(config: Config, state: State, source: int, m: MigrationInit) -> State:
    """Lock the group with this commit and send the exported state to the target."""
    r = m.response.request
    content = _export(source, m)
    origin = state.hosts[source][r.group].origin
    state = set_host(state, source, r.group, locked(r.epoch, content, origin))
    state = send(state, content)
    state = record(state, starts=Start(source, m))
    if config.options.fanout_before_ack:
        state = send(state, CommitFanout(source, r.group, r.epoch, m.signer, r.target))
        state = record(
            state, fanned=content, history=Commit(r.group, r.epoch, source, m.signer, r.target)
        )
    return state


def _signed_by_source(config: Config, state: State, m: Any) -> Iterator[tuple[int, Any]]:
    source = m.content.signer
    if honest_ds(config, source):
        yield source, m


def source_fanout_accepts(config: Config, state: State, source: int,
                          m: TargetMigrationComplete) -> bool:
    """The target's TargetMigrationComplete for exactly the content this source is locked on."""
    host = state.hosts[source][m.content.response.request.group]
    return host.phase == LOCKED and host.lock[0] == m.content and m.signer == host.target


def source_fanout_effect(config: Config, state: State, source: int,
                         m: TargetMigrationComplete) -> State:
    """Fan the migration commit out, confirm to the client, keep a tombstone."""
    content = m.content
    r = content.response.request
    host = state.hosts[source][r.group]
    state = set_host(state, source, r.group, moved(host.target))
    state = send(
        state,
        CommitFanout(source, r.group, host.epoch, r.client, host.target),
        MigrationConfirmation(source, host.target, content.response.nonce, r.group),
    )
    return record(
        state, fanned=content, history=Commit(r.group, host.epoch, source, r.client, host.target)
    )


def locked_candidates(config: Config, state: State) -> Iterator[tuple[int, int]]:
    for source in range(config.honest_ds):
        for group in range(config.groups):
            if state.hosts[source][group].phase == LOCKED:
                yield source, group


def source_retry_guard(config: Config, state: State, source: int, group: int) -> bool:
    """A locked source re-sends its MigrationContent until acknowledged or rejected."""
    return state.hosts[source][group].phase == LOCKED


def source_retry_effect(config: Config, state: State, source: int, group: int) -> State:
    return send(state, state.hosts[source][group].lock[0])


def source_unlock_accepts(config: Config, state: State, source: int,
                          m: TargetMigrationRejected) -> bool:
    """The target's signed rejection of exactly the content this source is locked on."""
    host = state.hosts[source][m.content.response.request.group]
    return host.phase == LOCKED and host.lock[0] == m.content and m.signer == host.target


def _unlock(state: State, source: int, group: int) -> State:
    host = state.hosts[source][group]
    content = host.lock[0]
    state = set_host(state, source, group, active(host.epoch, host.origin))
    return send(state, MigrationAborted(source, group, content.response.nonce))


def source_unlock_effect(config: Config, state: State, source: int,
                         m: TargetMigrationRejected) -> State:
    """Unlock the group and tell the client the migration is off."""
    return _unlock(state, source, m.content.response.request.group)


def source_timeout_guard(config: Config, state: State, source: int, group: int) -> bool:
    """Variant unlock_on_timeout only: time passes and the source gives up."""
    return config.options.unlock_on_timeout and state.hosts[source][group].phase == LOCKED


def source_timeout_effect(config: Config, state: State, source: int, group: int) -> State:
    return _unlock(state, source, group)


# ---------------------------------------------------------------- the target DS


def target_respond_parties(config: Config, state: State, m: MigrationRequest) -> Iterator[
    tuple[int, MigrationRequest]
]:
    if honest_ds(config, m.target):
        yield m.target, m


def target_respond_accepts(config: Config, state: State, target: int,
                           m: MigrationRequest) -> bool:
    """Target policy allows the client, the group id is neither hosted, pending nor
    tombstoned here (a tombstone yields only to the DS it names), and a fresh nonce is
    left."""
    if m.target != target or m.source == target or m.epoch >= config.max_epoch:
        return False
    if not target_policy_allows(config, target, m.client):
        return False
    if not config.options.no_group_id_uniqueness:
        host = state.hosts[target][m.group]
        if host.phase in (ACTIVE, LOCKED):
            return False
        # A tombstone keeps the group id: late messages are redirected, and a lagging member
        # must never find another group of that id here.  Only the DS the tombstone names
        # can bring the group back.  (Without this, the model found a fork at epoch 2.)
        if host.phase == MOVED and host.target != m.source:
            return False
        if pending_nonce_for_group(state, target, m.group):
            return False
    return _first_unused(state, target) != NONE


def target_respond_effect(config: Config, state: State, target: int,
                          m: MigrationRequest) -> State:
    """Issue the next fresh nonce, bound to exactly this request."""
    index = _first_unused(state, target)
    state = set_nonce(state, target, index, NonceRecord(PENDING, (m,), ()))
    return send(state, MigrationResponse(target, m, (target, index)))


def _to_target(config: Config, state: State, m: MigrationContent) -> Iterator[
    tuple[int, MigrationContent]
]:
    target = m.response.request.target
    if honest_ds(config, target):
        yield target, m


def _content_signed(config: Config, m: MigrationContent) -> bool:
    return config.options.unsigned_content or m.signer == m.response.request.source


def target_import_accepts(config: Config, state: State, target: int,
                          m: MigrationContent) -> bool:
    """Well-formed state, signed by the request's source, target policy, and a response this
    target signed whose nonce it issued for exactly that request and is still pending."""
    r = m.response.request
    if r.target != target or r.source == target:
        return False
    if m.state != GroupState(r.group, r.epoch + 1) or not _content_signed(config, m):
        return False
    if not target_policy_allows(config, target, r.client):
        return False
    rec = _nonce_record(config, state, target, m)
    if rec is None or rec.request != (r,):
        return False
    # no_nonce_check: a response it signed is enough, whatever became of the nonce
    return config.options.no_nonce_check or rec.phase == PENDING


def target_import_effect(config: Config, state: State, target: int,
                         m: MigrationContent) -> State:
    """Consume the nonce, host the group from the epoch after the commit, acknowledge."""
    r = m.response.request
    replaced = state.hosts[target][r.group].phase
    rec = _nonce_record(config, state, target, m)
    if (
        rec is not None
        and rec.phase == PENDING
        and rec.request == (r,)
        and not config.options.nonce_reuse
    ):
        state = set_nonce(state, target, m.response.nonce[1], NonceRecord(CONSUMED, (r,), (m,)))
    state = set_host(state, target, r.group, active(r.epoch + 1, r.source))
    state = send(state, TargetMigrationComplete(target, m))
    entry = Import(target, m, replaced)
    if any(i.target == target and i.content == m for i in state.ghost.imports):
        state = record(state, reimports=entry)
    else:
        state = record(state, imports=entry)
    if honest_ds(config, r.source):
        state = record(state, history=Commit(r.group, r.epoch, r.source, r.client, target))
    return state


def target_reacknowledge_accepts(config: Config, state: State, target: int,
                                 m: MigrationContent) -> bool:
    """A retried content for a nonce consumed by exactly this content: the same ack again."""
    if config.options.forget_consumed_nonces or m.response.request.target != target:
        return False
    rec = _nonce_record(config, state, target, m)
    return rec is not None and rec.phase == CONSUMED and rec.content == (m,)


def target_reacknowledge_effect(config: Config, state: State, target: int,
                                m: MigrationContent) -> State:
    return send(state, TargetMigrationComplete(target, m))


def target_reject_accepts(config: Config, state: State, target: int,
                          m: MigrationContent) -> bool:
    """Content for a nonce that is unknown, expired, issued for another request, or consumed
    by another content gets a signed rejection; a rejection is final."""
    r = m.response.request
    if config.options.no_nonce_check or r.target != target or r.source == target:
        return False
    if not _content_signed(config, m):
        return False
    rec = _nonce_record(config, state, target, m)
    if rec is None or rec.phase in (UNUSED, EXPIRED) or rec.request != (r,):
        return True
    if rec.phase == CONSUMED:
        return rec.content != (m,) or config.options.forget_consumed_nonces
    return False


def target_reject_effect(config: Config, state: State, target: int,
                         m: MigrationContent) -> State:
    return send(state, TargetMigrationRejected(target, m))


def pending_nonce_candidates(config: Config, state: State) -> Iterator[tuple[int, int]]:
    for target in range(config.honest_ds):
        for index, rec in enumerate(state.nonces[target]):
            if rec.phase == PENDING:
                yield target, index


def target_expire_nonce_guard(config: Config, state: State, target: int, index: int) -> bool:
    """Only a pending nonce expires."""
    return state.nonces[target][index].phase == PENDING


def target_expire_nonce_effect(config: Config, state: State, target: int, index: int) -> State:
    rec = state.nonces[target][index]
    return set_nonce(state, target, index, NonceRecord(EXPIRED, rec.request, ()))


# ---------------------------------------------------------------- the table


def _receive(name: str, role: str, params: tuple[str, ...], kind: type[Any],
             parties: Callable[..., Iterable[tuple[Any, ...]]], accepts: Callable[..., bool],
             effect: Callable[..., State], forged: bool = True) -> ActionSpec:
    """A receiving action: its message comes from the network (any number of times, in any
    order) or, if `forged`, from the adversary (model/adversary.py).  Receivers whose effect
    only sends (a rejection, a repeated ack) take network messages only: what they answer to
    a forged message is addressed to the adversary and moves no honest party."""
    slot = SLOT[kind]

    def candidates(config: Config, state: State) -> Iterator[tuple[Any, ...]]:
        network = state.network[slot]
        for m in network:
            yield from parties(config, state, m)
        if forged:
            for m in adversary.candidates(config, state, kind):
                if m not in network:
                    yield from parties(config, state, m)

    def guard(config: Config, state: State, *args: Any) -> bool:
        m = args[-1]
        if m not in state.network[slot] and not (forged and adversary.can_forge(config, state, m)):
            return False
        return accepts(config, state, *args)

    return ActionSpec(name, role, params, candidates, guard, effect, forged, kind,
                      parties, accepts, (accepts.__doc__ or "").strip())


def _act(name: str, role: str, params: tuple[str, ...],
         candidates: Callable[[Config, State], Iterable[tuple[Any, ...]]],
         guard: Callable[..., bool], effect: Callable[..., State]) -> ActionSpec:
    return ActionSpec(name, role, params, candidates, guard, effect, False,
                      doc=(guard.__doc__ or "").strip())


CG = ("client", "group")
ACTIONS: tuple[ActionSpec, ...] = (
    _act("client_request", "client", (*CG, "target"), client_request_candidates,
         client_request_guard, client_request_effect),
    _receive("target_respond", "target", ("target", "request"), MigrationRequest,
             target_respond_parties, target_respond_accepts, target_respond_effect),
    _receive("client_init", "client", (*CG, "response"), MigrationResponse,
             client_init_parties, client_init_accepts, client_init_effect),
    _receive("source_lock_and_export", "source", ("source", "init"), MigrationInit,
             source_lock_parties, source_lock_accepts, source_lock_effect),
    _receive("target_import", "target", ("target", "content"), MigrationContent,
             _to_target, target_import_accepts, target_import_effect),
    _receive("target_reacknowledge", "target", ("target", "content"), MigrationContent,
             _to_target, target_reacknowledge_accepts, target_reacknowledge_effect, False),
    _receive("target_reject", "target", ("target", "content"), MigrationContent,
             _to_target, target_reject_accepts, target_reject_effect, False),
    _act("target_expire_nonce", "target", ("target", "index"), pending_nonce_candidates,
         target_expire_nonce_guard, target_expire_nonce_effect),
    _receive("source_fanout_and_confirm", "source", ("source", "complete"),
             TargetMigrationComplete, _signed_by_source, source_fanout_accepts,
             source_fanout_effect),
    _act("source_retry", "source", ("source", "group"), locked_candidates, source_retry_guard,
         source_retry_effect),
    _receive("source_unlock_on_reject", "source", ("source", "rejection"),
             TargetMigrationRejected, _signed_by_source, source_unlock_accepts,
             source_unlock_effect),
    _act("source_timeout", "source", ("source", "group"), locked_candidates,
         source_timeout_guard, source_timeout_effect),
    _receive("client_confirm", "client", (*CG, "confirmation"), MigrationConfirmation,
             _each_client, client_confirm_accepts, client_confirm_effect),
    _receive("client_abort", "client", (*CG, "aborted"), MigrationAborted, _each_client,
             client_abort_accepts, client_abort_effect),
    _receive("member_advance", "client", (*CG, "fanout"), CommitFanout, _each_client,
             member_advance_accepts, member_advance_effect),
    _receive("member_switch", "client", (*CG, "fanout"), CommitFanout, _each_client,
             member_switch_accepts, member_switch_effect),
    _act("commit_at_current_ds", "client", CG, commit_candidates, commit_at_current_ds_guard,
         commit_at_current_ds_effect),
)

ACTIONS_BY_NAME: dict[str, ActionSpec] = {spec.name: spec for spec in ACTIONS}



# ---------------------------------------------------------------- public API


def enabled(config: Config, state: State) -> Iterator[tuple[ActionSpec, tuple[Any, ...]]]:
    """Every enabled action instance of `state`, in table order."""
    for spec in ACTIONS:
        guard = spec.guard
        for args in spec.candidates(config, state):
            if guard(config, state, *args):
                yield spec, args


def successors(config: Config, state: State) -> Iterator[tuple[Action, State]]:
    """(Action(name, args), next state) for every enabled action instance of `state`."""
    for spec, args in enabled(config, state):
        yield (
            Action(spec.name, tuple(zip(spec.params, args, strict=True))),
            spec.effect(config, state, *args),
        )


def next_states(config: Config, state: State) -> Iterator[State]:
    """The successor states alone (the checker's hot path)."""
    for spec in ACTIONS:
        guard, effect = spec.guard, spec.effect
        for args in spec.candidates(config, state):
            if guard(config, state, *args):
                yield effect(config, state, *args)


class ActionNotEnabled(Exception):
    """A trace step whose action is unknown or whose guard does not hold."""


def step(config: Config, state: State, action: Action) -> State:
    """Apply one action; raises ActionNotEnabled unless its guard holds in `state`."""
    spec = ACTIONS_BY_NAME.get(action.name)
    if spec is None:
        raise ActionNotEnabled(f"unknown action {action.name!r}")
    given = dict(action.args)
    if set(given) != set(spec.params):
        raise ActionNotEnabled(f"{action.name}: arguments {sorted(given)} != {spec.params}")
    args = tuple(given[p] for p in spec.params)
    try:
        ok = spec.guard(config, state, *args)
    except (IndexError, KeyError, TypeError, AttributeError) as err:
        raise ActionNotEnabled(f"{action.name}{args}: malformed arguments ({err})") from None
    if not ok:
        raise ActionNotEnabled(f"{action.name} is not enabled with {dict(action.args)}")
    return spec.effect(config, state, *args)


def replay(config: Config, trace: Sequence[Action | Mapping[str, Any]],
           start: State | None = None) -> list[State]:
    """The states a trace goes through (the initial state first).  Each step may be an
    Action or its JSON form {"action", "args"}; raises ActionNotEnabled at the first step
    whose guard does not hold."""
    from .state import initial_state

    state = initial_state(config) if start is None else start
    states = [state]
    for entry in trace:
        action = entry if isinstance(entry, Action) else Action.from_json(entry)
        state = step(config, state, action)
        states.append(state)
    return states
