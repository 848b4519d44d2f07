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
or copied: a copy builds them again).

A decoded state is lazy: decoding checks the whole member list (impl.members.EncodedMembers:
every defect fails there, with exactly its usual DecodeError, so a malformed list is refused
where it always was) and keeps it encoded; `members` becomes a tuple of Member objects only
when first read.  What the roles do on their hot paths reads the encoding in place instead:
`member(leaf_index)` (a commit's sender), `recipients()` (the fan-out), the tree hash
and the export.
"""

from __future__ import annotations

import bisect
import dataclasses
from typing import Any, ClassVar, Self

from .codec import Reader, Writer
from .members import EncodedMembers, Member, encode_members
from .messages import Struct, _build, _check_bytes, _check_uint

#: (the member tuple the bytes encode, or None while it is not built; the encoded
#: `members<V>`; its checked reading, for a decoded state)
_Kept = tuple[tuple[Member, ...] | None, bytes, EncodedMembers | None]


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

    def __getattr__(self, name: str) -> Any:
        """`members` of a lazily decoded state: built from its checked encoding on first read."""
        encoded = self._encoded() if name == "members" else None
        if encoded is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        members = encoded.decode()
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "_members_wire", (members, encoded.wire, encoded))
        return members

    def _built(self) -> tuple[Member, ...] | None:
        """The `members` tuple if it is built (None for a lazy state), without building it."""
        try:
            members: tuple[Member, ...] = _MEMBERS.__get__(self, type(self))
        except AttributeError:
            return None
        return members

    def _kept(self) -> _Kept | None:
        """The kept encoding if it still describes this state's members."""
        kept: _Kept | None = getattr(self, "_members_wire", None)
        if kept is None:
            return None
        built = self._built()
        if built is None or kept[0] is built:
            return kept
        return None

    def _encoded(self) -> EncodedMembers | None:
        """The checked encoding a lazy state reads its members from (None once they are built,
        or for a state built from Member objects)."""
        kept = self._kept()
        return kept[2] if kept is not None and self._built() is None else None

    def member(self, leaf_index: int) -> Member | None:
        """The member at `leaf_index` (members are sorted by leaf index: a binary search)."""
        encoded = self._encoded()
        if encoded is not None:
            return encoded.member(leaf_index)
        members = self.members
        i = bisect.bisect_left(members, leaf_index, key=lambda m: m.leaf_index)
        return members[i] if i < len(members) and members[i].leaf_index == leaf_index else None

    def recipients(self) -> list[str]:
        """Every member's identity as the text an envelope is addressed to (`bytes.decode`:
        strict UTF-8), in leaf order; read in place from a lazy state."""
        encoded = self._encoded()
        if encoded is not None:
            return encoded.recipients()
        return [m.identity.decode() for m in self.members]

    def addressable(self) -> bool:
        """Every member's identity is text (UTF-8), a name a DS can fan out to.  A DS
        refuses to host a state with a member it could not address (its first fan-out would
        otherwise fail on a peer's bytes)."""
        encoded = self._encoded()
        if encoded is not None:
            return encoded.addressable()
        try:
            self.recipients()
        except UnicodeDecodeError:
            return False
        return True

    def member_list_key(self) -> object:
        """An object that stands for this member list while it lives (the tuple, or a lazy
        state's checked encoding): what caches of values derived from the list are keyed by."""
        encoded = self._encoded()
        return encoded if encoded is not None else self.members

    def members_encoding(self) -> bytes:
        """The encoded `Member members<V>` (length header and items) of `self.members`."""
        kept = self._kept()
        if kept is not None:
            return kept[1]
        members = self.members
        wire = encode_members(members)
        object.__setattr__(self, "_members_wire", (members, wire, None))
        return wire

    def at_epoch(self, epoch: int) -> Self:
        """This group at another epoch: same id, suite and member list (not checked again,
        it was when this state was built), sharing the kept member encoding, lazy if this
        state is."""
        _check_uint(epoch, 64, "epoch")
        state = self._fields(self.group_id, epoch, self.cipher_suite)
        built, kept = self._built(), self._kept()
        if built is not None:
            object.__setattr__(state, "members", built)
        if kept is not None:
            object.__setattr__(state, "_members_wire", kept)
        return state

    @classmethod
    def _fields(cls, group_id: bytes, epoch: int, cipher_suite: int) -> Self:
        """A state with its fields but `members` set from fields already known valid."""
        state = object.__new__(cls)
        object.__setattr__(state, "group_id", group_id)
        object.__setattr__(state, "epoch", epoch)
        object.__setattr__(state, "cipher_suite", cipher_suite)
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
        encoded = EncodedMembers.check(wire, header, r.max_length)
        if encoded is not None:
            state = cls._fields(group_id, epoch, cipher_suite)
            object.__setattr__(state, "_members_wire", (None, wire, encoded))
            return state
        r.rewind(mark)  # something unusual: the generic decoder finds it and names it
        return _build(
            cls,
            cls.NAME,
            group_id=group_id,
            epoch=epoch,
            cipher_suite=cipher_suite,
            members=tuple(r.pull_vector(Member.pull, "GroupState.members")),
        )


#: The slot of the `members` field, read without `__getattr__` (to tell a lazy state).
_MEMBERS: Any = GroupState.__dict__["members"]

__all__ = ["GroupState", "Member"]
