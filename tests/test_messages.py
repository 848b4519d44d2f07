"""impl.messages and impl.group_state: round trips, fuzzing, validation, signed content.

* Every struct of tests.strategies.STRATEGIES (all of MESSAGE_TYPES plus GroupState):
  decode(encode(x)) == x and encode(decode(b)) == b.
* Fuzzing: random bytes and mutated valid encodings (bit flips, truncations, insertions,
  deletions) into every decoder raise DecodeError and nothing else; whatever decodes
  re-encodes to exactly the input (one value, one encoding).
* Domain names (profile.md): bad ones rejected with ValueError at construction and with
  DecodeError reason "invalid-value" at decode; nonce sizes; integer ranges.
* signed_content() is the encoding of the fields before `signature`; message_type(); to_json.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from impl.codec import DecodeError, Writer, encode_length, opaque
from impl.group_state import GroupState, Member
from impl.messages import (
    MESSAGE_TYPES,
    NONCE_SIZE,
    MigrationCommitAAD,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    RejectionReason,
    Struct,
    TargetMigrationComplete,
    TargetMigrationRejected,
    message_type,
    to_json,
    validate_domain,
)
from tests.strategies import (
    BOUNDARY_SIZES,
    STRATEGIES,
    STRUCT_CLASSES,
    domain_names,
    members,
    mutated_bytes,
    vl_bytes,
)

#: Every decoder under test: the messages, GroupState and Member.
DECODERS: dict[str, type[Struct]] = {**STRUCT_CLASSES, "Member": Member}
VALID: dict[str, Any] = {**STRATEGIES, "Member": members}

SIGNED = [cls for cls in MESSAGE_TYPES.values() if hasattr(cls, "LABEL")]

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- fixed examples -----------------------------------------------------------------------

SRC = b"source.example"
TGT = b"target.example"
NONCE = bytes(range(NONCE_SIZE))


def request(**kw: Any) -> MigrationRequest:
    fields: dict[str, Any] = {
        "source_domain_name": SRC,
        "target_domain_name": TGT,
        "group_id": b"group-1",
        "epoch": 7,
    }
    fields.update(kw)
    return MigrationRequest(**fields)


def response(**kw: Any) -> MigrationResponse:
    fields: dict[str, Any] = {"migration_request": request(), "nonce": NONCE, "signature": b"s1"}
    fields.update(kw)
    return MigrationResponse(**fields)


def content(**kw: Any) -> MigrationContent:
    fields: dict[str, Any] = {
        "migration_response": response(),
        "group_state": b"state",
        "signature": b"s2",
    }
    fields.update(kw)
    return MigrationContent(**fields)


def confirmation(**kw: Any) -> MigrationConfirmation:
    fields: dict[str, Any] = {
        "domain_name": TGT,
        "nonce": NONCE,
        "group_id": b"group-1",
        "signature": b"s3",
    }
    fields.update(kw)
    return MigrationConfirmation(**fields)


def group_state(**kw: Any) -> GroupState:
    fields: dict[str, Any] = {
        "group_id": b"group-1",
        "epoch": 8,
        "cipher_suite": 1,
        "members": (
            Member(leaf_index=0, identity=b"alice", signature_key=b"\x01" * 32),
            Member(leaf_index=3, identity=b"bob", signature_key=b"\x02" * 32),
        ),
    }
    fields.update(kw)
    return GroupState(**fields)


def decode_reason(cls: type[Struct], data: bytes, **kw: int) -> str:
    with pytest.raises(DecodeError) as info:
        cls.decode(data, **kw)
    return info.value.reason


# --- round trips --------------------------------------------------------------------------


def test_strategies_cover_every_message_type() -> None:
    assert set(STRATEGIES) == set(MESSAGE_TYPES) | {"GroupState"}
    assert STRUCT_CLASSES["GroupState"] is GroupState


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_strategies_reach_every_header_size(size: int) -> None:
    """vl_bytes() yields values on both sides of 63/64 and 16383/16384."""
    found = find(
        vl_bytes().map(lambda b: (len(b), len(opaque(b)) - len(b))), lambda t: t[0] == size
    )
    assert found == (size, 1 if size < 64 else 2 if size < 16384 else 4)


def test_strategies_reach_extreme_domains() -> None:
    assert len(find(domain_names, lambda d: len(d) == 253)) == 253
    longest = find(domain_names, lambda d: any(len(x) == 63 for x in d.split(b".")))
    validate_domain(longest)
    several = find(domain_names, lambda d: d.count(b".") >= 2 and b"-" in d)
    validate_domain(several)


@pytest.mark.parametrize("name", sorted(VALID))
@ROUND_TRIP
@given(data=st.data())
def test_round_trip(name: str, data: st.DataObject) -> None:
    cls = DECODERS[name]
    value = data.draw(VALID[name], label=name)
    assert type(value) is cls
    encoded = value.encode()
    decoded = cls.decode(encoded)
    assert decoded == value
    assert decoded.encode() == encoded
    # bytearray and memoryview input decode to the same value, with bytes fields.
    assert cls.decode(bytearray(encoded)) == value
    assert cls.decode(memoryview(encoded)) == value


@pytest.mark.parametrize("name", sorted(VALID))
@ROUND_TRIP
@given(data=st.data())
def test_truncated_or_extended_encoding_rejected(name: str, data: st.DataObject) -> None:
    cls = DECODERS[name]
    encoded = data.draw(VALID[name], label=name).encode()
    cut = data.draw(st.integers(0, len(encoded) - 1), label="cut")
    assert decode_reason(cls, encoded[:cut]) == "truncated"
    extra = data.draw(st.binary(min_size=1, max_size=8), label="extra")
    assert decode_reason(cls, encoded + extra) == "trailing-bytes"


def _all_bytes_fields_are_bytes(value: object) -> bool:
    if isinstance(value, tuple):
        return all(_all_bytes_fields_are_bytes(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(
            _all_bytes_fields_are_bytes(getattr(value, f.name)) for f in dataclasses.fields(value)
        )
    return not isinstance(value, bytearray | memoryview)


def test_decoded_fields_are_bytes() -> None:
    value = MigrationContent.decode(bytearray(content(group_state=group_state().encode()).encode()))
    assert _all_bytes_fields_are_bytes(value)
    assert type(value.group_state) is bytes
    gs = GroupState.decode(memoryview(group_state().encode()))
    assert _all_bytes_fields_are_bytes(gs)
    assert type(gs.members) is tuple


def test_known_encoding_migration_request() -> None:
    """The draft's struct text, byte by byte."""
    expected = (
        b"\x0esource.example" + b"\x0etarget.example" + b"\x07group-1" + (7).to_bytes(8, "big")
    )
    assert request().encode() == expected
    assert MigrationRequest.decode(expected) == request()


