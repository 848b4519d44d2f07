"""The client role, Sans-IO: an MLS member that starts migrations and follows its group.

This module owns a member's view of its groups (state, serving DS, own leaf) and its part of
the protocol: sending MigrationRequest to the target; on a MigrationResponse signed by that
target for exactly its request, building the migration commit (AAD = MigrationCommitAAD) and
a MigrationInit signed with its leaf key, sent together to the source; switching to the
target on a MigrationConfirmation from its DS that matches its own pending nonce, or on the
fanned-out migration commit; clearing its pending migration on a forwarded, target-signed
TargetMigrationRejected; following a tombstone's GroupMoved redirect.

`receive(envelope, now)` returns envelopes to send or raises one ProtocolError, with every
check before any change of state; the application's calls (`start_migration`,
`abandon_migration`, `commit`) raise a LocalProtocolError when made wrongly, likewise
changing nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
from collections.abc import Callable
from typing import ClassVar

from . import signing
from .codec import DecodeError
from .crypto import SigningKey
from .envelope import Envelope, Kind, MigrationInitWithCommit, Refusal, TrustStore, decode_payload
from .errors import (
    ForeignNonce,
    Malformed,
    MigrationInProgress,
    NoMigrationToAbandon,
    NoPendingMigration,
    NotInGroup,
    RequestMismatch,
    UnexpectedMessage,
    UnknownGroup,
)
from .events import Abandoned, Aborted, ClientEvent, Switched
from .framing import MLSMessage
from .group import ReadCommit, build_commit, next_epoch, read_commit
from .group_state import GroupState
from .messages import (
    MigrationCommitAAD,
    MigrationConfirmation,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    TargetMigrationRejected,
)


class ClientPhase(enum.StrEnum):
    """Where a member stands in its own migration of a group: none started (idle), its
    MigrationRequest sent to the target (request-sent), or the target's nonce taken and its
    MigrationInit sent to the source (init-sent).  A `str` enum, as impl/ds.py GroupPhase."""

    IDLE = "idle"
    REQUEST_SENT = "request-sent"
    INIT_SENT = "init-sent"


@dataclasses.dataclass
class PendingMigration:
    """A migration this client started: its request, then the target's nonce."""

    request: MigrationRequest
    nonce: bytes | None = None


@dataclasses.dataclass
class Membership:
    """The client's view of one group."""

    state: GroupState
    ds: str
    leaf_index: int
    pending: PendingMigration | None = None
    completed_nonce: bytes | None = None

    @property
    def phase(self) -> ClientPhase:
        if self.pending is None:
            return ClientPhase.IDLE
        return ClientPhase.REQUEST_SENT if self.pending.nonce is None else ClientPhase.INIT_SENT


