"""impl.codec: the RFC 9420 variable-length header and the strict Reader/Writer pairs.

Covers the header sizes and their boundaries, the rejections with their stable reason codes
(invalid-prefix, non-minimal-length, length-ceiling, truncated, trailing-bytes,
invalid-value), the ceiling being checked before any allocation, optional<T>, nested vectors
and the integer widths, plus the official RFC 9420 deserialization vectors.
"""

from __future__ import annotations

import mmap
import struct
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.codec import (
    DEFAULT_MAX_LENGTH,
    MAX_VARINT,
    DecodeError,
    Reader,
    Writer,
    encode_length,
    opaque,
)


def reason_of(data: bytes, pull: str = "pull_length", **kwargs: int) -> str:
    """The DecodeError reason of pulling from `data` (fails if nothing is raised)."""
    with pytest.raises(DecodeError) as info:
        getattr(Reader(data, **kwargs), pull)()
    return info.value.reason


# --- the variable-length header -----------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "header"),
    [
        (0, "00"),
        (1, "01"),
        (63, "3f"),
        (64, "4040"),
        (255, "40ff"),
        (16383, "7fff"),
        (16384, "80004000"),
        (65535, "8000ffff"),
        (MAX_VARINT, "bfffffff"),
    ],
)
def test_encode_length_boundaries(length: int, header: str) -> None:
    assert encode_length(length).hex() == header
    assert len(encode_length(length)) in (1, 2, 4)


@pytest.mark.parametrize("length", [-1, MAX_VARINT + 1, 1 << 32])
def test_encode_length_out_of_range(length: int) -> None:
    with pytest.raises(ValueError):
        encode_length(length)


@pytest.mark.parametrize(
    ("length", "size"), [(0, 1), (63, 1), (64, 2), (16383, 2), (16384, 4), (100_000, 4)]
)
def test_header_size_and_pull(length: int, size: int) -> None:
    header = encode_length(length)
    assert len(header) == size
    r = Reader(header + bytes(length))
    assert r.pull_length() == length
    assert r.remaining == length


def test_pull_length_largest_value() -> None:
    """2^30-1 decodes when the ceiling allows it; the body is a lazily zeroed mapping, so
    nothing near 1 GiB is touched."""
    header = encode_length(MAX_VARINT)
    assert header == b"\xbf\xff\xff\xff"
    with mmap.mmap(-1, len(header) + MAX_VARINT) as buf:
        buf[: len(header)] = header
        view = memoryview(buf)
        r = Reader(view, max_length=MAX_VARINT)
        assert r.pull_length() == MAX_VARINT
        assert r.remaining == MAX_VARINT
        del r
        view.release()


@given(st.integers(min_value=0, max_value=MAX_VARINT))
def test_header_round_trip(length: int) -> None:
    header = encode_length(length)
    r = Reader(header, max_length=MAX_VARINT)
    # The body is absent, so the header itself must parse and then report truncation,
    # unless the length is 0.
    if length == 0:
        assert r.pull_length() == 0
    else:
        with pytest.raises(DecodeError) as info:
            r.pull_length()
        assert info.value.reason == "truncated"
    expected_size = 1 if length < 64 else 2 if length < 16384 else 4
    assert len(header) == expected_size
    # The header's own value, decoded by hand.
    value = int.from_bytes(header, "big") & ((1 << (8 * len(header) - 2)) - 1)
    assert value == length


@pytest.mark.parametrize("first", [0xC0, 0xC1, 0xFF, 0xE5])
def test_prefix_11_rejected(first: int) -> None:
    data = bytes([first]) + bytes(8)
    assert reason_of(data) == "invalid-prefix"


def test_prefix_11_rejected_alone() -> None:
    assert reason_of(b"\xc0") == "invalid-prefix"


@pytest.mark.parametrize(
    "header",
    [
        "4000",  # 0 in two bytes
        "4001",
        "403f",  # 63 in two bytes
        "80000000",  # 0 in four bytes
        "8000003f",
        "80000040",  # 64 in four bytes
        "80003fff",  # 16383 in four bytes
    ],
)
def test_non_minimal_rejected(header: str) -> None:
    data = bytes.fromhex(header) + bytes(16384)
    assert reason_of(data) == "non-minimal-length"


