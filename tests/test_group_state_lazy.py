"""A decoded GroupState is lazy (impl.members.EncodedMembers): it refuses what it always refused.

Decoding checks the whole member list at once, with runs of members of one shape checked by
strided slices, and keeps it encoded; Member objects are built on first read of `members`.
These tests hold the lazy path to the definition (the generic decoder of
tests/test_group_state_encoding.py):

* long lists in runs of one shape, valid or with a defect planted anywhere (a header byte, a
  leaf out of order or repeated, a truncation, an edit inside a run or at its edge), decode
  to the same state or fail with the same reason and the same sentence;
* a lazy state reads like a built one: `member(i)` for every leaf and for absent ones,
  `recipients()`, the encoding, the tree hash, equality, copies, `at_epoch`; `members` is a
  tuple of ordinary Members once read;
* a Target DS refuses a state with a defect deep inside a run where it always did (a signed
  TargetMigrationRejected, MALFORMED_GROUP_STATE, nothing imported, the nonce still pending for
  the real state); the imported state's member lookup and fan-out go on from the encoding.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impl import signing
from impl.codec import DecodeError, opaque
from impl.ds import _fanout
from impl.envelope import Envelope
from impl.group import build_commit, group_context, next_epoch, read_commit, tree_hash
from impl.group_state import GroupState, Member
from impl.messages import (
    MigrationContent,
    MigrationResponse,
    RejectionReason,
    TargetMigrationRejected,
)
from impl.world import SOURCE, TARGET, build_world
from tests.strategies import mutated_bytes
from tests.test_group_state_encoding import generic_decode, generic_encode, outcome

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Identity and key sizes around the 1-/2-byte header edge, few of them so runs form.
SIZES = st.sampled_from([0, 1, 5, 63, 64, 70])
KEY_SIZES = st.sampled_from([32, 63, 64, 133])


@st.composite
def run_lists(draw: st.DrawFn) -> GroupState:
    """States of up to 300 members in runs of one shape, leaves contiguous or with gaps."""
    members: list[Member] = []
    leaf = draw(st.integers(0, 5))
    for _ in range(draw(st.integers(1, 5))):
        identity_size, key_size = draw(SIZES), draw(KEY_SIZES)
        for _ in range(draw(st.integers(1, 60))):
            members.append(
                Member(
                    leaf_index=leaf,
                    identity=bytes([97 + leaf % 26]) * identity_size,
                    signature_key=leaf.to_bytes(4, "big") * (key_size // 4)
                    + b"k" * (key_size % 4),
                )
            )
            leaf += draw(st.sampled_from([1, 1, 1, 2, 1000]))
    return GroupState(group_id=b"g", epoch=3, cipher_suite=1, members=tuple(members))


def state_of(n: int, identity_size: int = 20, key_size: int = 32) -> GroupState:
    items = tuple(
        Member(leaf_index=i, identity=b"m%05d" % i + b"x" * (identity_size - 6),
               signature_key=bytes([i % 251]) * key_size)
        for i in range(n)
    )
    return GroupState(group_id=b"g", epoch=3, cipher_suite=1, members=items)


def is_lazy(state: GroupState) -> bool:
    return state._built() is None


# -- the lazy decoder agrees with the definition ----------------------------------------------


@SETTINGS
@given(run_lists())
def test_runs_decode_as_the_generic_decoder(state: GroupState) -> None:
    encoded = state.encode()
    decoded = GroupState.decode(encoded)
    assert is_lazy(decoded)
    assert decoded.encode() == encoded == generic_encode(state)
    assert decoded == state == generic_decode(encoded) and hash(decoded) == hash(state)


@SETTINGS
@given(st.data())
def test_runs_with_defects_fail_exactly_as_the_generic_decoder(data: st.DataObject) -> None:
    raw = data.draw(mutated_bytes(run_lists().map(GroupState.encode)), label="mutated")
    assert outcome(GroupState.decode, raw) == outcome(generic_decode, raw)


@SETTINGS
@given(run_lists(), st.integers(0, 70))
def test_runs_under_a_low_ceiling_fail_exactly_as_the_generic_decoder(
    state: GroupState, max_length: int
) -> None:
    raw = state.encode()
    assert outcome(GroupState.decode, raw, max_length=max_length) == outcome(
        lambda d, max_length: generic_decode(d, max_length), raw, max_length=max_length
    )


def _with_body(body: bytes) -> bytes:
    return b"\x01g" + (3).to_bytes(8, "big") + (1).to_bytes(2, "big") + opaque(body)


@pytest.mark.parametrize("where", [1, 2, 17, 100, 198, 199])
@pytest.mark.parametrize(
    "defect",
    ["repeat leaf", "lower leaf", "identity header", "key header", "non-minimal", "prefix 11"],
)
def test_a_defect_inside_a_long_run_gets_the_usual_error(where: int, defect: str) -> None:
    """Member `where` of 200 of one shape, spoiled: the run stops there, the error is the
    generic decoder's (reason and sentence)."""
    members = list(state_of(200).members)
    wire = [m.encode() for m in members]
    spoiled = bytearray(wire[where])
    if defect == "repeat leaf":
        spoiled[:4] = members[where - 1].leaf_index.to_bytes(4, "big")
    elif defect == "lower leaf":
        spoiled[:4] = max(members[where - 1].leaf_index - 1, 0).to_bytes(4, "big")
    elif defect == "identity header":
        spoiled[4] += 1  # one byte longer: the rest of the list shifts
    elif defect == "key header":
        spoiled[4 + 1 + 20] -= 1
    elif defect == "non-minimal":
        spoiled[4:5] = b"\x40\x14"
    else:
        spoiled[4] = 0xC0
    wire[where] = bytes(spoiled)
    raw = _with_body(b"".join(wire))
    with pytest.raises(DecodeError) as lazy:
        GroupState.decode(raw)
    with pytest.raises(DecodeError) as generic:
        generic_decode(raw)
    assert (lazy.value.reason, str(lazy.value)) == (generic.value.reason, str(generic.value))


