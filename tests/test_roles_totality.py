"""Totality of the roles: every role answers every envelope in every state, or refuses it.

For every state a DS can hold a group in (as source: absent, active, locked, moved; as
target: the first request's nonce pending, consumed, expired or rejected) and every state
of a client (idle, request sent, init sent, switched), and every envelope kind of
impl.envelope.KINDS with a valid payload of that kind (the honest message of a clean
migration, or a signed one built for the purpose) and with garbage bytes, the role either
answers as the tables below say (a legal transition of docs/profile.md, or an answer that
changes nothing) or raises exactly the listed ProtocolError and keeps its snapshot.  No other
exception escapes.  The tables are the matrix: the test ids read `state-kind-payload`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Protocol

import pytest

from impl import signing
from impl.client import Client, ClientPhase
from impl.ds import DeliveryService, Hosted
from impl.envelope import KINDS, Envelope, Refusal
from impl.errors import (
    GroupExists,
    GroupLocked,
    GroupMoved,
    HashMismatch,
    Malformed,
    NoPendingMigration,
    ProtocolError,
    UnexpectedMessage,
    UnknownGroup,
    WrongEpoch,
    WrongRecipient,
)
from impl.messages import (
    MigrationResponse,
    RejectionReason,
    TargetMigrationRejected,
)
from impl.world import SOURCE, TARGET, World, build_world

MEMBERS = 3
EPOCH = 4
LIFETIME = 100.0
NOW = 1.0
GARBAGE = b"\xc0 not a message of any kind"


class Role(Protocol):
    def snapshot(self) -> tuple[object, ...]: ...

    def receive(self, envelope: Envelope, now: float) -> list[Envelope]: ...


@dataclasses.dataclass(frozen=True)
class Answer:
    """The role answers with envelopes of these kinds; `after` is its new state (None: the
    answer changes nothing, the snapshot stays equal)."""

    kinds: tuple[str, ...]
    after: str | None = None


Outcome = Answer | type[ProtocolError]


def same(*kinds: str) -> Answer:
    return Answer(kinds)


def to(after: str, *kinds: str) -> Answer:
    return Answer(kinds, after)


FANOUT = ("Fanout",) * MEMBERS


def world() -> World:
    return build_world(members=MEMBERS, epoch=EPOCH, nonce_lifetime=LIFETIME, retry_interval=1e9)


@functools.cache
def reference() -> dict[str, Envelope]:
    """The valid payload of each kind: the first of its kind in a clean migration of a world
    built like every test's (same keys, same nonces), plus what a clean run does not send."""
    w = world()
    regular = w.clients[1].commit(w.group_id)
    w.network.send([w.initiator.start_migration(w.group_id, TARGET)])
    w.run(0.0)
    first: dict[str, Envelope] = {"Commit": regular}
    for sent in w.network.log:
        first.setdefault(sent.kind, sent)
    content_hash = signing.migration_content_hash(w.suite, first["MigrationContent"].payload)
    rejected = signing.sign(
        TargetMigrationRejected(
            migration_content_hash=content_hash,
            reason=RejectionReason.EXPIRED_NONCE,
            signature=b"",
        ),
        w.target.keys[w.suite],
    )
    first["TargetMigrationRejected"] = Envelope(
        sender=TARGET, recipient=SOURCE, kind="TargetMigrationRejected", payload=rejected.encode()
    )
    moved = GroupMoved(
        group_id=w.group_id, target=TARGET, commit=w.source.tombstones[w.group_id].commit
    )
    first["Refusal"] = Envelope(
        sender=SOURCE,
        recipient=w.initiator.identity,
        kind="Refusal",
        payload=Refusal.of(moved).encode(),
    )
    assert set(first) == set(KINDS)
    return first


def first_nonce() -> bytes:
    response = MigrationResponse.decode(reference()["MigrationResponse"].payload)
    return response.nonce


def envelope_for(kind: str, payload: str, recipient: str, *, to_client: bool) -> Envelope:
    sent = reference()[kind]
    if kind == "TargetMigrationRejected" and to_client:
        sent = dataclasses.replace(sent, sender=SOURCE)  # the source forwards it
    if payload == "garbage":
        sent = dataclasses.replace(sent, payload=GARBAGE)
    return dataclasses.replace(sent, recipient=recipient)


def check(role: Role, sent: Envelope, expected: Outcome) -> None:
    """`role` does with `sent` what `expected` says; a refusal or a no-op keeps its snapshot."""
    before = role.snapshot()
    try:
        out = role.receive(sent, NOW)
    except ProtocolError as error:
        assert isinstance(expected, type), f"refused with {error}, expected {expected}"
        assert type(error) is expected, f"refused with {error}, expected {expected.__name__}"
        assert role.snapshot() == before, "a refusal changed the role's state"
        return
    assert isinstance(expected, Answer), f"answered {[e.kind for e in out]}, expected {expected}"
    assert tuple(e.kind for e in out) == expected.kinds
    if expected.after is None:
        assert role.snapshot() == before, "an answer that should change nothing changed state"
    else:
        assert role.snapshot() != before


