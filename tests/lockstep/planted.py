"""Planted implementation bugs for the lockstep, each a replacement of one role method.

A bug is a `Bug`: its name, the role class and method it replaces, and a `make(original)`
that returns the buggy method (most wrap the original and undo or skip one thing it does,
so an unrelated edit of the role's source does not break them; none patches source text).
`plant(bug, monkeypatch)` installs it for one test (the class attribute and the role's
handler table, which holds the functions themselves).  tests/test_lockstep_bugs.py runs the
lockstep against each and prints the planted-bug table (`bench/planted.py` prints it too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from impl.client import Client
from impl.codec import DecodeError, Writer
from impl.ds import DeliveryService
from impl.envelope import Kind
from impl.errors import BadSignature, GroupExists, GroupMoved, UnknownPeer
from impl.messages import MigrationContent, MigrationResponse

Method = Callable[..., Any]


@dataclass(frozen=True)
class Bug:
    name: str
    cls: type[Any]
    method: str
    make: Callable[[Method], Method]
    hole: str
    """The class of bug (issue #19's holes) it stands for."""
    only: frozenset[str] | None = None
    """If the random sessions may miss it: the actions whose refused deliveries the
    transition tour makes to find it."""


def plant(bug: Bug, monkeypatch: pytest.MonkeyPatch) -> None:
    original = getattr(bug.cls, bug.method)
    broken = bug.make(original)
    monkeypatch.setattr(bug.cls, bug.method, broken)
    handlers = getattr(bug.cls, "_HANDLERS", {})
    for kind, handler in list(handlers.items()):
        if handler is original:
            monkeypatch.setitem(handlers, kind, broken)


# -- a member left out of the fan-out -------------------------------------------------------


def _fanout_leaves_last_member_out(original: Method) -> Method:
    def _on_complete(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        out: list[Any] = original(self, envelope, now)
        fanouts = [e for e in out if e.kind == Kind.Fanout]
        return [e for e in out if not fanouts or e is not fanouts[-1]]

    return _on_complete


# -- a check done after the state change ------------------------------------------------------


def _nonce_taken_before_signature_check(original: Method) -> Method:
    """The client records the response's nonce before it checks the target's signature
    (the assignment of Client._on_response moved above its verify_signed)."""

    def _on_response(self: Client, envelope: Any, now: float) -> list[Any]:
        try:
            response = MigrationResponse.decode(envelope.payload)
        except DecodeError:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        membership = self.groups.get(response.migration_request.group_id)
        pending = None if membership is None else membership.pending
        try:
            out: list[Any] = original(self, envelope, now)
        except (BadSignature, UnknownPeer):
            if pending is not None and pending.request == response.migration_request:
                pending.nonce = response.nonce
            raise
        return out

    return _on_response


# -- a redirect carrying the wrong bytes ------------------------------------------------------


def _redirect_carries_content_hash(original: Method) -> Method:
    """A moved group's redirect carries the tombstone's content hash where the migration
    commit belongs (the wrong field of Tombstone)."""

    def _hosted(self: DeliveryService, group_id: bytes) -> Any:
        try:
            return original(self, group_id)
        except GroupMoved as err:
            tomb = self.tombstones[group_id]
            raise GroupMoved(group_id=group_id, target=err.target,
                             commit=tomb.content_hash) from None

    return _hosted


def _group_exists_swallowed(original: Method) -> Method:
    """The target drops a request for a group it already has instead of refusing it."""

    def _on_request(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        try:
            out: list[Any] = original(self, envelope, now)
        except GroupExists:
            return []
        return out

    return _on_request


# -- a field of a signed message not checked -------------------------------------------------


def _content_signature_skips_group_state(original: Method) -> Method:
    """MigrationContent's signature leaves the exported group state out (signer and
    verifier agree, so honest runs work; a changed state passes the target's check)."""

    def signed_content(self: MigrationContent) -> bytes:
        w = Writer()
        self.migration_response.push(w)
        return bytes(w)

    return signed_content


# -- a misuse call accepted ------------------------------------------------------------------


def _second_migration_replaces_first(original: Method) -> Method:
    """start_migration while one is in progress forgets the first instead of refusing."""

    def start_migration(self: Client, group_id: bytes, target: str) -> Any:
        membership = self.groups.get(group_id)
        if membership is not None:
            membership.pending = None
        return original(self, group_id, target)

    return start_migration


BUGS: list[Bug] = [
    Bug("migration_fanout_leaves_member_out", DeliveryService, "_on_complete",
        _fanout_leaves_last_member_out, "a member left out of the fan-out"),
    Bug("nonce_taken_before_signature_check", Client, "_on_response",
        _nonce_taken_before_signature_check, "a check done after the state change"),
    Bug("redirect_carries_content_hash", DeliveryService, "_hosted",
        _redirect_carries_content_hash, "a redirect carrying the wrong bytes"),
    Bug("group_exists_swallowed", DeliveryService, "_on_request",
        _group_exists_swallowed, "a refusal the peer never gets"),
    Bug("content_signature_skips_group_state", MigrationContent, "signed_content",
        _content_signature_skips_group_state, "a field of a signed message not checked"),
    Bug("second_migration_replaces_first", Client, "start_migration",
        _second_migration_replaces_first, "a misuse call accepted"),
]

__all__ = ["BUGS", "Bug", "plant"]
