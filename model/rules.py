"""Every rule of the protocol, written once: guards, effects, the adversary's power, routing.

This module is the one statement of what a party may do and what happens when it does.  It
is written in the vocabulary of model/vocabulary.py, which has two readings: the concrete
one (model/actions.py runs it for the explicit checker, the lockstep test and the diagrams)
and the symbolic one (proofs/reading.py turns it into Z3 terms for bounded model checking,
induction and spec mutation).  Nothing else states a rule.

Each action is a `Rule`:

- `params` with their domains: honest parties, groups, nonce indices, and for a receiving
  action, last, the message it receives;
- `to`: for a receiving action, the parameters the message determines (its receiver): the
  routing of model/routing.py reads it;
- `guard(x, s, *params)`: a generator of labelled conjuncts `(Check, truth value)` (a check
  may label several consecutive conjuncts: the concrete reading stops at the first false
  one), each check declared just above the rule with its text, its docs/profile.md clause,
  the design options that remove it and, where no safety property needs it, why it is kept;
- `effect(x, s, *params)`: the next state, one functional update; a design option that
  changes an effect rather than dropping a check is a `switch` read with `x.enforces`;
- `sends`: the message kinds the effect may send.

Receiving actions take their message from the network, a set: any message ever sent may be
delivered again, duplicated, reordered or lost.  They may also take a message the rogue
client X or the rogue DS R can produce now (`can_forge`, the adversary's power, below): that
is how the adversary acts.  Two actions are stutters kept because the implementation has
them: `source_retry` re-sends the same MigrationContent and `target_reacknowledge` answers
it with the same TargetMigrationComplete; on a set network neither changes the state.

Over 500 lines on purpose (about a thousand): it is the one statement of every rule, so each
rule's checks, guard and effect sit beside the rules they interact with, and reading the
protocol is reading this file; split by role, a rule would read checks declared elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .config import NONE
from .messages import (
    OTHER_MEMBERS,
    OWN_MEMBERS,
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
)
from .state import (
    ABSENT,
    ACTIVE,
    CONSUMED,
    EXPIRED,
    LOCKED,
    MOVED,
    PENDING,
    UNUSED,
    Accepted,
    ClientView,
    Commit,
    Host,
    Import,
    NonceRecord,
    Start,
)
from .vocabulary import (
    CHECKS,
    GROUPS,
    HONEST_CLIENTS,
    HONEST_DS,
    INDICES,
    Check,
    Conjunct,
    check,
    option_checks,
    switch,
)

__all__ = ["CHECKS", "RULES", "Rule", "can_forge", "option_checks"]

X = Any
"""A reading of the vocabulary (vocabulary.Concrete or proofs/reading.Symbolic)."""
S = Any
"""A state in that reading (vocabulary.StateView or a proofs/symstate.SymState)."""
Guard = Iterator[Conjunct]

BOUND = "a bound of the model's finite configuration, not a rule of the protocol"


@dataclass(frozen=True)
class Rule:
    """A named, parameterised, guarded transition."""

    name: str
    role: str
    """Who acts: "client", "source", "target"."""
    params: tuple[str, ...]
    domains: tuple[str, ...]
    """Per parameter: an integer domain (vocabulary.RANGES) or, for the message a receiving
    action takes (always the last parameter), "message"."""
    guard: Callable[..., Guard]
    effect: Callable[..., Any]
    sends: tuple[type[Any], ...]
    receives: type[Any] | None = None
    to: Callable[[Any], dict[str, Any]] | None = None
    """For a receiving action: the parameters its message determines."""
    forged: bool = True
    """Whether the message may also be one the adversary forges.  Receivers whose effect only
    answers (a rejection, a repeated ack) take network messages only: what they answer to a
    forged message is addressed to the adversary and moves no honest party."""
    misrouted: tuple[str, ...] = ()
    """Data for the lockstep (model/refusals.py), read by no rule: the refusal codes of
    impl/errors.py a party of this role gets for a message of this kind that `to` does not
    route to it (a role that receives no message of a kind answers unexpected_message)."""
    inert_unless: tuple[Check, ...] = ()
    """Checks and switches without one of which the action never changes a state: in a
    design that keeps them all it is never enabled or only stutters, and the explicit
    checker leaves it out (a stutter changes no verdict: safety is about states, and the
    liveness check ignores steps that change nothing).  Empty: always considered."""

    @property
    def doc(self) -> str:
        return " ".join((self.guard.__doc__ or "").split())


def _view(x: X, ds: Any, epoch: Any, nonce: Any, target: Any) -> Any:
    return x.make(ClientView, ds, epoch, nonce, target)


def _active(x: X, epoch: Any, origin: Any) -> Any:
    return x.make(Host, ACTIVE, epoch, NONE, x.none(MigrationContent), origin)


def _pending(x: X, v: Any) -> Any:
    return v.nonce != x.nonce(NONE, NONE)


# A nonce is read by position, nonce[0] the issuing DS and nonce[1] the index in its pool, so
# that a plain (ds, index) tuple reads the same as a config.Nonce.

# ---------------------------------------------------------------- clients

REQUEST_IDLE = check("request.no_migration_in_progress",
                     "the client has no migration in progress for the group",
                     kept="an implementation limit (one PendingMigration per group), not a "
                          "safety rule: a second request is a new attempt the protocol must "
                          "absorb anyway",
                     refusal=("local:migration_in_progress",))
REQUEST_OTHER_DS = check("request.other_ds", "the target is not the client's current DS",
                         kept="asking one's own DS to take the group is pointless; the target "
                              "refuses it (respond.other_source)")
REQUEST_EPOCH = check("request.below_max_epoch", "below max_epoch", kept=BOUND)


def client_request_guard(x: X, s: S, client: Any, group: Any, target: Any) -> Guard:
    """A client with no migration in progress asks an honest DS other than its own to take
    the group from the next epoch on (again, after an aborted attempt)."""
    v = s.view(client, group)
    yield REQUEST_IDLE, v.target == NONE
    yield REQUEST_OTHER_DS, target != v.ds
    yield REQUEST_EPOCH, v.epoch < x.u.max_epoch


def client_request_effect(x: X, s: S, client: Any, group: Any, target: Any) -> S:
    """Remember the outstanding request (its target) and send it."""
    v = s.view(client, group)
    s = s.with_view(client, group, _view(x, v.ds, v.epoch, x.nonce(NONE, NONE), target))
    return s.with_sent("requests", x.make(MigrationRequest, client, v.ds, target, group,
                                          v.epoch))


INIT_OUTSTANDING = check("init.outstanding_request",
                         "the client has an outstanding request and has not acted on a "
                         "response yet",
                         kept="the client's own bookkeeping: a response routed to it answers "
                              "a request it sent (signed by that request's target), so acting "
                              "on one it is not waiting for starts only a migration it asked "
                              "for, and the source checks the Init against the group again",
                         refusal=("no_pending_migration",))
INIT_MATCHES = check("init.matches_request",
                     "the response answers exactly the outstanding request (target, source, "
                     "epoch)",
                     kept="the client's own bookkeeping: an answer to an older request of "
                          "its own starts only a migration it asked for, and the source "
                          "refuses it unless it is for the group's current epoch "
                          "(lock.commit_for_request, lock.current_epoch)",
                     refusal=("request_mismatch",))
INIT_OWN_REQUEST = check(
    "init.own_request", "the response answers the client's own request (it names the client)",
    clause='§5 "a client acts only on a response to its own request"',
    options=("response_names_no_client",),
    kept="defence in depth: the source accepts the Init only from the client the response "
         "names (lock.signed_by_requester), so a member acting on another's response starts "
         "nothing; dropping both is the response_names_no_client variant (finding F4), which "
         "breaks authorized_migration",
    refusal=("request_mismatch",))
INIT_RESPONSE_SIGNED = check(
    "init.response_signed", "the MigrationResponse is signed by the request's target",
    clause='§2 signers: MigrationResponse by the "Target DS (its key for the suite)"',
    options=("unsigned_response", "predictable_nonces"),
    kept="defence in depth: the source checks the same signature before it locks or exports "
         "(lock.response_signed), so a client fooled by a forged response starts nothing; "
         "dropping both is the unsigned_response variant, which breaks export_consent",
    refusal=("bad_signature", "unknown_peer"))


def client_init_guard(x: X, s: S, client: Any, group: Any, response: Any) -> Guard:
    """A response to exactly the client's outstanding request, signed by its target."""
    r = response.request
    v = s.view(client, group)
    yield INIT_OUTSTANDING, v.target != NONE
    yield INIT_OUTSTANDING, x.no(_pending(x, v))
    yield INIT_OWN_REQUEST, r.client == client
    yield INIT_MATCHES, r.target == v.target
    yield INIT_MATCHES, r.source == v.ds
    yield INIT_MATCHES, r.epoch == v.epoch
    yield INIT_RESPONSE_SIGNED, response.signer == r.target


