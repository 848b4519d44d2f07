"""The refusals of a Source DS: one test per path, the named error, its fields, no change.

What the source refuses: a client its policy does not allow, a sender that is not the member
it claims (or signs with another member's key), a commit or init for the wrong epoch or while
the group is locked or moved, a TargetMigrationComplete or TargetMigrationRejected that is
forged, signed under another label or for another content, a migration commit naming another
target or sent as a regular commit, malformed bytes, a message for the target, an unknown peer,
a message kind it never takes, and a request to bring back a moved group from anyone but the DS
its tombstone names.  Each test drives a world to the point where the refusal applies and
checks it with tests.refusals.refused (exactly that error class, the snapshot unchanged).
"""

from __future__ import annotations

import dataclasses

import pytest

from impl import signing
from impl.envelope import Envelope, MigrationInitWithCommit, TrustStore
from impl.errors import (
    BadSignature,
    GroupExists,
    GroupLocked,
    GroupMoved,
    HashMismatch,
    NotAuthorized,
    NotMember,
    RequestMismatch,
    UnexpectedMessage,
    UnknownPeer,
    WrongEpoch,
    WrongRecipient,
)
from impl.group import build_commit
from impl.messages import (
    MigrationCommitAAD,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    RejectionReason,
    TargetMigrationComplete,
    TargetMigrationRejected,
)
from impl.policy import SourcePolicy
from impl.world import SOURCE, TARGET, World
from tests.refusals import (
    DEFECTS,
    EPOCH,
    complete,
    content,
    env,
    init,
    key,
    malformed_refused,
    migrated,
    refused,
    relabel,
    request,
    response,
    state_of,
    world,
)


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


def test_moved_group_refused_with_its_target_and_commit() -> None:
    w = world()
    stale = w.clients[1].commit(w.group_id)
    migrated(w)
    error = refused(w.source, stale, GroupMoved)
    assert (error.group_id, error.target) == (w.group_id, TARGET)
    assert error.commit == w.source.tombstones[w.group_id].commit
    old_init = next(e for e in w.network.log if e.kind == "MigrationInitWithCommit")
    assert refused(w.source, old_init, GroupMoved).target == TARGET


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


def test_init_under_another_label_refused() -> None:
    w = world()
    sent = init(w)
    bundle = MigrationInitWithCommit.decode(sent.payload)
    relabelled = MigrationInit.decode(relabel(bundle.migration_init, w.initiator.key))
    payload = dataclasses.replace(bundle, migration_init=relabelled).encode()
    error = refused(w.source, dataclasses.replace(sent, payload=payload), BadSignature)
    assert error.message_type == "MigrationInit"


def test_complete_under_another_label_refused() -> None:
    w = world()
    _, sent = complete(w)
    payload = relabel(TargetMigrationComplete.decode(sent.payload), key(w.target, w))
    error = refused(w.source, dataclasses.replace(sent, payload=payload), BadSignature)
    assert error.message_type == "TargetMigrationComplete"


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


@pytest.mark.parametrize(("defect", "reason"), DEFECTS)
@pytest.mark.parametrize(
    ("kind", "message_type"),
    [
        ("MigrationInitWithCommit", "MigrationInitWithCommit"),
        ("TargetMigrationComplete", "TargetMigrationComplete"),
        ("TargetMigrationRejected", "TargetMigrationRejected"),
        ("Commit", "MLSMessage"),
    ],
)
def test_malformed_bytes_refused(kind: str, message_type: str, defect: str, reason: str) -> None:
    malformed_refused("source", kind, message_type, defect, reason)


@pytest.mark.parametrize("kind", ["MigrationRequest", "MigrationContent"])
def test_wrong_recipient_refused(kind: str) -> None:
    # Messages for the target, sent to the source.
    w = world()
    sent = request(w) if kind == "MigrationRequest" else content(w)
    error = refused(w.source, dataclasses.replace(sent, recipient=SOURCE), WrongRecipient)
    assert (error.expected, error.named) == (SOURCE, TARGET)


def test_unknown_peer_at_the_source_refused() -> None:
    w = world()
    sent = init(w)
    alone = TrustStore()
    alone.add(SOURCE, w.suite, key(w.source, w).public_bytes())
    w.source.trust = alone
    error = refused(w.source, sent, UnknownPeer)
    assert (error.domain, error.cipher_suite) == (TARGET, int(w.suite))


def test_unexpected_kinds_refused() -> None:
    w = world()
    answer = response(w)
    error = refused(w.source, dataclasses.replace(answer, recipient=SOURCE), UnexpectedMessage)
    assert (error.message_type, error.state) == ("MigrationResponse", "delivery service")


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
