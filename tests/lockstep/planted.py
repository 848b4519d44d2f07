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
from unittest import mock

import pytest

from impl import ds as ds_module
from impl import signing
from impl.client import Client
from impl.codec import DecodeError, Writer
from impl.crypto import CipherSuite
from impl.ds import DeliveryService, NonceStatus
from impl.envelope import Kind, MigrationInitWithCommit
from impl.errors import BadSignature, GroupExists, GroupMoved, ProtocolError, UnknownPeer
from impl.framing import MLSMessage
from impl.group_state import GroupState
from impl.messages import (
    MigrationConfirmation,
    MigrationContent,
    MigrationRequest,
    MigrationResponse,
    TargetMigrationComplete,
    TargetMigrationRejected,
)
from model.config import Config, config_json

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
    config: Config | None = None
    """The configuration its sessions run (None: the default); a bug only a larger
    configuration shows has one."""


def plant(bug: Bug, monkeypatch: pytest.MonkeyPatch) -> None:
    original = getattr(bug.cls, bug.method)
    broken = bug.make(original)
    monkeypatch.setattr(bug.cls, bug.method, broken)
    handlers = getattr(bug.cls, "_HANDLERS", {})
    for kind, handler in list(handlers.items()):
        if handler is original:
            monkeypatch.setitem(handlers, kind, broken)


class _TrustSkipping:
    """A trust store that lets messages of `kind` pass its signer check (a role that
    forgot to check one signature), delegating everything else."""

    def __init__(self, trust: Any, kind: type[Any]) -> None:
        self.trust, self.kind = trust, kind

    def verify_signed(self, message: Any, domain: str, cipher_suite: int) -> None:
        if not isinstance(message, self.kind):
            self.trust.verify_signed(message, domain, cipher_suite)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.trust, name)


def _signer_not_checked(kind: type[Any]) -> Callable[[Method], Method]:
    """The method with the signer check of `kind` left out."""

    def make(original: Method) -> Method:
        def method(self: Any, envelope: Any, now: float) -> Any:
            with mock.patch.object(self, "trust", _TrustSkipping(self.trust, kind)):
                return original(self, envelope, now)

        method.__name__ = original.__name__
        return method

    return make


def _content_nonce(envelope: Any) -> bytes | None:
    try:
        return MigrationContent.decode(envelope.payload).migration_response.nonce
    except DecodeError:
        return None


# -- the reference's planted bugs, each a one-line slip in a role method ----------------------