@pytest.mark.parametrize("cut", [1, 3, 4, 5, 20, 26, 27])
def test_a_run_cut_short_gets_the_usual_error(cut: int) -> None:
    body = state_of(50).members_encoding()
    body = body[4 if body[0] >= 0x80 else 2 if body[0] >= 0x40 else 1 :]
    raw = _with_body(body[:-cut])
    assert outcome(GroupState.decode, raw) == outcome(generic_decode, raw)
    assert outcome(GroupState.decode, raw)[0] == "error"


# -- a lazy state reads like a built one ------------------------------------------------------


def test_a_lazy_state_reads_like_a_built_one() -> None:
    built = GroupState(
        group_id=b"g",
        epoch=3,
        cipher_suite=1,
        members=tuple(
            Member(leaf_index=3 * i + (i > 40), identity=b"x" * (i % 7 // 3 * 30),
                   signature_key=bytes([i]) * 32)
            for i in range(120)
        ),
    )
    state = GroupState.decode(built.encode())
    assert is_lazy(state)
    for leaf in range(-1, 3 * 120 + 3):
        assert state.member(leaf) == built.member(leaf)
    assert state.recipients() == [m.identity.decode() for m in built.members]
    assert tree_hash(state) == tree_hash(built) and group_context(state) == group_context(built)
    later = next_epoch(state)
    assert is_lazy(later) and later.members_encoding() is state.members_encoding()
    assert is_lazy(state), "reading through the encoding builds no members"
    assert state.members == built.members and type(state.members) is tuple
    assert all(type(m) is Member for m in state.members) and not is_lazy(state)
    assert state.members is state.members
    assert state.encode() == built.encode() and later.members == built.members


#: Identities as a peer may send them: ASCII, other UTF-8, bytes that are not UTF-8 at all,
#: and UTF-8 cut inside a character (where a run's identities back to back may still decode).
IDENTITIES = st.sampled_from([b"member-1@client.example", "m\u00e9mbre@x".encode(), b"\xc3",
                              b"\xa9x", b"\xff\xfe", b"", "\u20ac".encode()[:2]])


@SETTINGS
@given(st.lists(st.tuples(IDENTITIES, st.integers(1, 40)), min_size=1, max_size=6))
def test_recipients_and_addressable_decode_each_identity_as_utf8(
        runs: list[tuple[bytes, int]]) -> None:
    """Runs of one identity each, read column by column: the same names (or the same error)
    as decoding member by member, and addressable exactly when every name decodes."""
    members, leaf = [], 0
    for identity, count in runs:
        for _ in range(count):
            members.append(Member(leaf_index=leaf, identity=identity,
                                  signature_key=bytes([leaf % 251]) * 32))
            leaf += 1
    built = GroupState(group_id=b"g", epoch=1, cipher_suite=1, members=tuple(members))
    state = GroupState.decode(built.encode())
    assert is_lazy(state)
    try:
        expected: list[str] | None = [m.identity.decode() for m in members]
    except UnicodeDecodeError:
        expected = None
    assert state.addressable() is (expected is not None)
    if expected is None:
        with pytest.raises(UnicodeDecodeError):
            state.recipients()
    else:
        assert state.recipients() == expected
    assert is_lazy(state), "neither builds the members"


def test_a_run_whose_names_decode_only_back_to_back_is_not_addressable() -> None:
    """b"\\xc3" and b"\\xa9" alternate in one run: together they read as UTF-8 ("\u00e9\u00e9"),
    alone neither does."""
    members = tuple(Member(leaf_index=i, identity=(b"\xc3", b"\xa9")[i % 2],
                           signature_key=bytes([i]) * 32) for i in range(40))
    state = GroupState.decode(GroupState(group_id=b"g", epoch=1, cipher_suite=1,
                                         members=members).encode())
    assert is_lazy(state) and not state.addressable()
    with pytest.raises(UnicodeDecodeError):
        state.recipients()


@pytest.mark.parametrize(
    "clone",
    [copy.copy, copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_copies_of_a_lazy_state_are_equal(clone: object) -> None:
    state = GroupState.decode(state_of(40).encode())
    twin = clone(state)  # type: ignore[operator]
    assert twin == state and twin.encode() == state.encode() == generic_encode(state_of(40))


def test_replacing_the_members_of_a_lazy_state_is_never_served_the_old_bytes() -> None:
    state = GroupState.decode(state_of(40).encode())
    object.__setattr__(state, "members", state_of(3).members)  # behind the frozen dataclass
    assert state.encode() == generic_encode(state) and state.member(10) is None
    assert state.recipients() == [m.identity.decode() for m in state_of(3).members]


def test_a_missing_attribute_is_still_an_attribute_error() -> None:
    state = GroupState.decode(state_of(3).encode())
    with pytest.raises(AttributeError):
        state.nonexistent  # type: ignore[attr-defined]  # noqa: B018


# -- the roles --------------------------------------------------------------------------------


def test_the_target_rejects_a_defect_deep_in_a_run_and_imports_nothing() -> None:
    w = build_world(members=200, epoch=1)
    (response,) = w.target.receive(w.initiator.start_migration(w.group_id, TARGET), 0.0)
    exported = next_epoch(w.source.groups[w.group_id].state)
    good = exported.encode()
    at = good.index(exported.members[190].encode())
    bad = good[: at + 4] + b"\xc0" + good[at + 5 :]  # member 190's identity header: prefix 11
    assert outcome(generic_decode, bad)[1][0] == "invalid-prefix"  # type: ignore[index]
    content = signing.sign(
        MigrationContent(
            migration_response=MigrationResponse.decode(response.payload),
            group_state=bad,
            signature=b"",
        ),
        w.source.keys[w.suite],
    )
    envelope = Envelope(
        sender=SOURCE, recipient=TARGET, kind="MigrationContent", payload=content.encode()
    )
    (rejected,) = w.target.receive(envelope, 0.0)
    assert rejected.kind == "TargetMigrationRejected"
    reason = TargetMigrationRejected.decode(rejected.payload).reason
    assert reason == RejectionReason.MALFORMED_GROUP_STATE
    assert w.group_id not in w.target.groups


def test_the_target_refuses_a_member_it_could_not_address() -> None:
    """A member identity that is not UTF-8 decodes (identities are opaque) but names no
    one a DS can fan out to: the target rejects the content instead of failing at its first
    fan-out on a peer's bytes."""
    w = build_world(members=3, epoch=1)
    (response,) = w.target.receive(w.initiator.start_migration(w.group_id, TARGET), 0.0)
    exported = next_epoch(w.source.groups[w.group_id].state)
    members = list(exported.members)
    members[1] = Member(leaf_index=1, identity=b"\xff\xfe", signature_key=members[1].signature_key)
    bad = GroupState(group_id=exported.group_id, epoch=exported.epoch,
                     cipher_suite=exported.cipher_suite, members=tuple(members))
    content = signing.sign(
        MigrationContent(migration_response=MigrationResponse.decode(response.payload),
                         group_state=bad.encode(), signature=b""),
        w.source.keys[w.suite],
    )
    envelope = Envelope(
        sender=SOURCE, recipient=TARGET, kind="MigrationContent", payload=content.encode()
    )
    (rejected,) = w.target.receive(envelope, 0.0)
    reason = TargetMigrationRejected.decode(rejected.payload).reason
    assert reason == RejectionReason.MALFORMED_GROUP_STATE
    assert w.group_id not in w.target.groups
    # the rejection changed nothing else: the nonce is still pending for the real state
    good = signing.sign(
        MigrationContent(migration_response=MigrationResponse.decode(response.payload),
                         group_state=exported.encode(), signature=b""),
        w.source.keys[w.suite],
    )
    (complete,) = w.target.receive(dataclasses.replace(envelope, payload=good.encode()), 0.0)
    assert complete.kind == "TargetMigrationComplete"
    assert w.group_id in w.target.groups


def test_an_imported_state_serves_commits_and_fan_out_from_its_encoding() -> None:
    w = build_world(members=70, epoch=1)
    (response,) = w.target.receive(w.initiator.start_migration(w.group_id, TARGET), 0.0)
    (init,) = w.initiator.receive(response, 0.0)
    (content,) = w.source.receive(init, 0.0)
    w.target.receive(content, 0.0)
    imported = w.target.groups[w.group_id].state
    assert is_lazy(imported)
    expected = next_epoch(w.source.groups[w.group_id].state)
    assert imported == expected and is_lazy(GroupState.decode(expected.encode()))
    fanned = _fanout(TARGET, imported, b"commit")
    assert [e.recipient for e in fanned] == [c.identity for c in w.clients]
    assert all(e == Envelope(sender=TARGET, recipient=e.recipient, kind="Fanout",
                             payload=b"commit") for e in fanned)
    assert all(e.payload is fanned[0].payload for e in fanned)
    # A member's commit at the new DS is read against the lazy state (its sender looked up
    # in the encoding), and the fan-out reaches every member.
    view = w.clients[5].groups[w.group_id]
    assert view.state.epoch == imported.epoch - 1
    state_at_member = next_epoch(view.state)
    commit = build_commit(state_at_member, w.clients[5].key, 5)
    assert read_commit(imported, commit).sender == expected.members[5]
