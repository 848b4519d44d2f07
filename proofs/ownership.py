"""The lemmas behind single_owner: who may sequence a group's next commit.

This module owns the strengthening lemmas that make `single_owner` inductive for the
reference design (proofs/lemmas.py has the ones the other properties need).  They describe
a group's *lineage*: the honest DSs that held it in turn, each move a migration commit.  At
any time one lineage DS is current (active or locked), or, while a migration is being
acknowledged, the locked source and the target that imported its content; a current host
is the history's frontier (no commit at or beyond its epoch, but its own migration commit).
That clients only ever stand at lineage DSs, never ahead of one serving the group, is a
property of its own (members_follow_owner, model/properties.py), which these lemmas use.

A rogue DS can make an honest DS import *another* group under the same id (lockstep finding
F1: the import is of R's content); such a copy is frozen, since no member can reach it.
`rogue_copy(d, g)` names it: d serves g as imported from R (Host.origin).
Every lemma is a universally quantified clause (proofs/properties.py), so it reads the
same for any number of clients, DSs, groups and nonces; each docstring names the clause of
docs/profile.md that makes it true.
"""

from __future__ import annotations

from typing import Any

import z3  # type: ignore[import-untyped]

from model import messages as mm
from model import state as ms
from model.config import NONE

from .encoding import NO_NONCE, Expr, Rec, Universe, make, phase_in
from .induction import Lemma
from .lemmas import consumed_by, record_of
from .properties import GROUPS, HONEST_CLIENTS, HONEST_DS, INDICES, Clause
from .symstate import EMPTY_HOST, SymState

# ---------------------------------------------------------------- vocabulary


def rogue_copy(u: Universe, s: SymState, d: Any, g: Any) -> Expr:
    """d serves group id g as imported from the rogue DS."""
    host = s.host(d, g)
    return z3.And(host.phase != ms.ABSENT, host.phase != ms.MOVED, host.origin == u.R)


def current(u: Universe, s: SymState, d: Any, g: Any) -> Expr:
    """d serves g in the lineage: active or locked, and not a rogue copy."""
    host = s.host(d, g)
    return z3.And(phase_in(host.phase, ms.ACTIVE, ms.LOCKED),
                  z3.Not(rogue_copy(u, s, d, g)))


def migration_commit(d: Any, host: Rec) -> Expr:
    """The migration commit of a locked host: the one its lock's content exports."""
    r = host.lock.response.request
    return make(ms.Commit, r.group, host.epoch, d, r.client, host.target)


def handed_over(s: SymState, source: Any, target: Any, g: Any) -> Expr:
    """`source` is locked on a migration of g that `target` imported: the acknowledgment
    is on its way (target active from the epoch after the migration commit)."""
    a, b = s.host(source, g), s.host(target, g)
    return z3.And(a.phase == ms.LOCKED, b.phase == ms.ACTIVE, target == a.target,
                  b.epoch == a.epoch + 1, consumed_by(s, a.lock))


def lineage_host(u: Universe, s: SymState, d: Any, g: Any, epoch: Any) -> Expr:
    """A DS a member can stand at, at `epoch`: it holds g (not absent), not as a rogue
    copy, and if it serves g it is at that epoch or later."""
    host = s.host(d, g)
    return z3.And(host.phase != ms.ABSENT, z3.Not(rogue_copy(u, s, d, g)),
                  z3.Implies(current(u, s, d, g), epoch <= host.epoch))


# ---------------------------------------------------------------- the lemmas


def _host_shape(u: Universe, s: SymState, d: Expr, g: Expr) -> Expr:
    host = s.host(d, g)
    return z3.And(
        phase_in(host.phase, ms.ABSENT, ms.ACTIVE, ms.LOCKED, ms.MOVED),
        z3.Implies(host.phase == ms.ABSENT, host == EMPTY_HOST),
        z3.Implies(host.phase == ms.ACTIVE, host.epoch >= 0))


HOSTS_WELL_FORMED = Lemma(
    "hosts_well_formed",
    "A group at an honest DS is absent (untouched), active from a non-negative epoch, "
    "locked or moved: the four hosting states of profile 5.",
    (Clause((HONEST_DS, GROUPS), _host_shape),),
)


def _tombstone(u: Universe, s: SymState, d: Expr, g: Expr) -> Expr:
    host = s.host(d, g)
    return z3.Implies(host.phase == ms.MOVED,
                      z3.And(u.honest_ds_(host.target), host.target != d))


