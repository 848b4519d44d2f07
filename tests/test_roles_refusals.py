"""One test per refusal path of the roles: the named error, its fields, and no change of state.

Each test drives an impl.world world to the point where the refusal applies, snapshots the
refusing role, hands it the offending envelope and checks the ProtocolError subclass (exactly
that class), the fields a peer acts on, and that `snapshot()` is unchanged.  Forged messages
come from the world's rogue DS and rogue client, or are signed with an honest party's key
where the test plays a confused (not malicious) peer.  Refusals a DS answers with a signed
TargetMigrationRejected (unknown or expired nonce) are tested for the signature and reason.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, TypeVar

import pytest

from impl import crypto, signing
from impl.client import Client
from impl.ds import DeliveryService, NonceStatus
from impl.envelope import Envelope, MigrationInitWithCommit, Refusal, TrustStore
from impl.errors import (
    BadSignature,
    ForeignNonce,
    GroupExists,
    GroupLocked,
    GroupMoved,
    HashMismatch,
    Malformed,
    MigrationInProgress,
    NonceConsumed,
    NoPendingMigration,
    NotAuthorized,
    NotMember,
    ProtocolError,
    RequestMismatch,
    UnexpectedMessage,
    UnknownGroup,
    UnknownNonce,
    UnknownPeer,
    UnsupportedSuite,
    WrongEpoch,
    WrongRecipient,
)
from impl.group import build_commit, next_epoch
from impl.group_state import GroupState
from impl.messages import (
    MigrationCommitAAD,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    RejectionReason,
    SignedStruct,
    TargetMigrationComplete,
    TargetMigrationRejected,
)
from impl.policy import SourcePolicy, TargetPolicy
from impl.world import SOURCE, TARGET, World, build_world

EPOCH = 5
E = TypeVar("E", bound=ProtocolError)


class Role(Protocol):
    def snapshot(self) -> tuple[object, ...]: ...

    def receive(self, envelope: Envelope, now: float) -> list[Envelope]: ...


def world(**kwargs: object) -> World:
    return build_world(members=3, epoch=EPOCH, **kwargs)  # type: ignore[arg-type]


def refused(role: Role, envelope: Envelope, error: type[E], now: float = 0.0) -> E:
    """`role` refuses `envelope` with exactly `error` and its state is unchanged."""
    before = role.snapshot()
    with pytest.raises(ProtocolError) as info:
        role.receive(envelope, now)
    assert type(info.value) is error, info.value
    assert role.snapshot() == before
    assert isinstance(info.value, error)
    return info.value


# -- driving a world to a state ---------------------------------------------------------------


def request(w: World, client: int = 0, target: str = TARGET) -> Envelope:
    return w.clients[client].start_migration(w.group_id, target)


def response(w: World, client: int = 0) -> Envelope:
    (out,) = w.target.receive(request(w, client), 0.0)
    assert out.kind == "MigrationResponse"
    return out


def init(w: World, client: int = 0) -> Envelope:
    (out,) = w.clients[client].receive(response(w, client), 0.0)
    assert out.kind == "MigrationInitWithCommit"
    return out


def content(w: World, client: int = 0, now: float = 0.0) -> Envelope:
    (out,) = w.source.receive(init(w, client), now)
    assert out.kind == "MigrationContent"
    return out


def complete(w: World) -> tuple[Envelope, Envelope]:
    """Run a migration up to the target's acknowledgment; (content, complete)."""
    sent = content(w)
    (ack,) = w.target.receive(sent, 0.0)
    assert ack.kind == "TargetMigrationComplete"
    return sent, ack


def migrated(w: World) -> None:
    w.network.send([request(w)])
    w.run()
    assert w.source.status(w.group_id) == "moved"


def key(ds: DeliveryService, w: World) -> crypto.SigningKey:
    return ds.keys[w.suite]


def env(sender: str, recipient: str, kind: str, payload: bytes, suite: int = 0) -> Envelope:
    return Envelope(
        sender=sender, recipient=recipient, kind=kind, payload=payload, cipher_suite=suite
    )


def state_of(w: World) -> GroupState:
    return w.source.groups[w.group_id].state


def source_signed_content(
    w: World, migration_response: MigrationResponse, group_state: bytes | None = None
) -> Envelope:
    """A MigrationContent signed with the source's key (a confused source, not a forger)."""
    message = signing.sign(
        MigrationContent(
            migration_response=migration_response,
            group_state=next_epoch(state_of(w)).encode() if group_state is None else group_state,
            signature=b"",
        ),
        key(w.source, w),
    )
    return env(SOURCE, TARGET, "MigrationContent", message.encode())