def client_init_effect(x: X, s: S, client: Any, group: Any, response: Any) -> S:
    """Send MigrationInit together with the migration commit (AAD names the target)."""
    r = response.request
    v = s.view(client, group)
    s = s.with_view(client, group, _view(x, v.ds, v.epoch, response.nonce, r.target))
    return s.with_sent("inits", x.make(MigrationInit, client, response, v.epoch, r.target))


CONFIRM_SIGNER = check("confirm.signed_by_own_ds",
                       "the confirmation is signed by the client's current DS",
                       refusal=("bad_signature", "unknown_peer"))
CONFIRM_EPOCH = check("confirm.below_max_epoch", "below max_epoch", kept=BOUND)
CONFIRM_OWN_NONCE = check(
    "confirm.own_nonce", "the confirmation is for the client's own pending nonce and target",
    clause='§5 "A client switches to the Target DS on a valid MigrationConfirmation that '
           'matches its own pending nonce"',
    options=("confirmation_without_nonce_check",),
    refusal=("no_pending_migration", "foreign_nonce", "request_mismatch", "ignored"))


def client_confirm_guard(x: X, s: S, client: Any, group: Any, m: Any) -> Guard:
    """Signed by the client's current DS, for its own pending nonce and target."""
    v = s.view(client, group)
    yield CONFIRM_SIGNER, m.signer == v.ds
    yield CONFIRM_EPOCH, v.epoch < x.u.max_epoch
    yield CONFIRM_OWN_NONCE, _pending(x, v)
    yield CONFIRM_OWN_NONCE, m.nonce == v.nonce
    yield CONFIRM_OWN_NONCE, m.target == v.target


def client_confirm_effect(x: X, s: S, client: Any, group: Any, m: Any) -> S:
    """Switch to the target at the epoch after the migration commit."""
    v = s.view(client, group)
    s = s.with_view(client, group, _view(x, m.target, v.epoch + 1, x.nonce(NONE, NONE), NONE))
    return s.with_sent("ghost_confirmations",
                       x.make(Accepted, client, group, v.nonce, v.target, m))


ABORT_KEPT = ("a client that drops its pending migration wrongly only stops waiting for its "
              "confirmation: the fanned-out migration commit still moves it "
              "(member_switch), so no group or member is lost; the check keeps the client's "
              "view of its own attempt true (finding F6 is this case for a DS-signed abort "
              "of an older attempt)")
ABORT_PENDING = check("abort.pending", "the client has a pending migration", kept=ABORT_KEPT,
                      refusal=("no_pending_migration",))
ABORT_SIGNER = check("abort.signed_by_own_ds", "the abort is signed by the client's DS",
                     kept=ABORT_KEPT,
                     refusal=("no_pending_migration", "bad_signature", "unknown_peer"))
ABORT_OWN_NONCE = check("abort.own_nonce", "the abort names the client's pending nonce",
                        clause='§5 "a client ends its pending migration only on a notice '
                               'for its own pending nonce"',
                        options=("abort_names_no_nonce",), kept=ABORT_KEPT,
                        refusal=("no_pending_migration",))


def client_abort_guard(x: X, s: S, client: Any, group: Any, m: Any) -> Guard:
    """The client's DS signed that the migration with its pending nonce is off."""
    v = s.view(client, group)
    yield ABORT_PENDING, _pending(x, v)
    yield ABORT_SIGNER, m.signer == v.ds
    yield ABORT_OWN_NONCE, m.nonce == v.nonce


def client_abort_effect(x: X, s: S, client: Any, group: Any, m: Any) -> S:
    v = s.view(client, group)
    return s.with_view(client, group, _view(x, v.ds, v.epoch, x.nonce(NONE, NONE), NONE))


ADVANCE_REGULAR = check("advance.regular_commit", "a regular commit (no migration AAD)")
ADVANCE_FROM_DS = check("advance.from_own_ds", "fanned out by the member's DS",
                        refusal=("request_mismatch",))
ADVANCE_EPOCH = check("advance.own_epoch", "for the member's epoch",
                      refusal=("wrong_epoch",))
SWITCH_MIGRATION = check("switch.migration_commit", "the migration commit (AAD names a target)")
SWITCH_FROM_DS = check("switch.from_own_ds", "fanned out by the member's DS",
                       refusal=("request_mismatch",))
SWITCH_EPOCH = check("switch.own_epoch", "for the member's epoch",
                     refusal=("wrong_epoch",))


def member_advance_guard(x: X, s: S, client: Any, group: Any, m: Any) -> Guard:
    """A regular commit fanned out by the member's DS for the member's epoch."""
    v = s.view(client, group)
    yield ADVANCE_REGULAR, m.aad_target == NONE
    yield ADVANCE_FROM_DS, m.ds == v.ds
    yield ADVANCE_EPOCH, m.epoch == v.epoch