def test_known_encoding_group_state() -> None:
    m0 = b"\x00\x00\x00\x00" + b"\x05alice" + b"\x20" + b"\x01" * 32
    m3 = b"\x00\x00\x00\x03" + b"\x03bob" + b"\x20" + b"\x02" * 32
    body = m0 + m3
    expected = (
        b"\x07group-1" + (8).to_bytes(8, "big") + b"\x00\x01" + encode_length(len(body)) + body
    )
    assert group_state().encode() == expected
    assert GroupState.decode(expected) == group_state()


def test_large_group_state_uses_four_byte_header() -> None:
    gs = bytes(20_000)
    encoded = content(group_state=gs).encode()
    assert opaque(gs)[:4] == b"\x80\x00\x4e\x20"
    assert opaque(gs) in encoded
    assert MigrationContent.decode(encoded).group_state == gs


def test_decode_honours_max_length() -> None:
    encoded = content(group_state=bytes(100)).encode()
    assert decode_reason(MigrationContent, encoded, max_length=99) == "length-ceiling"
    assert MigrationContent.decode(encoded, max_length=100) == content(group_state=bytes(100))


# --- fuzzing ------------------------------------------------------------------------------


def _check_decoder(cls: type[Struct], data: bytes) -> None:
    """Only DecodeError may escape; anything that decodes re-encodes to the same bytes."""
    try:
        value = cls.decode(data)
    except DecodeError as err:
        assert err.reason in {
            "truncated",
            "trailing-bytes",
            "invalid-prefix",
            "non-minimal-length",
            "length-ceiling",
            "invalid-value",
        }, err.reason
        return
    assert type(value) is cls
    assert value.encode() == data


@pytest.mark.parametrize("name", sorted(DECODERS))
@FUZZ
@given(data=st.binary(max_size=400))
def test_fuzz_random_bytes(name: str, data: bytes) -> None:
    _check_decoder(DECODERS[name], data)


@pytest.mark.parametrize("name", sorted(DECODERS))
@FUZZ
@given(data=st.data())
def test_fuzz_mutated_encodings(name: str, data: st.DataObject) -> None:
    _check_decoder(
        DECODERS[name],
        data.draw(mutated_bytes(VALID[name].map(lambda m: m.encode())), label="mutated"),
    )