# -- authorization ------------------------------------------------------------------------------


def test_target_policy_refuses() -> None:
    w = world(target_policy=TargetPolicy(creators=frozenset({"someone@else.example"})))
    error = refused(w.target, request(w), NotAuthorized)
    assert (error.policy, error.client) == ("target", "member-0@client.example")
    # Through the network the client gets the refusal and ends that attempt (nothing was
    # issued), so it may start another; the target changed nothing.
    w2 = world(target_policy=TargetPolicy(own_domain_only=True))
    w2.network.send([request(w2)])
    assert w2.initiator.groups[w2.group_id].pending is not None
    w2.run()
    refusal = w2.network.deliveries[0].refusal
    assert isinstance(refusal, NotAuthorized)
    assert refusal.policy == "target"
    assert [d.envelope.kind for d in w2.network.deliveries] == ["MigrationRequest", "Refusal"]
    assert w2.initiator.groups[w2.group_id].pending is None
    assert w2.initiator.events[-1] == ("abandoned", w2.group_id, "not_authorized")
    assert w2.target.nonces == {}
    w2.initiator.start_migration(w2.group_id, TARGET)  # no MigrationInProgress


@pytest.mark.parametrize(
    "policy",
    [SourcePolicy.deny_all(), SourcePolicy(allowed=frozenset({"member-1@client.example"}))],
    ids=["deny_all", "allow_list"],
)
def test_source_policy_refuses(policy: SourcePolicy) -> None:
    w = world(source_policy=policy)
    sent = init(w)
    error = refused(w.source, sent, NotAuthorized)
    assert (error.policy, error.client) == ("source", "member-0@client.example")
    assert w.source.status(w.group_id) == "active"
    # Through the network: the client gets a Refusal, which changes nothing on its side.
    w.network.send([sent])
    client_before = w.initiator.snapshot()
    w.run()
    assert [d.envelope.kind for d in w.network.deliveries] == [
        "MigrationInitWithCommit",
        "Refusal",
    ]
    assert w.initiator.snapshot() == client_before


def test_non_member_leaf_refused() -> None:
    w = world()
    rogue = w.rogue_client
    wanted = MigrationRequest(
        source_domain_name=SOURCE.encode(),
        target_domain_name=TARGET.encode(),
        group_id=w.group_id,
        epoch=EPOCH,
    )
    # The target's default policy lets anyone ask; the source is where membership counts.
    (answer,) = w.target.receive(rogue.request(wanted, w.suite), 0.0)
    granted = MigrationResponse.decode(answer.payload)
    error = refused(w.source, rogue.init(granted, state_of(w), leaf_index=7), NotMember)
    assert (error.group_id, error.leaf_index) == (w.group_id, 7)


def test_non_member_claiming_a_members_leaf_refused() -> None:
    w = world()
    rogue = w.rogue_client
    wanted = MigrationRequest(
        source_domain_name=SOURCE.encode(),
        target_domain_name=TARGET.encode(),
        group_id=w.group_id,
        epoch=EPOCH,
    )
    (answer,) = w.target.receive(rogue.request(wanted, w.suite), 0.0)
    granted = MigrationResponse.decode(answer.payload)
    error = refused(w.source, rogue.init(granted, state_of(w), leaf_index=1), BadSignature)
    assert (error.message_type, error.expected_signer) == ("Commit", "member-1@client.example")


def _bundle(
    w: World, answer: Envelope, *, commit_key: int, commit_leaf: int, init_key: int
) -> bytes:
    granted = MigrationResponse.decode(answer.payload)
    aad = MigrationCommitAAD(target_ds_domain=TARGET.encode()).encode()
    commit = build_commit(state_of(w), w.clients[commit_key].key, commit_leaf, aad)
    signed = signing.sign(
        MigrationInit(migration_response=granted, signature=b""), w.clients[init_key].key
    )
    return MigrationInitWithCommit(migration_init=signed, commit=commit).encode()


def test_commit_signed_with_another_members_key_refused() -> None:
    w = world()
    payload = _bundle(w, response(w), commit_key=1, commit_leaf=0, init_key=0)
    sent = env(w.initiator.identity, SOURCE, "MigrationInitWithCommit", payload)
    error = refused(w.source, sent, BadSignature)
    assert (error.message_type, error.expected_signer) == ("Commit", "member-0@client.example")