# -- the Delivery Service --------------------------------------------------------------------------

DS_STATES = ("absent", "active", "locked", "moved", "pending", "consumed", "expired", "rejected")


def ds_in(state: str) -> tuple[World, DeliveryService]:
    """A world whose DS under test holds the group (or the first nonce) in `state`."""
    w = world()
    if state == "absent":
        return w, w.target
    if state == "active":
        return w, w.source
    (response,) = w.target.receive(w.initiator.start_migration(w.group_id, TARGET), 0.0)
    (init,) = w.initiator.receive(response, 0.0)
    (content,) = w.source.receive(init, 0.0)  # the source is locked, its content in flight
    if state == "locked":
        return w, w.source
    if state == "pending":
        return w, w.target
    if state == "expired":
        w.target.tick(LIFETIME)
        return w, w.target
    if state == "rejected":  # the group id was taken at the target while the content flew
        w.target.groups[w.group_id] = Hosted(state=w.source.groups[w.group_id].state,
                                             source=SOURCE)
        (rejected,) = w.target.receive(content, 0.0)
        assert TargetMigrationRejected.decode(rejected.payload).reason == 4
        del w.target.groups[w.group_id]
        return w, w.target
    (complete,) = w.target.receive(content, 0.0)
    if state == "consumed":
        return w, w.target
    w.source.receive(complete, 0.0)
    assert state == "moved"
    return w, w.source


def ds_label(w: World, ds: DeliveryService) -> str:
    """The DS's state: the group's status, and as target the first nonce's status."""
    record = ds.nonces.get(first_nonce())
    nonce = record.status.value if record is not None else None
    return {
        ("absent", "pending"): "pending",
        ("active", "consumed"): "consumed",
        ("absent", "expired"): "expired",
        ("absent", "rejected"): "rejected",
    }.get((ds.status(w.group_id), str(nonce)), ds.status(w.group_id))


RQ, RS, IN, CT = (
    "MigrationRequest",
    "MigrationResponse",
    "MigrationInitWithCommit",
    "MigrationContent",
)
CP, RJ, CF = "TargetMigrationComplete", "TargetMigrationRejected", "MigrationConfirmation"
CM, FO, RF = "Commit", "Fanout", "Refusal"

#: What a DS does with a valid payload of each kind, in each state.  Kinds a DS never takes
#: (MigrationResponse, MigrationConfirmation, Fanout) are UnexpectedMessage everywhere.
_DS_NEVER: dict[str, Outcome] = {
    RS: UnexpectedMessage,
    CF: UnexpectedMessage,
    FO: UnexpectedMessage,
}
_AS_SOURCE: dict[str, Outcome] = {RQ: WrongRecipient, CT: WrongRecipient, RF: same()}
_AS_TARGET: dict[str, Outcome] = {
    IN: WrongRecipient,
    CP: HashMismatch,
    RJ: HashMismatch,
    RF: same(),
}
DS_VALID: dict[str, dict[str, Outcome]] = {
    "absent": {
        **_DS_NEVER,
        **_AS_TARGET,
        RQ: to("pending", RS),
        CT: same(RJ),  # an unknown nonce: signed rejection, nothing recorded
        CM: UnknownGroup,
    },
    "active": {
        **_DS_NEVER,
        **_AS_SOURCE,
        IN: to("locked", CT),
        CP: HashMismatch,
        RJ: HashMismatch,
        CM: to("active", *FANOUT),
    },
    "locked": {
        **_DS_NEVER,
        **_AS_SOURCE,
        IN: GroupLocked,
        CP: to("moved", *FANOUT, CF),
        RJ: to("active", RJ),  # unlock, forward the rejection to the client
        CM: GroupLocked,
    },
    "moved": {
        **_DS_NEVER,
        **_AS_SOURCE,
        IN: GroupMoved,
        CP: same(),  # a duplicate acknowledgment of the finished migration
        RJ: HashMismatch,
        CM: GroupMoved,
    },
    "pending": {
        **_DS_NEVER,
        **_AS_TARGET,
        RQ: GroupExists,
        CT: to("consumed", CP),
        CM: UnknownGroup,
    },
    "consumed": {
        **_DS_NEVER,
        **_AS_TARGET,
        RQ: GroupExists,
        CT: same(CP),  # the identical retry is re-acknowledged
        CM: WrongEpoch,  # the group is served from EPOCH + 1 here
    },
    "expired": {
        **_DS_NEVER,
        **_AS_TARGET,
        RQ: to("expired", RS),  # a fresh nonce; the expired one stays expired
        CT: same(RJ),
        CM: UnknownGroup,
    },
    "rejected": {
        **_DS_NEVER,
        **_AS_TARGET,
        RQ: to("rejected", RS),
        CT: same(RJ),  # a rejection is final
        CM: UnknownGroup,
    },
}
#: Garbage bytes: Malformed wherever the DS decodes the kind; a Refusal is only logged.
DS_GARBAGE: dict[str, Outcome] = {
    **_DS_NEVER,
    **dict.fromkeys((RQ, IN, CT, CP, RJ, CM), Malformed),
    RF: same(),
}


