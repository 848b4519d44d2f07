"""Shared helpers of the refusal tests (tests/test_roles_refusals_*.py): a world driven to a state.

`world()` is an impl.world world of three members at epoch EPOCH; `request`, `response`,
`init`, `content` and `complete` run a migration up to that message and return the envelope
in flight; `refused(role, envelope, error)` hands a role the offending envelope and checks the
ProtocolError subclass (exactly that class) and that `snapshot()` is unchanged.  Forged
messages come from the world's rogue DS and rogue client, or are signed with an honest party's
key (`forged_response`, `source_signed_content`, `relabel`) where a test plays a confused (not
malicious) peer.  `malformed_refused` is the bytes-level refusal every role makes, checked per
role by each module's own cases.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, TypeVar

import pytest

from impl import crypto, signing
from impl.ds import DeliveryService
from impl.envelope import Envelope, Refusal
from impl.errors import Malformed, ProtocolError
from impl.group import next_epoch
from impl.group_state import GroupState
from impl.messages import (
    MigrationContent,
    MigrationRequest,
    MigrationResponse,
    RejectionReason,
    SignedStruct,
    TargetMigrationRejected,
)
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


def forged_response(w: World, nonce: bytes, **changes: object) -> MigrationResponse:
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


def relabel(message: SignedStruct, signer: crypto.SigningKey) -> bytes:
    """`message` signed by the right key over the right bytes, under another struct's label."""
    wrong = next(label for label in crypto.SIGNATURE_LABELS if label != message.LABEL)
    signature = crypto.sign_with_label(signer, wrong, message.signed_content())
    return dataclasses.replace(message, signature=signature).encode()  # type: ignore[type-var]


def reference_envelopes() -> dict[str, Envelope]:
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


#: (defect, DecodeError reason) of the malformed-bytes cases: no bytes, one byte too many,
#: one byte too few.
DEFECTS = [("empty", "truncated"), ("trailing", "trailing-bytes"), ("cut", "truncated")]


def malformed_refused(role: str, kind: str, message_type: str, defect: str, reason: str) -> None:
    """`role` ("source", "target" or "client") refuses a `kind` envelope whose payload has
    `defect` with Malformed(`message_type`, `reason`)."""
    good = reference_envelopes()[kind].payload
    payload = {"empty": b"", "trailing": good + b"\x00", "cut": good[:-1]}[defect]
    w = world()
    receiver: Role = {"source": w.source, "target": w.target, "client": w.initiator}[role]
    recipient = {"source": SOURCE, "target": TARGET, "client": w.initiator.identity}[role]
    sender = SOURCE if role == "client" else w.initiator.identity
    error = refused(receiver, env(sender, recipient, kind, payload, int(w.suite)), Malformed)
    assert (error.message_type, error.reason) == (message_type, reason)

