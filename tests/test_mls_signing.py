"""impl.mls signing: FramedContentTBS signatures against the official vectors, on every suite.

* message-protection.json (one case per cipher suite): `proposal_pub` and `commit_pub` verify
  under `signature_pub` with the GroupContext built from the case, their membership_tag is the
  HMAC of AuthenticatedContentTBM under `membership_key`, their bodies equal `proposal` and
  `commit`.
* build_commit / sign_public_message / verify_public_message on every suite: right key and
  context verify; a wrong key, a wrong context, tampered authenticated_data do not.

The framing structs themselves are tests/test_mls_framing.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest

from impl.codec import DecodeError
from impl.crypto import CipherSuite, SigningKey
from impl.mls import (
    EMPTY_COMMIT,
    Commit,
    ContentType,
    FramedContent,
    GroupContext,
    MLSMessage,
    Proposal,
    ProposalType,
    ProtocolVersion,
    Sender,
    SenderType,
    WireFormat,
    build_commit,
    framed_content_tbs,
    sign_public_message,
    verify_public_message,
)

Vectors = Callable[[str], list[Any]]

# Hashes of the suites' MACs (RFC 9420 section 17.1), for the membership_tag check.
SUITE_HASH = {1: "sha256", 2: "sha256", 3: "sha256", 4: "sha512", 5: "sha512", 6: "sha512"}
SUITE_HASH[7] = "sha384"


# --- message-protection.json: real signatures and membership tags ------------------------


def _context_of(case: dict[str, Any]) -> bytes:
    return GroupContext(
        cipher_suite=case["cipher_suite"],
        group_id=bytes.fromhex(case["group_id"]),
        epoch=case["epoch"],
        tree_hash=bytes.fromhex(case["tree_hash"]),
        confirmed_transcript_hash=bytes.fromhex(case["confirmed_transcript_hash"]),
    ).encode()


@pytest.mark.parametrize("field", ["proposal", "commit"])
def test_message_protection_public_messages(mls_vectors: Vectors, field: str) -> None:
    cases = mls_vectors("message-protection")
    assert {case["cipher_suite"] for case in cases} == set(range(1, 8))
    for case in cases:
        suite = CipherSuite(case["cipher_suite"])
        context = _context_of(case)
        data = bytes.fromhex(case[f"{field}_pub"])
        msg = MLSMessage.decode(data)
        assert msg.encode() == data
        public = msg.public_message
        assert public is not None
        assert public.content.body.encode().hex() == case[field]  # type: ignore[union-attr]
        pub = bytes.fromhex(case["signature_pub"])
        assert verify_public_message(msg, suite, pub, context)
        assert verify_public_message(public, suite, pub, context)
        # AuthenticatedContentTBM = FramedContentTBS || FramedContentAuthData
        tbm = framed_content_tbs(msg.version, msg.wire_format, public.content, context)
        tbm += public.auth.encode()
        key = bytes.fromhex(case["membership_key"])
        tag = hmac.new(key, tbm, getattr(hashlib, SUITE_HASH[suite])).digest()
        assert public.membership_tag == tag
        # the same message under another epoch's context, or another key, fails
        later = GroupContext.decode(context)
        later = dataclasses.replace(later, confirmed_transcript_hash=b"other")
        assert not verify_public_message(msg, suite, pub, later.encode())
        other = SigningKey.derive(suite, b"other").public_bytes()
        assert not verify_public_message(msg, suite, other, context)
        private = MLSMessage.decode(bytes.fromhex(case[f"{field}_priv"]))
        assert not verify_public_message(private, suite, pub, context)


# --- signatures: build_commit, sign, verify -----------------------------------------------

GROUP_ID = b"group-1"
EPOCH = 41


def context_bytes(suite: CipherSuite, **kw: Any) -> bytes:
    fields: dict[str, Any] = {
        "cipher_suite": suite,
        "group_id": GROUP_ID,
        "epoch": EPOCH,
        "tree_hash": b"\x11" * 32,
        "confirmed_transcript_hash": b"\x22" * 32,
        "extensions": b"\x00\x05\x02ab",
    }
    fields.update(kw)
    return GroupContext(**fields).encode()


def commit_message(suite: CipherSuite, key: SigningKey, **kw: Any) -> MLSMessage:
    fields: dict[str, Any] = {
        "group_id": GROUP_ID,
        "epoch": EPOCH,
        "leaf_index": 3,
        "authenticated_data": b"\x0etarget.example",
        "group_context": context_bytes(suite),
        "confirmation_tag": b"c" * 32,
        "membership_tag": b"m" * 32,
    }
    fields.update(kw)
    return build_commit(suite, key, **fields)


@pytest.mark.parametrize("suite", list(CipherSuite))
def test_build_commit_signature_round_trip(suite: CipherSuite) -> None:
    key = SigningKey.derive(suite, b"alice")
    context = context_bytes(suite)
    msg = commit_message(suite, key)
    wire = msg.encode()
    decoded = MLSMessage.decode(wire)
    assert decoded == msg
    public = decoded.public_message
    assert public is not None
    content = public.content
    assert (content.group_id, content.epoch) == (GROUP_ID, EPOCH)
    assert content.sender == Sender.member(3)
    assert content.content_type is ContentType.commit
    assert content.body == Commit()
    assert content.body.encode() == EMPTY_COMMIT
    assert content.authenticated_data == b"\x0etarget.example"
    assert public.auth.confirmation_tag == b"c" * 32
    assert public.membership_tag == b"m" * 32

    assert verify_public_message(decoded, suite, key.public_bytes(), context)
    assert verify_public_message(decoded, suite, key.verifying_key, context)
    wrong_key = SigningKey.derive(suite, b"mallory")
    assert not verify_public_message(decoded, suite, wrong_key.public_bytes(), context)
    assert not verify_public_message(decoded, suite, b"\x00" * 5, context)
    for wrong in (
        context_bytes(suite, tree_hash=b"\x12" * 32),
        context_bytes(suite, extensions=b""),
        context_bytes(suite, epoch=EPOCH + 1),
        context_bytes(suite, group_id=b"group-2"),
        b"",
        context[:-1],
    ):
        assert not verify_public_message(decoded, suite, key.public_bytes(), wrong)
    other_suite = CipherSuite(suite % 7 + 1)
    assert not verify_public_message(decoded, other_suite, key.public_bytes(), context)

    tampered = dataclasses.replace(
        public, content=dataclasses.replace(content, authenticated_data=b"\x0eevil.example.")
    )
    assert not verify_public_message(tampered, suite, key.public_bytes(), context)
    # The tags are not signed (they are the caller's MACs): changing them keeps the signature.
    retagged = dataclasses.replace(public, membership_tag=b"x")
    assert verify_public_message(retagged, suite, key.public_bytes(), context)


def test_build_commit_with_a_body_and_wrong_inputs() -> None:
    suite = CipherSuite(1)
    key = SigningKey.derive(suite, b"alice")
    body = Commit(
        proposals=(
            b"\x01" * 32,
            Proposal(proposal_type=ProposalType.remove, body=b"\x00\x00\x00\x07"),
        )
    )
    msg = commit_message(suite, key, commit_body=body.encode())
    public = msg.public_message
    assert public is not None and public.content.body == body
    assert MLSMessage.decode(msg.encode()) == msg
    with pytest.raises(ValueError, match="signing key"):
        commit_message(CipherSuite(2), key, group_context=context_bytes(CipherSuite(2)))
    with pytest.raises(ValueError, match="group_context"):
        commit_message(suite, key, epoch=EPOCH + 1)
    with pytest.raises(ValueError, match="group_context"):
        commit_message(suite, key, group_context=b"junk")
    with pytest.raises(DecodeError):
        commit_message(suite, key, commit_body=b"\x00")
    with pytest.raises(ValueError):
        commit_message(suite, key, leaf_index=1 << 32)


@pytest.mark.parametrize("sender_type", list(SenderType))
def test_sign_and_verify_every_sender_type(sender_type: SenderType) -> None:
    suite = CipherSuite(1)
    key = SigningKey.derive(suite, b"sender")
    index = 5 if sender_type in (SenderType.member, SenderType.external) else None
    content = FramedContent(
        group_id=GROUP_ID,
        epoch=EPOCH,
        sender=Sender(sender_type=sender_type, index=index),
        authenticated_data=b"",
        content_type=ContentType.proposal,
        body=Proposal(proposal_type=ProposalType.remove, body=b"\x00\x00\x00\x01"),
    )
    member = sender_type is SenderType.member
    msg = sign_public_message(
        suite, key, content, context_bytes(suite), membership_tag=b"t" if member else None
    )
    assert MLSMessage.decode(msg.encode()) == msg
    assert verify_public_message(msg, suite, key.public_bytes(), context_bytes(suite))
    # The context is signed for member and new_member_commit senders only.
    other = context_bytes(suite, tree_hash=b"")
    signed_context = sender_type in (SenderType.member, SenderType.new_member_commit)
    assert verify_public_message(msg, suite, key.public_bytes(), other) is not signed_context


def test_framed_content_tbs_layout() -> None:
    content = FramedContent(
        group_id=b"g",
        epoch=1,
        sender=Sender.member(2),
        authenticated_data=b"",
        content_type=ContentType.application,
        body=b"hi",
    )
    tbs = framed_content_tbs(ProtocolVersion.mls10, WireFormat.mls_public_message, content, b"C")
    assert tbs == b"\x00\x01\x00\x01" + content.encode() + b"C"
    assert content.encode().hex() == "0167" + "0000000000000001" + "0100000002" + "00" + "01026869"
    external = dataclasses.replace(content, sender=Sender(sender_type=SenderType.external, index=0))
    tbs = framed_content_tbs(ProtocolVersion.mls10, WireFormat.mls_public_message, external, b"C")
    assert tbs == b"\x00\x01\x00\x01" + external.encode()