def member_advance_effect(x: X, s: S, client: Any, group: Any, m: Any) -> S:
    v = s.view(client, group)
    return s.with_view(client, group,
                       _view(x, v.ds, v.epoch + 1, x.nonce(NONE, NONE), NONE))


def member_switch_guard(x: X, s: S, client: Any, group: Any, m: Any) -> Guard:
    """The migration commit fanned out by the member's DS for the member's epoch."""
    v = s.view(client, group)
    yield SWITCH_MIGRATION, m.aad_target != NONE
    yield SWITCH_FROM_DS, m.ds == v.ds
    yield SWITCH_EPOCH, m.epoch == v.epoch


def member_switch_effect(x: X, s: S, client: Any, group: Any, m: Any) -> S:
    v = s.view(client, group)
    return s.with_view(client, group,
                       _view(x, m.aad_target, v.epoch + 1, x.nonce(NONE, NONE), NONE))


COMMIT_EPOCH_BOUND = check("commit.below_max_epoch", "below max_epoch", kept=BOUND)
COMMIT_AT_EPOCH = check("commit.at_member_epoch",
                        "the member's DS serves the group (active or locked) at the member's "
                        "epoch",
                        refusal=("wrong_epoch", "group_moved", "unknown_group"))
COMMIT_NOT_LOCKED = check(
    "commit.not_locked", "the group is active (not locked) at the member's DS",
    clause='§5 "The group is then locked: no other commit for epoch e is sequenced"',
    options=("no_epoch_check",),
    refusal=("group_locked",))


def commit_at_current_ds_guard(x: X, s: S, client: Any, group: Any) -> Guard:
    """The member's DS sequences a commit only if the group is active at the member's epoch
    and not locked."""
    v = s.view(client, group)
    host = s.host(v.ds, group)
    yield COMMIT_EPOCH_BOUND, v.epoch < x.u.max_epoch
    yield COMMIT_AT_EPOCH, x.one_of(host.phase, ACTIVE, LOCKED)
    yield COMMIT_AT_EPOCH, host.epoch == v.epoch
    yield COMMIT_NOT_LOCKED, host.phase != LOCKED


def commit_at_current_ds_effect(x: X, s: S, client: Any, group: Any) -> S:
    v = s.view(client, group)
    host = s.host(v.ds, group)
    s = s.with_host(v.ds, group, _active(x, v.epoch + 1, host.origin),
                    when=host.phase == ACTIVE)
    s = s.with_view(client, group, _view(x, v.ds, v.epoch + 1, x.nonce(NONE, NONE), NONE))
    s = s.with_sent("fanouts", x.make(CommitFanout, v.ds, group, v.epoch, client, NONE))
    return s.with_sent("ghost_history", x.make(Commit, group, v.epoch, v.ds, client, NONE))


# ---------------------------------------------------------------- the source DS

LOCK_OTHER_TARGET = check("lock.other_target", "the request names another DS as target",
                          kept="a request naming the source as its own target is refused "
                               "by that target first (respond.other_source)",
                          refusal=("request_mismatch", "bad_signature", "unknown_peer"))
LOCK_EPOCH_BOUND = check("lock.below_max_epoch", "below max_epoch", kept=BOUND)
LOCK_COMMIT = check("lock.commit_for_request",
                    "the migration commit is for the request's epoch, its AAD naming the "
                    "request's target",
                    clause='§4 "The client sends the migration commit together with its '
                           'MigrationInit, in one request"',
                    options=("commit_beside_init",),
                    refusal=("request_mismatch", "wrong_epoch"))
LOCK_HOSTED = check("lock.group_hosted", "the source hosts the group (active or locked)",
                    refusal=("group_moved", "unknown_group"))
LOCK_NOT_SAME = check("lock.not_same_lock", "the group is not already locked on this content",
                      kept="re-locking on the same content changes nothing on a set network",
                      refusal=("group_locked",))
LOCK_CURRENT_EPOCH = check(
    "lock.current_epoch", "the Init's commit is for the group's current epoch, group active",
    clause='§5 "The Source DS accepts a MigrationInit only with a migration commit for the '
           'group\'s current epoch e"',
    options=("no_epoch_check",),
    refusal=("wrong_epoch", "group_locked"))
LOCK_REQUESTER = check(
    "lock.signed_by_requester", "the Init is signed by the requesting client",
    clause='§5 "the Source DS accepts a MigrationInit only signed by that client"',
    options=("response_names_no_client",),
    refusal=("bad_signature",))
LOCK_MEMBER = check(
    "lock.member_signature", "the Init is signed by a current member",
    clause='§2 signers: MigrationInit by "the requesting client\'s MLS leaf signature key" '
           '... "only a current member can start a migration"',
    options=("unsigned_init",),
    refusal=("bad_signature", "not_member"))
LOCK_POLICY = check("lock.source_policy", "the source policy allows the client to migrate",
                    refusal=("not_authorized",))
LOCK_RESPONSE_SIGNED = check(
    "lock.response_signed", "the MigrationResponse inside the Init is signed by its target",
    clause='§2 "A message signed by any other key ... is refused" (the response inside '
           'MigrationInit)',
    options=("unsigned_response", "predictable_nonces"),
    refusal=("bad_signature", "unknown_peer"))
FANOUT_AFTER_ACK = switch(
    "lock.fanout_after_ack", "locking does not fan the migration commit out",
    clause='§5 "The Source DS fans the migration commit out only once it holds a valid '
           'TargetMigrationComplete"',
    options=("fanout_before_ack",))


def _export(x: X, source: Any, init: Any) -> Any:
    r = init.response.request
    return x.make(MigrationContent, source, init.response,
                  x.make(GroupState, r.group, r.epoch + 1, OWN_MEMBERS))


def source_lock_and_export_guard(x: X, s: S, source: Any, m: Any) -> Guard:
    """MigrationInit with the migration commit for the group's current epoch, AAD naming the
    request's target, signed by a current member who is the requester, allowed by the source
    policy, with a response signed by the target."""
    r = m.response.request
    host = s.host(source, r.group)
    yield LOCK_OTHER_TARGET, r.target != source
    yield LOCK_EPOCH_BOUND, r.epoch < x.u.max_epoch
    yield LOCK_COMMIT, m.commit_epoch == r.epoch
    yield LOCK_COMMIT, m.aad_target == r.target
    yield LOCK_HOSTED, x.one_of(host.phase, ACTIVE, LOCKED)
    yield LOCK_NOT_SAME, host.lock != _export(x, source, m)
    yield LOCK_CURRENT_EPOCH, host.phase == ACTIVE
    yield LOCK_CURRENT_EPOCH, host.epoch == r.epoch
    yield LOCK_REQUESTER, m.signer == r.client
    yield LOCK_MEMBER, x.u.honest_client(m.signer)
    yield LOCK_POLICY, x.u.source_allows(m.signer)
    yield LOCK_RESPONSE_SIGNED, m.response.signer == r.target