def _fanout_before_ack(original: Method) -> Method:
    """The source fans the migration commit out as soon as it locks (before the ack)."""

    def _on_init(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        out: list[Any] = original(self, envelope, now)
        bundle = MigrationInitWithCommit.decode(envelope.payload)
        group_id = bundle.migration_init.migration_response.migration_request.group_id
        state = self.groups[group_id].state
        return out + [self._to(m.identity.decode(), Kind.Fanout, bundle.commit)
                      for m in state.members]

    return _on_init


def _nonce_not_consumed(original: Method) -> Method:
    """The target imports under a nonce and leaves it pending."""

    def _on_content(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        nonce = _content_nonce(envelope)
        record = None if nonce is None else self.nonces.get(nonce)
        before = None if record is None else record.status
        out: list[Any] = original(self, envelope, now)
        if record is not None and before is NonceStatus.PENDING \
                and record.status is NonceStatus.CONSUMED:
            record.status = NonceStatus.PENDING
        return out

    return _on_content


def _commit_while_locked(original: Method) -> Method:
    """The source sequences an ordinary commit while the group is locked."""

    def _on_commit(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        try:
            public = MLSMessage.decode(envelope.payload).public_message
        except DecodeError:
            public = None
        hosted = None if public is None else self.groups.get(public.content.group_id)
        lock = None if hosted is None else hosted.lock
        if hosted is None or lock is None:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        with mock.patch.object(hosted, "lock", None):
            return original(self, envelope, now)  # type: ignore[no-any-return]

    return _on_commit


def _tombstone_missing(original: Method) -> Method:
    """The source forgets the tombstone of a group that moved."""

    def _on_complete(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        before = dict(self.tombstones)
        out: list[Any] = original(self, envelope, now)
        self.tombstones = before
        return out

    return _on_complete


def _confirmation_for_foreign_nonce(original: Method) -> Method:
    """The client switches on a confirmation for another nonce than its pending one."""

    def _on_confirmation(self: Client, envelope: Any, now: float) -> list[Any]:
        try:
            confirmation = MigrationConfirmation.decode(envelope.payload)
        except DecodeError:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        membership = self.groups.get(confirmation.group_id)
        pending = None if membership is None else membership.pending
        if pending is None or pending.nonce is None or pending.nonce == confirmation.nonce:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        own, pending.nonce = pending.nonce, confirmation.nonce  # the nonce check passes
        try:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        except ProtocolError:
            pending.nonce = own
            raise

    return _on_confirmation


def _imports_expired_nonce(original: Method) -> Method:
    """The target imports under an expired nonce as under a pending one."""

    def _on_content(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        nonce = _content_nonce(envelope)
        record = None if nonce is None else self.nonces.get(nonce)
        if record is None or record.status not in (NonceStatus.PENDING, NonceStatus.EXPIRED):
            return original(self, envelope, now)  # type: ignore[no-any-return]
        status, lifetime = record.status, self.nonce_lifetime
        record.status, self.nonce_lifetime = NonceStatus.PENDING, float("inf")
        try:
            out: list[Any] = original(self, envelope, now)
        finally:
            self.nonce_lifetime = lifetime
            if record.status is NonceStatus.PENDING:
                record.status = status
        return out

    return _on_content


def _reimports_other_content(original: Method) -> Method:
    """The target takes a different content under a nonce it consumed for a retry of the
    import: it keys the import on the nonce, not on the content, and imports the new state
    over the one it holds."""

    def _on_content(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        nonce = _content_nonce(envelope)
        record = None if nonce is None else self.nonces.get(nonce)
        if record is None or record.status is not NonceStatus.CONSUMED or (
                record.content_hash == signing.migration_content_hash(
                    CipherSuite(record.cipher_suite), envelope.payload)):
            return original(self, envelope, now)  # type: ignore[no-any-return]
        gid = record.request.group_id
        hosted, status = self.groups.pop(gid, None), record.status
        record.status = NonceStatus.PENDING
        try:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        finally:
            if record.status is NonceStatus.PENDING:  # refused after all: as it was
                record.status = status
                if hosted is not None:
                    self.groups[gid] = hosted

    return _on_content


def _state_epoch_not_checked(original: Method) -> Method:
    """The target imports a group state at whatever epoch it names (it checks the group id
    and suite only)."""

    def lax(content: MigrationContent, record: Any) -> Any:
        try:
            state = GroupState.decode(content.group_state)
        except DecodeError:
            return None
        if state.group_id != record.request.group_id or not state.addressable():
            return None
        return state

    def _on_content(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        with mock.patch.object(ds_module, "_imported_state", lax):
            return original(self, envelope, now)  # type: ignore[no-any-return]

    return _on_content


def _unlock_on_foreign_rejection(original: Method) -> Method:
    """The source unlocks whatever group is locked on a rejection of another content."""

    def _on_rejected(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        try:
            rejected = TargetMigrationRejected.decode(envelope.payload)
        except DecodeError:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        hosted = next((h for h in self.groups.values() if h.lock is not None), None)
        if hosted is None or hosted.lock is None:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        lock = hosted.lock
        own, lock.content_hash = lock.content_hash, rejected.migration_content_hash
        try:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        except ProtocolError:
            lock.content_hash = own
            raise

    return _on_rejected


def _target_answers_duplicate_group(original: Method) -> Method:
    """The target issues a nonce for a group it hosts or has a pending nonce for."""

    def _on_request(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        try:
            group_id = MigrationRequest.decode(envelope.payload).group_id
        except DecodeError:
            return original(self, envelope, now)  # type: ignore[no-any-return]
        groups, nonces = self.groups, self.nonces
        hidden = {n for n, r in nonces.items()
                  if r.status is NonceStatus.PENDING and r.request.group_id == group_id}
        self.groups = {g: h for g, h in groups.items() if g != group_id}
        self.nonces = {n: r for n, r in nonces.items() if n not in hidden}
        try:
            out: list[Any] = original(self, envelope, now)
        finally:
            nonces.update(self.nonces)  # the nonce it issued, if any
            self.groups, self.nonces = groups, nonces
        return out

    return _on_request


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


# -- a bug only a second group shows ---------------------------------------------------------


def _any_group_taken(original: Method) -> Method:
    """The target's uniqueness check asks whether it hosts any group, not this group id:
    with one group nothing tells them apart; with two, the second cannot follow the first
    to the same target."""

    def _on_request(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        before = set(self.nonces)
        out: list[Any] = original(self, envelope, now)
        group_id = MigrationRequest.decode(envelope.payload).group_id  # decoded: it answered
        if any(g != group_id for g in self.groups):
            for nonce in set(self.nonces) - before:  # undo the nonce it issued
                del self.nonces[nonce]
            raise GroupExists(group_id=group_id)
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


# -- a late-arrival bug ------------------------------------------------------------------------


def _expiry_only_on_tick(original: Method) -> Method:
    """The target expires nonces only on a tick: content arriving after a nonce's lifetime
    with no tick in between is imported."""

    def _on_content(self: DeliveryService, envelope: Any, now: float) -> list[Any]:
        with mock.patch.object(self, "nonce_lifetime", float("inf")):
            return original(self, envelope, now)  # type: ignore[no-any-return]

    return _on_content


BUGS: list[Bug] = [
    Bug("fanout_before_ack", DeliveryService, "_on_init", _fanout_before_ack,
        "a commit fanned out before the target acknowledged"),
    Bug("nonce_not_consumed", DeliveryService, "_on_content", _nonce_not_consumed,
        "a nonce left pending after its import"),
    Bug("commit_while_locked", DeliveryService, "_on_commit", _commit_while_locked,
        "a commit sequenced while locked", only=frozenset({"commit_at_current_ds"})),
    Bug("content_signer_not_checked", DeliveryService, "_on_content",
        _signer_not_checked(MigrationContent), "a signer not checked"),
    Bug("tombstone_missing", DeliveryService, "_on_complete", _tombstone_missing,
        "a moved group's tombstone not kept"),
    Bug("confirmation_for_foreign_nonce", Client, "_on_confirmation",
        _confirmation_for_foreign_nonce, "a confirmation for another nonce accepted",
        only=frozenset({"client_confirm"})),
    Bug("imports_expired_nonce", DeliveryService, "_on_content", _imports_expired_nonce,
        "an import under an expired nonce"),
    Bug("unlock_on_foreign_rejection", DeliveryService, "_on_rejected",
        _unlock_on_foreign_rejection, "an unlock on a rejection of another content",
        only=frozenset({"source_unlock_on_reject"})),
    Bug("response_signer_not_checked", Client, "_on_response",
        _signer_not_checked(MigrationResponse), "a signer not checked"),
    Bug("complete_signer_not_checked", DeliveryService, "_on_complete",
        _signer_not_checked(TargetMigrationComplete), "a signer not checked"),
    Bug("target_answers_duplicate_group", DeliveryService, "_on_request",
        _target_answers_duplicate_group, "a nonce issued for a group already there"),
    Bug("migration_fanout_leaves_member_out", DeliveryService, "_on_complete",
        _fanout_leaves_last_member_out, "a member left out of the fan-out"),
    Bug("nonce_taken_before_signature_check", Client, "_on_response",
        _nonce_taken_before_signature_check, "a check done after the state change"),
    Bug("redirect_carries_content_hash", DeliveryService, "_hosted",
        _redirect_carries_content_hash, "a redirect carrying the wrong bytes"),
    Bug("group_exists_swallowed", DeliveryService, "_on_request",
        _group_exists_swallowed, "a refusal the peer never gets"),
    Bug("any_group_taken", DeliveryService, "_on_request", _any_group_taken,
        "a bug only a second group shows", config=Config(groups=2)),
    Bug("content_signature_skips_group_state", MigrationContent, "signed_content",
        _content_signature_skips_group_state, "a field of a signed message not checked"),
    Bug("second_migration_replaces_first", Client, "start_migration",
        _second_migration_replaces_first, "a misuse call accepted"),
    Bug("expiry_only_on_tick", DeliveryService, "_on_content", _expiry_only_on_tick,
        "a late-arrival bug"),
    Bug("reimports_other_content", DeliveryService, "_on_content",
        _reimports_other_content, "a content-identity bug"),
    Bug("state_epoch_not_checked", DeliveryService, "_on_content", _state_epoch_not_checked,
        "a field of a signed message not checked"),
]

BUDGET = 200
"""Random examples (seed 7) `hunt` runs before it falls back to the tour: as many as
`conform` runs by default."""


@dataclass(frozen=True)
class Found:
    """How the lockstep found one planted bug."""

    bug: Bug
    by: str
    """"conform" (a random session) or "tour" (the transition tour, `Bug.only`)."""
    pair: str
    """The coverage pair of the move that ran into the divergence."""
    move: str
    steps: int
    """Moves made up to and including that one (for the tour: the session's, then its)."""
    divergence: str


def hunt(bug: Bug) -> Found | None:
    """Plant `bug` (undone after) and run `conform`'s session, then, for a bug with
    `only`, the tour restricted to those actions' refused deliveries: how it was found,
    or None."""
    from impl.lockstep.driver import Divergence
    from impl.lockstep.moves import session
    from impl.lockstep.tour import tour

    with pytest.MonkeyPatch.context() as monkeypatch:
        plant(bug, monkeypatch)
        report = session(BUDGET, seed=7, config=bug.config)
        if report.divergences and report.caught is not None:
            pair, move = report.caught
            return Found(bug, "conform", "/".join(pair), type(move).__name__,
                         report.steps + 1, report.divergences[0])
        if bug.only is None:
            return None
        try:
            done = tour(only=bug.only)
        except Divergence as err:
            return Found(bug, "tour", f"{'/'.join(sorted(bug.only))}/refused", "Refuse",
                         report.steps, str(err))
        del done
        return None


def _flags(config: Config) -> str:
    """`conform`'s options for the bounds of `config` that are not the default's."""
    bounds, default = config_json(config), config_json(Config())
    return " ".join(f"`--{flag} {value}`" for flag, value in bounds.items()
                    if not isinstance(value, bool) and value != default[flag])


def table(found: list[Found]) -> str:
    """The planted-bug table (Markdown): each bug, its hole, the move that caught it."""
    rows = ["| planted bug | hole | found by | move (coverage pair) | steps |",
            "|---|---|---|---|---|"]
    for f in found:
        by = f.by if f.bug.config is None else f"{f.by} ({_flags(f.bug.config)})"
        rows.append(f"| `{f.bug.name}` ({f.bug.cls.__name__}.{f.bug.method}) | {f.bug.hole} "
                    f"| {by} | {f.move} ({f.pair}) | {f.steps:,}"
                    f"{' (the session), then the tour' if f.by == 'tour' else ''} |")
    return "\n".join(rows)


__all__ = ["BUGS", "Bug", "Found", "hunt", "plant", "table"]


@dataclass(frozen=True)
class Logged:
    """What `validate` says of the logs of the session that found one planted bug."""

    bug: Bug
    verdict: Any
    """The impl.tracelog.search.Verdict on the logs of the example that diverged."""
    example: str
    seconds: float


def validate_logs(bug: Bug, folder: Any) -> Logged | None:
    """Plant `bug`, run `conform`'s session with every example's logs in `folder`, and
    validate the logs of the example that diverged (None: the session did not diverge)."""
    import time
    from pathlib import Path

    from mimi_portability.commands.lockstep import conform
    from mimi_portability.commands.validate import validate

    with pytest.MonkeyPatch.context() as monkeypatch:
        plant(bug, monkeypatch)
        report = conform(BUDGET, 7, config=bug.config, trace=Path(folder))
    if not report.divergences:
        return None
    example = sorted(Path(folder).glob("example-*"))[-1]
    start = time.perf_counter()
    verdict = validate(sorted(example.glob("*.ndjson")))
    return Logged(bug, verdict, example.name, time.perf_counter() - start)