def test_init_signed_with_another_members_key_refused() -> None:
    w = world()
    payload = _bundle(w, response(w), commit_key=0, commit_leaf=0, init_key=2)
    sent = env(w.initiator.identity, SOURCE, "MigrationInitWithCommit", payload)
    error = refused(w.source, sent, BadSignature)
    assert (error.message_type, error.expected_signer) == (
        "MigrationInit",
        "member-0@client.example",
    )


# -- group status at the source -------------------------------------------------------------------


def test_wrong_epoch_after_a_regular_commit() -> None:
    w = world()
    net = w.network
    net.send([request(w), w.clients[1].commit(w.group_id)])
    net.deliver(0.0)  # request -> response in flight
    net.deliver(0.0)  # member-1's commit is sequenced: the group is at EPOCH + 1
    net.deliver(0.0, net.find("MigrationResponse"))  # member-0 answers for EPOCH
    sent = net.in_flight.pop(net.find("MigrationInitWithCommit"))
    error = refused(w.source, sent, WrongEpoch)
    assert (error.group_id, error.current, error.got) == (w.group_id, EPOCH + 1, EPOCH)


def test_second_init_while_locked_refused() -> None:
    w = world()
    sent = init(w)
    w.source.receive(sent, 0.0)
    error = refused(w.source, sent, GroupLocked)
    assert (error.group_id, error.target) == (w.group_id, TARGET)


def test_regular_commit_while_locked_refused() -> None:
    w = world()
    content(w)
    error = refused(w.source, w.clients[1].commit(w.group_id), GroupLocked)
    assert (error.group_id, error.target) == (w.group_id, TARGET)


def test_unknown_group_refused() -> None:
    w = world()
    sent = dataclasses.replace(w.clients[1].commit(w.group_id), recipient=TARGET)
    error = refused(w.target, sent, UnknownGroup)
    assert error.group_id == w.group_id


def test_moved_group_refused_with_its_target_and_commit() -> None:
    w = world()
    stale = w.clients[1].commit(w.group_id)
    migrated(w)
    error = refused(w.source, stale, GroupMoved)
    assert (error.group_id, error.target) == (w.group_id, TARGET)
    assert error.commit == w.source.tombstones[w.group_id].commit
    old_init = next(e for e in w.network.log if e.kind == "MigrationInitWithCommit")
    assert refused(w.source, old_init, GroupMoved).target == TARGET


# -- nonces at the target -------------------------------------------------------------------------


def _forged_response(w: World, nonce: bytes, **changes: object) -> MigrationResponse:
    """A response signed with the target's key for a request it did not record this way."""
    wanted = MigrationRequest(
        source_domain_name=SOURCE.encode(),
        target_domain_name=TARGET.encode(),
        group_id=w.group_id,
        epoch=EPOCH,
    )
    wanted = dataclasses.replace(wanted, **changes)  # type: ignore[arg-type]
    return signing.sign(
        MigrationResponse(migration_request=wanted, nonce=nonce, signature=b""),
        key(w.target, w),
    )


def test_unknown_nonce_gets_a_signed_rejection() -> None:
    w = world()
    nonce = bytes(range(32))
    sent = source_signed_content(w, _forged_response(w, nonce))
    before = w.target.snapshot()
    (out,) = w.target.receive(sent, 0.0)
    assert w.target.snapshot() == before  # answered, but nothing recorded or imported
    assert (out.kind, out.recipient) == ("TargetMigrationRejected", SOURCE)
    rejected = TargetMigrationRejected.decode(out.payload)
    assert rejected.reason == RejectionReason.UNKNOWN_NONCE
    assert rejected.migration_content_hash == signing.migration_content_hash(w.suite, sent.payload)
    assert signing.verify(rejected, w.suite, key(w.target, w).public_bytes())
    assert nonce not in w.target.nonces
    assert w.target.status(w.group_id) == "absent"


def test_unknown_nonce_with_an_unreadable_state_refused() -> None:
    w = world()
    nonce = bytes(range(32))
    sent = source_signed_content(w, _forged_response(w, nonce), group_state=b"not a state")
    error = refused(w.target, sent, UnknownNonce)
    assert error.nonce == nonce


