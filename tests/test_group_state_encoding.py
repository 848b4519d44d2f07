"""impl.group_state's kept member encoding and fast member-list decoder cannot serve wrong bytes.

GroupState keeps its encoded `members<V>` (the bytes it was decoded from, or the encoding built
on first use) and decodes the member list with a tight loop that hands anything unusual to the
generic strict decoder.  These tests hold both to the plain definition, written here once more
with the codec's generic `pull_vector(Member.pull)` and `push_vector(Member.push)`:

* decoding agrees with the generic decoder on every input, valid or not: the same state, or
  a DecodeError with the same reason and the same sentence (random bytes, mutated encodings,
  hostile member lists);
* encode(decode(x)) == x, and a decoded and a built state are equal, hash equal, encode equal
  and give the same tree hash;
* the kept bytes follow the member tuple they encode: replacing `members` (even behind the
  frozen dataclass's back), `dataclasses.replace`, copying, pickling, `at_epoch` and mutating
  the buffer a state was decoded from all give the encoding of the state as it is.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impl.codec import DecodeError, Reader, Writer, opaque
from impl.group import group_context, next_epoch, tree_hash
from impl.group_state import GroupState, Member
from tests.strategies import group_states, members, mutated_bytes

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def generic_encode(state: GroupState) -> bytes:
    w = Writer()
    w.push_opaque(state.group_id)
    w.push_uint64(state.epoch)
    w.push_uint16(state.cipher_suite)
    w.push_vector(state.members, lambda inner, m: m.push(inner))
    return bytes(w)


def generic_decode(data: bytes, max_length: int | None = None) -> GroupState:
    """The definition: every field with the generic codec, then the constructor's checks."""
    r = Reader(data) if max_length is None else Reader(data, max_length=max_length)
    group_id = r.pull_opaque("GroupState.group_id")
    epoch = r.pull_uint64("GroupState.epoch")
    suite = r.pull_uint16("GroupState.cipher_suite")
    items = tuple(r.pull_vector(Member.pull, "GroupState.members"))
    try:
        state = GroupState(group_id=group_id, epoch=epoch, cipher_suite=suite, members=items)
    except ValueError as err:
        raise DecodeError("invalid-value", f"GroupState: {err}") from None
    r.finish("GroupState")
    return state


def outcome(decode: object, data: bytes, **kw: int) -> tuple[str, object]:
    try:
        state = decode(data, **kw)  # type: ignore[operator]
    except DecodeError as err:
        return ("error", (err.reason, str(err)))
    return ("state", (state, state.encode()))


def state_of(items: list[Member], **kw: object) -> GroupState:
    fields: dict[str, object] = {"group_id": b"g", "epoch": 7, "cipher_suite": 1}
    fields.update(kw)
    return GroupState(members=tuple(items), **fields)  # type: ignore[arg-type]


def member(i: int, identity_size: int = 10, key_size: int = 32) -> Member:
    return Member(leaf_index=i, identity=bytes([65 + i % 26]) * identity_size,
                  signature_key=bytes([i % 256]) * key_size)


# -- the decoder agrees with the definition -------------------------------------------------


@SETTINGS
@given(group_states)
def test_round_trip_is_exact_and_equal_to_the_generic_codec(state: GroupState) -> None:
    encoded = state.encode()
    assert encoded == generic_encode(state)
    decoded = GroupState.decode(encoded)
    assert decoded == state and hash(decoded) == hash(state)
    assert decoded.encode() == encoded
    assert decoded.members_encoding() == state.members_encoding()
    assert decoded == generic_decode(encoded)


@SETTINGS
@given(st.data())
def test_mutated_encodings_fail_exactly_as_the_generic_decoder(data: st.DataObject) -> None:
    raw = data.draw(mutated_bytes(group_states.map(GroupState.encode)), label="mutated")
    assert outcome(GroupState.decode, raw) == outcome(generic_decode, raw)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_fail_exactly_as_the_generic_decoder(raw: bytes) -> None:
    assert outcome(GroupState.decode, raw) == outcome(generic_decode, raw)


@SETTINGS
@given(st.lists(members, max_size=6), st.integers(0, 300))
def test_member_lists_in_any_order_decode_as_the_generic_decoder(
    items: list[Member], max_length: int
) -> None:
    """Unsorted, duplicate and oversized members: built with the generic writer, since the
    constructor refuses them; the ceiling exercises length-ceiling inside a member."""
    w = Writer()
    w.push_opaque(b"g")
    w.push_uint64(1)
    w.push_uint16(1)
    w.push_vector(items, lambda inner, m: m.push(inner))
    raw = bytes(w)
    assert outcome(GroupState.decode, raw, max_length=max_length) == outcome(
        lambda d, max_length: generic_decode(d, max_length), raw, max_length=max_length
    )