TOMBSTONES_NAME_HONEST_TARGETS = Lemma(
    "tombstones_name_honest_targets",
    "A tombstone names the honest DS the group moved to (profile 5: the Source DS keeps a "
    "tombstone group_id -> target domain, and it migrates only to a target that signed "
    "the MigrationResponse: an honest one, since only honest DSs answer requests).",
    (Clause((HONEST_DS, GROUPS), _tombstone),),
)


def _one_pending(u: Universe, s: SymState, d: Expr, k1: Expr, k2: Expr) -> Expr:
    a, b = s.record(d, k1), s.record(d, k2)
    return z3.Implies(z3.And(a.phase == ms.PENDING, b.phase == ms.PENDING,
                             a.request.group == b.request.group), k1 == k2)


ONE_PENDING_NONCE_PER_GROUP = Lemma(
    "one_pending_nonce_per_group",
    "A target has at most one pending nonce per group id (profile 5: the Target DS refuses a "
    "request for a group id it has pending).",
    (Clause((HONEST_DS, INDICES, INDICES), _one_pending),),
)


def _pending_keeps_free(u: Universe, s: SymState, d: Expr, k: Expr) -> Expr:
    rec = s.record(d, k)
    r = rec.request
    host = s.host(d, r.group)
    return z3.Implies(rec.phase == ms.PENDING, z3.Or(
        host.phase == ms.ABSENT, z3.And(host.phase == ms.MOVED, host.target == r.source)))


PENDING_NONCE_KEEPS_GROUP_FREE = Lemma(
    "pending_nonce_keeps_group_free",
    "While a nonce is pending, its target neither hosts the group nor holds a tombstone for "
    "it naming another DS than the request's source (profile 5: group ids are unique per "
    "DS, a tombstone yields only to the DS it names; nothing else can make the group "
    "appear there while the nonce is pending).",
    (Clause((HONEST_DS, INDICES), _pending_keeps_free),),
)


def _rogue_frozen(u: Universe, s: SymState, d: Expr, g: Expr) -> Expr:
    return z3.Implies(rogue_copy(u, s, d, g), s.host(d, g).phase == ms.ACTIVE)


ROGUE_COPIES_FROZEN = Lemma(
    "rogue_copies_frozen",
    "A group id imported from the rogue DS stays active where it landed, and untouched: no "
    "member is there to commit or migrate it (model finding F1: it is another group with "
    "the same id).",
    (Clause((HONEST_DS, GROUPS), _rogue_frozen),),
)


def _one_current(u: Universe, s: SymState, a: Expr, b: Expr, g: Expr) -> Expr:
    return z3.Implies(
        z3.And(current(u, s, a, g), current(u, s, b, g), a != b),
        z3.Or(handed_over(s, a, b, g), handed_over(s, b, a, g)))


ONE_CURRENT_HOST = Lemma(
    "one_current_host",
    "At most one lineage DS serves a group, except while a migration is acknowledged: the "
    "source is locked and the target imported its content (profile 5: the source locks the "
    "group on MigrationInit, the target imports under a fresh nonce only for a group id it "
    "neither hosts nor has pending).",
    (Clause((HONEST_DS, HONEST_DS, GROUPS), _one_current),),
)


def _active_frontier(u: Universe, s: SymState, d: Expr, g: Expr, h: Rec) -> Expr:
    host = s.host(d, g)
    return z3.Implies(
        z3.And(host.phase == ms.ACTIVE, z3.Not(rogue_copy(u, s, d, g)), h.group == g),
        h.epoch < host.epoch)


ACTIVE_HOST_IS_THE_FRONTIER = Lemma(
    "active_host_is_the_frontier",
    "A lineage DS serving a group is at the head of its history: every commit of the group "
    "is for an earlier epoch (profile 5: the target serves the group from the epoch after "
    "the migration commit on).",
    (Clause((HONEST_DS, GROUPS, "ghost_history"), _active_frontier),),
)


def _locked_frontier(u: Universe, s: SymState, d: Expr, g: Expr, h: Rec) -> Expr:
    host = s.host(d, g)
    return z3.Implies(z3.And(host.phase == ms.LOCKED, h.group == g, h.epoch >= host.epoch),
                      z3.And(h == migration_commit(d, host), consumed_by(s, host.lock)))