@pytest.mark.parametrize("name", sorted(DECODERS))
@ROUND_TRIP
@given(data=st.data())
def test_fuzz_cross_decoding(name: str, data: st.DataObject) -> None:
    """A valid encoding of one struct fed to every other decoder."""
    other = data.draw(st.sampled_from(sorted(VALID)), label="source struct")
    encoded = data.draw(VALID[other], label=other).encode()
    _check_decoder(DECODERS[name], encoded)


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_fuzz_hostile_headers(name: str) -> None:
    """Headers announcing huge or malformed lengths at the start of the input."""
    for data in (
        b"\xbf\xff\xff\xff" + bytes(6),
        b"\x87\xff\xff\xff" + bytes(60),
        b"\xc0" * 10,
        b"\x40\x00",
        b"\x80\x00\x00\x00",
        b"",
    ):
        _check_decoder(DECODERS[name], data)


# --- domain names -------------------------------------------------------------------------

_254 = ("a" * 63 + ".") * 3 + "b" * 62
_253 = ("a" * 63 + ".") * 3 + "b" * 61

BAD_DOMAINS = {
    "uppercase": b"Example.com",
    "uppercase-inner": b"example.COM",
    "leading-hyphen": b"-example.com",
    "trailing-hyphen": b"example-.com",
    "64-char-label": b"a" * 64 + b".com",
    "254-bytes": _254.encode(),
    "empty": b"",
    "empty-label": b"a..com",
    "leading-dot": b".example.com",
    "trailing-dot": b"example.com.",
    "non-ascii": "bücher.example".encode(),
    "underscore": b"_dmarc.example.com",
    "space": b"exa mple.com",
    "nul": b"example\x00.com",
    "newline": b"example.com\n",
    "invalid-utf8": b"\xff\xfe.com",
}

GOOD_DOMAINS = [
    b"a",
    b"0",
    b"a-b.c",
    b"123.example",
    b"x" * 63,
    b"a" + b"-" * 61 + b"z",
    _253.encode(),
    b"xn--bcher-kva.example",
]


def test_boundary_domains_have_the_sizes_claimed() -> None:
    assert len(_253) == 253
    assert len(_254) == 254
    assert max(len(label) for label in _254.split(".")) == 63


@pytest.mark.parametrize("name", GOOD_DOMAINS)
def test_good_domains_accepted(name: bytes) -> None:
    validate_domain(name)
    assert MigrationCommitAAD.decode(MigrationCommitAAD(target_ds_domain=name).encode()) == (
        MigrationCommitAAD(target_ds_domain=name)
    )


@pytest.mark.parametrize("bad", list(BAD_DOMAINS.values()), ids=list(BAD_DOMAINS))
def test_bad_domain_rejected_by_validate(bad: bytes) -> None:
    with pytest.raises(ValueError):
        validate_domain(bad)


def test_validate_domain_rejects_non_bytes() -> None:
    with pytest.raises(ValueError):
        validate_domain("example.com")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", list(BAD_DOMAINS.values()), ids=list(BAD_DOMAINS))
def test_bad_domain_rejected_at_construction(bad: bytes) -> None:
    with pytest.raises(ValueError):
        request(source_domain_name=bad)
    with pytest.raises(ValueError):
        request(target_domain_name=bad)
    with pytest.raises(ValueError):
        MigrationCommitAAD(target_ds_domain=bad)
    with pytest.raises(ValueError):
        confirmation(domain_name=bad)


def _request_bytes(source: bytes, target: bytes) -> bytes:
    w = Writer()
    w.push_opaque(source)
    w.push_opaque(target)
    w.push_opaque(b"group-1")
    w.push_uint64(7)
    return bytes(w)


@pytest.mark.parametrize("bad", list(BAD_DOMAINS.values()), ids=list(BAD_DOMAINS))
def test_bad_domain_rejected_at_decode(bad: bytes) -> None:
    for req in (_request_bytes(bad, TGT), _request_bytes(SRC, bad)):
        assert decode_reason(MigrationRequest, req) == "invalid-value"
        resp = req + NONCE + opaque(b"sig")
        assert decode_reason(MigrationResponse, resp) == "invalid-value"
        assert decode_reason(MigrationInit, resp + opaque(b"sig")) == "invalid-value"
        cont = resp + opaque(b"state") + opaque(b"sig")
        assert decode_reason(MigrationContent, cont) == "invalid-value"
    assert decode_reason(MigrationCommitAAD, opaque(bad)) == "invalid-value"
    conf = opaque(bad) + NONCE + opaque(b"group-1") + opaque(b"sig")
    assert decode_reason(MigrationConfirmation, conf) == "invalid-value"