@pytest.mark.parametrize(
    ("identity_size", "key_size"),
    [(0, 0), (63, 63), (64, 65), (16383, 133), (16384, 32), (10, 16385)],
)
def test_every_header_size_inside_members_round_trips(identity_size: int, key_size: int) -> None:
    """1-, 2- and 4-byte headers on the member fields (the 4-byte ones take the generic path)."""
    state = state_of([member(i, identity_size, key_size) for i in range(3)])
    encoded = state.encode()
    assert encoded == generic_encode(state)
    decoded = GroupState.decode(encoded)
    assert decoded == state and decoded.encode() == encoded


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        (b"\x00\x00\x00\x09\x01", "truncated"),  # a member cut inside its identity header
        (b"\x00\x00\x00\x09\x40\x05", "non-minimal-length"),  # identity length 5 in 2 bytes
        (b"\x00\x00\x00\x09\xc0", "invalid-prefix"),
        (b"\x00\x00\x00\x01\x00\x00", "invalid-value"),  # leaf 1 again after leaf 1
        (b"\x00\x00\x00", "truncated"),
    ],
)
def test_hostile_last_member_gets_the_usual_reason(tail: bytes, reason: str) -> None:
    body = member(0).encode() + member(1).encode() + tail
    raw = b"\x01g" + (7).to_bytes(8, "big") + (1).to_bytes(2, "big") + opaque(body)
    with pytest.raises(DecodeError) as fast:
        GroupState.decode(raw)
    with pytest.raises(DecodeError) as slow:
        generic_decode(raw)
    assert fast.value.reason == slow.value.reason == reason
    assert str(fast.value) == str(slow.value)


# -- the kept encoding cannot go stale --------------------------------------------------------


def test_decoded_and_built_states_agree_on_everything_derived() -> None:
    built = state_of([member(i) for i in range(50)])
    decoded = GroupState.decode(built.encode())
    assert decoded == built and hash(decoded) == hash(built)
    assert decoded.members is not built.members
    assert tree_hash(decoded) == tree_hash(built)
    assert group_context(decoded) == group_context(built)


def test_replacing_the_members_is_never_served_the_old_bytes() -> None:
    state = GroupState.decode(state_of([member(i) for i in range(4)]).encode())
    before = state.encode()
    smaller = dataclasses.replace(state, members=state.members[:2])
    assert smaller.encode() == generic_encode(smaller) != before
    # Even behind the frozen dataclass's back: the kept bytes are bound to the tuple itself.
    object.__setattr__(state, "members", state.members[1:])
    assert state.encode() == generic_encode(state) != before


def test_epochs_share_the_member_encoding_and_encode_their_own_epoch() -> None:
    state = GroupState.decode(state_of([member(i) for i in range(4)]).encode())
    later = next_epoch(next_epoch(state))
    assert later.epoch == state.epoch + 2
    assert later.members_encoding() is state.members_encoding()
    assert later.encode() == generic_encode(later)
    assert later == dataclasses.replace(state, epoch=state.epoch + 2)
    with pytest.raises(ValueError):
        state.at_epoch(1 << 64)


@pytest.mark.parametrize(
    "clone",
    [copy.copy, copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_copies_encode_like_the_original(clone: object) -> None:
    state = GroupState.decode(state_of([member(i) for i in range(4)]).encode())
    twin = clone(state)  # type: ignore[operator]
    assert twin == state and twin.encode() == state.encode() == generic_encode(state)
    assert next_epoch(twin).encode() == next_epoch(state).encode()


def test_mutating_the_decoded_buffer_does_not_reach_the_state() -> None:
    encoded = state_of([member(i) for i in range(4)]).encode()
    buffer = bytearray(encoded)
    state = GroupState.decode(memoryview(buffer))
    buffer[-1] ^= 0xFF
    buffer[20] ^= 0xFF
    assert state.encode() == encoded
    assert all(type(m.identity) is bytes and type(m.signature_key) is bytes for m in state.members)


def test_decoded_members_are_ordinary_members() -> None:
    state = GroupState.decode(state_of([member(i) for i in range(3)]).encode())
    for i, m in enumerate(state.members):
        assert type(m) is Member and m == member(i) and hash(m) == hash(member(i))
        assert Member.decode(m.encode()) == m
        with pytest.raises(dataclasses.FrozenInstanceError):
            m.leaf_index = 5  # type: ignore[misc]