LOCKED_HOST_IS_THE_FRONTIER = Lemma(
    "locked_host_is_the_frontier",
    "A locked group's history stops before its locked epoch but for the migration commit "
    "itself, which is there only once the target imported the locked content (profile 5: "
    "once locked, the DS sequences no other commit for that epoch, and fans the migration "
    "commit out only after the target's acknowledgment).",
    (Clause((HONEST_DS, GROUPS, "ghost_history"), _locked_frontier),),
)


def _request_source(u: Universe, s: SymState, r: Rec, d: Expr) -> Expr:
    host = s.host(d, r.group)
    return z3.And(
        z3.Implies(d == r.source,
                   z3.And(host.phase != ms.ABSENT, z3.Not(rogue_copy(u, s, d, r.group)))),
        z3.Implies(z3.Or(host.phase == ms.LOCKED, current(u, s, d, r.group)),
                   r.epoch <= host.epoch))


REQUESTS_FROM_THE_LINEAGE = Lemma(
    "requests_from_the_lineage",
    "A member's MigrationRequest names as source a DS of the group's lineage (never a rogue "
    "copy) and an epoch no later than that of any DS serving the group: the member asked "
    "from where it stood (profile 5).",
    (Clause(("requests", HONEST_DS), _request_source),),
)


def _member_records(u: Universe, s: SymState, d: Expr, k: Expr) -> Expr:
    rec = s.record(d, k)
    return z3.Implies(z3.And(rec.phase != ms.UNUSED, u.honest_client(rec.request.client)),
                      s.has("requests", rec.request))


MEMBERS_NONCES_ANSWER_THEIR_REQUESTS = Lemma(
    "members_nonces_answer_their_requests",
    "A nonce issued for a member's request was issued for a MigrationRequest that member "
    "sent (the rogue client can only send requests naming itself).",
    (Clause((HONEST_DS, INDICES), _member_records),),
)


def _fanout_recorded(u: Universe, s: SymState, f: Rec) -> Expr:
    return s.has("ghost_history",
                 make(ms.Commit, f.group, f.epoch, f.ds, f.committer, f.aad_target))


FANOUTS_RECORDED = Lemma(
    "fanouts_recorded",
    "Every commit fanned out is in the group's history (a DS fans out only what it "
    "sequenced).",
    (Clause(("fanouts",), _fanout_recorded),),
)


def moved_on(u: Universe, s: SymState, d: Any, g: Any, epoch: Any) -> Expr:
    """If d serves g again, it is past `epoch`."""
    return z3.Implies(current(u, s, d, g), epoch < s.host(d, g).epoch)


def _fanout_target(u: Universe, s: SymState, f: Rec) -> Expr:
    return z3.Implies(f.aad_target != NONE, z3.And(
        lineage_host(u, s, f.aad_target, f.group, f.epoch + 1),
        moved_on(u, s, f.ds, f.group, f.epoch)))


MIGRATION_FANOUTS_LEAD_TO_THE_LINEAGE = Lemma(
    "migration_fanouts_lead_to_the_lineage",
    "A fanned-out migration commit names a target that imported the group: a lineage DS at "
    "the epoch after it or later; its source serves the group again only past it (profile "
    "5: fan-out only after TargetMigrationComplete, then a tombstone).",
    (Clause(("fanouts",), _fanout_target),),
)


def _pending_request(u: Universe, s: SymState, c: Expr, g: Expr) -> Expr:
    v = s.view(c, g)
    rec = s.record(v.target, v.nonce.index)
    return z3.Implies(v.nonce != NO_NONCE, z3.And(
        u.honest_ds_(v.target), v.nonce.ds == v.target, u.index(v.nonce.index),
        rec.phase != ms.UNUSED,
        rec.request == make(mm.MigrationRequest, c, v.ds, v.target, g, v.epoch)))


PENDING_MIGRATIONS_ARE_THE_CLIENTS_OWN = Lemma(
    "pending_migrations_are_the_clients_own",
    "A member's pending nonce was issued by its target for exactly the request it made from "
    "its current DS and epoch (profile 5: the client acts on a MigrationResponse for its "
    "own request only).",
    (Clause((HONEST_CLIENTS, GROUPS), _pending_request),),
)