def source_lock_and_export_effect(x: X, s: S, source: Any, m: Any) -> S:
    """Lock the group with this commit and send the exported state to the target."""
    r = m.response.request
    content = _export(x, source, m)
    host = s.host(source, r.group)
    s = s.with_host(source, r.group,
                    x.make(Host, LOCKED, r.epoch, r.target, content, host.origin))
    s = s.with_sent("contents", content)
    s = s.with_sent("ghost_starts", x.make(Start, source, m))
    if not x.enforces(FANOUT_AFTER_ACK):
        s = s.with_sent("fanouts", x.make(CommitFanout, source, r.group, r.epoch, m.signer,
                                          r.target))
        s = s.with_sent("ghost_fanned", content)
        s = s.with_sent("ghost_history",
                        x.make(Commit, r.group, r.epoch, source, m.signer, r.target))
    return s


FANOUT_CONTENT = check("fanout.same_content",
                       "the group is locked at the source on exactly the acknowledged content",
                       refusal=("hash_mismatch", "ignored"))
FANOUT_SIGNER = check("fanout.signed_by_target", "the ack is signed by the lock's target",
                      refusal=("bad_signature", "unknown_peer"))


def _answer_to_lock(s: S, source: Any, m: Any, same: Check, signer: Check) -> Guard:
    """The target's answer `m` (its ack or its rejection) is for exactly the content this
    source is locked on: the conjuncts both answers' guards share, under their own ids."""
    host = s.host(source, m.content.response.request.group)
    yield same, host.phase == LOCKED
    yield same, host.lock == m.content
    yield signer, m.signer == host.target


def source_fanout_and_confirm_guard(x: X, s: S, source: Any, m: Any) -> Guard:
    """The target's TargetMigrationComplete for exactly the content this source is locked on."""
    yield from _answer_to_lock(s, source, m, FANOUT_CONTENT, FANOUT_SIGNER)


def source_fanout_and_confirm_effect(x: X, s: S, source: Any, m: Any) -> S:
    """Fan the migration commit out, confirm to the client, keep a tombstone.  What is fanned
    out and confirmed is the lock's own migration (the ack is for exactly that content:
    fanout.same_content), so that is what the ghosts record."""
    group = m.content.response.request.group
    host = s.host(source, group)
    locked = host.lock
    client = locked.response.request.client
    s = s.with_host(source, group,
                    x.make(Host, MOVED, NONE, host.target, x.none(MigrationContent), NONE))
    s = s.with_sent("fanouts", x.make(CommitFanout, source, group, host.epoch, client,
                                      host.target))
    s = s.with_sent("confirmations", x.make(MigrationConfirmation, source, host.target,
                                            locked.response.nonce, group))
    s = s.with_sent("ghost_fanned", locked)
    return s.with_sent("ghost_history",
                       x.make(Commit, group, host.epoch, source, client, host.target))


RETRY_LOCKED = check("retry.locked", "the group is locked (its content not yet acknowledged)",
                     kept="with no lock there is nothing to resend: the effect would send the "
                          "empty content, which names no target, so no DS receives it")


def source_retry_guard(x: X, s: S, source: Any, group: Any) -> Guard:
    """A locked source re-sends its MigrationContent until acknowledged or rejected."""
    yield RETRY_LOCKED, s.host(source, group).phase == LOCKED


def source_retry_effect(x: X, s: S, source: Any, group: Any) -> S:
    return s.with_sent("contents", s.host(source, group).lock)


UNLOCK_CONTENT = check("unlock.same_content",
                       "the group is locked at the source on exactly the rejected content",
                       refusal=("hash_mismatch",))
UNLOCK_SIGNER = check("unlock.signed_by_target", "the rejection is signed by the lock's target",
                      refusal=("bad_signature", "unknown_peer"))


def source_unlock_on_reject_guard(x: X, s: S, source: Any, m: Any) -> Guard:
    """The target's signed rejection of exactly the content this source is locked on."""
    yield from _answer_to_lock(s, source, m, UNLOCK_CONTENT, UNLOCK_SIGNER)


def _unlock(x: X, s: S, source: Any, group: Any) -> S:
    host = s.host(source, group)
    s = s.with_host(source, group, _active(x, host.epoch, host.origin))
    return s.with_sent("aborts", x.make(MigrationAborted, source, group,
                                        host.lock.response.nonce))


def source_unlock_on_reject_effect(x: X, s: S, source: Any, m: Any) -> S:
    """Unlock the group and tell the client the migration is off."""
    return _unlock(x, s, source, m.content.response.request.group)


TIMEOUT_LOCKED = check("timeout.locked", "the group is locked at the source")
TIMEOUT_NEVER = check(
    "timeout.never", "a locked source never unlocks on a timeout",
    clause='§5 "Once its MigrationContent is sent the Source DS never unlocks on a timeout"',
    options=("unlock_on_timeout",))


def source_timeout_guard(x: X, s: S, source: Any, group: Any) -> Guard:
    """Variant unlock_on_timeout only: time passes and the source gives up."""
    yield TIMEOUT_LOCKED, s.host(source, group).phase == LOCKED
    yield TIMEOUT_NEVER, x.false


def source_timeout_effect(x: X, s: S, source: Any, group: Any) -> S:
    return _unlock(x, s, source, group)


# ---------------------------------------------------------------- the target DS

RESPOND_OTHER_SOURCE = check("respond.other_source",
                             "the request names another DS as its source",
                             kept="a DS asked to take a group from itself has nothing to "
                                  "import; no property is about such requests",
                             refusal=("request_mismatch",))
RESPOND_EPOCH = check("respond.below_max_epoch", "below max_epoch", kept=BOUND)
RESPOND_POLICY = check("respond.target_policy", "the target policy allows the client",
                       refusal=("not_authorized",))
RESPOND_UNIQUE = check(
    "respond.group_id_unique",
    "the group id is neither hosted nor pending at the target",
    clause='§5 "Group ids are unique per DS: the Target DS refuses a request for a group id '
           'it already hosts or has pending"',
    options=("no_group_id_uniqueness",),
    refusal=("group_exists",))
RESPOND_TOMBSTONE = check(
    "respond.tombstone_kept",
    "a tombstone at the target yields only to a request from the DS it names",
    clause='§5 "or holds a tombstone for, unless the request comes from the DS the tombstone '
           'names"',
    options=("no_group_id_uniqueness",),
    refusal=("group_exists",))
RESPOND_FRESH = check("respond.fresh_nonce", "a fresh nonce is left (the first unused)",
                      kept=BOUND)


def _pending_for_group(x: X, s: S, target: Any, group: Any) -> Any:
    def pending(j: Any) -> Any:
        rec = s.record(target, j)
        return x.all(rec.phase == PENDING, rec.request.group == group)

    return x.u.some_index(pending)


