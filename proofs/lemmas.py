"""The strengthening lemmas of the reference design's inductive invariant.

This module owns the lemmas that, with the safety properties themselves, make an inductive
invariant of the reference design (proofs/induction.py checks it).  Each lemma is a fact
about every reachable state, stated for any number of parties, with the clause of
docs/profile.md that makes it true in its docstring.  The test suite also evaluates every
lemma on every reachable state of small configurations (a lemma that is not even an
invariant is caught there first, with a concrete state).
"""

from __future__ import annotations

import z3  # type: ignore[import-untyped]

from model import messages as mm
from model import state as ms
from model.config import NONE

from .encoding import NO_NONCE, Expr, Rec, Universe, make, nonce, phase_in, term
from .induction import Lemma
from .properties import GROUPS, HONEST_CLIENTS, HONEST_DS, INDICES, INTS, Clause
from .symstate import EMPTY_HOST, UNUSED_RECORD, VIEW0, SymState

# ---------------------------------------------------------------- vocabulary


def record_of(s: SymState, response: Rec) -> Rec:
    """The issuing target's record of a response's nonce."""
    return s.record(response.nonce.ds, response.nonce.index)


def issued(u: Universe, s: SymState, response: Rec) -> Expr:
    """`response` is one its request's target signed when it issued the nonce it carries:
    the nonce is that target's, its record names exactly that request and is no longer
    unused (actions.target_respond)."""
    r = response.request
    rec = record_of(s, response)
    return z3.And(response.signer == r.target, u.honest_ds_(r.target),
                  response.nonce.ds == r.target, u.index(response.nonce.index),
                  rec.phase != ms.UNUSED, rec.request == r)


def exported(u: Universe, s: SymState, content: Rec) -> Expr:
    """A MigrationContent an honest source exported (actions.source_lock_and_export)."""
    r = content.response.request
    return z3.And(u.honest_ds_(content.signer), content.signer == r.source,
                  s.has("responses", content.response),
                  content.state == make(mm.GroupState, r.group, r.epoch + 1, mm.OWN_MEMBERS))


def consumed_by(s: SymState, content: Rec) -> Expr:
    """The content's nonce was consumed by importing exactly this content."""
    rec = record_of(s, content.response)
    return z3.And(rec.phase == ms.CONSUMED, rec.content == content)


def pending_for(s: SymState, content: Rec) -> Expr:
    """The content can still be imported: its nonce is pending for exactly its request."""
    rec = record_of(s, content.response)
    return z3.And(rec.phase == ms.PENDING, rec.request == content.response.request)


# ---------------------------------------------------------------- the lemmas


def _responses_issued(u: Universe, s: SymState, m: Rec) -> Expr:
    r = m.request
    return z3.And(issued(u, s, m), u.request_in_bounds(r), u.target_allows(r.client))


RESPONSES_ISSUED = Lemma(
    "responses_issued",
    "Every MigrationResponse in the network was signed by its request's target when it "
    "issued the nonce for exactly that request (profile 5: 'The Target DS issues a fresh "
    "random 32-byte nonce per MigrationRequest, and remembers it bound to (source, target, "
    "group id, epoch)'), after its policy allowed the client (profile 6).  Only honest "
    "targets put responses on the network; a response the rogue DS signs is not stored.",
    (Clause(("responses",), _responses_issued),),
)


def _records(u: Universe, s: SymState, d: Expr, k: Expr) -> Expr:
    rec = s.record(d, k)
    r = rec.request
    c = rec.content
    consumed = z3.And(c.response.request == r, c.response.nonce == nonce(d, k),
                      c.response.signer == d, c.signer == r.source,
                      c.state.group == r.group, c.state.epoch == r.epoch + 1)
    return z3.And(
        phase_in(rec.phase, ms.UNUSED, ms.PENDING, ms.CONSUMED, ms.EXPIRED),
        z3.Implies(rec.phase != ms.UNUSED, z3.And(r.target == d, u.request_in_bounds(r))),
        z3.Implies(rec.phase == ms.CONSUMED, consumed),
    )


