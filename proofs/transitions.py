"""The model's ACTIONS as Z3 relations: one function per action, guard and update.

This module owns the symbolic reading of model/actions.py (and of the adversary's power in
model/adversary.py).  It is hand-written: the model is plain Python, so each action below
restates one action of the ACTIONS table over the vocabulary of proofs/encoding.py, and
tests/test_proofs_agreement.py checks both directions on small configurations (every
concrete successor satisfies these relations, every solution of them is a concrete
successor).  Read the two side by side: the order of conjuncts follows the model's code.

An action is built in a `Ctx` (universe, design options, pre-state, parameter pool, and
the adversary's power: proofs/context.py) and gives a `Step`: labelled guard conjuncts and
the next state.  Parameters are Z3 constants named after the model's parameter names
(`content`, `target`, ...) and shared by the actions of one step, since one step runs one
action; the candidates a model action draws its parameters from become conjuncts ("within
bounds", "the receiver of this message").  An existential of a guard (the adversary knows
a response because it saw an Init carrying it) is a witness constant of the pool: guards
only occur positively.

Labels of the conjuncts a design option switches off are stable ids (`CHECKS`), read by
proofs/diagnosis.py to name the check whose absence lets a variant break a property.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3  # type: ignore[import-untyped]

from model import messages as mm
from model import state as ms
from model.actions import ACTIONS
from model.config import NONE, DesignOptions

from .context import Ctx, Pool, Step
from .encoding import (
    NO_NONCE,
    Expr,
    Rec,
    Universe,
    make,
    nonce,
    phase_in,
    sentinel,
    sort_of,
    term,
)
from .symstate import SETS, ExpandedState, SymState

CHECKS: dict[str, str] = {
    "respond.group_id_unique": "the group id is neither hosted, pending nor tombstoned "
                               "(for another DS) at the target",
    "init.response_signed": "the MigrationResponse is signed by the request's target",
    "lock.response_signed": "the MigrationResponse inside the Init is signed by its target",
    "lock.current_epoch": "the Init's commit is for the group's current epoch, group active",
    "lock.member_signature": "the Init is signed by a current member",
    "commit.not_locked": "the group is active (not locked) at the member's DS",
    "import.nonce_pending": "the nonce the target issued for this request is still pending",
    "import.content_signed": "the MigrationContent is signed by the request's source",
    "reacknowledge.consumed_kept": "a retried content for a consumed nonce is re-acknowledged",
    "reject.consumed_kept": "a retried content for a nonce it consumed is not rejected",
    "confirm.own_nonce": "the confirmation is for the client's own pending nonce and target",
    "timeout.never": "a locked source never unlocks on a timeout",
    "forge.nonce_known": "the adversary uses only nonces it has seen or made",
    "lock.fanout_after_ack": "locking does not fan the migration commit out",
    "import.consume_nonce": "importing consumes the nonce",
}
"""Stable ids of the checks (guard conjuncts, and two effect clauses) a design option
removes, with what each check says."""


def _view(ds: Any, epoch: Any, n: Any, target: Any) -> Expr:
    return make(ms.ClientView, ds, epoch, term(n), target)


def _active(epoch: Any, origin: Any) -> Expr:
    return make(ms.Host, ms.ACTIVE, epoch, NONE, sentinel("MigrationContent"), origin)


def _pending(v: Rec) -> Expr:
    return v.nonce != NO_NONCE


# ---------------------------------------------------------------- clients


def client_request(cx: Ctx) -> Step:
    u, s = cx.u, cx.s
    client, group, target = cx.int("client"), cx.int("group"), cx.int("target")
    v = s.view(client, group)
    request = make(mm.MigrationRequest, client, v.ds, target, group, v.epoch)
    guard = [
        ("candidates", z3.And(u.honest_client(client), u.group(group), u.honest_ds_(target))),
        ("no migration in progress", v.target == NONE),
        ("target is not the client's DS", target != v.ds),
        ("below max_epoch", v.epoch < u.max_epoch),
    ]
    nxt = s.with_view(client, group, _view(v.ds, v.epoch, NO_NONCE, target))
    return Step("client_request", guard, nxt.with_sent("requests", request))


def client_init(cx: Ctx) -> Step:
    u, s = cx.u, cx.s
    client, group = cx.int("client"), cx.int("group")
    m = cx.msg("response", mm.MigrationResponse)
    r = m.request
    v = s.view(client, group)
    guard = [
        ("receiver", z3.And(u.honest_client(r.client), client == r.client, group == r.group)),
        ("delivered", cx.delivered(m, "responses", True)),
        ("for this client and group", z3.And(r.client == client, r.group == group)),
        ("an outstanding request", z3.And(v.target != NONE, z3.Not(_pending(v)))),
        ("exactly the outstanding request",
         z3.And(r.target == v.target, r.source == v.ds, r.epoch == v.epoch)),
        ("init.response_signed", cx.response_authentic(m)),
    ]
    nxt = s.with_view(client, group, _view(v.ds, v.epoch, m.nonce, r.target))
    nxt = nxt.with_sent("inits", make(mm.MigrationInit, client, m.expr, v.epoch, r.target))
    return Step("client_init", guard, nxt)


def _client_receiver(cx: Ctx, m: Rec) -> Expr:
    return z3.And(cx.u.honest_client(cx.int("client")), cx.int("group") == m.group)


def client_confirm(cx: Ctx) -> Step:
    u, s = cx.u, cx.s
    client, group = cx.int("client"), cx.int("group")
    m = cx.msg("confirmation", mm.MigrationConfirmation)
    v = s.view(client, group)
    own = (z3.BoolVal(True) if cx.opts.confirmation_without_nonce_check
           else z3.And(_pending(v), m.nonce == v.nonce, m.target == v.target))
    guard = [
        ("receiver", _client_receiver(cx, m)),
        ("delivered", cx.delivered(m, "confirmations", True)),
        ("signed by the client's DS, for the group",
         z3.And(m.group == group, m.signer == v.ds, v.epoch < u.max_epoch)),
        ("confirm.own_nonce", own),
    ]
    nxt = s.with_view(client, group, _view(m.target, v.epoch + 1, NO_NONCE, NONE))
    nxt = nxt.with_sent("ghost_confirmations",
                  make(ms.Accepted, client, group, term(v.nonce), v.target, m.expr))
    return Step("client_confirm", guard, nxt)


def client_abort(cx: Ctx) -> Step:
    s = cx.s
    client, group = cx.int("client"), cx.int("group")
    m = cx.msg("aborted", mm.MigrationAborted)
    v = s.view(client, group)
    guard = [
        ("receiver", _client_receiver(cx, m)),
        ("delivered", cx.delivered(m, "aborts", True)),
        ("the client's DS aborts its pending migration",
         z3.And(m.group == group, _pending(v), m.signer == v.ds, m.nonce == v.nonce)),
    ]
    nxt = s.with_view(client, group, _view(v.ds, v.epoch, NO_NONCE, NONE))
    return Step("client_abort", guard, nxt)


def _member_fanout(cx: Ctx, name: str, migration: bool) -> Step:
    s = cx.s
    client, group = cx.int("client"), cx.int("group")
    m = cx.msg("fanout", mm.CommitFanout)
    v = s.view(client, group)
    kind = m.aad_target != NONE if migration else m.aad_target == NONE
    guard = [
        ("receiver", _client_receiver(cx, m)),
        ("delivered", cx.delivered(m, "fanouts", True)),
        ("the migration commit" if migration else "a regular commit", kind),
        ("fanned out by the member's DS for its epoch",
         z3.And(m.group == group, m.ds == v.ds, m.epoch == v.epoch)),
    ]
    new_ds = m.aad_target if migration else v.ds
    nxt = s.with_view(client, group, _view(new_ds, v.epoch + 1, NO_NONCE, NONE))
    return Step(name, guard, nxt)


def member_advance(cx: Ctx) -> Step:
    return _member_fanout(cx, "member_advance", False)


def member_switch(cx: Ctx) -> Step:
    return _member_fanout(cx, "member_switch", True)


def commit_at_current_ds(cx: Ctx) -> Step:
    u, s = cx.u, cx.s
    client, group = cx.int("client"), cx.int("group")
    v = s.view(client, group)
    host = s.host(v.ds, group)
    allowed = (phase_in(host.phase, ms.ACTIVE, ms.LOCKED) if cx.opts.no_epoch_check
               else host.phase == ms.ACTIVE)
    guard = [
        ("candidates", z3.And(u.honest_client(client), u.group(group))),
        ("below max_epoch", v.epoch < u.max_epoch),
        ("the DS is at the member's epoch", host.epoch == v.epoch),
        ("commit.not_locked", allowed),
    ]
    nxt = s.with_host(v.ds, group, _active(v.epoch + 1, host.origin),
                      when=host.phase == ms.ACTIVE)
    nxt = nxt.with_view(client, group, _view(v.ds, v.epoch + 1, NO_NONCE, NONE))
    nxt = nxt.with_sent("fanouts", make(mm.CommitFanout, v.ds, group, v.epoch, client, NONE))
    nxt = nxt.with_sent("ghost_history", make(ms.Commit, group, v.epoch, v.ds, client, NONE))
    return Step("commit_at_current_ds", guard, nxt)


# ---------------------------------------------------------------- the source DS


def _export(source: Expr, init: Rec) -> Expr:
    r = init.response.request
    return make(mm.MigrationContent, source, init.response.expr,
                make(mm.GroupState, r.group, r.epoch + 1))


def source_lock_and_export(cx: Ctx) -> Step:
    u, s, opts = cx.u, cx.s, cx.opts
    source = cx.int("source")
    m = cx.msg("init", mm.MigrationInit)
    r = m.response.request
    host = s.host(source, r.group)
    content = _export(source, m)
    if opts.no_epoch_check:
        current = z3.And(phase_in(host.phase, ms.ACTIVE, ms.LOCKED), host.lock != content)
    else:
        current = z3.And(host.phase == ms.ACTIVE, host.epoch == r.epoch)
    member = z3.BoolVal(True) if opts.unsigned_init else u.honest_client(m.signer)
    guard = [
        ("receiver", z3.And(u.honest_ds_(r.source), source == r.source)),
        ("delivered", cx.delivered(m, "inits", True)),
        ("request for this source, another target, below max_epoch",
         z3.And(r.source == source, r.target != source, r.epoch < u.max_epoch)),
        ("commit for the request's epoch, AAD naming its target",
         z3.And(m.commit_epoch == r.epoch, m.aad_target == r.target)),
        ("lock.current_epoch", current),
        ("signed by the requester", m.signer == r.client),
        ("lock.member_signature", member),
        ("source policy", u.source_allows(m.signer)),
        ("lock.response_signed", cx.response_authentic(m.response)),
    ]
    locked = make(ms.Host, ms.LOCKED, r.epoch, r.target, content, host.origin)
    nxt = s.with_host(source, r.group, locked)
    nxt = nxt.with_sent("contents", content)
    nxt = nxt.with_sent("ghost_starts", make(ms.Start, source, m.expr))
    if opts.fanout_before_ack:
        nxt = nxt.with_sent("fanouts",
                      make(mm.CommitFanout, source, r.group, r.epoch, m.signer, r.target))
        nxt = nxt.with_sent("ghost_fanned", content)
        nxt = nxt.with_sent("ghost_history",
                      make(ms.Commit, r.group, r.epoch, source, m.signer, r.target))
    return Step("source_lock_and_export", guard, nxt)


def _locked_on(cx: Ctx, source: Expr, m: Rec) -> tuple[Rec, Expr]:
    host = cx.s.host(source, m.content.response.request.group)
    return host, z3.And(host.phase == ms.LOCKED, host.lock == m.content,
                        m.signer == host.target)


def source_fanout_and_confirm(cx: Ctx) -> Step:
    u, s = cx.u, cx.s
    source = cx.int("source")
    m = cx.msg("complete", mm.TargetMigrationComplete)
    host, locked_on = _locked_on(cx, source, m)
    content = m.content
    r = content.response.request
    guard = [
        ("receiver", z3.And(u.honest_ds_(content.signer), source == content.signer)),
        ("delivered", cx.delivered(m, "completes", True)),
        ("the target's ack of exactly the locked content", locked_on),
    ]
    moved = make(ms.Host, ms.MOVED, NONE, host.target, sentinel("MigrationContent"), NONE)
    nxt = s.with_host(source, r.group, moved)
    nxt = nxt.with_sent("fanouts",
                  make(mm.CommitFanout, source, r.group, host.epoch, r.client, host.target))
    nxt = nxt.with_sent("confirmations",
                  make(mm.MigrationConfirmation, source, host.target,
                       term(content.response.nonce), r.group))
    nxt = nxt.with_sent("ghost_fanned", content)
    nxt = nxt.with_sent("ghost_history",
                  make(ms.Commit, r.group, host.epoch, source, r.client, host.target))
    return Step("source_fanout_and_confirm", guard, nxt)


def _locked_candidates(cx: Ctx) -> tuple[Expr, Expr, Rec, Expr]:
    source, group = cx.int("source"), cx.int("group")
    host = cx.s.host(source, group)
    cand = z3.And(cx.u.honest_ds_(source), cx.u.group(group), host.phase == ms.LOCKED)
    return source, group, host, cand


def source_retry(cx: Ctx) -> Step:
    _, _, host, cand = _locked_candidates(cx)
    guard = [("locked", cand)]
    return Step("source_retry", guard, cx.s.with_sent("contents", host.lock))


def _unlock(cx: Ctx, source: Expr, group: Expr, host: Rec) -> SymState:
    nxt = cx.s.with_host(source, group, _active(host.epoch, host.origin))
    return nxt.with_sent("aborts",
                   make(mm.MigrationAborted, source, group, term(host.lock.response.nonce)))


def source_unlock_on_reject(cx: Ctx) -> Step:
    u = cx.u
    source = cx.int("source")
    m = cx.msg("rejection", mm.TargetMigrationRejected)
    host, locked_on = _locked_on(cx, source, m)
    guard = [
        ("receiver", z3.And(u.honest_ds_(m.content.signer), source == m.content.signer)),
        ("delivered", cx.delivered(m, "rejections", True)),
        ("the target's rejection of exactly the locked content", locked_on),
    ]
    nxt = _unlock(cx, source, m.content.response.request.group, host)
    return Step("source_unlock_on_reject", guard, nxt)


def source_timeout(cx: Ctx) -> Step:
    source, group, host, cand = _locked_candidates(cx)
    guard = [
        ("locked", cand),
        ("timeout.never", z3.BoolVal(cx.opts.unlock_on_timeout)),
    ]
    return Step("source_timeout", guard, _unlock(cx, source, group, host))


# ---------------------------------------------------------------- the target DS


def _pending_nonce_for_group(cx: Ctx, target: Expr, group: Expr) -> Expr:
    def pending(j: Expr) -> Expr:
        rec = cx.s.record(target, j)
        return z3.And(rec.phase == ms.PENDING, rec.request.group == group)

    return cx.u.some_index(pending)


def target_respond(cx: Ctx) -> Step:
    u, s = cx.u, cx.s
    target = cx.int("target")
    m = cx.msg("request", mm.MigrationRequest)
    fresh = cx.int("choice.first_unused")
    host = s.host(target, m.group)
    if cx.opts.no_group_id_uniqueness:
        unique = z3.BoolVal(True)
    else:
        unique = z3.And(
            z3.Not(phase_in(host.phase, ms.ACTIVE, ms.LOCKED)),
            # a tombstone yields only to the DS it names
            z3.Implies(host.phase == ms.MOVED, host.target == m.source),
            z3.Not(_pending_nonce_for_group(cx, target, m.group)),
        )
    first_unused = cx.first_unused(target, fresh)
    guard = [
        ("receiver", z3.And(u.honest_ds_(m.target), target == m.target)),
        ("delivered", cx.delivered(m, "requests", True)),
        ("for this target, from another source, below max_epoch",
         z3.And(m.target == target, m.source != target, m.epoch < u.max_epoch)),
        ("target policy", u.target_allows(m.client)),
        ("respond.group_id_unique", unique),
        ("a fresh nonce is left (the first unused)", first_unused),
    ]
    nxt = s.with_record(target, fresh,
                        make(ms.NonceRecord, ms.PENDING, m.expr, sentinel("MigrationContent")))
    nxt = nxt.with_sent("responses",
                  make(mm.MigrationResponse, target, m.expr, nonce(target, fresh)))
    return Step("target_respond", guard, nxt, [fresh])


def _to_target(cx: Ctx, m: Rec) -> Expr:
    target = cx.int("target")
    t = m.response.request.target
    return z3.And(cx.u.honest_ds_(t), target == t)


def _issued_for(cx: Ctx, target: Expr, m: Rec) -> Expr:
    """The content's response is one `target` signed, with a nonce it issued for exactly
    the content's request (the record is not None and names that request)."""
    rec = cx.s.record(target, m.response.nonce.index)
    return z3.And(cx.record_valid(target, m), rec.request == m.response.request)