def test_expired_nonce_is_rejected_and_never_accepted_again() -> None:
    w = world(nonce_lifetime=10.0, retry_interval=1000.0)
    sent = content(w)
    nonce = MigrationContent.decode(sent.payload).migration_response.nonce
    (out,) = w.target.receive(sent, 10.0)
    rejected = TargetMigrationRejected.decode(out.payload)
    assert rejected.reason == RejectionReason.EXPIRED_NONCE
    assert signing.verify(rejected, w.suite, key(w.target, w).public_bytes())
    assert w.target.nonces[nonce].status is NonceStatus.EXPIRED
    assert w.target.status(w.group_id) == "absent"
    # The source unlocks on the signed rejection and forwards it; the client clears its pending.
    (forwarded,) = w.source.receive(out, 10.0)
    assert (forwarded.kind, forwarded.recipient) == (
        "TargetMigrationRejected",
        w.initiator.identity,
    )
    assert w.source.status(w.group_id) == "active"
    assert w.initiator.receive(forwarded, 10.0) == []
    assert w.initiator.groups[w.group_id].pending is None
    # The same content later (a replay, or a retry that crossed the rejection): still rejected.
    before = w.target.snapshot()
    (again,) = w.target.receive(sent, 11.0)
    assert TargetMigrationRejected.decode(again.payload).reason == RejectionReason.EXPIRED_NONCE
    assert w.target.snapshot() == before
    assert w.target.groups == {}


def test_nonce_expired_by_tick_is_rejected() -> None:
    w = world(nonce_lifetime=10.0, retry_interval=1000.0)
    sent = content(w)
    w.target.tick(10.0)
    before = w.target.snapshot()
    (out,) = w.target.receive(sent, 10.5)
    assert TargetMigrationRejected.decode(out.payload).reason == RejectionReason.EXPIRED_NONCE
    assert w.target.snapshot() == before


def test_consumed_nonce_with_another_content_refused() -> None:
    w = world()
    sent, _ = complete(w)
    granted = MigrationContent.decode(sent.payload).migration_response
    smaller = dataclasses.replace(next_epoch(state_of(w)), members=state_of(w).members[:2]).encode()
    error = refused(w.target, source_signed_content(w, granted, smaller), NonceConsumed)
    assert error.nonce == granted.nonce


def test_same_content_again_gets_the_same_acknowledgment() -> None:
    w = world()
    sent, ack = complete(w)
    before = w.target.snapshot()
    assert w.target.receive(sent, 50.0) == [ack]
    assert w.target.snapshot() == before


# -- signers and labels ----------------------------------------------------------------------------


def test_content_signed_by_a_rogue_ds_refused() -> None:
    w = world()
    granted = MigrationResponse.decode(response(w).payload)
    forged = w.rogue_ds.content(granted, next_epoch(state_of(w)), TARGET, as_sender=SOURCE)
    error = refused(w.target, forged, BadSignature)
    assert (error.message_type, error.expected_signer) == ("MigrationContent", SOURCE)


def test_response_signed_by_a_rogue_ds_refused() -> None:
    w = world()
    wanted = MigrationRequest.decode(request(w).payload)
    forged = w.rogue_ds.response(wanted, bytes(32), w.initiator.identity)
    error = refused(w.initiator, forged, BadSignature)
    assert (error.message_type, error.expected_signer) == ("MigrationResponse", TARGET)


def test_complete_signed_by_a_rogue_ds_refused() -> None:
    w = world()
    content(w)
    lock = w.source.groups[w.group_id].lock
    assert lock is not None
    forged = w.rogue_ds.complete(lock.content_hash, SOURCE, as_sender=TARGET)
    error = refused(w.source, forged, BadSignature)
    assert (error.message_type, error.expected_signer) == ("TargetMigrationComplete", TARGET)


def test_rejection_signed_by_a_rogue_ds_refused() -> None:
    w = world()
    content(w)
    lock = w.source.groups[w.group_id].lock
    assert lock is not None
    forged = signing.sign(
        TargetMigrationRejected(
            migration_content_hash=lock.content_hash,
            reason=RejectionReason.NOT_AUTHORIZED,
            signature=b"",
        ),
        w.rogue_ds.key,
    )
    sent = env(TARGET, SOURCE, "TargetMigrationRejected", forged.encode())
    error = refused(w.source, sent, BadSignature)
    assert (error.message_type, error.expected_signer) == ("TargetMigrationRejected", TARGET)