def target_respond_guard(x: X, s: S, target: Any, m: Any) -> Guard:
    """Target policy allows the client, the group id is neither hosted, pending nor
    tombstoned here (a tombstone yields only to the DS it names), and a fresh nonce is
    left."""
    host = s.host(target, m.group)
    yield RESPOND_OTHER_SOURCE, m.source != target
    yield RESPOND_EPOCH, m.epoch < x.u.max_epoch
    yield RESPOND_POLICY, x.u.target_allows(m.client)
    # A tombstone keeps the group id: late messages are redirected, and a lagging member
    # must never find another group of that id here.  Only the DS the tombstone names can
    # bring the group back.  (Without this, the model found a fork at epoch 2.)
    yield RESPOND_UNIQUE, x.no(x.one_of(host.phase, ACTIVE, LOCKED))
    yield RESPOND_TOMBSTONE, x.implies(host.phase == MOVED, host.target == m.source)
    yield RESPOND_UNIQUE, x.no(_pending_for_group(x, s, target, m.group))
    _, fresh = _fresh_nonce(x, s, target)
    yield RESPOND_FRESH, fresh


def _fresh_nonce(x: X, s: S, target: Any) -> tuple[Any, Any]:
    """(the first unused nonce index of `target`, whether there is one)."""
    index, ok = x.first("first_unused", INDICES, lambda j: s.record(target, j).phase == UNUSED)
    return index, ok


def target_respond_effect(x: X, s: S, target: Any, m: Any) -> S:
    """Issue the next fresh nonce, bound to exactly this request."""
    index, _ = _fresh_nonce(x, s, target)
    s = s.with_record(target, index,
                      x.make(NonceRecord, PENDING, m, x.none(MigrationContent)))
    return s.with_sent("responses", x.make(MigrationResponse, target, m, x.nonce(target, index)))


IMPORT_OTHER_SOURCE = check("import.other_source",
                            "the content's request names another DS as its source",
                            kept="no honest source exports to itself (lock.other_target); "
                                 "the rogue DS gains nothing from it",
                            refusal=("request_mismatch", "wrong_recipient"))
IMPORT_STATE = check("import.state_after_commit",
                     "the exported state is the request's group at the epoch after the "
                     "migration commit",
                     clause='§4 "The exported group_state is the state after it"',
                     kept="input validation, no safety property: an honest source exports "
                          "exactly the state after the commit (source_lock_and_export), and "
                          "the rogue DS, a request's source, chooses its group's state "
                          "anyway; it keeps a target from hosting a state its request does "
                          "not describe, which the lockstep holds the implementation to")
IMPORT_CONTENT_SIGNED = check(
    "import.content_signed", "the MigrationContent is signed by the request's source",
    clause='§5 "... signed by that request\'s source"', options=("unsigned_content",),
    refusal=("bad_signature", "unknown_peer"))
IMPORT_POLICY = check("import.target_policy", "the target policy allows the client",
                      refusal=("not_authorized",))
IMPORT_OWN_NONCE = check("import.own_nonce", "the response's nonce is one this target issues",
                         refusal=("unknown_nonce",))
IMPORT_RESPONSE_SIGNED = check(
    "import.response_signed", "the response inside the content is signed by this target",
    clause='§2 "A message signed by any other key ... is refused" (the response inside '
           'MigrationContent)',
    options=("unsigned_response", "predictable_nonces"),
    kept="§2's rule for every message; the nonce lookup already ties the content to a "
         "response this target issued for exactly its request (import.own_nonce, "
         "import.issued_for_request, import.nonce_pending), so a copy of that response "
         "re-signed by the rogue DS imports nothing else",
    refusal=("bad_signature",))
IMPORT_ISSUED_FOR = check("import.issued_for_request",
                          "the nonce was issued for exactly the content's request",
                          refusal=("request_mismatch",))
IMPORT_NONCE_PENDING = check(
    "import.nonce_pending", "the nonce the target issued for this request is still pending",
    clause='§5 "It imports only from a MigrationContent whose response carries a pending '
           'nonce it issued for exactly that request"',
    options=("no_nonce_check",),
    refusal=("nonce_consumed",))
CONSUME_NONCE = switch("import.consume_nonce", "importing consumes the nonce",
                       clause='§5 "Importing consumes the nonce"', options=("nonce_reuse",))


def _state_after_commit(x: X, m: Any) -> Any:
    """The content's state is its request's group at the epoch after the migration commit
    (what a target can check of it: not the member list, which it has never seen)."""
    r = m.response.request
    return x.all(m.state.group == r.group, m.state.epoch == r.epoch + 1)


def _issued_here(x: X, s: S, target: Any, m: Any) -> Any:
    """The content's response is one `target` signed, with a nonce it issued for exactly the
    content's request."""
    r = m.response.request
    rec = s.record(target, m.response.nonce[1])
    return x.all(x.check(IMPORT_OWN_NONCE, m.response.nonce[0] == target),
                 x.check(IMPORT_RESPONSE_SIGNED, m.response.signer == r.target),
                 rec.request == r)


def target_import_guard(x: X, s: S, target: Any, m: Any) -> Guard:
    """Well-formed state, signed by the request's source, target policy, and a response this
    target signed whose nonce it issued for exactly that request and is still pending."""
    r = m.response.request
    rec = s.record(target, m.response.nonce[1])
    yield IMPORT_OTHER_SOURCE, r.source != target
    yield IMPORT_STATE, _state_after_commit(x, m)
    yield IMPORT_CONTENT_SIGNED, m.signer == r.source
    yield IMPORT_POLICY, x.u.target_allows(r.client)
    yield IMPORT_OWN_NONCE, m.response.nonce[0] == target
    yield IMPORT_RESPONSE_SIGNED, m.response.signer == r.target
    yield IMPORT_ISSUED_FOR, rec.request == r
    yield IMPORT_NONCE_PENDING, rec.phase == PENDING


def target_import_effect(x: X, s: S, target: Any, m: Any) -> S:
    """Consume the nonce, host the group from the epoch after the commit, acknowledge."""
    r = m.response.request
    index = m.response.nonce[1]
    replaced = s.host(target, r.group).phase
    if x.enforces(CONSUME_NONCE):
        pending = x.all(_issued_here(x, s, target, m), s.record(target, index).phase == PENDING)
        s = s.with_record(target, index, x.make(NonceRecord, CONSUMED, r, m), when=pending)
    again = x.any(*[s.has("ghost_imports", x.make(Import, target, m, phase))
                    for phase in (ABSENT, ACTIVE, LOCKED, MOVED)])
    s = s.with_host(target, r.group, _active(x, r.epoch + 1, r.source))
    s = s.with_sent("completes", x.make(TargetMigrationComplete, target, m))
    entry = x.make(Import, target, m, replaced)
    s = s.with_sent("ghost_imports", entry, when=x.no(again))
    s = s.with_sent("ghost_reimports", entry, when=again)
    return s.with_sent("ghost_history", x.make(Commit, r.group, r.epoch, r.source, r.client,
                                               target),
                       when=x.u.honest_ds_(r.source))


