"""The lockstep check finds deliberate implementation bugs (each injected by recompiling one
role method with one line changed): within a bounded budget of random swarm sessions, or,
for a bug only a long specific sequence reaches, by the model-guided transition tour
restricted to the refused deliveries of the action that bug concerns (it stops at the
first divergence)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from impl.client import Client
from impl.ds import DeliveryService
from impl.lockstep.driver import Divergence
from impl.lockstep.moves import session
from impl.lockstep.tour import tour
from tests.lockstep.helpers import mutate
from tests.lockstep.planted import BUGS as PLANTED
from tests.lockstep.planted import Bug, plant

BUDGET = 100  # random examples (of at most 40 steps) before falling back to the tour
TOUR_ONLY = {
    "confirmation_for_foreign_nonce": frozenset({"client_confirm"}),
    "commit_while_locked": frozenset({"commit_at_current_ds"}),
    "unlock_on_foreign_rejection": frozenset({"source_unlock_on_reject"}),
}

# (name, class, method, handler kinds, old source text, new source text)
BUGS: list[tuple[str, type[Any], str, tuple[str, ...], str, str]] = [
    (
        "fanout_before_ack", DeliveryService, "_on_init", ("MigrationInitWithCommit",),
        "return [self._to(target, Kind.MigrationContent, content)]",
        "return [self._to(target, Kind.MigrationContent, content)] + [self._to(m.identity"
        ".decode(), Kind.Fanout, bundle.commit) for m in state.members]",
    ),
    (
        "nonce_not_consumed", DeliveryService, "_on_content", ("MigrationContent",),
        "record.status, record.content_hash = NonceStatus.CONSUMED, content_hash",
        "record.content_hash = content_hash",
    ),
    (
        "commit_while_locked", DeliveryService, "_on_commit", ("Commit",),
        "if hosted.lock is not None:", "if False:",
    ),
    (
        "content_signer_not_checked", DeliveryService, "_on_content", ("MigrationContent",),
        "self.trust.verify_signed(content, source, suite)", "pass",
    ),
    (
        "tombstone_missing", DeliveryService, "_on_complete", ("TargetMigrationComplete",),
        "self.tombstones[state.group_id] = Tombstone(lock.target, lock.commit, content_hash)",
        "pass",
    ),
    (
        "confirmation_for_foreign_nonce", Client, "_on_confirmation",
        ("MigrationConfirmation",),
        "if confirmation.nonce != pending.nonce:", "if False:",
    ),
    (
        "imports_expired_nonce", DeliveryService, "_on_content", ("MigrationContent",),
        "if record.status is not NonceStatus.PENDING:",
        "if record.status not in (NonceStatus.PENDING, NonceStatus.EXPIRED):",
    ),
    (
        "unlock_on_foreign_rejection", DeliveryService, "_on_rejected",
        ("TargetMigrationRejected",),
        'hosted = self._locked_by_hash(rejected.migration_content_hash, '
        '"TargetMigrationRejected")',
        "hosted = next((h for h in self.groups.values() if h.lock is not None), None) or "
        'self._locked_by_hash(b"", "TargetMigrationRejected")',
    ),
    (
        "response_signer_not_checked", Client, "_on_response", ("MigrationResponse",),
        "self.trust.verify_signed(response, target, membership.state.cipher_suite)", "pass",
    ),
    (
        "complete_signer_not_checked", DeliveryService, "_on_complete",
        ("TargetMigrationComplete",),
        "self.trust.verify_signed(complete, lock.target, state.cipher_suite)", "pass",
    ),
    (
        "target_answers_duplicate_group", DeliveryService, "_on_request", ("MigrationRequest",),
        "if request.group_id in self.groups or any(", "if False and any(",
    ),
]


@pytest.fixture(autouse=True)
def fixed() -> Iterator[None]:
    yield


@pytest.mark.parametrize("bug", BUGS, ids=[b[0] for b in BUGS])
def test_lockstep_finds_bug(bug: tuple[str, type[Any], str, tuple[str, ...], str, str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    name, cls, method, kinds, old, new = bug
    broken = mutate(getattr(cls, method), old, new)
    monkeypatch.setattr(cls, method, broken)
    handlers = cls._HANDLERS
    for kind in kinds:
        if kind in handlers:
            monkeypatch.setitem(handlers, kind, broken)
    report = session(BUDGET, seed=7)
    if report.divergences:
        return
    only = TOUR_ONLY.get(name)
    assert only is not None, f"{name}: not found in {report.examples} examples"
    with pytest.raises(Divergence):
        tour(only=only)


@pytest.mark.parametrize("bug", PLANTED, ids=[b.name for b in PLANTED])
def test_lockstep_finds_planted_bug(bug: Bug, monkeypatch: pytest.MonkeyPatch) -> None:
    plant(bug, monkeypatch)
    report = session(BUDGET, seed=7)
    if report.divergences:
        return
    assert bug.only is not None, f"{bug.name}: not found in {report.examples} examples"
    with pytest.raises(Divergence):
        tour(only=bug.only)