def test_forwarded_rejection_signed_by_a_rogue_ds_refused() -> None:
    w = world()
    init(w)
    forged = signing.sign(
        TargetMigrationRejected(
            migration_content_hash=bytes(32), reason=RejectionReason.EXPIRED_NONCE, signature=b""
        ),
        w.rogue_ds.key,
    )
    sent = env(SOURCE, w.initiator.identity, "TargetMigrationRejected", forged.encode())
    error = refused(w.initiator, sent, BadSignature)
    assert (error.message_type, error.expected_signer) == ("TargetMigrationRejected", TARGET)


def test_confirmation_signed_by_a_rogue_ds_refused() -> None:
    w = world()
    init(w)
    pending = w.initiator.groups[w.group_id].pending
    assert pending is not None and pending.nonce is not None
    forged = w.rogue_ds.confirmation(
        TARGET, pending.nonce, w.group_id, w.initiator.identity, as_sender=SOURCE
    )
    error = refused(w.initiator, forged, BadSignature)
    assert (error.message_type, error.expected_signer) == ("MigrationConfirmation", SOURCE)


def _relabel(message: SignedStruct, signer: crypto.SigningKey) -> bytes:
    """`message` signed by the right key over the right bytes, under another struct's label."""
    wrong = next(label for label in crypto.SIGNATURE_LABELS if label != message.LABEL)
    signature = crypto.sign_with_label(signer, wrong, message.signed_content())
    return dataclasses.replace(message, signature=signature).encode()  # type: ignore[type-var]


@pytest.mark.parametrize(
    "where",
    ["response@client", "init@source", "content@target", "complete@source", "confirm@client"],
)
def test_signature_under_another_label_refused(where: str) -> None:
    w = world()
    role: Role
    if where == "response@client":
        sent = response(w)
        payload = _relabel(MigrationResponse.decode(sent.payload), key(w.target, w))
        role, expected = w.initiator, "MigrationResponse"
    elif where == "init@source":
        sent = init(w)
        bundle = MigrationInitWithCommit.decode(sent.payload)
        relabelled = MigrationInit.decode(_relabel(bundle.migration_init, w.initiator.key))
        payload = dataclasses.replace(bundle, migration_init=relabelled).encode()
        role, expected = w.source, "MigrationInit"
    elif where == "content@target":
        sent = content(w)
        payload = _relabel(MigrationContent.decode(sent.payload), key(w.source, w))
        role, expected = w.target, "MigrationContent"
    elif where == "complete@source":
        _, sent = complete(w)
        payload = _relabel(TargetMigrationComplete.decode(sent.payload), key(w.target, w))
        role, expected = w.source, "TargetMigrationComplete"
    else:
        _, ack = complete(w)
        out = w.source.receive(ack, 0.0)
        sent = next(e for e in out if e.kind == "MigrationConfirmation")
        payload = _relabel(MigrationConfirmation.decode(sent.payload), key(w.source, w))
        # The initiator has not seen the fan-out yet: its migration is still pending.
        role, expected = w.initiator, "MigrationConfirmation"
    error = refused(role, dataclasses.replace(sent, payload=payload), BadSignature)
    assert error.message_type == expected


# -- bindings: hashes, requests, nonces ------------------------------------------------------------


def test_complete_for_another_content_refused() -> None:
    w = world()
    content(w)
    other = signing.sign(
        TargetMigrationComplete(migration_content_hash=bytes(32), signature=b""),
        key(w.target, w),
    )
    error = refused(
        w.source, env(TARGET, SOURCE, "TargetMigrationComplete", other.encode()), HashMismatch
    )
    assert error.message_type == "TargetMigrationComplete"


def test_rejection_for_another_content_refused() -> None:
    w = world()
    content(w)
    other = signing.sign(
        TargetMigrationRejected(
            migration_content_hash=bytes(32), reason=RejectionReason.EXPIRED_NONCE, signature=b""
        ),
        key(w.target, w),
    )
    sent = env(TARGET, SOURCE, "TargetMigrationRejected", other.encode())
    assert refused(w.source, sent, HashMismatch).message_type == "TargetMigrationRejected"


def test_group_already_hosted_at_the_target_refused() -> None:
    w = world()
    late = request(w, client=1)  # member-1 asks before it learns of the move
    migrated(w)
    error = refused(w.target, late, GroupExists)
    assert error.group_id == w.group_id