REACK_KEPT = switch(
    "reacknowledge.consumed_kept", "a retried content for a consumed nonce is re-acknowledged",
    clause='§5 "A consumed nonce ... is kept as long as the imported group exists, so a '
           'retried MigrationContent is re-acknowledged"',
    options=("forget_consumed_nonces",),
    kept="on the model's network a message once sent stays deliverable, so the first "
         "TargetMigrationComplete is never lost; on one that loses it the re-acknowledgment "
         "is what lets the source finish (liveness under loss, outside the model)")
REACK_CONTENT = check("reacknowledge.same_content",
                      "the nonce was consumed by exactly this content",
                      refusal=("nonce_consumed",))


def target_reacknowledge_guard(x: X, s: S, target: Any, m: Any) -> Guard:
    """A retried content for a nonce consumed by exactly this content: the same ack again."""
    rec = s.record(target, m.response.nonce[1])
    yield REACK_KEPT, x.enforces(REACK_KEPT)
    yield IMPORT_OWN_NONCE, m.response.nonce[0] == target
    yield IMPORT_RESPONSE_SIGNED, m.response.signer == m.response.request.target
    yield REACK_CONTENT, rec.phase == CONSUMED
    yield REACK_CONTENT, rec.content == m


def target_reacknowledge_effect(x: X, s: S, target: Any, m: Any) -> S:
    return s.with_sent("completes", x.make(TargetMigrationComplete, target, m))


REJECT_CHECKS_NONCES = switch("reject.checks_nonces",
                              "the target looks nonces up (it rejects only on a failed check)",
                              clause='§5 "It imports only from a MigrationContent whose '
                                     'response carries a pending nonce it issued for exactly '
                                     'that request"',
                              options=("no_nonce_check",),
                              kept="without rejections a source locked on a content the "
                                   "target will never import stays locked (liveness of a "
                                   "refused migration, which migration_completes, about "
                                   "accepted ones, does not cover); no group is lost or "
                                   "forked")
REJECT_NOT_PENDING = check("reject.nonce_not_pending",
                           "the nonce is unknown, expired, issued for another request or "
                           "consumed")
REJECT_CONSUMED_KEPT = check(
    "reject.consumed_kept", "a retried content for a nonce it consumed is not rejected",
    clause='§5 "... and never rejected"', options=("forget_consumed_nonces",))


def target_reject_guard(x: X, s: S, target: Any, m: Any) -> Guard:
    """Content for a nonce that is unknown, expired, issued for another request, or consumed
    by another content gets a signed rejection; a rejection is final."""
    r = m.response.request
    rec = s.record(target, m.response.nonce[1])
    unknown = x.any(x.no(x.all(x.check(IMPORT_OWN_NONCE, m.response.nonce[0] == target),
                               x.check(IMPORT_RESPONSE_SIGNED, m.response.signer == r.target))),
                    x.one_of(rec.phase, UNUSED, EXPIRED), rec.request != r)
    yield REJECT_CHECKS_NONCES, x.enforces(REJECT_CHECKS_NONCES)
    yield IMPORT_OTHER_SOURCE, r.source != target
    yield IMPORT_CONTENT_SIGNED, m.signer == r.source
    yield REJECT_NOT_PENDING, x.any(unknown, rec.phase == CONSUMED)
    yield REJECT_CONSUMED_KEPT, x.any(unknown, rec.content != m)


def target_reject_effect(x: X, s: S, target: Any, m: Any) -> S:
    return s.with_sent("rejections", x.make(TargetMigrationRejected, target, m))


EXPIRE_PENDING = check("expire.pending", "only a pending nonce expires")


def target_expire_nonce_guard(x: X, s: S, target: Any, index: Any) -> Guard:
    """Only a pending nonce expires."""
    yield EXPIRE_PENDING, s.record(target, index).phase == PENDING


def target_expire_nonce_effect(x: X, s: S, target: Any, index: Any) -> S:
    rec = s.record(target, index)
    return s.with_record(target, index,
                         x.make(NonceRecord, EXPIRED, rec.request, x.none(MigrationContent)))


# ---------------------------------------------------------------- crashes and restarts
#
# Any honest party may crash at any moment and restart from what it keeps durably
# (docs/profile.md, Durability).  The reference design keeps everything durably and handles
# each received message in one transaction (state change, outbox, idempotency record), so a
# restart loses nothing and a crash before the commit is "the message was never received":
# on the model's network, where a message once sent stays deliverable, a resent outbox adds
# nothing.  A restart is modelled one record at a time (what it does to one lock, one nonce
# record, one client's view of one group): a record the design keeps in memory only is lost.
# The effects loop over nothing, so they read the same in a parametric universe, and a
# restart losing several records is those steps in a row.  A design that sends before its
# state change is durable has one more step per message kind it sends that way: the message
# goes out and the crash loses the change (`commit_sent_before_durable`,
# `ack_sent_before_durable`).

LOCK_DURABLE = switch(
    "restart.lock_durable", "a restarted DS keeps every lock with its MigrationContent",
    clause='§8 "Durable: hosting status (active; locked with its MigrationContent; moved '
           'with its target)"',
    options=("volatile_lock",))
NONCES_DURABLE = switch(
    "restart_nonce.record_durable", "a restarted DS keeps every nonce record",
    clause='§8 "every nonce record (pending, consumed with its content hash, expired, '
           'rejected)"',
    options=("volatile_nonces",))
PENDING_DURABLE = switch(
    "client_restart.pending_durable",
    "a restarted client keeps its outstanding request and pending migration",
    clause='§8 "A client keeps its memberships and its pending migration (request, nonce) '
           'durably"',
    kept="a client that forgets its attempt only stops waiting for its confirmation: the "
         "fanned-out migration commit still moves it (member_switch) and a new attempt meets "
         "the source's lock; the record keeps the client's view of its own attempt true, as "
         "the abort.* checks do")
SEND_WHEN_DURABLE = check(
    "durable.before_send",
    "a DS fans a commit out only once the new epoch is durable",
    clause='§8 "A DS never sends a reply before the state change it announces is durable"',
    options=("send_before_commit",))
ACK_WHEN_DURABLE = check(
    "durable_ack.before_send",
    "a target acknowledges a content only once its import is durable",
    clause='§8 "A DS never sends a reply before the state change it announces is durable"',
    options=("send_before_commit",))


def restart_guard(x: X, s: S, party: Any, record: Any) -> Guard:
    """An honest party restarts at any moment (as the restart bears on one of its records:
    a group it hosts or belongs to, a nonce it issued)."""
    yield from ()