def _confirmation(u: Universe, s: SymState, m: Rec) -> Expr:
    n = m.nonce
    rec = s.record(n.ds, n.index)
    r = rec.request
    return z3.And(
        n.ds == m.target, u.index(n.index), rec.phase == ms.CONSUMED,
        r.source == m.signer, r.target == m.target, r.group == m.group,
        s.has("ghost_history", make(ms.Commit, r.group, r.epoch, m.signer, r.client,
                                    m.target)),
        lineage_host(u, s, m.target, m.group, r.epoch + 1),
        moved_on(u, s, m.signer, m.group, r.epoch))


CONFIRMATIONS_AFTER_IMPORT = Lemma(
    "confirmations_after_import",
    "A MigrationConfirmation names a nonce its target consumed by importing the source's "
    "content: the migration commit is in the history and the target is a lineage DS from "
    "the epoch after it (profile 5: confirmation only after TargetMigrationComplete).",
    (Clause(("confirmations",), _confirmation),),
)


def _pending_content(u: Universe, s: SymState, c: Rec) -> Expr:
    r = c.response.request
    rec = record_of(s, c.response)
    host = s.host(r.source, r.group)
    pending = z3.And(c.response.nonce.ds == r.target, rec.phase == ms.PENDING,
                     rec.request == r)
    return z3.Implies(z3.And(u.honest_ds_(c.signer), pending),
                      z3.And(host.phase == ms.LOCKED, host.lock == c))


IMPORTABLE_CONTENTS_ARE_LOCKS = Lemma(
    "importable_contents_are_locks",
    "While the nonce of an honest source's MigrationContent is pending, the source is still "
    "locked on exactly that content (profile 5: it unlocks only on the target's signed "
    "rejection, which a pending nonce never gets).",
    (Clause(("contents",), _pending_content),),
)


def _imported(u: Universe, s: SymState, d: Expr, k: Expr) -> Expr:
    rec = s.record(d, k)
    r = rec.request
    commit = make(ms.Commit, r.group, r.epoch, r.source, r.client, d)
    return z3.Implies(z3.And(rec.phase == ms.CONSUMED, u.honest_ds_(r.source)), z3.And(
        s.has("ghost_history", commit), lineage_host(u, s, d, r.group, r.epoch + 1)))


IMPORTS_STAY_IN_THE_LINEAGE = Lemma(
    "imports_stay_in_the_lineage",
    "A target that imported a group from an honest source recorded its migration commit, "
    "and stays in the group's lineage: it holds the group (or its tombstone) from the epoch "
    "after that commit on, never a rogue copy (profile 5: a tombstone keeps the group id "
    "taken).",
    (Clause((HONEST_DS, INDICES), _imported),),
)


def _acked_target_serves(u: Universe, s: SymState, d: Expr, g: Expr) -> Expr:
    host = s.host(d, g)
    there = s.host(host.target, g)
    return z3.Implies(z3.And(host.phase == ms.LOCKED, consumed_by(s, host.lock)),
                      z3.And(there.phase == ms.ACTIVE, there.epoch == host.epoch + 1))


ACKED_TARGET_SERVES = Lemma(
    "acked_target_serves",
    "While a source is locked on a content its target imported, that target serves the group "
    "from the epoch after the migration commit (profile 5: the target imports under a fresh "
    "nonce and hosts the group from then on; no member can reach it to commit or migrate "
    "before the source fans the migration commit out).",
    (Clause((HONEST_DS, GROUPS), _acked_target_serves),),
)


OWNERSHIP: tuple[Lemma, ...] = (
    HOSTS_WELL_FORMED,
    TOMBSTONES_NAME_HONEST_TARGETS,
    ONE_PENDING_NONCE_PER_GROUP,
    PENDING_NONCE_KEEPS_GROUP_FREE,
    ROGUE_COPIES_FROZEN,
    ONE_CURRENT_HOST,
    ACTIVE_HOST_IS_THE_FRONTIER,
    LOCKED_HOST_IS_THE_FRONTIER,
    REQUESTS_FROM_THE_LINEAGE,
    MEMBERS_NONCES_ANSWER_THEIR_REQUESTS,
    FANOUTS_RECORDED,
    MIGRATION_FANOUTS_LEAD_TO_THE_LINEAGE,
    PENDING_MIGRATIONS_ARE_THE_CLIENTS_OWN,
    CONFIRMATIONS_AFTER_IMPORT,
    IMPORTABLE_CONTENTS_ARE_LOCKS,
    IMPORTS_STAY_IN_THE_LINEAGE,
    ACKED_TARGET_SERVES,
)