@pytest.mark.parametrize(
    ("header", "length"), [("3f", 63), ("4040", 64), ("7fff", 16383), ("80004000", 16384)]
)
def test_minimal_at_boundary_accepted(header: str, length: int) -> None:
    r = Reader(bytes.fromhex(header) + bytes(length))
    assert r.pull_length() == length
    assert r.remaining == length


@pytest.mark.parametrize("header", ["40", "80", "8000", "800040"])
def test_truncated_header(header: str) -> None:
    assert reason_of(bytes.fromhex(header)) == "truncated"


def test_empty_input_truncated() -> None:
    assert reason_of(b"") == "truncated"


def test_pull_length_header_alone() -> None:
    """Header only: prefix and minimality checked, the length judged by neither the ceiling
    nor the input."""
    r = Reader(b"\xbf\xff\xff\xff", max_length=10)
    assert r.pull_length_header() == MAX_VARINT
    assert r.remaining == 0
    assert reason_of(b"\xc0", "pull_length_header") == "invalid-prefix"
    assert reason_of(b"\x40\x3f", "pull_length_header") == "non-minimal-length"
    assert reason_of(b"\x80\x00", "pull_length_header") == "truncated"


# --- the ceiling --------------------------------------------------------------------------


def test_default_ceiling_rejects_1gib_without_allocating() -> None:
    """A 4-byte header declaring 1 GiB - 1 on a 10-byte input: length-ceiling at once."""
    data = encode_length(MAX_VARINT) + bytes(6)
    assert len(data) == 10
    assert MAX_VARINT > DEFAULT_MAX_LENGTH
    tracemalloc.start()
    try:
        start = time.perf_counter()
        for pull in ("pull_length", "pull_opaque"):
            with pytest.raises(DecodeError) as info:
                getattr(Reader(data), pull)()
            assert info.value.reason == "length-ceiling"
        with pytest.raises(DecodeError) as info:
            Reader(data).pull_vector(Reader.pull_uint8)
        assert info.value.reason == "length-ceiling"
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert elapsed < 1.0


def test_ceiling_checked_before_truncation() -> None:
    """Above the ceiling, the reason is the ceiling even though the body is missing too."""
    data = encode_length(1000) + bytes(10)
    assert reason_of(data, max_length=999) == "length-ceiling"


def test_small_ceiling_rejects_even_when_bytes_present() -> None:
    data = encode_length(100) + bytes(100)
    assert reason_of(data, max_length=99) == "length-ceiling"
    assert reason_of(data, "pull_opaque", max_length=99) == "length-ceiling"
    assert Reader(data, max_length=100).pull_opaque() == bytes(100)


def test_ceiling_below_default_allows_within() -> None:
    data = encode_length(64) + bytes(64)
    r = Reader(data, max_length=64)
    assert r.pull_opaque() == bytes(64)
    r.finish()


def test_declared_length_beyond_input_truncated() -> None:
    """Below the ceiling but more than the input holds: truncated, nothing sliced."""
    data = encode_length(1 << 20) + bytes(3)
    assert reason_of(data) == "truncated"
    assert reason_of(data, "pull_opaque") == "truncated"


# --- opaque, fixed blocks, truncation, trailing bytes --------------------------------------


@given(st.binary(max_size=20_000))
def test_opaque_round_trip(data: bytes) -> None:
    w = Writer()
    w.push_opaque(data)
    encoded = bytes(w)
    assert encoded == opaque(data) == encode_length(len(data)) + data
    assert len(w) == len(encoded)
    r = Reader(encoded)
    assert r.pull_opaque() == data
    r.finish()