def test_ds_tables_cover_every_state_and_kind() -> None:
    assert set(DS_VALID) == set(DS_STATES)
    for row in DS_VALID.values():
        assert set(row) == set(KINDS)
    assert set(DS_GARBAGE) == set(KINDS)


@pytest.mark.parametrize("payload", ["valid", "garbage"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", DS_STATES)
def test_ds(state: str, kind: str, payload: str) -> None:
    w, ds = ds_in(state)
    assert ds_label(w, ds) == state
    expected = DS_VALID[state][kind] if payload == "valid" else DS_GARBAGE[kind]
    sent = envelope_for(kind, payload, ds.domain, to_client=False)
    check(ds, sent, expected)
    if isinstance(expected, Answer) and expected.after is not None:
        assert ds_label(w, ds) == expected.after
    assert w.safety_violations() == []


# -- the client ------------------------------------------------------------------------------------

CLIENT_STATES = (*(str(p) for p in ClientPhase), "switched")


def client_in(state: str) -> tuple[World, Client]:
    w = world()
    if state == "idle":
        return w, w.initiator
    if state == "switched":
        w.network.send([w.initiator.start_migration(w.group_id, TARGET)])
        w.run(0.0)
        return w, w.initiator
    request = w.initiator.start_migration(w.group_id, TARGET)
    if state == "request-sent":
        return w, w.initiator
    (response,) = w.target.receive(request, 0.0)
    w.initiator.receive(response, 0.0)
    assert state == "init-sent"
    return w, w.initiator


def client_label(w: World, client: Client) -> str:
    view = client.groups[w.group_id]
    if view.ds == TARGET:
        return "switched"
    return str(view.phase)  # ClientPhase: "idle", "request-sent" or "init-sent"


_CLIENT_NEVER: dict[str, Outcome] = dict.fromkeys((RQ, IN, CT, CP, CM), UnexpectedMessage)
CLIENT_VALID: dict[str, dict[str, Outcome]] = {
    "idle": {
        **_CLIENT_NEVER,
        RS: NoPendingMigration,
        RJ: NoPendingMigration,
        CF: NoPendingMigration,
        FO: to("switched"),  # every member follows the fanned-out migration commit
        RF: to("switched"),  # the tombstone's redirect carries that commit
    },
    "request-sent": {
        **_CLIENT_NEVER,
        RS: to("init-sent", IN),
        RJ: NoPendingMigration,
        CF: NoPendingMigration,
        FO: to("switched"),
        RF: to("switched"),
    },
    "init-sent": {
        **_CLIENT_NEVER,
        RS: NoPendingMigration,
        RJ: to("idle"),  # the source unlocked: the pending migration clears
        CF: to("switched"),
        FO: to("switched"),
        RF: to("switched"),
    },
    "switched": {
        **_CLIENT_NEVER,
        RS: NoPendingMigration,
        RJ: NoPendingMigration,
        CF: same(),  # already switched by the fan-out
        FO: WrongEpoch,  # the commit is for the epoch it left
        RF: same(),  # already at the redirect's target
    },
}
CLIENT_GARBAGE: dict[str, Outcome] = {
    **_CLIENT_NEVER,
    **dict.fromkeys((RS, RJ, CF, FO, RF), Malformed),
}


def test_client_tables_cover_every_state_and_kind() -> None:
    assert set(CLIENT_VALID) == set(CLIENT_STATES)
    for row in CLIENT_VALID.values():
        assert set(row) == set(KINDS)
    assert set(CLIENT_GARBAGE) == set(KINDS)


@pytest.mark.parametrize("payload", ["valid", "garbage"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", CLIENT_STATES)
def test_client(state: str, kind: str, payload: str) -> None:
    w, client = client_in(state)
    assert client_label(w, client) == state
    expected = CLIENT_VALID[state][kind] if payload == "valid" else CLIENT_GARBAGE[kind]
    sent = envelope_for(kind, payload, client.identity, to_client=True)
    check(client, sent, expected)
    if isinstance(expected, Answer) and expected.after is not None:
        assert client_label(w, client) == expected.after
        if expected.after == "switched":
            assert client.groups[w.group_id].state.epoch == EPOCH + 1


def test_unknown_kinds_are_refused_by_every_role() -> None:
    w = world()
    for role in (w.source, w.target, w.initiator):
        sent = Envelope(sender=SOURCE, recipient="x", kind="NotAKind", payload=b"")
        before = role.snapshot()
        with pytest.raises(UnexpectedMessage):
            role.receive(sent, NOW)
        assert role.snapshot() == before
