"""The TLS presentation language as RFC 9420 section 2.1 uses it: strict pull/push pairs.

This module owns the bytes-level rules every message of the project is built from:
fixed-width big-endian integers, `uint8[N]` blocks, `opaque x<V>` and `T list<V>` vectors
with the RFC 9420 variable-length header (2-bit prefix 00/01/10 for a 1/2/4-byte length,
prefix 11 invalid, minimal encoding required) and `optional<T>`.  Decoding is strict: any
defect (truncation, trailing bytes, an invalid or non-minimal header, a declared length above
the reader's ceiling, leftover bytes inside a vector) raises the one `DecodeError`, never
`IndexError`, `struct.error` or `MemoryError`.  A declared length is checked against the
ceiling and against the bytes actually present *before* anything is sliced, so an absurd
length costs nothing.

The shape follows aioquic's `buffer.py`: a `Reader` cursor with `pull_*` methods and a
`Writer` with matching `push_*` methods; each struct has one decode and one encode written
with them, each the other's inverse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

#: Default ceiling on any declared vector length: room for a 64 MiB group state and its
#: framing, far below the 1 GiB a 4-byte header could announce.
DEFAULT_MAX_LENGTH = 128 * 1024 * 1024

#: Largest length the RFC 9420 header can carry (30 bits).
MAX_VARINT = (1 << 30) - 1


class DecodeError(ValueError):
    """Malformed bytes. `reason` is a short stable code, `str(err)` a sentence for people.

    Reasons: truncated, trailing-bytes, invalid-prefix, non-minimal-length, length-ceiling,
    invalid-value (a field decoded but violates the struct's rules, e.g. a bad domain name).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class Reader:
    """A cursor over immutable bytes; `end` bounds the current block."""

    __slots__ = ("_end", "_pos", "_view", "max_length")

    def __init__(
        self, data: bytes | bytearray | memoryview, *, max_length: int = DEFAULT_MAX_LENGTH
    ) -> None:
        self._view = memoryview(data).cast("B")
        self._pos = 0
        self._end = len(self._view)
        self.max_length = max_length

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    @property
    def position(self) -> int:
        """Where the cursor is: a mark for `rewind` and `since`."""
        return self._pos

    def rewind(self, mark: int) -> None:
        """Go back to a `position` taken earlier in the current block (to re-read it)."""
        if not 0 <= mark <= self._pos:
            raise ValueError(f"cannot rewind to {mark} from {self._pos}")
        self._pos = mark

    def since(self, mark: int) -> memoryview:
        """The bytes read from `mark` to the cursor, as a zero-copy view of the input."""
        if not 0 <= mark <= self._pos:
            raise ValueError(f"mark {mark} is not behind the cursor {self._pos}")
        return self._view[mark : self._pos]

    def _take(self, n: int, what: str) -> memoryview:
        if n > self._end - self._pos:
            raise DecodeError(
                "truncated", f"{what}: needs {n} bytes, {self._end - self._pos} remain"
            )
        start = self._pos
        self._pos = start + n
        return self._view[start : self._pos]

    def pull_uint8(self, what: str = "uint8") -> int:
        return self._take(1, what)[0]

    def pull_uint16(self, what: str = "uint16") -> int:
        return int.from_bytes(self._take(2, what), "big")

    def pull_uint32(self, what: str = "uint32") -> int:
        return int.from_bytes(self._take(4, what), "big")

    def pull_uint64(self, what: str = "uint64") -> int:
        return int.from_bytes(self._take(8, what), "big")

    def pull_raw(self, n: int, what: str = "block") -> memoryview:
        """n raw bytes as a zero-copy view of the input (the caller parses or copies them)."""
        return self._take(n, what)

    def pull_fixed(self, n: int, what: str = "fixed block") -> bytes:
        """`uint8[n]`: exactly n raw bytes."""
        return bytes(self._take(n, what))

    def pull_length(self, what: str = "vector") -> int:
        """The RFC 9420 variable-length header, checked against the ceiling and the input."""
        length = self.pull_length_header(what)
        if length > self.max_length:
            raise DecodeError(
                "length-ceiling",
                f"{what}: declared length {length} exceeds ceiling {self.max_length}",
            )
        if length > self._end - self._pos:
            raise DecodeError(
                "truncated", f"{what}: declares {length} bytes, {self._end - self._pos} remain"
            )
        return length

    def pull_length_header(self, what: str = "vector") -> int:
        """Only the header: prefix and minimality validated, the length not yet judged."""
        first = self._take(1, f"{what} length")[0]
        prefix = first >> 6
        if prefix == 0:
            length = first & 0x3F
        elif prefix == 1:
            length = ((first & 0x3F) << 8) | self._take(1, f"{what} length")[0]
            if length < 64:
                raise DecodeError("non-minimal-length", f"{what}: length {length} in 2 bytes")
        elif prefix == 2:
            rest = self._take(3, f"{what} length")
            length = ((first & 0x3F) << 24) | int.from_bytes(rest, "big")
            if length < 16384:
                raise DecodeError("non-minimal-length", f"{what}: length {length} in 4 bytes")
        else:
            raise DecodeError("invalid-prefix", f"{what}: length header with prefix 11")
        return length

    def pull_opaque(self, what: str = "opaque") -> bytes:
        """`opaque x<V>`."""
        return bytes(self._take(self.pull_length(what), what))

    def pull_vector(self, pull_item: Callable[[Reader], T], what: str = "vector") -> list[T]:
        """`T list<V>`: items until the declared block is exactly consumed."""
        length = self.pull_length(what)
        outer_end = self._end
        self._end = self._pos + length
        items: list[T] = []
        try:
            while self._pos < self._end:
                before = self._pos
                items.append(pull_item(self))
                if self._pos == before:  # an empty item would repeat forever
                    raise DecodeError("invalid-value", f"{what}: an item took no bytes")
        finally:
            self._end = outer_end
        return items

    def pull_optional(self, pull_item: Callable[[Reader], T], what: str = "optional") -> T | None:
        """`optional<T>`: a presence octet 0 or 1, then T if present."""
        present = self.pull_uint8(f"{what} presence")
        if present == 0:
            return None
        if present != 1:
            raise DecodeError("invalid-value", f"{what}: presence octet {present}, expected 0 or 1")
        return pull_item(self)

    def finish(self, what: str = "message") -> None:
        """Assert the input is exactly consumed."""
        if self._pos != self._end:
            raise DecodeError("trailing-bytes", f"{what}: {self._end - self._pos} trailing bytes")


def encode_length(n: int) -> bytes:
    """The minimal RFC 9420 variable-length header for n."""
    if n < 0 or n > MAX_VARINT:
        raise ValueError(f"vector length {n} cannot be encoded (max {MAX_VARINT})")
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return (0x4000 | n).to_bytes(2, "big")
    return (0x80000000 | n).to_bytes(4, "big")


class Writer:
    """Collects encoded parts; `bytes()` joins them once, so a large opaque is copied once."""

    __slots__ = ("_parts", "_size")

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __bytes__(self) -> bytes:
        return b"".join(self._parts)

    def _add(self, b: bytes) -> None:
        self._parts.append(b)
        self._size += len(b)

    def push_uint8(self, v: int) -> None:
        self._add(v.to_bytes(1, "big"))

    def push_uint16(self, v: int) -> None:
        self._add(v.to_bytes(2, "big"))

    def push_uint32(self, v: int) -> None:
        self._add(v.to_bytes(4, "big"))

    def push_uint64(self, v: int) -> None:
        self._add(v.to_bytes(8, "big"))

    def push_fixed(self, data: bytes, n: int) -> None:
        if len(data) != n:
            raise ValueError(f"fixed block must be {n} bytes, got {len(data)}")
        self._add(bytes(data))

    def push_opaque(self, data: bytes) -> None:
        self._add(encode_length(len(data)))
        self._add(bytes(data))

    def push_encoded(self, encoded: bytes) -> None:
        """Append bytes that already are the encoding of a field (a cached sub-struct)."""
        self._add(encoded)

    def push_writer(self, inner: Writer) -> None:
        """Append another writer's parts without joining them (nested structs)."""
        self._parts.extend(inner._parts)
        self._size += inner._size

    def push_vector(self, items: Iterable[T], push_item: Callable[[Writer, T], None]) -> None:
        inner = Writer()
        for item in items:
            push_item(inner, item)
        self._add(encode_length(len(inner)))
        self.push_writer(inner)

    def push_optional(self, item: T | None, push_item: Callable[[Writer, T], None]) -> None:
        if item is None:
            self.push_uint8(0)
        else:
            self.push_uint8(1)
            push_item(self, item)


def opaque(data: bytes) -> bytes:
    """Encode `opaque x<V>` alone (used for SignContent, RefHashInput, ...)."""
    return encode_length(len(data)) + bytes(data)
