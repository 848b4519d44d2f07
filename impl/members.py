"""A group's members: the Member struct and its encoded list, checked once and read in place.

    struct { uint32 leaf_index; opaque identity<V>; opaque signature_key<V>; } Member;
    Member members<V>;   (in GroupState, sorted by leaf index without duplicates)

The member list is nearly all of a group state's bytes (a 10 MiB state has 160k members), and
what the roles do with an imported one is read it: find the member a commit names, give each
member its fan-out, hash the list, export it again.  So a decoded list is an `EncodedMembers`:
the bytes of `members<V>` exactly as received, checked completely when decoded (every header,
length, ceiling and the strict leaf order, so a malformed list is refused where it always was)
and then read where it lies; Member objects are built only when a caller asks for them.

The check runs in C wherever it can.  Members of one shape (the same identity length and key
length: a ciphersuite fixes the key, identities often come in runs of one length) lie at a
fixed stride, so a run of them is checked with strided slices: its header bytes compared at
once (`bytes.lstrip`), its leaf indices gathered into an array and compared in bulk.  The
first member of every run is parsed on its own, so runs of one (any irregular list) are still
checked exactly, one member at a time.  Anything this parser does not take on (a 4-byte
header, any defect) it declines with None, and the caller decodes the list with the generic
strict decoder from its start, which names the defect with its usual DecodeError.
"""

from __future__ import annotations

import bisect
import dataclasses
import operator
import sys
from array import array
from itertools import islice
from typing import ClassVar, Self

from .codec import Reader, Writer, encode_length
from .messages import Struct, _build, _check_bytes, _check_uint

#: An array typecode of 4-byte unsigned items (leaf indices are uint32s; offsets fit too).
_U32 = next(code for code in "IL" if array(code).itemsize == 4)
_LITTLE_ENDIAN = sys.byteorder == "little"
#: Runs first compare this many members beyond their second, then twice as many each round,
#: so an irregular list costs no more than constant work a member.
_FIRST_WINDOW = 16


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


def encode_members(members: tuple[Member, ...]) -> bytes:
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


def _opaque_header(wire: bytes, at: int, end: int, max_length: int) -> tuple[int, int] | None:
    """(header size, length) of the `opaque<V>` header at `at` if it is a minimal 1- or 2-byte
    header of a length within the ceiling and the header lies before `end`; None otherwise."""
    if at >= end:
        return None
    first = wire[at]
    if first < 0x40:
        size, header = first, 1
    elif first < 0x80 and at + 1 < end:
        size, header = ((first & 0x3F) << 8) | wire[at + 1], 2
        if size < 0x40:
            return None
    else:
        return None
    return None if size > max_length else (header, size)


def _leaf(wire: bytes, at: int) -> int:
    return int.from_bytes(wire[at : at + 4], "big")


def _leaves(wire: bytes, start: int, stride: int, count: int) -> array[int]:
    """The leaf indices of `count` members at `stride` from `start`, gathered in C."""
    joined = bytearray(4 * count)
    last = start + (count - 1) * stride + 1
    for j in range(4):
        joined[j::4] = wire[start + j : last + j : stride]
    leaves = array(_U32, joined)
    if _LITTLE_ENDIAN:
        leaves.byteswap()
    return leaves


def _increasing(leaves: array[int]) -> bool:
    """Strictly increasing: a contiguous run compares to its range in one go, others pairwise."""
    first, count = leaves[0], len(leaves)
    if leaves[-1] - first == count - 1 and leaves == array(_U32, range(first, first + count)):
        return True
    return all(map(operator.lt, leaves, islice(leaves, 1, None)))