def ds_restart_effect(x: X, s: S, ds: Any, group: Any) -> S:
    """A lock kept in memory only is lost: the group is active again at its epoch."""
    if x.enforces(LOCK_DURABLE):
        return s
    host = s.host(ds, group)
    return s.with_host(ds, group, _active(x, host.epoch, host.origin),
                       when=host.phase == LOCKED)


def ds_restart_nonce_effect(x: X, s: S, ds: Any, index: Any) -> S:
    """A nonce record kept in memory only is lost: the DS no longer knows the nonce (as for
    an expired one, it rejects content under it; nonces are random, so it never issues the
    same one again)."""
    if x.enforces(NONCES_DURABLE):
        return s
    rec = s.record(ds, index)
    return s.with_record(ds, index,
                         x.make(NonceRecord, EXPIRED, rec.request, x.none(MigrationContent)),
                         when=x.one_of(rec.phase, PENDING, CONSUMED))


def client_restart_effect(x: X, s: S, client: Any, group: Any) -> S:
    """Its membership (DS, epoch) is durable; an attempt kept in memory only is lost."""
    if x.enforces(PENDING_DURABLE):
        return s
    v = s.view(client, group)
    return s.with_view(client, group, _view(x, v.ds, v.epoch, x.nonce(NONE, NONE), NONE))


def commit_sent_before_durable_guard(x: X, s: S, client: Any, group: Any) -> Guard:
    """Variant send_before_commit only: the member's DS sequences and fans out a commit,
    then crashes before the new epoch is durable."""
    yield SEND_WHEN_DURABLE, x.false
    yield from commit_at_current_ds_guard(x, s, client, group)


def commit_sent_before_durable_effect(x: X, s: S, client: Any, group: Any) -> S:
    """The commit is out (the committer and the fan-out have it); the DS restarts where it
    was."""
    v = s.view(client, group)
    kept = s.host(v.ds, group)
    return commit_at_current_ds_effect(x, s, client, group).with_host(v.ds, group, kept)


def ack_sent_before_durable_guard(x: X, s: S, target: Any, m: Any) -> Guard:
    """Variant send_before_commit only: the target acknowledges a content it would import,
    then crashes before the import is durable."""
    yield ACK_WHEN_DURABLE, x.false
    yield from target_import_guard(x, s, target, m)


def ack_sent_before_durable_effect(x: X, s: S, target: Any, m: Any) -> S:
    """The TargetMigrationComplete is out; the import (nonce consumed, group hosted) is
    lost."""
    return s.with_sent("completes", x.make(TargetMigrationComplete, target, m))


# ---------------------------------------------------------------- the adversary's power
#
# The rogue client X and the rogue DS R collude and read the whole network.  X is a client
# that is not a member: it sends MigrationRequests naming itself and signs MigrationInits.
# R is a compromised DS: it signs anything with its own key.  Neither can sign as anybody
# else.  Nonces are unpredictable: the adversary uses only nonces it has seen in the network
# and the one R makes, (R, 0).  Dropping forge.nonce_known (predictable_nonces) gives it the
# nonce each target will issue next, as it would with a counter.

FORGE_NONCE_KNOWN = check(
    "forge.nonce_known", "the adversary uses only nonces it has seen or made",
    clause='§5 "Nonces are unpredictable (32 bytes from a cryptographic source)"',
    options=("predictable_nonces",))


def known_nonce(x: X, s: S, n: Any, tag: str) -> Any:
    """The nonce appears in a message of the network (state.known_nonces)."""
    return x.any(
        s.some("responses", lambda w: w.nonce == n, x.witness(tag, "responses")),
        s.some("inits", lambda w: w.response.nonce == n, x.witness(tag, "inits")),
        s.some("contents", lambda w: w.response.nonce == n, x.witness(tag, "contents")),
        s.some("confirmations", lambda w: w.nonce == n, x.witness(tag, "confirmations")),
        s.some("aborts", lambda w: w.nonce == n, x.witness(tag, "aborts")),
    )


def first_unused(x: X, s: S, target: Any, index: Any) -> Any:
    """`index` is the first unused nonce of `target`."""
    return x.all(x.u.index(index), s.record(target, index).phase == UNUSED,
                 x.u.every_index(index, lambda j: s.record(target, j).phase != UNUSED))


def adversary_nonce(x: X, s: S, n: Any, tag: str) -> Any:
    """Seen, R's own, or (nonces predictable) the nonce a target will issue next."""
    options = [known_nonce(x, s, n, tag)]
    if x.u.rogue_ds:
        options.append(n == x.nonce(x.u.R, 0))
    if not x.enforces(FORGE_NONCE_KNOWN):
        options.append(x.all(x.u.honest_ds_(n[0]), first_unused(x, s, n[0], n[1])))
    return x.any(*options)


def network_response(x: X, s: S, m: Any, tag: str) -> Any:
    """Seen alone, inside an Init or inside a Content."""
    return x.any(
        s.has("responses", m),
        s.some("inits", lambda w: w.response == m, x.witness(f"{tag}.response", "inits")),
        s.some("contents", lambda w: w.response == m, x.witness(f"{tag}.response", "contents")),
    )


def knows_response(x: X, s: S, m: Any, tag: str) -> Any:
    """Seen in the network (alone or inside a message), or signed by R itself."""
    u = x.u
    own = (x.all(m.signer == u.R, u.request_in_bounds(m.request),
                 adversary_nonce(x, s, m.nonce, tag))
           if u.rogue_ds else x.false)
    return x.any(network_response(x, s, m, tag), own)


def can_forge(x: X, s: S, kind: type[Any], m: Any) -> Any:
    """Whether X or R can produce the message `m` of `kind` now: the adversary's power."""
    u = x.u
    if kind is MigrationRequest:
        return x.all(u.rogue_client, m.client == u.X, u.request_in_bounds(m))
    if kind is MigrationInit:
        if not u.rogue_client:
            return x.false
        return x.all(m.signer == u.X, knows_response(x, s, m.response, "forge"))
    if not u.rogue_ds:
        return x.false
    if kind is MigrationResponse:
        return x.all(m.signer == u.R, knows_response(x, s, m, "forge"))
    if kind is MigrationContent:
        req = m.response.request
        # the request's group after the commit, or before it; with the group's own member
        # list, or (a second content for a nonce a target consumed) another: R signs what
        # it likes (model/adversary.py forged_states says why the first is the own list)
        consumed = s.record(m.response.nonce[0], m.response.nonce[1]).phase == CONSUMED
        return x.all(m.signer == u.R, knows_response(x, s, m.response, "forge"),
                     m.state.group == req.group,
                     x.one_of(m.state.epoch, req.epoch, req.epoch + 1),
                     x.any(m.state.members == OWN_MEMBERS,
                           x.all(consumed, m.state.members == OTHER_MEMBERS,
                                 m.state.epoch == req.epoch + 1)))
    if kind in (TargetMigrationComplete, TargetMigrationRejected):
        return x.all(m.signer == u.R, s.has("contents", m.content))
    if kind in (MigrationConfirmation, MigrationAborted):
        return x.all(m.signer == u.R, adversary_nonce(x, s, m.nonce, "forge"))
    if kind is CommitFanout:
        return m.ds == u.R
    raise TypeError(kind)