def test_invalid_value_error_names_the_struct() -> None:
    with pytest.raises(DecodeError) as info:
        MigrationCommitAAD.decode(opaque(b"Example.com"))
    assert info.value.reason == "invalid-value"
    assert "MigrationCommitAAD" in str(info.value)


# --- nonces, integers, field types --------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 31, 33, 64])
def test_wrong_nonce_size_rejected_at_construction(size: int) -> None:
    with pytest.raises(ValueError, match="nonce"):
        response(nonce=bytes(size))
    with pytest.raises(ValueError, match="nonce"):
        confirmation(nonce=bytes(size))


def test_nonce_must_be_bytes() -> None:
    with pytest.raises(ValueError):
        response(nonce=bytearray(NONCE_SIZE))
    with pytest.raises(ValueError):
        response(nonce="x" * NONCE_SIZE)


def test_short_nonce_on_the_wire_rejected() -> None:
    req = request().encode()
    assert decode_reason(MigrationResponse, req + bytes(31)) == "truncated"
    # A 31-byte nonce followed by the signature: the signature is misread, and the
    # decoder must still fail cleanly.
    with pytest.raises(DecodeError):
        MigrationResponse.decode(req + bytes(31) + opaque(b"sig"))
    conf = opaque(TGT) + bytes(31)
    assert decode_reason(MigrationConfirmation, conf) == "truncated"


@pytest.mark.parametrize("epoch", [-1, 1 << 64, True, 1.0, "1"])
def test_epoch_must_be_uint64(epoch: object) -> None:
    with pytest.raises(ValueError, match="epoch"):
        request(epoch=epoch)
    with pytest.raises(ValueError, match="epoch"):
        group_state(epoch=epoch)


def test_epoch_extremes() -> None:
    for epoch in (0, (1 << 64) - 1):
        assert MigrationRequest.decode(request(epoch=epoch).encode()).epoch == epoch


@pytest.mark.parametrize("reason", [-1, 1 << 16, False])
def test_rejection_reason_must_be_uint16(reason: Any) -> None:
    with pytest.raises(ValueError, match="reason"):
        TargetMigrationRejected(migration_content_hash=b"h", reason=reason, signature=b"")


def test_unknown_rejection_reason_decodes() -> None:
    msg = TargetMigrationRejected(migration_content_hash=b"h", reason=0xFFFF, signature=b"s")
    assert TargetMigrationRejected.decode(msg.encode()) == msg
    assert int(RejectionReason.UNKNOWN_NONCE) == 1


def test_bytes_fields_reject_other_types() -> None:
    with pytest.raises(ValueError):
        request(group_id="group-1")
    with pytest.raises(ValueError):
        response(signature=None)
    with pytest.raises(ValueError):
        content(group_state=bytearray(b"x"))
    with pytest.raises(ValueError):
        TargetMigrationComplete(migration_content_hash=memoryview(b"h"), signature=b"")  # type: ignore[arg-type]


def test_nested_types_checked() -> None:
    with pytest.raises(ValueError):
        MigrationResponse(migration_request=object(), nonce=NONCE, signature=b"")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        MigrationInit(migration_response=request(), signature=b"")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        MigrationContent(migration_response=request(), group_state=b"", signature=b"")  # type: ignore[arg-type]


def test_structs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        request().epoch = 9  # type: ignore[misc]


# --- group state ----------------------------------------------------------------------------


def _member(i: int) -> Member:
    return Member(leaf_index=i, identity=b"id%d" % i, signature_key=b"k")


@pytest.mark.parametrize("order", [(1, 0), (0, 0), (2, 5, 3)])
def test_group_state_members_sorted_unique(order: tuple[int, ...]) -> None:
    ms = tuple(_member(i) for i in order)
    with pytest.raises(ValueError, match="sorted"):
        group_state(members=ms)
    # The same members on the wire: invalid-value at decode.
    w = Writer()
    w.push_opaque(b"g")
    w.push_uint64(1)
    w.push_uint16(1)
    inner = Writer()
    for m in ms:
        m.push(inner)
    w.push_opaque(bytes(inner))
    assert decode_reason(GroupState, bytes(w)) == "invalid-value"


def test_group_state_members_must_be_tuple() -> None:
    with pytest.raises(ValueError, match="tuple"):
        group_state(members=[_member(0)])


def test_group_state_member_lookup_and_empty() -> None:
    gs = group_state()
    assert gs.member(3) == gs.members[1]
    assert gs.member(1) is None
    empty = group_state(members=())
    assert GroupState.decode(empty.encode()) == empty