def test_group_already_pending_at_the_target_refused() -> None:
    w = world()
    response(w)
    error = refused(w.target, request(w, client=1), GroupExists)
    assert error.group_id == w.group_id


def test_content_for_another_request_refused() -> None:
    w = world()
    granted = MigrationResponse.decode(response(w).payload)
    # Same nonce, another request: only the target's own key could sign that response.
    other = _forged_response(w, granted.nonce, epoch=EPOCH + 3)
    error = refused(w.target, source_signed_content(w, other), RequestMismatch)
    assert (error.message_type, error.field) == ("MigrationContent", "migration_request")


def test_response_for_another_request_refused() -> None:
    w = world()
    request(w)
    other = _forged_response(w, bytes(32), epoch=EPOCH + 1)
    sent = env(TARGET, w.initiator.identity, "MigrationResponse", other.encode())
    error = refused(w.initiator, sent, RequestMismatch)
    assert (error.message_type, error.field) == ("MigrationResponse", "migration_request")


def test_response_without_a_request_refused() -> None:
    w = world()
    answer = response(w, client=1)  # member-1's response, delivered to member-0
    error = refused(
        w.initiator, dataclasses.replace(answer, recipient=w.initiator.identity), NoPendingMigration
    )
    assert error.group_id == w.group_id


def test_second_response_refused() -> None:
    w = world()
    answer = response(w)
    w.initiator.receive(answer, 0.0)
    assert refused(w.initiator, answer, NoPendingMigration).group_id == w.group_id


def test_confirmation_without_a_migration_refused() -> None:
    w = world()
    confirmation = signing.sign(
        MigrationConfirmation(
            domain_name=TARGET.encode(), nonce=bytes(32), group_id=w.group_id, signature=b""
        ),
        key(w.source, w),
    )
    sent = env(SOURCE, w.initiator.identity, "MigrationConfirmation", confirmation.encode())
    assert refused(w.initiator, sent, NoPendingMigration).group_id == w.group_id


def test_forwarded_rejection_without_a_migration_refused() -> None:
    w = world()
    rejected = signing.sign(
        TargetMigrationRejected(
            migration_content_hash=bytes(32), reason=RejectionReason.EXPIRED_NONCE, signature=b""
        ),
        key(w.target, w),
    )
    sent = env(SOURCE, w.initiator.identity, "TargetMigrationRejected", rejected.encode())
    refused(w.initiator, sent, NoPendingMigration)


def test_confirmation_with_a_foreign_nonce_refused() -> None:
    w = world()
    init(w)
    foreign = bytes([7]) * 32
    confirmation = signing.sign(
        MigrationConfirmation(
            domain_name=TARGET.encode(), nonce=foreign, group_id=w.group_id, signature=b""
        ),
        key(w.source, w),
    )
    sent = env(SOURCE, w.initiator.identity, "MigrationConfirmation", confirmation.encode())
    assert refused(w.initiator, sent, ForeignNonce).nonce == foreign


def test_confirmation_naming_another_target_refused() -> None:
    w = world()
    init(w)
    pending = w.initiator.groups[w.group_id].pending
    assert pending is not None and pending.nonce is not None
    confirmation = signing.sign(
        MigrationConfirmation(
            domain_name=b"elsewhere.example",
            nonce=pending.nonce,
            group_id=w.group_id,
            signature=b"",
        ),
        key(w.source, w),
    )
    sent = env(SOURCE, w.initiator.identity, "MigrationConfirmation", confirmation.encode())
    error = refused(w.initiator, sent, RequestMismatch)
    assert (error.message_type, error.field) == ("MigrationConfirmation", "domain_name")


def test_commit_naming_another_target_refused() -> None:
    w = world()
    answer = response(w)
    granted = MigrationResponse.decode(answer.payload)
    aad = MigrationCommitAAD(target_ds_domain=b"elsewhere.example").encode()
    commit = build_commit(state_of(w), w.initiator.key, 0, aad)
    signed = signing.sign(MigrationInit(migration_response=granted, signature=b""), w.initiator.key)
    payload = MigrationInitWithCommit(migration_init=signed, commit=commit).encode()
    sent = env(w.initiator.identity, SOURCE, "MigrationInitWithCommit", payload)
    error = refused(w.source, sent, RequestMismatch)
    assert (error.message_type, error.field) == ("MigrationInitWithCommit", "authenticated_data")


