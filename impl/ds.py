"""The Delivery Service role, Sans-IO: source for the groups it hosts, target for imports.

This module owns a DS's protocol state and every decision it makes (docs/profile.md §5-6):
hosting groups and sequencing one commit per epoch; as source, locking a group on a valid
MigrationInit with its migration commit, exporting it in a MigrationContent, re-sending that
content on `tick` until a TargetMigrationComplete arrives (never unlocking on a timeout),
fanning the commit out and confirming only after that acknowledgment, unlocking only on a
signed TargetMigrationRejected, and keeping a tombstone; as target, issuing one fresh nonce
per MigrationRequest bound to the request, importing only under a pending nonce of exactly
that request signed by its source, consuming it, re-acknowledging an identical retry and
rejecting (signed) content for unknown or expired nonces.

`receive(envelope, now)` returns the envelopes to send or raises one ProtocolError; every
check runs before any state changes, so a refusal leaves the DS exactly as it was.  It opens
no socket, reads no clock and draws randomness only from the injected source.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import ClassVar

from . import signing
from .codec import DecodeError
from .crypto import CipherSuite, SigningKey
from .envelope import (
    Envelope,
    Kind,
    MigrationInitWithCommit,
    RandomSource,
    TrustStore,
    decode_payload,
)
from .errors import (
    AlreadyHosted,
    BadSignature,
    GroupExists,
    GroupLocked,
    GroupMoved,
    HashMismatch,
    Malformed,
    NonceConsumed,
    NotAuthorized,
    RequestMismatch,
    UnexpectedMessage,
    UnknownGroup,
    UnknownNonce,
    UnsupportedSuite,
    WrongEpoch,
    WrongRecipient,
)
from .events import Acknowledged, DSEvent, Exported, Fanout, Imported, Sequenced, Unlocked
from .framing import MLSMessage
from .group import next_epoch, read_commit
from .group_state import GroupState
from .messages import (
    MigrationConfirmation,
    MigrationContent,
    MigrationRequest,
    MigrationResponse,
    RejectionReason,
    TargetMigrationComplete,
    TargetMigrationRejected,
)
from .policy import SourcePolicy, TargetPolicy

NONCE_SIZE = 32
_Handler = Callable[["DeliveryService", Envelope, float], list[Envelope]]


@dataclasses.dataclass
class Lock:
    """A source-side migration in flight: the content sent and whom to confirm."""

    nonce: bytes
    target: str
    client: str
    content: bytes
    content_hash: bytes
    commit: bytes
    sent_at: float


class GroupPhase(enum.StrEnum):
    """Where a group stands at this DS: served (active), served and locked while its
    MigrationContent is out (locked), handed over (moved: a tombstone), or unknown here
    (absent).  A `str` enum: it prints and serialises as its value (GET /status)."""

    ACTIVE = "active"
    LOCKED = "locked"
    MOVED = "moved"
    ABSENT = "absent"


@dataclasses.dataclass
class Hosted:
    """A group this DS serves; `lock` is set while a migration is in flight; `source` is
    the DS it was imported from (None: created here), for audit and the lockstep model."""

    state: GroupState
    lock: Lock | None = None
    source: str | None = None

    @property
    def phase(self) -> GroupPhase:
        return GroupPhase.LOCKED if self.lock else GroupPhase.ACTIVE


@dataclasses.dataclass(frozen=True)
class Tombstone:
    """A group that moved: where to, the migration commit, the content acknowledged."""

    target: str
    commit: bytes
    content_hash: bytes


class NonceStatus(enum.Enum):
    PENDING = "pending"
    CONSUMED = "consumed"
    EXPIRED = "expired"
    REJECTED = "rejected"


@dataclasses.dataclass
class NonceRecord:
    """A nonce this DS issued as target, bound to its request (profile.md)."""

    request: MigrationRequest
    cipher_suite: int
    client: str
    issued_at: float
    status: NonceStatus = NonceStatus.PENDING
    content_hash: bytes | None = None


class DeliveryService:
    """One DS. Construct with its domain, its key per ciphersuite and a trust store."""

    def __init__(
        self,
        domain: str,
        *,
        keys: Mapping[int, SigningKey],
        trust: TrustStore,
        random: RandomSource,
        source_policy: SourcePolicy | None = None,
        target_policy: TargetPolicy | None = None,
        nonce_lifetime: float = 300.0,
        retry_interval: float = 5.0,
    ) -> None:
        self.domain = domain
        self.keys = dict(keys)
        self.trust = trust
        self.random = random
        self.source_policy = source_policy or SourcePolicy()
        self.target_policy = target_policy or TargetPolicy()
        self.nonce_lifetime = nonce_lifetime
        self.retry_interval = retry_interval
        self.groups: dict[bytes, Hosted] = {}
        self.tombstones: dict[bytes, Tombstone] = {}
        self.nonces: dict[bytes, NonceRecord] = {}
        #: Ghost log for safety checks and tests (impl/events.py: Sequenced, Exported,
        #: Imported, Acknowledged, Fanout, Unlocked).
        self.events: list[DSEvent] = []

    @property
    def name(self) -> str:
        return self.domain

    # -- set-up and inspection ---------------------------------------------------------------

    def create_group(self, state: GroupState) -> None:
        if state.group_id in self.groups:
            raise AlreadyHosted(group_id=state.group_id)
        self.groups[state.group_id] = Hosted(state=state)

    def snapshot(self) -> tuple[object, ...]:
        """A deep copy of all protocol state (tests compare it before and after a refusal)."""
        return copy.deepcopy((self.groups, self.tombstones, self.nonces, self.events))

    def status(self, group_id: bytes) -> GroupPhase:
        hosted = self.groups.get(group_id)
        if hosted is not None:
            return hosted.phase
        return GroupPhase.MOVED if group_id in self.tombstones else GroupPhase.ABSENT

    # -- the Sans-IO entry points ------------------------------------------------------------

    def receive(self, envelope: Envelope, now: float) -> list[Envelope]:
        handler = self._HANDLERS.get(envelope.kind)
        if handler is None:
            raise UnexpectedMessage(message_type=str(envelope.kind), state="delivery service")
        return handler(self, envelope, now)

    def tick(self, now: float) -> list[Envelope]:
        """Expire pending nonces; re-send every unacknowledged MigrationContent that is due."""
        for record in self.nonces.values():
            if (
                record.status is NonceStatus.PENDING
                and now - record.issued_at >= self.nonce_lifetime
            ):
                record.status = NonceStatus.EXPIRED
        out = []
        for hosted in self.groups.values():
            lock = hosted.lock
            if lock is not None and now - lock.sent_at >= self.retry_interval:
                lock.sent_at = now
                out.append(self._to(lock.target, Kind.MigrationContent, lock.content))
        return out

    # -- helpers -----------------------------------------------------------------------------

    def _to(self, recipient: str, kind: Kind, payload: bytes) -> Envelope:
        return Envelope(sender=self.domain, recipient=recipient, kind=kind, payload=payload)

    def _key(self, cipher_suite: int) -> SigningKey:
        key = self.keys.get(cipher_suite)
        if key is None:
            raise UnsupportedSuite(cipher_suite=cipher_suite)
        return key

    def is_pending(self, record: NonceRecord, now: float) -> bool:
        """Pending and within its lifetime at `now` (a nonce past it is expired, whether or
        not a tick has marked it yet)."""
        return record.status is NonceStatus.PENDING and now - record.issued_at < self.nonce_lifetime

    def _locked_by_hash(self, content_hash: bytes, kind: str) -> Hosted:
        for hosted in self.groups.values():
            if hosted.lock is not None and hosted.lock.content_hash == content_hash:
                return hosted
        raise HashMismatch(message_type=kind, group_id=b"")

    # -- as target ---------------------------------------------------------------------------

    def _on_request(self, envelope: Envelope, now: float) -> list[Envelope]:
        request = decode_payload(MigrationRequest, envelope.payload)
        if request.target_domain_name.decode() != self.domain:
            raise WrongRecipient(expected=self.domain, named=request.target_domain_name.decode())
        if request.source_domain_name.decode() == self.domain:
            raise RequestMismatch(message_type="MigrationRequest", field="source_domain_name")
        key = self._key(envelope.cipher_suite)
        if not self.target_policy.permits(envelope.sender, self.domain):
            raise NotAuthorized(policy="target", client=envelope.sender)
        tomb = self.tombstones.get(request.group_id)
        if tomb is not None and tomb.target != request.source_domain_name.decode():
            # A moved group's id stays taken: only the DS it moved to may send it back here
            # (model finding: otherwise a forged group under the same id forks the history).
            raise GroupExists(group_id=request.group_id)
        if request.group_id in self.groups or any(
            self.is_pending(r, now) and r.request.group_id == request.group_id
            for r in self.nonces.values()
        ):
            raise GroupExists(group_id=request.group_id)
        nonce = self.random.random_bytes(NONCE_SIZE)
        while nonce in self.nonces:  # a repeat from a test's seeded source, never from a CSPRNG
            nonce = self.random.random_bytes(NONCE_SIZE)
        response = signing.sign(
            MigrationResponse(migration_request=request, nonce=nonce, signature=b""), key
        )
        self.nonces[nonce] = NonceRecord(request, envelope.cipher_suite, envelope.sender, now)
        return [self._to(envelope.sender, Kind.MigrationResponse, response.encode())]

    def _on_content(self, envelope: Envelope, now: float) -> list[Envelope]:
        content = decode_payload(MigrationContent, envelope.payload)
        response = content.migration_response
        request = response.migration_request
        source = request.source_domain_name.decode()
        if request.target_domain_name.decode() != self.domain:
            raise WrongRecipient(expected=self.domain, named=request.target_domain_name.decode())
        record = self.nonces.get(response.nonce)
        if record is None:
            return self._reject_unknown(content, envelope.payload, source)
        suite = record.cipher_suite
        self.trust.verify_signed(content, source, suite)
        if not signing.verify(response, CipherSuite(suite), self._key(suite).public_bytes()):
            raise BadSignature(message_type="MigrationResponse", expected_signer=self.domain)
        if record.request != request:
            raise RequestMismatch(message_type="MigrationContent", field="migration_request")
        content_hash = signing.migration_content_hash(CipherSuite(suite), envelope.payload)
        if record.status is NonceStatus.CONSUMED:
            if record.content_hash != content_hash:
                raise NonceConsumed(nonce=response.nonce)
            return [self._complete(source, suite, content_hash)]
        if not self.is_pending(record, now):
            # Expired (or rejected): a signed rejection and no change of state.  A nonce past
            # its lifetime is marked only by `tick` (the model's target_expire_nonce); its
            # rejection, like the model's target_reject, changes nothing (issue #19).
            return [self._rejected(source, suite, content_hash, RejectionReason.EXPIRED_NONCE)]
        state = _imported_state(content, record)
        if state is None:
            # the state is not the request's group after its commit: a signed rejection of
            # this content, and no change (bad input changes no state; the nonce stays
            # pending for the content the source should have sent)
            return [
                self._rejected(source, suite, content_hash, RejectionReason.MALFORMED_GROUP_STATE)
            ]
        if state.group_id in self.groups:
            record.status = NonceStatus.REJECTED
            return [self._rejected(source, suite, content_hash, RejectionReason.GROUP_EXISTS)]
        record.status, record.content_hash = NonceStatus.CONSUMED, content_hash
        self.groups[state.group_id] = Hosted(state=state, source=source)
        self.tombstones.pop(state.group_id, None)
        self.events.append(Imported(state.group_id, response.nonce, content_hash))
        return [self._complete(source, suite, content_hash)]

    def _reject_unknown(self, content: MigrationContent, raw: bytes, source: str) -> list[Envelope]:
        """Content for a nonce never issued: a signed rejection if we can tell the suite."""
        try:
            suite = GroupState.decode(content.group_state).cipher_suite
        except DecodeError:
            raise UnknownNonce(nonce=content.migration_response.nonce) from None
        if suite not in self.keys:
            raise UnknownNonce(nonce=content.migration_response.nonce)
        self.trust.verify_signed(content, source, suite)
        content_hash = signing.migration_content_hash(CipherSuite(suite), raw)
        return [self._rejected(source, suite, content_hash, RejectionReason.UNKNOWN_NONCE)]

    def _complete(self, source: str, suite: int, content_hash: bytes) -> Envelope:
        complete = signing.sign(
            TargetMigrationComplete(migration_content_hash=content_hash, signature=b""),
            self._key(suite),
        )
        return self._to(source, Kind.TargetMigrationComplete, complete.encode())

    def _rejected(
        self, source: str, suite: int, content_hash: bytes, reason: RejectionReason
    ) -> Envelope:
        rejected = signing.sign(
            TargetMigrationRejected(
                migration_content_hash=content_hash, reason=reason, signature=b""
            ),
            self._key(suite),
        )
        return self._to(source, Kind.TargetMigrationRejected, rejected.encode())

    # -- as source ---------------------------------------------------------------------------

    def _hosted(self, group_id: bytes) -> Hosted:
        hosted = self.groups.get(group_id)
        if hosted is not None:
            return hosted
        tomb = self.tombstones.get(group_id)
        if tomb is not None:
            raise GroupMoved(group_id=group_id, target=tomb.target, commit=tomb.commit)
        raise UnknownGroup(group_id=group_id)

    def _on_init(self, envelope: Envelope, now: float) -> list[Envelope]:
        bundle = decode_payload(MigrationInitWithCommit, envelope.payload)
        init = bundle.migration_init
        response = init.migration_response
        request = response.migration_request
        if request.source_domain_name.decode() != self.domain:
            raise WrongRecipient(expected=self.domain, named=request.source_domain_name.decode())
        target = request.target_domain_name.decode()
        hosted = self._hosted(request.group_id)
        if hosted.lock is not None:
            raise GroupLocked(group_id=request.group_id, target=hosted.lock.target)
        state = hosted.state
        if request.epoch != state.epoch:
            raise WrongEpoch(group_id=state.group_id, current=state.epoch, got=request.epoch)
        suite = state.cipher_suite
        self.trust.verify_signed(response, target, suite)
        commit = read_commit(state, bundle.commit)
        if commit.migration_target() != target:
            raise RequestMismatch(
                message_type="MigrationInitWithCommit", field="authenticated_data"
            )
        member = commit.sender
        identity = member.identity.decode("utf-8", "replace")
        if not signing.verify(init, CipherSuite(suite), member.signature_key):
            raise BadSignature(message_type="MigrationInit", expected_signer=identity)
        if not self.source_policy.permits(identity):
            raise NotAuthorized(policy="source", client=identity)
        exported = next_epoch(state).encode()
        content = signing.sign(
            MigrationContent(migration_response=response, group_state=exported, signature=b""),
            self._key(suite),
        ).encode()
        content_hash = signing.migration_content_hash(CipherSuite(suite), content)
        hosted.lock = Lock(
            response.nonce, target, identity, content, content_hash, bundle.commit, now
        )
        self.events.append(Exported(state.group_id, response.nonce, content_hash))
        return [self._to(target, Kind.MigrationContent, content)]

    def _on_complete(self, envelope: Envelope, now: float) -> list[Envelope]:
        complete = decode_payload(TargetMigrationComplete, envelope.payload)
        content_hash = complete.migration_content_hash
        if any(t.content_hash == content_hash for t in self.tombstones.values()):
            return []  # a duplicate acknowledgment of a finished migration: nothing to do
        hosted = self._locked_by_hash(content_hash, "TargetMigrationComplete")
        lock = hosted.lock
        assert lock is not None
        state = hosted.state
        self.trust.verify_signed(complete, lock.target, state.cipher_suite)
        confirmation = signing.sign(
            MigrationConfirmation(
                domain_name=lock.target.encode(),
                nonce=lock.nonce,
                group_id=state.group_id,
                signature=b"",
            ),
            self._key(state.cipher_suite),
        )
        self.events.append(Acknowledged(state.group_id, lock.nonce, content_hash))
        # The migration commit joins the group's history only now: until the acknowledgment
        # the lock can still end in a rejection, and then epoch e gets another commit.
        self.events.append(Sequenced(state.group_id, state.epoch, lock.commit))
        self.events.append(Fanout(state.group_id, state.epoch, lock.target))
        del self.groups[state.group_id]
        self.tombstones[state.group_id] = Tombstone(lock.target, lock.commit, content_hash)
        out = _fanout(self.domain, state, lock.commit)
        out.append(self._to(lock.client, Kind.MigrationConfirmation, confirmation.encode()))
        return out

    def _on_rejected(self, envelope: Envelope, now: float) -> list[Envelope]:
        rejected = decode_payload(TargetMigrationRejected, envelope.payload)
        hosted = self._locked_by_hash(rejected.migration_content_hash, "TargetMigrationRejected")
        lock = hosted.lock
        assert lock is not None
        self.trust.verify_signed(rejected, lock.target, hosted.state.cipher_suite)
        hosted.lock = None
        self.events.append(Unlocked(hosted.state.group_id, lock.nonce, rejected.reason))
        return [self._to(lock.client, Kind.TargetMigrationRejected, envelope.payload)]

    # -- ordinary commits ----------------------------------------------------------------------

    def _on_commit(self, envelope: Envelope, now: float) -> list[Envelope]:
        try:
            message = MLSMessage.decode(envelope.payload)
        except DecodeError as err:
            raise Malformed(message_type="MLSMessage", reason=err.reason, detail=str(err)) from None
        if message.public_message is None:
            raise Malformed(
                message_type="MLSMessage", reason="invalid-value", detail="not a PublicMessage"
            )
        hosted = self._hosted(message.public_message.content.group_id)
        if hosted.lock is not None:
            raise GroupLocked(group_id=hosted.state.group_id, target=hosted.lock.target)
        commit = read_commit(hosted.state, message)
        if commit.authenticated_data:
            raise RequestMismatch(message_type="Commit", field="authenticated_data")
        state = hosted.state
        hosted.state = next_epoch(state)
        self.events.append(Sequenced(state.group_id, state.epoch, envelope.payload))
        return _fanout(self.domain, state, envelope.payload)

    def _on_refusal(self, envelope: Envelope, now: float) -> list[Envelope]:
        return []  # a peer refused something we sent; our state already reflects what we did

    def _unexpected(self, envelope: Envelope, now: float) -> list[Envelope]:
        raise UnexpectedMessage(message_type=str(envelope.kind), state="delivery service")

    _HANDLERS: ClassVar[dict[Kind, _Handler]] = {
        Kind.MigrationRequest: _on_request,
        Kind.MigrationInitWithCommit: _on_init,
        Kind.MigrationContent: _on_content,
        Kind.TargetMigrationComplete: _on_complete,
        Kind.TargetMigrationRejected: _on_rejected,
        Kind.Commit: _on_commit,
        Kind.Refusal: _on_refusal,
        Kind.MigrationResponse: _unexpected,
        Kind.MigrationConfirmation: _unexpected,
        Kind.Fanout: _unexpected,
    }


def _fanout(sender: str, state: GroupState, commit: bytes) -> list[Envelope]:
    """One Fanout envelope of `commit` per member, all sharing the commit's bytes; the
    identities are read in place from a decoded state's member list."""
    return Envelope.to_each(sender, state.recipients(), Kind.Fanout, commit)


def _imported_state(content: MigrationContent, record: NonceRecord) -> GroupState | None:
    """The group state to import, or None if it is not the state of exactly that request."""
    try:
        state = GroupState.decode(content.group_state)
    except DecodeError:
        return None
    request = record.request
    if (
        state.group_id != request.group_id
        or state.epoch != request.epoch + 1
        or state.cipher_suite != record.cipher_suite
        or not state.addressable()
    ):
        return None
    return state


__all__ = ["DeliveryService", "Hosted", "Lock", "NonceRecord", "NonceStatus", "Tombstone"]