def _nonce_pending_for(cx: Ctx, target: Expr, m: Rec) -> Expr:
    """... and that nonce is still pending."""
    rec = cx.s.record(target, m.response.nonce.index)
    return z3.And(_issued_for(cx, target, m), rec.phase == ms.PENDING)


def target_import(cx: Ctx) -> Step:
    u, s, opts = cx.u, cx.s, cx.opts
    target = cx.int("target")
    m = cx.msg("content", mm.MigrationContent)
    r = m.response.request
    guard = [
        ("receiver", _to_target(cx, m)),
        ("delivered", cx.delivered(m, "contents", True)),
        ("for this target, from another source", z3.And(r.target == target, r.source != target)),
        ("the state after the migration commit",
         m.state == make(mm.GroupState, r.group, r.epoch + 1)),
        ("import.content_signed", cx.content_signed(m)),
        ("target policy", u.target_allows(r.client)),
        ("response signed by this target for exactly this request",
         _issued_for(cx, target, m)),
        ("import.nonce_pending",
         z3.BoolVal(True) if opts.no_nonce_check
         else s.record(target, m.response.nonce.index).phase == ms.PENDING),
    ]
    replaced = s.host(target, r.group).phase
    nxt = s
    if not opts.nonce_reuse:
        consumed = make(ms.NonceRecord, ms.CONSUMED, r.expr, m.expr)
        nxt = nxt.with_record(target, m.response.nonce.index, consumed,
                              when=_nonce_pending_for(cx, target, m))
    nxt = nxt.with_host(target, r.group, _active(r.epoch + 1, r.source))
    nxt = nxt.with_sent("completes", make(mm.TargetMigrationComplete, target, m.expr))
    entry = make(ms.Import, target, m.expr, replaced)
    again = z3.Or(*[s.has("ghost_imports", make(ms.Import, target, m.expr, phase))
                    for phase in (ms.ABSENT, ms.ACTIVE, ms.LOCKED, ms.MOVED)])
    nxt = nxt.with_sent("ghost_imports", entry, when=z3.Not(again))
    nxt = nxt.with_sent("ghost_reimports", entry, when=again)
    commit = make(ms.Commit, r.group, r.epoch, r.source, r.client, target)
    nxt = nxt.with_sent("ghost_history", commit, when=u.honest_ds_(r.source))
    return Step("target_import", guard, nxt)