class EncodedMembers:
    """`Member members<V>` as received, checked, read in place.  Its members lie in runs of one
    shape: run r holds `counts[r]` members from offset `starts[r]` at `strides[r]` bytes apart,
    each with its identity at `id_offsets[r]` (of `id_lengths[r]` bytes) and its key at
    `key_offsets[r]` (to the end of the member)."""

    __slots__ = (
        "counts",
        "id_lengths",
        "id_offsets",
        "key_offsets",
        "starts",
        "strides",
        "wire",
    )

    def __init__(self, wire: bytes) -> None:
        self.wire = wire
        self.starts, self.counts, self.strides = array(_U32), array(_U32), array(_U32)
        self.id_offsets, self.id_lengths = array(_U32), array(_U32)
        self.key_offsets = array(_U32)

    def __len__(self) -> int:
        return sum(self.counts)

    def __deepcopy__(self, memo: dict[int, object]) -> EncodedMembers:
        return self  # never changed once checked

    @classmethod
    def check(cls, wire: bytes, pos: int, max_length: int) -> EncodedMembers | None:
        """The members of the vector body `wire[pos:]` if it is a list of well-formed Members
        with 1- or 2-byte length headers in strictly increasing leaf order; None otherwise."""
        end = len(wire)
        found = cls(wire)
        starts, counts, strides = found.starts.append, found.counts.append, found.strides.append
        id_offsets, id_lengths = found.id_offsets.append, found.id_lengths.append
        key_offsets = found.key_offsets.append
        previous = -1
        while pos < end:
            at = pos + 4
            if at < end and wire[at] < 0x40:  # the usual 1-byte header, inline
                id_offset, id_length = 5, wire[at]
            else:
                identity = _opaque_header(wire, at, end, max_length)
                if identity is None:
                    return None
                id_offset, id_length = 4 + identity[0], identity[1]
            key_at = id_offset + id_length
            at = pos + key_at
            if at < end and wire[at] < 0x40:
                key_offset, key_length = key_at + 1, wire[at]
            else:
                key = _opaque_header(wire, at, end, max_length)
                if key is None:
                    return None
                key_offset, key_length = key_at + key[0], key[1]
            stride = key_offset + key_length
            if pos + stride > end or id_length > max_length or key_length > max_length:
                return None
            leaf = int.from_bytes(wire[pos : pos + 4], "big")
            if leaf <= previous:
                return None
            nxt = pos + stride
            count = 1
            if (  # the next member's headers, inline: the same shape starts a run
                nxt + stride <= end
                and wire[nxt + 4 : nxt + id_offset] == wire[pos + 4 : pos + id_offset]
                and wire[nxt + key_at : nxt + key_offset] == wire[pos + key_at : pos + key_offset]
            ):
                count = _run(wire, pos, stride, (4, id_offset, key_at, key_offset), end)
                leaves = _leaves(wire, pos, stride, count)
                if not _increasing(leaves):
                    return None
                leaf = leaves[-1]
            previous = leaf
            starts(pos)
            counts(count)
            strides(stride)
            id_offsets(id_offset)
            id_lengths(id_length)
            key_offsets(key_offset)
            pos += count * stride
        return found

    def _at(self, r: int, i: int) -> Member:
        """Member i of run r."""
        wire, at = self.wire, self.starts[r] + i * self.strides[r]
        identity = at + self.id_offsets[r]
        return Member._decoded(
            _leaf(wire, at),
            wire[identity : identity + self.id_lengths[r]],
            wire[at + self.key_offsets[r] : at + self.strides[r]],
        )

    def member(self, leaf_index: int) -> Member | None:
        """The member at `leaf_index`, found by binary search over runs, then within its run."""
        wire, starts = self.wire, self.starts
        runs = range(len(starts))
        r = bisect.bisect_right(runs, leaf_index, key=lambda r: _leaf(wire, starts[r]))
        if r == 0:
            return None
        r -= 1
        start, stride = starts[r], self.strides[r]
        i = bisect.bisect_left(
            range(self.counts[r]), leaf_index, key=lambda i: _leaf(wire, start + i * stride)
        )
        if i == self.counts[r]:
            return None
        member = self._at(r, i)
        return member if member.leaf_index == leaf_index else None

    def recipients(self) -> list[str]:
        """Every member's identity as text (`bytes.decode`, strict UTF-8), in leaf order.  A
        run of ASCII identities is decoded as one string and split in C; any other run member
        by member (so a name that is not UTF-8 raises UnicodeDecodeError)."""
        out: list[str] = []
        for r in range(len(self.counts)):
            joined = self._identities(r)
            if joined is not None and joined.isascii() and joined.count(0) == self.counts[r]:
                out.extend(joined.decode("ascii")[:-1].split("\0"))
            else:
                out.extend(self._identity(r, i).decode() for i in range(self.counts[r]))
        return out

    def addressable(self) -> bool:
        """Every identity is UTF-8 text (what `recipients` decodes without an error), told
        without making the strings: an ASCII run in one C call, any other member by member."""
        for r in range(len(self.counts)):
            joined = self._identities(r)
            if joined is not None and joined.isascii():
                continue
            try:
                for i in range(self.counts[r]):
                    self._identity(r, i).decode()
            except UnicodeDecodeError:
                return False
        return True

    def _identity(self, r: int, i: int) -> bytes:
        at = self.starts[r] + i * self.strides[r] + self.id_offsets[r]
        return self.wire[at : at + self.id_lengths[r]]

    def _identities(self, r: int) -> bytearray | None:
        """The identities of run r's members (all of one length), each followed by a NUL,
        gathered byte column by byte column in C; None for a run of one member."""
        size, count, stride = self.id_lengths[r], self.counts[r], self.strides[r]
        if count < 2:
            return None
        first = self.starts[r] + self.id_offsets[r]
        stop, width = first + count * stride, size + 1
        joined = bytearray(width * count)  # zeros: the NUL after each identity
        for j in range(size):
            joined[j::width] = self.wire[first + j : stop : stride]
        return joined

    def decode(self) -> tuple[Member, ...]:
        """Every member as a Member, in leaf order."""
        return tuple(self._at(r, i) for r in range(len(self.counts)) for i in range(self.counts[r]))


def _run(wire: bytes, start: int, stride: int, headers: tuple[int, int, int, int], end: int) -> int:
    """How many members from `start` (whose own headers are already checked, and the next
    member's found equal) have exactly its header bytes at `stride` apart, and so its shape:
    each then is a well-formed Member.
    `headers`: the identity's header from byte a to b of a member, the key's from c to d."""
    fits = (end - start) // stride
    a, b, c, d = headers
    offsets = [*range(a, b), *range(c, d)]
    count, window = 2, _FIRST_WINDOW
    while count < fits:
        top = min(fits, count + window)
        matched = top - count  # of the members count .. top-1, how many lead with the shape
        first, last = start + count * stride, start + (top - 1) * stride + 1
        for q in offsets:
            column, expected = wire[first + q : last + q : stride], wire[start + q : start + q + 1]
            matched = min(matched, len(column) - len(column.lstrip(expected)))
        count += matched
        if count < top:
            break
        window *= 2
    return count