NONCE_RECORDS = Lemma(
    "nonce_records",
    "A target's nonce record, once issued, names a request for that target; a consumed one "
    "holds the content it imported: for exactly that request and nonce, signed by the "
    "request's source (profile 5: 'Importing consumes the nonce').",
    (Clause((HONEST_DS, INDICES), _records),),
)


def _inits(u: Universe, s: SymState, i: Rec) -> Expr:
    r = i.response.request
    return z3.And(u.honest_client(i.signer), i.signer == r.client,
                  s.has("responses", i.response), i.commit_epoch == r.epoch,
                  i.aad_target == r.target)


INITS_FROM_MEMBERS = Lemma(
    "inits_from_members",
    "Every MigrationInit on the network was sent by an honest member for a response its "
    "target signed, with the migration commit for the request's epoch naming its target "
    "(profile 4: the commit's AAD names the target; profile 2: MigrationInit is signed with "
    "the member's leaf key, so the rogue client's are never accepted nor stored).",
    (Clause(("inits",), _inits),),
)


CONTENTS_EXPORTED = Lemma(
    "contents_exported",
    "Every MigrationContent on the network was exported by the honest source its request "
    "names, for a response its target signed, carrying the state after the migration "
    "commit (profile 4 and 5).",
    (Clause(("contents",), lambda u, s, c: exported(u, s, c)),),
)


def _locks(u: Universe, s: SymState, d: Expr, g: Expr) -> Expr:
    host = s.host(d, g)
    lock = host.lock
    r = lock.response.request
    return z3.Implies(host.phase == ms.LOCKED, z3.And(
        s.has("contents", lock), lock.signer == d, r.group == g, r.epoch == host.epoch,
        r.target == host.target))


LOCKS_EXPORTED = Lemma(
    "locks_exported",
    "A locked group's lock is the MigrationContent its source sent, for the locked epoch and "
    "target (profile 5: 'From then the group is locked').",
    (Clause((HONEST_DS, GROUPS), _locks),),
)


def _completes(u: Universe, s: SymState, x: Rec) -> Expr:
    c = x.content
    return z3.And(x.signer == c.response.request.target, c.response.nonce.ds == x.signer,
                  consumed_by(s, c))


COMPLETES_AFTER_IMPORT = Lemma(
    "completes_after_import",
    "Every TargetMigrationComplete on the network was signed by the content's target after "
    "it imported exactly that content and consumed its nonce (profile 5).",
    (Clause(("completes",), _completes),),
)


def _rejections(u: Universe, s: SymState, x: Rec) -> Expr:
    c = x.content
    rec = record_of(s, c.response)
    return z3.And(x.signer == c.response.request.target, s.has("contents", c),
                  z3.Or(rec.phase == ms.EXPIRED,
                        z3.And(rec.phase == ms.CONSUMED, rec.content != c)))


REJECTIONS_FINAL = Lemma(
    "rejections_final",
    "A TargetMigrationRejected on the network names a content whose nonce expired or was "
    "consumed by another content: states no record leaves, so the content can never be "
    "imported (profile 5: 'an expired nonce is never accepted again ... A rejection is "
    "final').",
    (Clause(("rejections",), _rejections),),
)


def _imports(u: Universe, s: SymState, i: Rec) -> Expr:
    c = i.content
    return z3.And(i.target == c.response.request.target, u.honest_ds_(i.target),
                  c.response.nonce.ds == i.target, consumed_by(s, c),
                  record_of(s, c.response).request == c.response.request)


IMPORTS_CONSUMED = Lemma(
    "imports_consumed",
    "Every import consumed the nonce of the content it imported (profile 5: 'Importing "
    "consumes the nonce').",
    (Clause(("ghost_imports",), _imports),),
)


def _starts(u: Universe, s: SymState, st: Rec) -> Expr:
    return z3.And(s.has("inits", st.init), st.source == st.init.response.request.source)