class Client:
    """One member. `trust` gives the DSs' signing keys."""

    def __init__(self, identity: str, *, key: SigningKey, trust: TrustStore) -> None:
        self.identity = identity
        self.key = key
        self.trust = trust
        self.groups: dict[bytes, Membership] = {}
        #: Switched, Abandoned and Aborted events (impl/events.py), for tests and the demo.
        self.events: list[ClientEvent] = []

    @property
    def name(self) -> str:
        return self.identity

    def join(self, state: GroupState, ds: str, leaf_index: int) -> None:
        self.groups[state.group_id] = Membership(state=state, ds=ds, leaf_index=leaf_index)

    def snapshot(self) -> tuple[object, ...]:
        """A deep copy of all protocol state (tests compare it before and after a refusal)."""
        return copy.deepcopy((self.groups, self.events))

    def _local_view(self, group_id: bytes) -> Membership:
        """The membership an application call names; NotInGroup if there is none."""
        membership = self.groups.get(group_id)
        if membership is None:
            raise NotInGroup(group_id=group_id)
        return membership

    def view(self, group_id: bytes) -> Membership:
        membership = self.groups.get(group_id)
        if membership is None:
            raise UnknownGroup(group_id=group_id)
        return membership

    # -- calls from the application ----------------------------------------------------------

    def start_migration(self, group_id: bytes, target: str) -> Envelope:
        """MigrationRequest for moving `group_id` from its DS to `target`."""
        membership = self._local_view(group_id)
        if membership.phase is not ClientPhase.IDLE:
            raise MigrationInProgress(group_id=group_id)
        request = MigrationRequest(
            source_domain_name=membership.ds.encode(),
            target_domain_name=target.encode(),
            group_id=group_id,
            epoch=membership.state.epoch,
        )
        membership.pending = PendingMigration(request=request)
        return Envelope(
            sender=self.identity,
            recipient=target,
            kind=Kind.MigrationRequest,
            payload=request.encode(),
            cipher_suite=membership.state.cipher_suite,
        )

    def abandon_migration(self, group_id: bytes) -> None:
        """Forget a pending migration the application gives up on (e.g. the source refused
        the MigrationInit). Safe: the source only exports on a MigrationInit it accepted, and
        this client still follows the group by the fan-out if that happened after all."""
        membership = self._local_view(group_id)
        if membership.phase is ClientPhase.IDLE:
            raise NoMigrationToAbandon(group_id=group_id)
        membership.pending = None
        self.events.append(Abandoned(group_id, "application"))

    def _target_refused(self, sender: str, refusal: Refusal) -> None:
        """A target that refuses our MigrationRequest ends that attempt: nothing was issued."""
        for group_id, membership in self.groups.items():
            pending = membership.pending
            if (
                pending is not None
                and membership.phase is ClientPhase.REQUEST_SENT
                and pending.request.target_domain_name.decode() == sender
            ):
                membership.pending = None
                self.events.append(Abandoned(group_id, refusal.code.decode("utf-8", "replace")))

    def commit(self, group_id: bytes) -> Envelope:
        """An ordinary commit (no proposals) for the current epoch, sent to the group's DS."""
        membership = self._local_view(group_id)
        payload = build_commit(membership.state, self.key, membership.leaf_index)
        return Envelope(
            sender=self.identity, recipient=membership.ds, kind=Kind.Commit, payload=payload
        )

    # -- Sans-IO input -----------------------------------------------------------------------

    def receive(self, envelope: Envelope, now: float) -> list[Envelope]:
        handler = self._HANDLERS.get(envelope.kind)
        if handler is None:
            raise UnexpectedMessage(message_type=str(envelope.kind), state="client")
        return handler(self, envelope, now)

    def _on_response(self, envelope: Envelope, now: float) -> list[Envelope]:
        response = decode_payload(MigrationResponse, envelope.payload)
        request = response.migration_request
        membership = self.view(request.group_id)
        pending = membership.pending
        if pending is None or membership.phase is not ClientPhase.REQUEST_SENT:
            raise NoPendingMigration(group_id=request.group_id)
        if pending.request != request:
            raise RequestMismatch(message_type="MigrationResponse", field="migration_request")
        target = request.target_domain_name.decode()
        self.trust.verify_signed(response, target, membership.state.cipher_suite)
        aad = MigrationCommitAAD(target_ds_domain=request.target_domain_name).encode()
        commit = build_commit(membership.state, self.key, membership.leaf_index, aad)
        init = signing.sign(MigrationInit(migration_response=response, signature=b""), self.key)
        pending.nonce = response.nonce
        bundle = MigrationInitWithCommit(migration_init=init, commit=commit)
        return [
            Envelope(
                sender=self.identity,
                recipient=membership.ds,
                kind=Kind.MigrationInitWithCommit,
                payload=bundle.encode(),
            )
        ]

    def _on_confirmation(self, envelope: Envelope, now: float) -> list[Envelope]:
        confirmation = decode_payload(MigrationConfirmation, envelope.payload)
        membership = self.view(confirmation.group_id)
        pending = membership.pending
        if pending is None or membership.phase is not ClientPhase.INIT_SENT:
            if membership.completed_nonce == confirmation.nonce:
                return []  # already switched by the fan-out: nothing left to do
            raise NoPendingMigration(group_id=confirmation.group_id)
        if confirmation.nonce != pending.nonce:
            raise ForeignNonce(nonce=confirmation.nonce)
        if confirmation.domain_name != pending.request.target_domain_name:
            raise RequestMismatch(message_type="MigrationConfirmation", field="domain_name")
        self.trust.verify_signed(confirmation, membership.ds, membership.state.cipher_suite)
        self._switch(membership, confirmation.domain_name.decode(), "confirmation")
        return []

    def _on_fanout(self, envelope: Envelope, now: float) -> list[Envelope]:
        membership, commit = self._read_commit(envelope.payload)
        if envelope.sender != membership.ds:
            raise RequestMismatch(message_type="Fanout", field="sender")
        self._apply(membership, commit, "fanout")
        return []

    def _on_rejected(self, envelope: Envelope, now: float) -> list[Envelope]:
        rejected = decode_payload(TargetMigrationRejected, envelope.payload)
        membership = next(
            (
                m
                for m in self.groups.values()
                if m.ds == envelope.sender and m.phase is ClientPhase.INIT_SENT
            ),
            None,
        )
        if membership is None or membership.pending is None:
            raise NoPendingMigration(group_id=b"")
        target = membership.pending.request.target_domain_name.decode()
        self.trust.verify_signed(rejected, target, membership.state.cipher_suite)
        membership.pending = None
        self.events.append(Aborted(membership.state.group_id, target, rejected.reason))
        return []

    def _on_refusal(self, envelope: Envelope, now: float) -> list[Envelope]:
        refusal = decode_payload(Refusal, envelope.payload)
        redirect = refusal.redirect()
        if redirect is None:
            self._target_refused(envelope.sender, refusal)
            return []
        membership = self.groups.get(redirect.group_id)
        if membership is not None and membership.ds == redirect.target_domain_name.decode():
            return []  # already at the redirect's target: a stale or repeated redirect
        membership, commit = self._read_commit(redirect.commit)
        if envelope.sender != membership.ds:
            raise RequestMismatch(message_type="Refusal", field="sender")
        if commit.migration_target() is None:
            raise RequestMismatch(message_type="Refusal", field="commit")
        self._apply(membership, commit, "redirect")
        return []

    def _unexpected(self, envelope: Envelope, now: float) -> list[Envelope]:
        raise UnexpectedMessage(message_type=str(envelope.kind), state="client")

    # -- applying commits --------------------------------------------------------------------

    def _read_commit(self, data: bytes) -> tuple[Membership, ReadCommit]:
        try:
            message = MLSMessage.decode(data)
        except DecodeError as err:
            raise Malformed(message_type="MLSMessage", reason=err.reason, detail=str(err)) from None
        if message.public_message is None:
            raise Malformed(message_type="MLSMessage", reason="invalid-value", detail="not public")
        membership = self.view(message.public_message.content.group_id)
        return membership, read_commit(membership.state, message)

    def _apply(self, membership: Membership, commit: ReadCommit, how: str) -> None:
        target = commit.migration_target()
        if target is None:
            # A pending migration was requested for the old epoch; it cannot go on (model:
            # commit_at_current_ds and member_advance clear it; lockstep findings F2/F3).
            membership.pending = None
            membership.state = next_epoch(membership.state)
            return
        self._switch(membership, target, how)

    def _switch(self, membership: Membership, target: str, how: str) -> None:
        pending = membership.pending
        if pending is not None and pending.request.target_domain_name.decode() == target:
            membership.completed_nonce = pending.nonce
        membership.pending = None
        membership.state = next_epoch(membership.state)
        membership.ds = target
        self.events.append(Switched(membership.state.group_id, target, membership.state.epoch, how))

    _HANDLERS: ClassVar[dict[Kind, Callable[[Client, Envelope, float], list[Envelope]]]] = {
        Kind.MigrationResponse: _on_response,
        Kind.MigrationConfirmation: _on_confirmation,
        Kind.Fanout: _on_fanout,
        Kind.TargetMigrationRejected: _on_rejected,
        Kind.Refusal: _on_refusal,
        Kind.MigrationRequest: _unexpected,
        Kind.MigrationInitWithCommit: _unexpected,
        Kind.MigrationContent: _unexpected,
        Kind.TargetMigrationComplete: _unexpected,
        Kind.Commit: _unexpected,
    }
