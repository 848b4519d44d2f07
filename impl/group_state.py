"""The group state a Source DS exports in MigrationContent.group_state (profile.md).

The draft leaves `group_state` opaque. This project fixes what a DS holds per group and
encodes it in the TLS presentation language:

    struct { uint32 leaf_index; opaque identity<V>; opaque signature_key<V>; } Member;
    struct {
      opaque group_id<V>;
      uint64 epoch;
      uint16 cipher_suite;
      Member members<V>;
    } GroupState;

`epoch` is the epoch *after* the migration commit: the Target DS serves the group from there.
Members are sorted by leaf index with no duplicates, so one state has one encoding.

The member list is nearly all of a state's bytes (60 to 200 bytes a member; a 10 MiB state
has 160k members), and it does not change from one epoch to the next.  So a GroupState keeps
the encoded `members<V>` once it has it (`members_encoding()`): the very bytes it was decoded
from, or the encoding built on first use, shared with the states `at_epoch` derives from it.
The kept bytes are bound to the `members` tuple they encode (an identity check on every use),
so they can never describe another member list; they are not a field (not compared, hashed
or copied: a copy builds them again).  Decoding parses the member list in one tight loop and
hands anything unusual (a 4-byte length header, a defect of any kind) to the generic strict
decoder from the start of the list, so every malformed input fails with exactly its usual
DecodeError.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Self

from .codec import Reader, Writer, encode_length
from .messages import Struct, _build, _check_bytes, _check_uint


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Member(Struct):
    """One leaf of the group: its index, credential identity and MLS signature key."""

    NAME: ClassVar[str] = "Member"
    leaf_index: int
    identity: bytes
    signature_key: bytes

    def __post_init__(self) -> None:
        _check_uint(self.leaf_index, 32, "leaf_index")
        _check_bytes(self.identity, "identity")
        _check_bytes(self.signature_key, "signature_key")

    def push(self, w: Writer) -> None:
        w.push_uint32(self.leaf_index)
        w.push_opaque(self.identity)
        w.push_opaque(self.signature_key)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            leaf_index=r.pull_uint32("Member.leaf_index"),
            identity=r.pull_opaque("Member.identity"),
            signature_key=r.pull_opaque("Member.signature_key"),
        )

    @classmethod
    def _decoded(cls, leaf_index: int, identity: bytes, signature_key: bytes) -> Member:
        """A Member from fields the decoder has just read (a uint32 and two bytes objects, so
        `__post_init__` has nothing to check)."""
        member = object.__new__(cls)
        object.__setattr__(member, "leaf_index", leaf_index)
        object.__setattr__(member, "identity", identity)
        object.__setattr__(member, "signature_key", signature_key)
        return member


def _encode_members(members: tuple[Member, ...]) -> bytes:
    """`Member members<V>`: what `Writer.push_vector` with `Member.push` gives, in one join."""
    parts: list[bytes] = []
    append = parts.append
    for m in members:
        append(m.leaf_index.to_bytes(4, "big"))
        append(encode_length(len(m.identity)))
        append(m.identity)
        append(encode_length(len(m.signature_key)))
        append(m.signature_key)
    body = b"".join(parts)
    return encode_length(len(body)) + body


def _parse_members(wire: bytes, pos: int, max_length: int) -> tuple[Member, ...] | None:
    """The members of the vector body `wire[pos:]`, if it is a list of well-formed Members in
    strictly increasing leaf order with 1- or 2-byte length headers; None for anything else,
    which the caller then decodes with the generic strict decoder (and its exact errors)."""
    end = len(wire)
    members: list[Member] = []
    append = members.append
    decoded = Member._decoded
    previous = -1
    while pos < end:
        head = pos + 4  # leaf_index is a uint32; its identity's length header follows
        if head >= end:
            return None
        leaf = int.from_bytes(wire[pos:head], "big")
        if leaf <= previous:
            return None
        previous = leaf
        first = wire[head]
        if first < 0x40:
            size, start = first, head + 1
        elif first < 0x80 and head + 1 < end:
            size, start = ((first & 0x3F) << 8) | wire[head + 1], head + 2
            if size < 0x40:
                return None
        else:
            return None
        stop = start + size
        if stop >= end or size > max_length:  # stop < end: the key's header must follow
            return None
        identity = wire[start:stop]
        first = wire[stop]
        if first < 0x40:
            size, start = first, stop + 1
        elif first < 0x80 and stop + 1 < end:
            size, start = ((first & 0x3F) << 8) | wire[stop + 1], stop + 2
            if size < 0x40:
                return None
        else:
            return None
        pos = start + size
        if pos > end or size > max_length:
            return None
        append(decoded(leaf, identity, wire[start:pos]))
    return tuple(members)


class _KeepsMembersEncoding(Struct):
    """Gives GroupState one slot that is not a dataclass field: the kept member encoding."""

    __slots__ = ("_members_wire",)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GroupState(_KeepsMembersEncoding):
    """What a DS knows of a group: id, epoch, ciphersuite and members."""

    NAME: ClassVar[str] = "GroupState"
    group_id: bytes
    epoch: int
    cipher_suite: int
    members: tuple[Member, ...]

    def __post_init__(self) -> None:
        _check_bytes(self.group_id, "group_id")
        _check_uint(self.epoch, 64, "epoch")
        _check_uint(self.cipher_suite, 16, "cipher_suite")
        if not isinstance(self.members, tuple):
            raise ValueError("members must be a tuple")
        indices = [m.leaf_index for m in self.members]
        if indices != sorted(set(indices)):
            raise ValueError("members must be sorted by leaf_index without duplicates")

    def member(self, leaf_index: int) -> Member | None:
        for m in self.members:
            if m.leaf_index == leaf_index:
                return m
        return None

    def members_encoding(self) -> bytes:
        """The encoded `Member members<V>` (length header and items) of `self.members`."""
        kept: tuple[tuple[Member, ...], bytes] | None = getattr(self, "_members_wire", None)
        if kept is not None and kept[0] is self.members:
            return kept[1]
        wire = _encode_members(self.members)
        object.__setattr__(self, "_members_wire", (self.members, wire))
        return wire

    def at_epoch(self, epoch: int) -> Self:
        """This group at another epoch: same id, suite and member list (not checked again,
        it was when this state was built), sharing the kept member encoding."""
        _check_uint(epoch, 64, "epoch")
        return self._checked(self.group_id, epoch, self.cipher_suite, self.members, self)

    @classmethod
    def _checked(
        cls,
        group_id: bytes,
        epoch: int,
        cipher_suite: int,
        members: tuple[Member, ...],
        encoded: GroupState | bytes | None,
    ) -> Self:
        """A state from fields already known valid (skipping the linear member check), keeping
        `encoded`: the member encoding itself, or a state whose kept one it shares."""
        state = object.__new__(cls)
        object.__setattr__(state, "group_id", group_id)
        object.__setattr__(state, "epoch", epoch)
        object.__setattr__(state, "cipher_suite", cipher_suite)
        object.__setattr__(state, "members", members)
        if isinstance(encoded, GroupState):
            kept = getattr(encoded, "_members_wire", None)
            encoded = kept[1] if kept is not None and kept[0] is members else None
        if encoded is not None:
            object.__setattr__(state, "_members_wire", (members, encoded))
        return state

    def push(self, w: Writer) -> None:
        w.push_opaque(self.group_id)
        w.push_uint64(self.epoch)
        w.push_uint16(self.cipher_suite)
        w.push_encoded(self.members_encoding())

    @classmethod
    def pull(cls, r: Reader) -> Self:
        group_id = r.pull_opaque("GroupState.group_id")
        epoch = r.pull_uint64("GroupState.epoch")
        cipher_suite = r.pull_uint16("GroupState.cipher_suite")
        mark = r.position
        # The vector's header, judged exactly as pull_vector judges it, then the whole list.
        length = r.pull_length("GroupState.members")
        header = r.position - mark
        r.pull_raw(length, "GroupState.members")
        wire = bytes(r.since(mark))
        members = _parse_members(wire, header, r.max_length)
        if members is not None:
            return cls._checked(group_id, epoch, cipher_suite, members, wire)
        r.rewind(mark)  # something unusual: the generic decoder finds it and names it
        return _build(
            cls,
            cls.NAME,
            group_id=group_id,
            epoch=epoch,
            cipher_suite=cipher_suite,
            members=tuple(r.pull_vector(Member.pull, "GroupState.members")),
        )