def target_reacknowledge(cx: Ctx) -> Step:
    s = cx.s
    target = cx.int("target")
    m = cx.msg("content", mm.MigrationContent)
    rec = s.record(target, m.response.nonce.index)
    guard = [
        ("receiver", _to_target(cx, m)),
        ("delivered", cx.delivered(m, "contents", False)),
        ("reacknowledge.consumed_kept", z3.BoolVal(not cx.opts.forget_consumed_nonces)),
        ("for this target", m.response.request.target == target),
        ("its nonce was consumed by exactly this content",
         z3.And(cx.record_valid(target, m), rec.phase == ms.CONSUMED, rec.content == m)),
    ]
    nxt = s.with_sent("completes", make(mm.TargetMigrationComplete, target, m.expr))
    return Step("target_reacknowledge", guard, nxt)


def target_reject(cx: Ctx) -> Step:
    s, opts = cx.s, cx.opts
    target = cx.int("target")
    m = cx.msg("content", mm.MigrationContent)
    r = m.response.request
    rec = s.record(target, m.response.nonce.index)
    unknown = z3.Or(
        z3.Not(cx.record_valid(target, m)),
        phase_in(rec.phase, ms.UNUSED, ms.EXPIRED),
        rec.request != r,
    )
    consumed_by_other = z3.And(rec.phase == ms.CONSUMED, rec.content != m)
    consumed = rec.phase == ms.CONSUMED if opts.forget_consumed_nonces else consumed_by_other
    guard = [
        ("receiver", _to_target(cx, m)),
        ("delivered", cx.delivered(m, "contents", False)),
        ("nonce checks on", z3.BoolVal(not opts.no_nonce_check)),
        ("for this target, from another source", z3.And(r.target == target, r.source != target)),
        ("signed by the request's source", cx.content_signed(m)),
        ("reject.consumed_kept",
         z3.Or(unknown, z3.And(z3.Not(unknown), consumed))),
    ]
    nxt = s.with_sent("rejections", make(mm.TargetMigrationRejected, target, m.expr))
    return Step("target_reject", guard, nxt)