STARTS_FROM_INITS = Lemma(
    "starts_from_inits",
    "Every migration a source started was asked for by a MigrationInit on the network "
    "(profile 2: MigrationInit is signed by a member).",
    (Clause(("ghost_starts",), _starts),),
)


def _views(u: Universe, s: SymState, c: Expr, g: Expr) -> Expr:
    v = s.view(c, g)
    return z3.And(u.honest_ds_(v.ds), v.epoch >= 0, v.epoch <= u.max_epoch,
                  z3.Or(v.nonce == NO_NONCE,
                        z3.And(u.honest_ds_(v.target), v.target != v.ds)))


VIEWS_WELL_FORMED = Lemma(
    "views_well_formed",
    "A member's view names an honest DS and an epoch within bounds, and a pending "
    "migration names an honest target other than its DS.",
    (Clause((HONEST_CLIENTS, GROUPS), _views),),
)


def _requests(u: Universe, s: SymState, r: Rec) -> Expr:
    return z3.And(u.request_in_bounds(r), u.honest_client(r.client), u.honest_ds_(r.source))


REQUESTS_FROM_MEMBERS = Lemma(
    "requests_from_members",
    "Every MigrationRequest on the network was sent by an honest member through its own DS, "
    "within bounds (the rogue client's requests are forged on delivery, never stored).",
    (Clause(("requests",), _requests),),
)


def _fanouts(u: Universe, s: SymState, f: Rec) -> Expr:
    return z3.And(u.honest_ds_(f.ds), u.group(f.group), f.epoch >= 0, f.epoch < u.max_epoch,
                  z3.Or(f.aad_target == NONE,
                        z3.And(u.honest_ds_(f.aad_target), f.aad_target != f.ds)))


FANOUTS_BY_DSS = Lemma(
    "fanouts_by_dss",
    "Every commit fanned out on the network was sequenced by an honest DS below max_epoch; "
    "a migration commit names an honest target other than that DS.",
    (Clause(("fanouts",), _fanouts),),
)


def _confirmations(u: Universe, s: SymState, m: Rec) -> Expr:
    return z3.And(u.honest_ds_(m.signer), u.honest_ds_(m.target), m.target != m.signer,
                  u.group(m.group))


CONFIRMATIONS_BY_SOURCES = Lemma(
    "confirmations_by_sources",
    "Every MigrationConfirmation on the network was signed by an honest source and names an "
    "honest target other than itself.",
    (Clause(("confirmations",), _confirmations),),
)


def _outside(u: Universe, s: SymState, a: Expr, b: Expr) -> Expr:
    return z3.And(
        z3.Implies(z3.Not(z3.And(u.honest_ds_(a), u.group(b))), s.host(a, b) == EMPTY_HOST),
        z3.Implies(z3.Not(z3.And(u.honest_ds_(a), u.index(b))),
                   s.record(a, b) == UNUSED_RECORD),
        z3.Implies(z3.Not(z3.And(u.honest_client(a), u.group(b))), s.view(a, b) == VIEW0),
    )


TABLES_BOUNDED = Lemma(
    "tables_bounded",
    "Table entries outside the parties' bounds keep their initial value: no action writes "
    "there (a fact about the encoding; the model has no such entries).  The induction's "
    "pre-state states it by construction (symstate.free_function_state), so it is checked "
    "as a goal only.",
    (Clause((INTS, INTS), _outside),),
    by_representation=True,
)


BASIC: tuple[Lemma, ...] = (
    TABLES_BOUNDED,
    REQUESTS_FROM_MEMBERS,
    FANOUTS_BY_DSS,
    CONFIRMATIONS_BY_SOURCES,
    RESPONSES_ISSUED,
    NONCE_RECORDS,
    INITS_FROM_MEMBERS,
    CONTENTS_EXPORTED,
    LOCKS_EXPORTED,
    COMPLETES_AFTER_IMPORT,
    REJECTIONS_FINAL,
    IMPORTS_CONSUMED,
    STARTS_FROM_INITS,
    VIEWS_WELL_FORMED,
)

__all__ = ["BASIC", "term"]