def test_group_state_partial_member_rejected() -> None:
    """The members block ends inside a Member: leftover bytes inside the block."""
    encoded = bytearray(group_state().encode())
    # Shrink the members vector header by one byte and drop the last byte of the input:
    # the last member now crosses its block's end.
    body_len = len(group_state().members[0].encode()) + len(group_state().members[1].encode())
    header = encode_length(body_len)
    at = encoded.index(header + group_state().members[0].encode())
    encoded[at : at + len(header)] = encode_length(body_len - 1)
    assert decode_reason(GroupState, bytes(encoded[:-1])) == "truncated"
    assert decode_reason(GroupState, bytes(encoded)) in {"truncated", "trailing-bytes"}


def test_member_leaf_index_uint32() -> None:
    for bad in (-1, 1 << 32):
        with pytest.raises(ValueError, match="leaf_index"):
            Member(leaf_index=bad, identity=b"", signature_key=b"")


# --- signed content -----------------------------------------------------------------------


def _expected_signed_content(msg: Any) -> bytes:
    """The fields before `signature`, encoded by hand from the draft's struct text."""
    if isinstance(msg, MigrationResponse):
        return msg.migration_request.encode() + msg.nonce
    if isinstance(msg, MigrationInit):
        return msg.migration_response.encode()
    if isinstance(msg, MigrationContent):
        return msg.migration_response.encode() + opaque(msg.group_state)
    if isinstance(msg, TargetMigrationComplete):
        return opaque(msg.migration_content_hash)
    if isinstance(msg, MigrationConfirmation):
        return opaque(msg.domain_name) + msg.nonce + opaque(msg.group_id)
    if isinstance(msg, TargetMigrationRejected):
        return opaque(msg.migration_content_hash) + msg.reason.to_bytes(2, "big")
    raise AssertionError(f"no expectation for {type(msg).__name__}")


def test_signed_structs_are_the_expected_ones() -> None:
    assert {cls.NAME for cls in SIGNED} == {
        "MigrationResponse",
        "MigrationInit",
        "MigrationContent",
        "TargetMigrationComplete",
        "MigrationConfirmation",
        "TargetMigrationRejected",
    }
    for cls in SIGNED:
        label = b"MIMI Portability " + cls.NAME.encode()
        assert label == cls.LABEL
        assert [f.name for f in dataclasses.fields(cls)][-1] == "signature"  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(cls.NAME for cls in SIGNED))
@ROUND_TRIP
@given(data=st.data())
def test_signed_content(name: str, data: st.DataObject) -> None:
    msg = data.draw(STRATEGIES[name], label=name)
    signed = msg.signed_content()
    assert signed == _expected_signed_content(msg)
    assert msg.encode() == signed + opaque(msg.signature)
    other_sig = data.draw(st.binary(max_size=100), label="other signature")
    assert dataclasses.replace(msg, signature=other_sig).signed_content() == signed


# --- message_type and to_json -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_message_type_any_case(name: str) -> None:
    cls = MESSAGE_TYPES[name]
    for spelling in (name, name.lower(), name.upper(), name.swapcase()):
        assert message_type(spelling) is cls


@pytest.mark.parametrize("name", ["", "Migration", "GroupState", "MigrationRequests", "x"])
def test_message_type_unknown(name: str) -> None:
    with pytest.raises(ValueError, match="MigrationRequest"):
        message_type(name)


def test_to_json_shape() -> None:
    msg = content(group_state=b"\x00\xff")
    view = to_json(msg)
    assert json.loads(json.dumps(view)) == view
    assert view == {
        "migration_response": {
            "migration_request": {
                "source_domain_name": "source.example",
                "target_domain_name": "target.example",
                "group_id": b"group-1".hex(),
                "epoch": 7,
            },
            "nonce": NONCE.hex(),
            "signature": b"s1".hex(),
        },
        "group_state": "00ff",
        "signature": b"s2".hex(),
    }


def test_to_json_group_state_members() -> None:
    view = to_json(group_state())
    assert view["members"] == [
        {"leaf_index": 0, "identity": b"alice".hex(), "signature_key": "01" * 32},
        {"leaf_index": 3, "identity": b"bob".hex(), "signature_key": "02" * 32},
    ]
    assert view["cipher_suite"] == 1


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@ROUND_TRIP
@given(data=st.data())
def test_to_json_every_struct_serializable(name: str, data: st.DataObject) -> None:
    value = data.draw(STRATEGIES[name], label=name)
    text = json.dumps(to_json(value))
    assert isinstance(json.loads(text), dict)