# ---------------------------------------------------------------- the table

CG = ("client", "group")
CG_DOMAINS = (HONEST_CLIENTS, GROUPS)
MSG = "message"


def _by_group(m: Any) -> dict[str, Any]:
    """Every honest client's view of the message's group (each member decides)."""
    return {"group": m.group}


RULES: tuple[Rule, ...] = (
    Rule("client_request", "client", (*CG, "target"), (*CG_DOMAINS, HONEST_DS),
         client_request_guard, client_request_effect, (MigrationRequest,)),
    Rule("target_respond", "target", ("target", "request"), (HONEST_DS, MSG),
         target_respond_guard, target_respond_effect, (MigrationResponse,),
         MigrationRequest, lambda m: {"target": m.target}, misrouted=("wrong_recipient",)),
    # Any member may be handed a response (it is a bearer token the adversary can relay):
    # init.own_request keeps only the requester's.
    Rule("client_init", "client", (*CG, "response"), (*CG_DOMAINS, MSG),
         client_init_guard, client_init_effect, (MigrationInit,), MigrationResponse,
         lambda m: {"group": m.request.group}),
    Rule("source_lock_and_export", "source", ("source", "init"), (HONEST_DS, MSG),
         source_lock_and_export_guard, source_lock_and_export_effect,
         (MigrationContent, CommitFanout), MigrationInit,
         lambda m: {"source": m.response.request.source}, misrouted=("wrong_recipient",)),
    Rule("target_import", "target", ("target", "content"), (HONEST_DS, MSG),
         target_import_guard, target_import_effect, (TargetMigrationComplete,),
         MigrationContent, lambda m: {"target": m.response.request.target},
         misrouted=("wrong_recipient",)),
    Rule("target_reacknowledge", "target", ("target", "content"), (HONEST_DS, MSG),
         target_reacknowledge_guard, target_reacknowledge_effect, (TargetMigrationComplete,),
         MigrationContent, lambda m: {"target": m.response.request.target}, forged=False),
    Rule("target_reject", "target", ("target", "content"), (HONEST_DS, MSG),
         target_reject_guard, target_reject_effect, (TargetMigrationRejected,),
         MigrationContent, lambda m: {"target": m.response.request.target}, forged=False),
    Rule("target_expire_nonce", "target", ("target", "index"), (HONEST_DS, INDICES),
         target_expire_nonce_guard, target_expire_nonce_effect, ()),
    Rule("source_fanout_and_confirm", "source", ("source", "complete"), (HONEST_DS, MSG),
         source_fanout_and_confirm_guard, source_fanout_and_confirm_effect,
         (CommitFanout, MigrationConfirmation), TargetMigrationComplete,
         lambda m: {"source": m.content.signer}, misrouted=("hash_mismatch", "ignored")),
    Rule("source_retry", "source", ("source", "group"), (HONEST_DS, GROUPS),
         source_retry_guard, source_retry_effect, (MigrationContent,)),
    Rule("source_unlock_on_reject", "source", ("source", "rejection"), (HONEST_DS, MSG),
         source_unlock_on_reject_guard, source_unlock_on_reject_effect, (MigrationAborted,),
         TargetMigrationRejected, lambda m: {"source": m.content.signer},
         misrouted=("hash_mismatch",)),
    Rule("source_timeout", "source", ("source", "group"), (HONEST_DS, GROUPS),
         source_timeout_guard, source_timeout_effect, (MigrationAborted,),
         inert_unless=(TIMEOUT_NEVER,)),
    Rule("client_confirm", "client", (*CG, "confirmation"), (*CG_DOMAINS, MSG),
         client_confirm_guard, client_confirm_effect, (), MigrationConfirmation, _by_group),
    Rule("client_abort", "client", (*CG, "aborted"), (*CG_DOMAINS, MSG),
         client_abort_guard, client_abort_effect, (), MigrationAborted, _by_group,
         misrouted=("no_pending_migration",)),
    Rule("member_advance", "client", (*CG, "fanout"), (*CG_DOMAINS, MSG),
         member_advance_guard, member_advance_effect, (), CommitFanout, _by_group),
    Rule("member_switch", "client", (*CG, "fanout"), (*CG_DOMAINS, MSG),
         member_switch_guard, member_switch_effect, (), CommitFanout, _by_group),
    Rule("commit_at_current_ds", "client", CG, CG_DOMAINS,
         commit_at_current_ds_guard, commit_at_current_ds_effect, (CommitFanout,)),
    Rule("ds_restart", "source", ("source", "group"), (HONEST_DS, GROUPS),
         restart_guard, ds_restart_effect, (), inert_unless=(LOCK_DURABLE,)),
    Rule("ds_restart_nonce", "target", ("target", "index"), (HONEST_DS, INDICES),
         restart_guard, ds_restart_nonce_effect, (), inert_unless=(NONCES_DURABLE,)),
    Rule("client_restart", "client", CG, CG_DOMAINS,
         restart_guard, client_restart_effect, (), inert_unless=(PENDING_DURABLE,)),
    Rule("commit_sent_before_durable", "client", CG, CG_DOMAINS,
         commit_sent_before_durable_guard, commit_sent_before_durable_effect,
         (CommitFanout,), inert_unless=(SEND_WHEN_DURABLE,)),
    Rule("ack_sent_before_durable", "target", ("target", "content"), (HONEST_DS, MSG),
         ack_sent_before_durable_guard, ack_sent_before_durable_effect,
         (TargetMigrationComplete,), MigrationContent,
         lambda m: {"target": m.response.request.target}, inert_unless=(ACK_WHEN_DURABLE,)),
)

RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}

PREFIXES: dict[str, str] = {
    "request": "client_request", "respond": "target_respond", "init": "client_init",
    "lock": "source_lock_and_export", "import": "target_import",
    "reacknowledge": "target_reacknowledge", "reject": "target_reject",
    "expire": "target_expire_nonce", "fanout": "source_fanout_and_confirm",
    "retry": "source_retry", "unlock": "source_unlock_on_reject", "timeout": "source_timeout",
    "confirm": "client_confirm", "abort": "client_abort", "advance": "member_advance",
    "switch": "member_switch", "commit": "commit_at_current_ds", "forge": "adversary",
    "restart": "ds_restart", "restart_nonce": "ds_restart_nonce",
    "client_restart": "client_restart", "durable": "commit_sent_before_durable",
    "durable_ack": "ack_sent_before_durable",
}
"""A check id's prefix names the action that holds it ("adversary": the adversary's power;
the target's import.* checks are also read by target_reacknowledge and target_reject)."""


def action_of(c: Check) -> str:
    return PREFIXES[c.id.split(".", 1)[0]]