def test_migration_commit_sent_as_a_regular_commit_refused() -> None:
    w = world()
    aad = MigrationCommitAAD(target_ds_domain=TARGET.encode()).encode()
    commit = build_commit(state_of(w), w.clients[1].key, 1, aad)
    sent = env(w.clients[1].identity, SOURCE, "Commit", commit)
    error = refused(w.source, sent, RequestMismatch)
    assert (error.message_type, error.field) == ("Commit", "authenticated_data")


def test_request_from_the_target_to_itself_refused() -> None:
    w = world()
    sent = dataclasses.replace(
        request(w),
        payload=MigrationRequest(
            source_domain_name=TARGET.encode(),
            target_domain_name=TARGET.encode(),
            group_id=w.group_id,
            epoch=EPOCH,
        ).encode(),
    )
    error = refused(w.target, sent, RequestMismatch)
    assert error.field == "source_domain_name"


def test_fanout_from_another_sender_refused() -> None:
    w = world()
    commit = w.clients[1].commit(w.group_id)
    sent = env(TARGET, w.initiator.identity, "Fanout", commit.payload)
    error = refused(w.initiator, sent, RequestMismatch)
    assert (error.message_type, error.field) == ("Fanout", "sender")


# -- bytes and addressing -------------------------------------------------------------------------


def _reference() -> dict[str, Envelope]:
    """The first envelope of each kind in a clean migration (deterministic world)."""
    w = world()
    stale = w.clients[1].commit(w.group_id)
    migrated(w)
    first: dict[str, Envelope] = {"Commit": stale}
    for sent in w.network.log:
        first.setdefault(sent.kind, sent)
    first["Refusal"] = env(
        SOURCE, w.initiator.identity, "Refusal", Refusal(code=b"x", details=b"{}").encode()
    )
    first["TargetMigrationRejected"] = env(
        SOURCE,
        w.initiator.identity,
        "TargetMigrationRejected",
        signing.sign(
            TargetMigrationRejected(
                migration_content_hash=bytes(32),
                reason=RejectionReason.EXPIRED_NONCE,
                signature=b"",
            ),
            key(w.target, w),
        ).encode(),
    )
    return first


MALFORMED_CASES = [
    ("target", "MigrationRequest", "MigrationRequest"),
    ("source", "MigrationInitWithCommit", "MigrationInitWithCommit"),
    ("target", "MigrationContent", "MigrationContent"),
    ("source", "TargetMigrationComplete", "TargetMigrationComplete"),
    ("source", "TargetMigrationRejected", "TargetMigrationRejected"),
    ("source", "Commit", "MLSMessage"),
    ("client", "MigrationResponse", "MigrationResponse"),
    ("client", "MigrationConfirmation", "MigrationConfirmation"),
    ("client", "TargetMigrationRejected", "TargetMigrationRejected"),
    ("client", "Fanout", "MLSMessage"),
    ("client", "Refusal", "Refusal"),
]


@pytest.mark.parametrize(
    ("defect", "reason"),
    [("empty", "truncated"), ("trailing", "trailing-bytes"), ("cut", "truncated")],
)
@pytest.mark.parametrize(("role", "kind", "message_type"), MALFORMED_CASES)
def test_malformed_bytes_refused(
    role: str, kind: str, message_type: str, defect: str, reason: str
) -> None:
    good = _reference()[kind].payload
    payload = {"empty": b"", "trailing": good + b"\x00", "cut": good[:-1]}[defect]
    w = world()
    receiver: Role = {"source": w.source, "target": w.target, "client": w.initiator}[role]
    recipient = {"source": SOURCE, "target": TARGET, "client": w.initiator.identity}[role]
    sender = SOURCE if role == "client" else w.initiator.identity
    error = refused(receiver, env(sender, recipient, kind, payload, int(w.suite)), Malformed)
    assert (error.message_type, error.reason) == (message_type, reason)


def test_invalid_length_header_refused() -> None:
    w = world()
    sent = env(w.initiator.identity, TARGET, "MigrationRequest", b"\xc0" + bytes(40), 1)
    assert refused(w.target, sent, Malformed).reason == "invalid-prefix"
    sent = env(w.initiator.identity, TARGET, "MigrationRequest", b"\x40\x01x" + bytes(40), 1)
    assert refused(w.target, sent, Malformed).reason == "non-minimal-length"