def target_expire_nonce(cx: Ctx) -> Step:
    u, s = cx.u, cx.s
    target, index = cx.int("target"), cx.int("index")
    rec = s.record(target, index)
    guard = [
        ("candidates", z3.And(u.honest_ds_(target), u.index(index))),
        ("only a pending nonce expires", rec.phase == ms.PENDING),
    ]
    expired = make(ms.NonceRecord, ms.EXPIRED, rec.request.expr, sentinel("MigrationContent"))
    return Step("target_expire_nonce", guard, s.with_record(target, index, expired))


# ---------------------------------------------------------------- the table

Builder = Callable[[Ctx], Step]

BUILDERS: dict[str, Builder] = {
    "client_request": client_request,
    "target_respond": target_respond,
    "client_init": client_init,
    "source_lock_and_export": source_lock_and_export,
    "target_import": target_import,
    "target_reacknowledge": target_reacknowledge,
    "target_reject": target_reject,
    "target_expire_nonce": target_expire_nonce,
    "source_fanout_and_confirm": source_fanout_and_confirm,
    "source_retry": source_retry,
    "source_unlock_on_reject": source_unlock_on_reject,
    "source_timeout": source_timeout,
    "client_confirm": client_confirm,
    "client_abort": client_abort,
    "member_advance": member_advance,
    "member_switch": member_switch,
    "commit_at_current_ds": commit_at_current_ds,
}

