"""The refusals of a Target DS: one test per path, the named error, its fields, no change.

What the target refuses: a request its policy does not allow, a commit for a group it does
not host, a MigrationContent whose nonce is unknown, expired or consumed by another content
(an unknown or expired nonce is answered with a signed TargetMigrationRejected, tested for the
signature and reason), a content forged, signed under another label or for another request, a
request for a group it already hosts or has pending, a request from itself, malformed bytes
and invalid length headers, a message for the source, an unsupported suite and an unknown
kind.  Each test drives a world to the point where the refusal applies and checks it with
tests.refusals.refused (exactly that error class, the snapshot unchanged).
"""

from __future__ import annotations

import dataclasses

import pytest

from impl import signing
from impl.ds import NonceStatus
from impl.errors import (
    BadSignature,
    GroupExists,
    Malformed,
    NonceConsumed,
    NotAuthorized,
    RequestMismatch,
    UnexpectedMessage,
    UnknownGroup,
    UnknownNonce,
    UnsupportedSuite,
    WrongRecipient,
)
from impl.events import Abandoned
from impl.group import next_epoch
from impl.messages import (
    MigrationContent,
    MigrationRequest,
    MigrationResponse,
    RejectionReason,
    TargetMigrationRejected,
)
from impl.policy import TargetPolicy
from impl.world import SOURCE, TARGET
from tests.refusals import (
    DEFECTS,
    EPOCH,
    complete,
    content,
    env,
    forged_response,
    init,
    key,
    malformed_refused,
    migrated,
    refused,
    relabel,
    request,
    response,
    source_signed_content,
    state_of,
    world,
)


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
    assert w2.initiator.events[-1] == Abandoned(w2.group_id, "not_authorized")
    assert w2.target.nonces == {}
    w2.initiator.start_migration(w2.group_id, TARGET)  # no MigrationInProgress


def test_unknown_group_refused() -> None:
    w = world()
    sent = dataclasses.replace(w.clients[1].commit(w.group_id), recipient=TARGET)
    error = refused(w.target, sent, UnknownGroup)
    assert error.group_id == w.group_id


def test_unknown_nonce_gets_a_signed_rejection() -> None:
    w = world()
    nonce = bytes(range(32))
    sent = source_signed_content(w, forged_response(w, nonce))
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
    sent = source_signed_content(w, forged_response(w, nonce), group_state=b"not a state")
    error = refused(w.target, sent, UnknownNonce)
    assert error.nonce == nonce


def test_expired_nonce_is_rejected_and_never_accepted_again() -> None:
    w = world(nonce_lifetime=10.0, retry_interval=1000.0)
    sent = content(w)
    nonce = MigrationContent.decode(sent.payload).migration_response.nonce
    unticked = w.target.snapshot()
    (out,) = w.target.receive(sent, 10.0)
    rejected = TargetMigrationRejected.decode(out.payload)
    assert rejected.reason == RejectionReason.EXPIRED_NONCE
    assert signing.verify(rejected, w.suite, key(w.target, w).public_bytes())
    # The rejection changes no state (as the model's target_reject); only a tick marks the
    # nonce expired (target_expire_nonce), and it is read as expired from its lifetime.
    assert w.target.snapshot() == unticked
    w.target.tick(10.0)
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


def test_content_signed_by_a_rogue_ds_refused() -> None:
    w = world()
    granted = MigrationResponse.decode(response(w).payload)
    forged = w.rogue_ds.content(granted, next_epoch(state_of(w)), TARGET, as_sender=SOURCE)
    error = refused(w.target, forged, BadSignature)
    assert (error.message_type, error.expected_signer) == ("MigrationContent", SOURCE)


def test_content_under_another_label_refused() -> None:
    w = world()
    sent = content(w)
    payload = relabel(MigrationContent.decode(sent.payload), key(w.source, w))
    error = refused(w.target, dataclasses.replace(sent, payload=payload), BadSignature)
    assert error.message_type == "MigrationContent"


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
    other = forged_response(w, granted.nonce, epoch=EPOCH + 3)
    error = refused(w.target, source_signed_content(w, other), RequestMismatch)
    assert (error.message_type, error.field) == ("MigrationContent", "migration_request")


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


@pytest.mark.parametrize(("defect", "reason"), DEFECTS)
@pytest.mark.parametrize(
    ("kind", "message_type"),
    [
        ("MigrationRequest", "MigrationRequest"),
        ("MigrationContent", "MigrationContent"),
    ],
)
def test_malformed_bytes_refused(kind: str, message_type: str, defect: str, reason: str) -> None:
    malformed_refused("target", kind, message_type, defect, reason)


def test_invalid_length_header_refused() -> None:
    w = world()
    sent = env(w.initiator.identity, TARGET, "MigrationRequest", b"\xc0" + bytes(40), 1)
    assert refused(w.target, sent, Malformed).reason == "invalid-prefix"
    sent = env(w.initiator.identity, TARGET, "MigrationRequest", b"\x40\x01x" + bytes(40), 1)
    assert refused(w.target, sent, Malformed).reason == "non-minimal-length"


def test_wrong_recipient_refused() -> None:
    # The client's MigrationInitWithCommit for the source, sent to the target.
    w = world()
    sent = dataclasses.replace(init(w), recipient=TARGET)
    error = refused(w.target, sent, WrongRecipient)
    assert (error.expected, error.named) == (TARGET, SOURCE)


@pytest.mark.parametrize("suite", [0, 2, 7])
def test_unsupported_suite_refused(suite: int) -> None:
    w = world()
    sent = dataclasses.replace(request(w), cipher_suite=suite)
    assert refused(w.target, sent, UnsupportedSuite).cipher_suite == suite


def test_unexpected_kinds_refused() -> None:
    w = world()
    bogus = env(SOURCE, TARGET, "Bogus", b"")
    assert refused(w.target, bogus, UnexpectedMessage).message_type == "Bogus"