@pytest.mark.parametrize(
    ("kind", "to"),
    [
        ("MigrationRequest", SOURCE),
        ("MigrationContent", SOURCE),
        ("MigrationInitWithCommit", TARGET),
    ],
)
def test_wrong_recipient_refused(kind: str, to: str) -> None:
    w = world()
    if kind == "MigrationRequest":
        sent = request(w)
    elif kind == "MigrationContent":
        sent = content(w)
    else:
        sent = init(w)
    receiver = w.source if to == SOURCE else w.target
    error = refused(receiver, dataclasses.replace(sent, recipient=to), WrongRecipient)
    assert error.expected == to
    assert error.named == (TARGET if to == SOURCE else SOURCE)


@pytest.mark.parametrize("suite", [0, 2, 7])
def test_unsupported_suite_refused(suite: int) -> None:
    w = world()
    sent = dataclasses.replace(request(w), cipher_suite=suite)
    assert refused(w.target, sent, UnsupportedSuite).cipher_suite == suite


def test_unknown_peer_at_the_source_refused() -> None:
    w = world()
    sent = init(w)
    alone = TrustStore()
    alone.add(SOURCE, w.suite, key(w.source, w).public_bytes())
    w.source.trust = alone
    error = refused(w.source, sent, UnknownPeer)
    assert (error.domain, error.cipher_suite) == (TARGET, int(w.suite))


def test_unknown_peer_at_the_client_refused() -> None:
    w = world()
    answer = response(w)
    w.initiator.trust = TrustStore()
    error = refused(w.initiator, answer, UnknownPeer)
    assert (error.domain, error.cipher_suite) == (TARGET, int(w.suite))


def test_migration_in_progress_refused() -> None:
    w = world()
    request(w)
    client: Client = w.initiator
    before = client.snapshot()
    with pytest.raises(MigrationInProgress) as info:
        client.start_migration(w.group_id, TARGET)
    assert info.value.group_id == w.group_id
    assert client.snapshot() == before


def test_unexpected_kinds_refused() -> None:
    w = world()
    answer = response(w)
    error = refused(w.source, dataclasses.replace(answer, recipient=SOURCE), UnexpectedMessage)
    assert (error.message_type, error.state) == ("MigrationResponse", "delivery service")
    commit = w.clients[1].commit(w.group_id)
    error = refused(w.initiator, dataclasses.replace(commit, recipient="x"), UnexpectedMessage)
    assert (error.message_type, error.state) == ("Commit", "client")
    bogus = env(SOURCE, TARGET, "Bogus", b"")
    assert refused(w.target, bogus, UnexpectedMessage).message_type == "Bogus"
    assert refused(w.initiator, bogus, UnexpectedMessage).message_type == "Bogus"


def test_abandon_after_the_source_refuses_the_init() -> None:
    w = world(source_policy=SourcePolicy.deny_all())
    w.network.send([w.initiator.start_migration(w.group_id, TARGET)])
    w.run()
    codes = [d.refusal.code for d in w.network.deliveries if d.refusal]
    assert codes == ["not_authorized"]
    # The source's refusal does not end the attempt by itself (a refusal does not say which
    # message it answers); the application abandons it, and then may start again.
    assert w.initiator.groups[w.group_id].pending is not None
    w.initiator.abandon_migration(w.group_id)
    assert w.initiator.groups[w.group_id].pending is None
    with pytest.raises(NoPendingMigration):
        w.initiator.abandon_migration(w.group_id)
    w.initiator.start_migration(w.group_id, TARGET)


def test_tombstone_keeps_the_group_id_taken() -> None:
    # After the move only the DS the tombstone names may bring the group back (model finding:
    # a forged group under the same id from anyone else would fork the history).
    w = world()
    w.network.send([w.initiator.start_migration(w.group_id, TARGET)])
    w.run()
    assert w.source.status(w.group_id) == "moved"
    forged = MigrationRequest(
        source_domain_name=b"rogue.example",
        target_domain_name=SOURCE.encode(),
        group_id=w.group_id,
        epoch=w.initial_epoch + 1,
    )
    before = w.source.snapshot()
    with pytest.raises(GroupExists):
        w.source.receive(w.rogue_client.request(forged, int(w.suite)), 0.0)
    assert w.source.snapshot() == before
    back = dataclasses.replace(forged, source_domain_name=TARGET.encode())
    out = w.source.receive(w.rogue_client.request(back, int(w.suite)), 0.0)
    assert [e.kind for e in out] == ["MigrationResponse"]