ACTION_NAMES: tuple[str, ...] = tuple(spec.name for spec in ACTIONS)
"""The model's actions, in table order; the selector of a step is an index into it."""

if set(BUILDERS) != set(ACTION_NAMES):  # pragma: no cover - caught at import
    raise ImportError(f"proofs/transitions.py does not cover {set(ACTION_NAMES) ^ set(BUILDERS)}")


def steps(universe: Universe, options: DesignOptions, state: SymState,
          pool: Pool) -> list[Step]:
    """Every action of the table, built on one pre-state and one shared parameter pool."""
    return [BUILDERS[name](Ctx(universe, options, state, pool)) for name in ACTION_NAMES]


def expanded_relation(universe: Universe, options: DesignOptions, pre: ExpandedState,
                      pool: Pool, selector: Expr, prefix: str
                      ) -> tuple[list[Expr], ExpandedState]:
    """T(pre, post) over expanded states: (constraints, post).  `post` has one fresh
    constant per table entry, and per set the entries of `pre` followed by fresh
    (flag, element) slots, as many as the action sending most to that set needs."""
    built = steps(universe, options, pre, pool)
    nexts: list[ExpandedState] = []
    for step in built:
        assert isinstance(step.next, ExpandedState)
        nexts.append(step.next)
    tables = {
        name: {key: z3.Const(f"{prefix}.{name}.{key[0]}.{key[1]}", value.sort())
               for key, value in entries.items()}
        for name, entries in pre.tables.items()
    }
    sets: dict[str, tuple[tuple[Expr, Expr], ...]] = {}
    added: dict[str, list[tuple[Expr, Expr]]] = {}
    for name, entries in pre.sets.items():
        width = max(len(n.sets[name]) - len(entries) for n in nexts)
        slots = [(z3.Bool(f"{prefix}.{name}.{j}.sent"),
                  z3.Const(f"{prefix}.{name}.{j}", sort_of(SETS[name])))
                 for j in range(width)]
        added[name] = slots
        sets[name] = (*entries, *slots)
    constraints = [z3.And(selector >= 0, selector < len(ACTION_NAMES))]
    for i, (step, nxt) in enumerate(zip(built, nexts, strict=True)):
        parts = [step.enabled()]
        for name, cells in nxt.tables.items():
            for key, value in cells.items():
                parts.append(tables[name][key] == value)
        for name, slots in added.items():
            new = nxt.sets[name][len(pre.sets[name]):]
            for j, (flag, elem) in enumerate(slots):
                if j < len(new):
                    parts += [flag == new[j][0], elem == new[j][1]]
                else:
                    parts.append(z3.Not(flag))
        constraints.append(z3.Implies(selector == i, z3.And(*parts)))
    return constraints, ExpandedState(tables, sets)
