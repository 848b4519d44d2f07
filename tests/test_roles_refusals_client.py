"""The refusals of a client: one test per path, the named error, its fields, no change.

What a client refuses: a MigrationResponse, forwarded TargetMigrationRejected or
MigrationConfirmation that is forged or signed under another label, a response for another
request or when it has no (or no longer a) pending migration, a confirmation with a foreign
nonce or naming another target, a fan-out from anyone but its DS, malformed bytes (a
group_moved refusal whose GroupMovedRedirect does not decode among them), an unknown peer,
and a message kind it never takes; how it abandons an attempt the source refused; and, apart
from refusals, the LocalProtocolErrors of its application's misuse (a second migration while
one is in progress, a call for a group it is not in).  Each test drives a world to the point
where the refusal applies and checks it with tests.refusals.refused (exactly that error
class, the snapshot unchanged).
"""

from __future__ import annotations

import dataclasses

import pytest

from impl import signing
from impl.client import Client
from impl.codec import DecodeError
from impl.envelope import GroupMovedRedirect, Refusal, TrustStore
from impl.errors import (
    AlreadyHosted,
    BadSignature,
    ForeignNonce,
    GroupMoved,
    LocalProtocolError,
    Malformed,
    MigrationInProgress,
    NoMigrationToAbandon,
    NoPendingMigration,
    NotInGroup,
    ProtocolError,
    RequestMismatch,
    UnexpectedMessage,
    UnknownPeer,
)
from impl.messages import (
    MigrationConfirmation,
    MigrationRequest,
    MigrationResponse,
    RejectionReason,
    TargetMigrationRejected,
)
from impl.policy import SourcePolicy
from impl.world import SOURCE, TARGET
from tests.refusals import (
    DEFECTS,
    EPOCH,
    complete,
    env,
    forged_response,
    init,
    key,
    malformed_refused,
    refused,
    relabel,
    request,
    response,
    world,
)


def test_response_signed_by_a_rogue_ds_refused() -> None:
    w = world()
    wanted = MigrationRequest.decode(request(w).payload)
    forged = w.rogue_ds.response(wanted, bytes(32), w.initiator.identity)
    error = refused(w.initiator, forged, BadSignature)
    assert (error.message_type, error.expected_signer) == ("MigrationResponse", TARGET)


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


def test_response_under_another_label_refused() -> None:
    w = world()
    sent = response(w)
    payload = relabel(MigrationResponse.decode(sent.payload), key(w.target, w))
    error = refused(w.initiator, dataclasses.replace(sent, payload=payload), BadSignature)
    assert error.message_type == "MigrationResponse"


def test_confirmation_under_another_label_refused() -> None:
    w = world()
    _, ack = complete(w)
    out = w.source.receive(ack, 0.0)
    sent = next(e for e in out if e.kind == "MigrationConfirmation")
    payload = relabel(MigrationConfirmation.decode(sent.payload), key(w.source, w))
    # The initiator has not seen the fan-out yet: its migration is still pending.
    error = refused(w.initiator, dataclasses.replace(sent, payload=payload), BadSignature)
    assert error.message_type == "MigrationConfirmation"


def test_response_for_another_request_refused() -> None:
    w = world()
    request(w)
    other = forged_response(w, bytes(32), epoch=EPOCH + 1)
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


def test_fanout_from_another_sender_refused() -> None:
    w = world()
    commit = w.clients[1].commit(w.group_id)
    sent = env(TARGET, w.initiator.identity, "Fanout", commit.payload)
    error = refused(w.initiator, sent, RequestMismatch)
    assert (error.message_type, error.field) == ("Fanout", "sender")


@pytest.mark.parametrize(("defect", "reason"), DEFECTS)
@pytest.mark.parametrize(
    ("kind", "message_type"),
    [
        ("MigrationResponse", "MigrationResponse"),
        ("MigrationConfirmation", "MigrationConfirmation"),
        ("TargetMigrationRejected", "TargetMigrationRejected"),
        ("Fanout", "MLSMessage"),
        ("Refusal", "Refusal"),
    ],
)
def test_malformed_bytes_refused(kind: str, message_type: str, defect: str, reason: str) -> None:
    malformed_refused("client", kind, message_type, defect, reason)


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
    commit = w.clients[1].commit(w.group_id)
    error = refused(w.initiator, dataclasses.replace(commit, recipient="x"), UnexpectedMessage)
    assert (error.message_type, error.state) == ("Commit", "client")
    bogus = env(SOURCE, TARGET, "Bogus", b"")
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
    with pytest.raises(NoMigrationToAbandon):
        w.initiator.abandon_migration(w.group_id)
    w.initiator.start_migration(w.group_id, TARGET)


def test_group_moved_redirect_round_trips_and_rejects_malformed_bytes() -> None:
    redirect = GroupMovedRedirect(
        group_id=b"g", target_domain_name=TARGET.encode(), commit=b"\x00\x01"
    )
    assert GroupMovedRedirect.decode(redirect.encode()) == redirect
    moved = GroupMoved(group_id=b"g", target=TARGET, commit=b"\x00\x01")
    assert Refusal.of(moved).redirect() == redirect
    assert Refusal(code=b"not_authorized", details=b"{}").redirect() is None
    for bad in (b"", redirect.encode()[:-1], redirect.encode() + b"\x00"):
        with pytest.raises(DecodeError):
            GroupMovedRedirect.decode(bad)
    with pytest.raises(DecodeError) as info:  # the target must be a domain name (profile.md)
        GroupMovedRedirect.decode(b"\x01g\x01-\x00")
    assert info.value.reason == "invalid-value"


@pytest.mark.parametrize(
    "details", [b"", b"{}", b'{"group_id": "00", "target": "x", "commit": "00"}', b"\xff"]
)
def test_malformed_group_moved_redirect_refused(details: bytes) -> None:
    w = world()
    sent = env(
        SOURCE, w.initiator.identity, "Refusal",
        Refusal(code=b"group_moved", details=details).encode(),
    )
    error = refused(w.initiator, sent, Malformed)
    assert error.message_type == "GroupMovedRedirect"


def test_misuse_by_the_application_is_a_local_error_not_a_refusal() -> None:
    w = world()
    client: Client = w.initiator
    before = client.snapshot()
    for call in (
        lambda: client.start_migration(b"not a group", TARGET),
        lambda: client.abandon_migration(b"not a group"),
        lambda: client.commit(b"not a group"),
    ):
        with pytest.raises(NotInGroup) as info:
            call()
        assert not isinstance(info.value, ProtocolError)
    for error in (NotInGroup, NoMigrationToAbandon, MigrationInProgress):
        assert issubclass(error, LocalProtocolError) and not issubclass(error, ProtocolError)
    with pytest.raises(AlreadyHosted):
        w.source.create_group(w.source.groups[w.group_id].state)
    assert client.snapshot() == before