@pytest.mark.parametrize("size", [0, 1, 63, 64, 16383, 16384])
def test_opaque_truncated_by_one(size: int) -> None:
    encoded = opaque(bytes(size))
    assert reason_of(encoded[:-1], "pull_opaque") == "truncated"
    for cut in range(len(encoded) - 1, -1, -max(1, len(encoded) // 7)):
        assert reason_of(encoded[:cut], "pull_opaque") == "truncated"


def test_trailing_bytes() -> None:
    r = Reader(opaque(b"abc") + b"\x00")
    assert r.pull_opaque() == b"abc"
    with pytest.raises(DecodeError) as info:
        r.finish("thing")
    assert info.value.reason == "trailing-bytes"
    assert "thing" in str(info.value)


def test_finish_on_exact_input() -> None:
    r = Reader(opaque(b"abc"))
    r.pull_opaque()
    r.finish()
    assert r.remaining == 0


def test_fixed_block() -> None:
    w = Writer()
    w.push_fixed(b"\x01" * 32, 32)
    assert Reader(bytes(w)).pull_fixed(32) == b"\x01" * 32
    with pytest.raises(DecodeError) as info:
        Reader(b"\x01" * 31).pull_fixed(32)
    assert info.value.reason == "truncated"
    for bad in (b"\x01" * 31, b"\x01" * 33):
        with pytest.raises(ValueError):
            Writer().push_fixed(bad, 32)


def test_pull_results_are_bytes_not_views() -> None:
    data = bytearray(opaque(b"xyz") + b"\x00" * 4)
    r = Reader(data)
    value = r.pull_opaque()
    block = r.pull_fixed(4)
    assert type(value) is bytes
    assert type(block) is bytes
    data[1:4] = b"QQQ"
    assert value == b"xyz"


def test_reader_accepts_bytes_like() -> None:
    encoded = opaque(b"hello")
    for data in (encoded, bytearray(encoded), memoryview(encoded)):
        assert Reader(data).pull_opaque() == b"hello"


def test_decode_error_is_value_error_with_reason() -> None:
    err = DecodeError("truncated", "x: needs 1 bytes")
    assert isinstance(err, ValueError)
    assert err.reason == "truncated"
    assert err.detail == "x: needs 1 bytes"
    assert str(err) == "x: needs 1 bytes"


# --- integers -----------------------------------------------------------------------------

_WIDTHS = [("uint8", 1), ("uint16", 2), ("uint32", 4), ("uint64", 8)]


@pytest.mark.parametrize(("name", "size"), _WIDTHS)
def test_uint_widths_big_endian(name: str, size: int) -> None:
    top = (1 << (8 * size)) - 1
    for value in (0, 1, 0x7F, top >> 1, top):
        w = Writer()
        getattr(w, f"push_{name}")(value)
        encoded = bytes(w)
        assert encoded == value.to_bytes(size, "big")
        r = Reader(encoded)
        assert getattr(r, f"pull_{name}")() == value
        r.finish()


@pytest.mark.parametrize(("name", "size"), _WIDTHS)
def test_uint_out_of_range_not_encoded(name: str, size: int) -> None:
    for value in (-1, 1 << (8 * size)):
        with pytest.raises((OverflowError, ValueError)):
            getattr(Writer(), f"push_{name}")(value)


@pytest.mark.parametrize(("name", "size"), _WIDTHS)
def test_uint_truncated(name: str, size: int) -> None:
    for cut in range(size):
        assert reason_of(b"\xff" * cut, f"pull_{name}") == "truncated"


def test_uint_known_encodings() -> None:
    r = Reader(bytes.fromhex("0102030405060708090a0b0c0d0e0f"))
    assert r.pull_uint8() == 1
    assert r.pull_uint16() == 0x0203
    assert r.pull_uint32() == 0x04050607
    assert r.pull_uint64() == struct.unpack(">Q", bytes.fromhex("08090a0b0c0d0e0f"))[0]
    r.finish()


# --- optional<T> --------------------------------------------------------------------------


def test_optional_absent_and_present() -> None:
    for item in (None, 7):
        w = Writer()
        w.push_optional(item, Writer.push_uint16)
        encoded = bytes(w)
        assert encoded == (b"\x00" if item is None else b"\x01\x00\x07")
        r = Reader(encoded)
        assert r.pull_optional(Reader.pull_uint16) == item
        r.finish()


@pytest.mark.parametrize("presence", [2, 3, 0x80, 0xFF])
def test_optional_bad_presence(presence: int) -> None:
    with pytest.raises(DecodeError) as info:
        Reader(bytes([presence, 0, 7])).pull_optional(Reader.pull_uint16)
    assert info.value.reason == "invalid-value"


def test_optional_truncated() -> None:
    for data in (b"", b"\x01", b"\x01\x00"):
        with pytest.raises(DecodeError) as info:
            Reader(data).pull_optional(Reader.pull_uint16)
        assert info.value.reason == "truncated"


# --- vectors ------------------------------------------------------------------------------


def _push_opaque_item(w: Writer, item: bytes) -> None:
    w.push_opaque(item)


def _pull_opaque_item(r: Reader) -> bytes:
    return r.pull_opaque()


def _push_inner(w: Writer, item: list[int]) -> None:
    w.push_vector(item, Writer.push_uint16)


def _pull_inner(r: Reader) -> list[int]:
    return r.pull_vector(Reader.pull_uint16)


@given(st.lists(st.lists(st.integers(0, 0xFFFF), max_size=40), max_size=10))
def test_nested_vector_round_trip(items: list[list[int]]) -> None:
    w = Writer()
    w.push_vector(items, _push_inner)
    encoded = bytes(w)
    r = Reader(encoded)
    assert r.pull_vector(_pull_inner) == items
    r.finish()


@given(st.lists(st.binary(max_size=100), max_size=300))
def test_vector_of_opaque_round_trip_all_header_sizes(items: list[bytes]) -> None:
    w = Writer()
    w.push_vector(items, _push_opaque_item)
    encoded = bytes(w)
    body = sum(len(opaque(i)) for i in items)
    assert encoded[: len(encode_length(body))] == encode_length(body)
    r = Reader(encoded)
    assert r.pull_vector(_pull_opaque_item) == items
    r.finish()


def test_vector_leftover_bytes_inside_block_rejected() -> None:
    """A uint16 list whose block holds 3 bytes: the last item crosses the block's end."""
    data = encode_length(3) + b"\x00\x01\x00" + b"\x00\x02"  # bytes after the block exist
    with pytest.raises(DecodeError) as info:
        Reader(data).pull_vector(Reader.pull_uint16)
    assert info.value.reason == "truncated"


def test_nested_vector_inner_overrun_rejected() -> None:
    """An inner vector declares more than its outer block holds, though the input has it."""
    inner = encode_length(4) + b"\x00\x01\x00\x02"
    outer_too_short = encode_length(len(inner) - 2) + inner
    with pytest.raises(DecodeError) as info:
        Reader(outer_too_short).pull_vector(_pull_inner)
    assert info.value.reason == "truncated"


def test_nested_vector_leftover_in_inner_block() -> None:
    """Inner block of 3 bytes for uint16 items, inside a correctly sized outer block."""
    inner = encode_length(3) + b"\x00\x01\x00"
    outer = encode_length(len(inner)) + inner
    with pytest.raises(DecodeError) as info:
        Reader(outer).pull_vector(_pull_inner)
    assert info.value.reason == "truncated"


def test_vector_block_restored_after_error_and_success() -> None:
    """After a vector, the reader sees the rest of the input again (the block is popped)."""
    data = encode_length(2) + b"\x00\x05" + b"\x00\x00\x00\x09"
    r = Reader(data)
    assert r.pull_vector(Reader.pull_uint16) == [5]
    assert r.pull_uint32() == 9
    r.finish()


def test_vector_ceiling_and_prefix() -> None:
    with pytest.raises(DecodeError) as info:
        Reader(encode_length(10) + bytes(10), max_length=9).pull_vector(Reader.pull_uint8)
    assert info.value.reason == "length-ceiling"
    with pytest.raises(DecodeError) as info:
        Reader(b"\xc0\x00").pull_vector(Reader.pull_uint8)
    assert info.value.reason == "invalid-prefix"


def test_writer_push_writer_and_len() -> None:
    inner = Writer()
    inner.push_uint16(1)
    inner.push_opaque(b"ab")
    outer = Writer()
    outer.push_uint8(9)
    outer.push_writer(inner)
    assert len(outer) == 1 + 2 + 3
    assert bytes(outer) == b"\x09\x00\x01\x02ab"


# --- RFC 9420 deserialization vectors -----------------------------------------------------


def test_rfc9420_deserialization_vectors(mls_vectors: Callable[[str], list[Any]]) -> None:
    """mlswg/mls-implementations test-vectors/deserialization.json: for each
    {vlbytes_header, length}, encode_length(length) is the header, and pull_length on the
    header followed by `length` bytes gives the length back."""
    vectors = mls_vectors("deserialization")
    assert vectors, "deserialization.json is empty"
    for case in vectors:
        header = bytes.fromhex(case["vlbytes_header"])
        length = int(case["length"])
        assert encode_length(length) == header, case
        # Lazily zeroed mapping: a 1 GiB case costs address space, not memory.
        with mmap.mmap(-1, len(header) + max(length, 1)) as buf:
            buf[: len(header)] = header
            view = memoryview(buf)[: len(header) + length]
            try:
                r = Reader(view, max_length=MAX_VARINT)
                assert r.pull_length() == length, case
                assert r.remaining == length
                del r
            finally:
                view.release()
