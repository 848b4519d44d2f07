"""impl.mls framing: RFC 9420 section 6 structs against the official vectors, strictness, fuzzing.

* messages.json (300 cases): `public_message_{application,proposal,commit}` are MLSMessage-
  wrapped (they start 0001 0001: mls10, mls_public_message); each decodes, has the content
  type its name says, and re-encodes byte for byte, as PublicMessage too once the 4-byte
  header is stripped.  `private_message`, `mls_welcome`, `mls_group_info` and
  `mls_key_package` round-trip as raw bodies; `commit` and the seven `*_proposal` bodies
  decode as Commit / Proposal bodies (so the walkers find each struct's end).
* Strictness: unknown code points, wrong tag presence, trailing bytes, truncation at every
  byte, and Hypothesis mutations of the vectors raise DecodeError and nothing else.

The signatures over these structs (impl.mls.signing) are tests/test_mls_signing.py.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impl.codec import DecodeError, Writer
from impl.crypto import CipherSuite
from impl.mls import (
    Commit,
    ContentType,
    FramedContent,
    FramedContentAuthData,
    GroupContext,
    MLSMessage,
    Proposal,
    ProposalType,
    ProtocolVersion,
    PublicMessage,
    Sender,
    SenderType,
    WireFormat,
)
from tests.strategies import mutated_bytes

Vectors = Callable[[str], list[Any]]

PUBLIC_FIELDS = {
    "public_message_application": ContentType.application,
    "public_message_proposal": ContentType.proposal,
    "public_message_commit": ContentType.commit,
}
RAW_FIELDS = {
    "private_message": WireFormat.mls_private_message,
    "mls_welcome": WireFormat.mls_welcome,
    "mls_group_info": WireFormat.mls_group_info,
    "mls_key_package": WireFormat.mls_key_package,
}
PROPOSAL_FIELDS = {
    "add_proposal": ProposalType.add,
    "update_proposal": ProposalType.update,
    "remove_proposal": ProposalType.remove,
    "pre_shared_key_proposal": ProposalType.psk,
    "re_init_proposal": ProposalType.reinit,
    "external_init_proposal": ProposalType.external_init,
    "group_context_extensions_proposal": ProposalType.group_context_extensions,
}
REASONS = {
    "truncated",
    "trailing-bytes",
    "invalid-prefix",
    "non-minimal-length",
    "length-ceiling",
    "invalid-value",
}
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def hexes(mls_vectors: Vectors, field: str) -> list[bytes]:
    return [bytes.fromhex(case[field]) for case in mls_vectors("messages")]


def reason_of(data: bytes, cls: type[Any] = MLSMessage) -> str:
    with pytest.raises(DecodeError) as info:
        cls.decode(data)
    return str(info.value.reason)


# --- messages.json ------------------------------------------------------------------------


@pytest.mark.parametrize("field", sorted(PUBLIC_FIELDS))
def test_public_message_vectors_round_trip(mls_vectors: Vectors, field: str) -> None:
    cases = hexes(mls_vectors, field)
    assert len(cases) == 300
    for data in cases:
        assert data[:4] == b"\x00\x01\x00\x01"  # MLSMessage: mls10, mls_public_message
        msg = MLSMessage.decode(data)
        assert msg.encode() == data
        assert msg.version is ProtocolVersion.mls10
        assert msg.wire_format is WireFormat.mls_public_message
        public = msg.public_message
        assert isinstance(public, PublicMessage)
        assert PublicMessage.decode(data[4:]) == public
        assert public.encode() == data[4:]
        content = public.content
        assert content.content_type is PUBLIC_FIELDS[field]
        assert content.sender.sender_type is SenderType.member
        assert isinstance(content.sender.index, int)
        assert public.membership_tag is not None
        assert (public.auth.confirmation_tag is not None) == (field == "public_message_commit")
        assert content.group_id and public.auth.signature
        assert isinstance(content.authenticated_data, bytes)


@pytest.mark.parametrize("field", sorted(RAW_FIELDS))
def test_other_wire_formats_kept_raw(mls_vectors: Vectors, field: str) -> None:
    for data in hexes(mls_vectors, field):
        msg = MLSMessage.decode(data)
        assert msg.wire_format is RAW_FIELDS[field]
        assert msg.body == data[4:]
        assert msg.public_message is None
        assert msg.encode() == data


def test_commit_vectors_round_trip(mls_vectors: Vectors) -> None:
    for data in hexes(mls_vectors, "commit"):
        commit = Commit.decode(data)
        assert commit.encode() == data
        assert commit.path is not None


@pytest.mark.parametrize("field", sorted(PROPOSAL_FIELDS))
def test_proposal_body_vectors(mls_vectors: Vectors, field: str) -> None:
    kind = PROPOSAL_FIELDS[field]
    for body in hexes(mls_vectors, field):
        proposal = Proposal(proposal_type=kind, body=body)
        encoded = kind.to_bytes(2, "big") + body
        assert proposal.encode() == encoded
        assert Proposal.decode(encoded) == proposal
        with pytest.raises(DecodeError):
            Proposal.decode(encoded + b"\x00")
        if body:
            with pytest.raises(DecodeError):
                Proposal.decode(encoded[:-1])


def test_public_commit_vectors_hold_commits(mls_vectors: Vectors) -> None:
    for data in hexes(mls_vectors, "public_message_commit"):
        public = MLSMessage.decode(data).public_message
        assert public is not None
        commit = public.content.body
        assert isinstance(commit, Commit)
        for item in commit.proposals:
            assert isinstance(item, Proposal | bytes)


# --- strictness -----------------------------------------------------------------------------


def _content(**kw: Any) -> FramedContent:
    fields: dict[str, Any] = {
        "group_id": b"g",
        "epoch": 0,
        "sender": Sender.member(0),
        "authenticated_data": b"",
        "content_type": ContentType.application,
        "body": b"",
    }
    fields.update(kw)
    return FramedContent(**fields)


def _public(content: FramedContent) -> bytes:
    tag = b"c" if content.content_type is ContentType.commit else None
    member = content.sender.sender_type is SenderType.member
    return MLSMessage(
        wire_format=WireFormat.mls_public_message,
        body=PublicMessage(
            content=content,
            auth=FramedContentAuthData(signature=b"s", confirmation_tag=tag),
            membership_tag=b"m" if member else None,
        ),
    ).encode()


def test_every_sender_and_content_type_round_trips() -> None:
    bodies: dict[ContentType, Any] = {
        ContentType.application: b"payload",
        ContentType.proposal: Proposal(proposal_type=ProposalType.external_init, body=b"\x01k"),
        ContentType.commit: Commit(proposals=(b"ref",)),
    }
    for sender_type in SenderType:
        index = 9 if sender_type in (SenderType.member, SenderType.external) else None
        for content_type, body in bodies.items():
            content = _content(
                sender=Sender(sender_type=sender_type, index=index),
                content_type=content_type,
                body=body,
            )
            data = _public(content)
            msg = MLSMessage.decode(data)
            assert msg.encode() == data
            assert msg.public_message is not None and msg.public_message.content == content


def test_unknown_code_points_rejected() -> None:
    data = _public(_content())
    header = data[:4]
    # MLSMessage header: version, wire_format
    assert reason_of(b"\x00\x02" + data[2:]) == "invalid-value"
    assert reason_of(b"\x00\x00" + data[2:]) == "invalid-value"
    for wire in (0, 6, 0xFFFF):
        assert reason_of(data[:2] + wire.to_bytes(2, "big") + data[4:]) == "invalid-value"
    # FramedContent: group_id "g", epoch, then sender_type at offset 4 + 2 + 8
    at = 4 + 2 + 8
    for bad in (0, 5, 255):
        assert reason_of(data[:at] + bytes((bad,)) + data[at + 1 :]) == "invalid-value"
    at += 1 + 4 + 1  # sender, empty authenticated_data -> content_type
    for bad in (0, 4):
        assert reason_of(data[:at] + bytes((bad,)) + data[at + 1 :]) == "invalid-value"
    proposal = _public(
        _content(
            content_type=ContentType.proposal,
            body=Proposal(proposal_type=ProposalType.remove, body=bytes(4)),
        )
    )
    assert proposal[:at] == header + data[4:at]
    for kind in (0, 8, 0x0A0A):
        mutated = proposal[: at + 1] + kind.to_bytes(2, "big") + proposal[at + 3 :]
        assert reason_of(mutated) == "invalid-value"
    commit = _public(_content(content_type=ContentType.commit, body=Commit(proposals=(b"r",))))
    # proposals<V> header, then the ProposalOrRef type
    for kind in (0, 3):
        mutated = commit[: at + 2] + bytes((kind,)) + commit[at + 3 :]
        assert reason_of(mutated) == "invalid-value"


def test_nested_code_points_rejected() -> None:
    def leaf(credential: bytes, source: bytes) -> bytes:
        w = Writer()
        w.push_opaque(b"ek")
        w.push_opaque(b"sk")
        caps = b"\x02\x00\x01" + b"\x00" * 4
        return bytes(w) + credential + caps + source + b"\x00" + b"\x01s"

    good = leaf(b"\x00\x01\x02id", b"\x02")
    assert Proposal(proposal_type=ProposalType.update, body=good).body == good
    x509 = leaf(b"\x00\x02\x06\x02c1\x02c2", b"\x01" + bytes(16))
    assert Proposal.decode(b"\x00\x02" + x509).body == x509
    parent = leaf(b"\x00\x01\x00", b"\x03\x02ph")
    assert Proposal.decode(b"\x00\x02" + parent).body == parent
    for bad in (leaf(b"\x00\x03\x00", b"\x02"), leaf(b"\x00\x01\x00", b"\x04")):
        assert reason_of(b"\x00\x02" + bad, Proposal) == "invalid-value"
        with pytest.raises(ValueError):
            Proposal(proposal_type=ProposalType.update, body=bad)
    psk_ext = b"\x01\x02id\x01n"
    psk_res = b"\x02\x01\x01g" + bytes(8) + b"\x01n"
    for body in (psk_ext, psk_res):
        assert Proposal.decode(b"\x00\x04" + body).body == body
    assert reason_of(b"\x00\x04\x03\x02id\x01n", Proposal) == "invalid-value"
    # a capabilities vector of uint16 with an odd length
    odd = good.replace(b"\x02\x00\x01", b"\x01\x00", 1)
    assert reason_of(b"\x00\x02" + odd, Proposal) == "truncated"


def test_trailing_bytes_and_tags_follow_the_wire() -> None:
    data = _public(_content())
    assert reason_of(data + b"\x00") == "trailing-bytes"
    # a member sender without membership_tag is truncated, a non-member with one has trailing
    # bytes
    assert reason_of(data[:-2]) == "truncated"
    external = _public(_content(sender=Sender(sender_type=SenderType.external, index=0)))
    assert reason_of(external + b"\x01m") == "trailing-bytes"


def test_constructors_validate() -> None:
    with pytest.raises(ValueError):
        Sender(sender_type=SenderType.member)
    with pytest.raises(ValueError):
        Sender(sender_type=SenderType.new_member_commit, index=0)
    with pytest.raises(ValueError):
        Sender(sender_type=9, index=0)  # type: ignore[arg-type]
    # ints are accepted and become the enum
    assert Sender(sender_type=2, index=1).sender_type is SenderType.external  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        _content(content_type=ContentType.commit, body=b"")
    with pytest.raises(ValueError):
        _content(body=Commit())
    with pytest.raises(ValueError):
        _content(epoch=-1)
    with pytest.raises(ValueError):
        Proposal(proposal_type=ProposalType.remove, body=b"\x00")
    with pytest.raises(ValueError):
        Commit(path=b"")
    with pytest.raises(ValueError):
        Commit(proposals=[b"r"])  # type: ignore[arg-type]
    auth = FramedContentAuthData(signature=b"s")
    with pytest.raises(ValueError, match="confirmation_tag"):
        PublicMessage(content=_content(content_type=3, body=Commit()), auth=auth)
    with pytest.raises(ValueError, match="membership_tag"):
        PublicMessage(content=_content(), auth=auth)
    with pytest.raises(ValueError):
        MLSMessage(wire_format=WireFormat.mls_public_message, body=b"")
    with pytest.raises(ValueError):
        MLSMessage(
            wire_format=WireFormat.mls_welcome, body=PublicMessage.decode(_public(_content())[4:])
        )
    with pytest.raises(ValueError):
        GroupContext(
            cipher_suite=CipherSuite(1),
            group_id=b"",
            epoch=0,
            tree_hash=b"",
            confirmed_transcript_hash=b"",
            extensions=b"\x00\x01",
        )


def test_group_context_and_auth_data_round_trip() -> None:
    ctx = GroupContext(
        cipher_suite=CipherSuite(7),
        group_id=b"g" * 100,
        epoch=(1 << 64) - 1,
        tree_hash=b"t",
        confirmed_transcript_hash=b"h",
        extensions=b"\x00\x01\x00\xff\xff\x01x",
    )
    data = ctx.encode()
    assert GroupContext.decode(data) == ctx
    assert data.endswith(b"\x07\x00\x01\x00\xff\xff\x01x")
    assert reason_of(data[:2] + b"\x00\x08" + data[4:], GroupContext) == "invalid-value"
    assert reason_of(data[:-2] + b"\x02x", GroupContext) == "truncated"  # inside the vector
    for auth in (
        FramedContentAuthData(signature=b"s"),
        FramedContentAuthData(signature=b"s", confirmation_tag=b""),
    ):
        assert FramedContentAuthData.decode(auth.encode()) == auth


# --- fuzzing ------------------------------------------------------------------------------


def _check(data: bytes) -> None:
    """Only DecodeError may escape; anything that decodes re-encodes to the same bytes."""
    try:
        msg = MLSMessage.decode(data)
    except DecodeError as err:
        assert err.reason in REASONS, err.reason
        return
    assert msg.encode() == data


@pytest.mark.parametrize("field", sorted(PUBLIC_FIELDS))
@FUZZ
@given(data=st.data())
def test_fuzz_mutated_vectors(mls_vectors: Vectors, field: str, data: st.DataObject) -> None:
    sources = hexes(mls_vectors, field)[:20]
    _check(data.draw(mutated_bytes(st.sampled_from(sources), min_edits=0), label="mutated"))


@FUZZ
@given(data=st.binary(max_size=300))
def test_fuzz_random_public_messages(data: bytes) -> None:
    _check(b"\x00\x01\x00\x01" + data)
    for cls in (Commit, Proposal, GroupContext, FramedContent):
        try:
            value = cls.decode(data)
        except DecodeError as err:
            assert err.reason in REASONS
        else:
            assert value.encode() == data


@pytest.mark.parametrize("field", sorted(PUBLIC_FIELDS))
def test_truncation_at_every_byte(mls_vectors: Vectors, field: str) -> None:
    data = hexes(mls_vectors, field)[0]
    for n in range(len(data)):
        with pytest.raises(DecodeError) as info:
            MLSMessage.decode(data[:n])
        assert info.value.reason == "truncated", n
