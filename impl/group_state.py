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
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Self

from .codec import Reader, Writer
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


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GroupState(Struct):
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

    def push(self, w: Writer) -> None:
        w.push_opaque(self.group_id)
        w.push_uint64(self.epoch)
        w.push_uint16(self.cipher_suite)
        w.push_vector(self.members, lambda inner, m: m.push(inner))

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            group_id=r.pull_opaque("GroupState.group_id"),
            epoch=r.pull_uint64("GroupState.epoch"),
            cipher_suite=r.pull_uint16("GroupState.cipher_suite"),
            members=tuple(r.pull_vector(Member.pull, "GroupState.members")),
        )
