"""Test helper: plant a durability bug in the durable driver (impl/storage/driver.py), for
the negative controls of the crash matrix (tests/test_storage_crashes.py).

Each bug replaces one of the driver's two named seams with monkeypatch, never the source:
`Durable._transactions` (which writes go into which transaction) and
`Durable._commit_then_send` (the order of commit and send).
"""

from __future__ import annotations

import pytest

from impl.envelope import Envelope
from impl.storage.driver import CrashPoint, Durable
from impl.storage.store import MarkSent, Write


def _state_outside_transaction(
    self: Durable, state: list[Write], outbox: list[Write], answer: list[Write]
) -> list[list[Write]]:
    """The state rows are committed on their own, before the outbox and the answer."""
    return [state, outbox + answer]


def _outbox_row_dropped(
    self: Durable, state: list[Write], outbox: list[Write], answer: list[Write]
) -> list[list[Write]]:
    """The envelopes are sent from memory but never written to the outbox."""
    return [state + answer]


def _idempotency_record_missing(
    self: Durable, state: list[Write], outbox: list[Write], answer: list[Write]
) -> list[list[Write]]:
    """No idempotency record: a retried request is handled as if new."""
    return [state + outbox]


def _send_before_commit(self: Durable, plan: list[list[Write]], out: list[Envelope]) -> None:
    """phnx-im/air's order: send the reply, then commit the state change."""
    self._send(out)
    ids: list[int] = []
    for i, writes in enumerate(plan):
        last = i == len(plan) - 1
        ids += self.store.commit(
            writes, (lambda: self._point(CrashPoint.BEFORE_COMMIT)) if last else None)
    self._point(CrashPoint.AFTER_COMMIT)
    if ids:
        self.store.commit([MarkSent(tuple(ids))])
    self._point(CrashPoint.AFTER_MARK)


#: name -> (seam, replacement)
BUGS: dict[str, tuple[str, object]] = {
    "state_outside_transaction": ("_transactions", _state_outside_transaction),
    "outbox_row_dropped": ("_transactions", _outbox_row_dropped),
    "idempotency_record_missing": ("_transactions", _idempotency_record_missing),
    "send_before_commit": ("_commit_then_send", _send_before_commit),
}


def plant(monkeypatch: pytest.MonkeyPatch, bug: str) -> None:
    seam, replacement = BUGS[bug]
    assert hasattr(Durable, seam), seam
    monkeypatch.setattr(Durable, seam, replacement)
