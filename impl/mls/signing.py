"""RFC 9420 section 6.1 signatures over framed content, and the simplified group's commit.

This module owns `FramedContentTBS` (`framed_content_tbs`) and the signature over it:
`sign_public_message` (SignWithLabel under "FramedContentTBS") and `verify_public_message`
(VerifyWithLabel, False and never an exception for anything that does not verify), both of
which first check that the GroupContext given decodes and matches the suite, group_id and
epoch of the content; and `build_commit`, a member's signed commit for the project's
simplified group (impl.group).  The project's group has no TreeKEM and no key schedule, so
`confirmation_tag` (for commits) and `membership_tag` (for member senders) are computed by
the caller with a stated simplification (docs/profile.md section 9); this module carries them
and never checks them.  The draft's own signatures (SignWithLabel under "MIMI Portability
<struct>") are impl.signing, not this module.
"""

from __future__ import annotations

from typing import Final

from .. import crypto
from ..codec import DecodeError, Writer
from .framing import (
    EMPTY_COMMIT,
    Commit,
    ContentType,
    FramedContent,
    FramedContentAuthData,
    GroupContext,
    MLSMessage,
    ProtocolVersion,
    PublicMessage,
    Sender,
    SenderType,
    WireFormat,
)

__all__ = [
    "FRAMED_CONTENT_TBS_LABEL",
    "build_commit",
    "framed_content_tbs",
    "sign_public_message",
    "verify_public_message",
]

#: SignWithLabel label of FramedContentTBS (RFC 9420 section 6.1), without "MLS 1.0 ".
FRAMED_CONTENT_TBS_LABEL: Final = b"FramedContentTBS"



def framed_content_tbs(
    version: ProtocolVersion, wire_format: WireFormat, content: FramedContent, group_context: bytes
) -> bytes:
    """The encoded `FramedContentTBS`.  `group_context` (an encoded GroupContext) is part of
    it for member and new_member_commit senders only; for other senders it is ignored."""
    w = Writer()
    w.push_uint16(version)
    w.push_uint16(wire_format)
    content.push(w)
    if content.sender.sender_type in (SenderType.member, SenderType.new_member_commit):
        w.push_fixed(group_context, len(group_context))
    return bytes(w)


def _check_context(content: FramedContent, suite: crypto.CipherSuite, context: bytes) -> bool:
    """Whether `context` decodes and matches the suite, group_id and epoch."""
    try:
        ctx = GroupContext.decode(context)
    except DecodeError:
        return False
    return (ctx.cipher_suite, ctx.group_id, ctx.epoch) == (suite, content.group_id, content.epoch)


def sign_public_message(
    suite: crypto.CipherSuite,
    signing_key: crypto.SigningKey,
    content: FramedContent,
    group_context: bytes,
    *,
    confirmation_tag: bytes | None = None,
    membership_tag: bytes | None = None,
) -> MLSMessage:
    """Sign `content` as a PublicMessage: SignWithLabel(key, "FramedContentTBS", TBS).

    The tags are the caller's (see the module docstring): confirmation_tag for a commit,
    membership_tag for a member sender.  Raises ValueError if the key is not of `suite`, if
    `group_context` is not a GroupContext of this suite, group_id and epoch, or if the tags do
    not fit the content.
    """
    if signing_key.suite != suite:
        raise ValueError(f"signing key is for {signing_key.suite.name}, not {suite.name}")
    if not _check_context(content, suite, group_context):
        raise ValueError("group_context is not a GroupContext of this suite, group and epoch")
    tbs = framed_content_tbs(
        ProtocolVersion.mls10, WireFormat.mls_public_message, content, group_context
    )
    signature = crypto.sign_with_label(signing_key, FRAMED_CONTENT_TBS_LABEL, tbs)
    auth = FramedContentAuthData(signature=signature, confirmation_tag=confirmation_tag)
    message = PublicMessage(content=content, auth=auth, membership_tag=membership_tag)
    return MLSMessage(wire_format=WireFormat.mls_public_message, body=message)


def verify_public_message(
    message: MLSMessage | PublicMessage,
    suite: crypto.CipherSuite,
    signature_key: bytes | crypto.VerifyingKey,
    group_context: bytes,
) -> bool:
    """VerifyWithLabel(signature_key, "FramedContentTBS", TBS, signature): True iff valid.

    False, never an exception, for a message that is not a public message, a malformed key or
    signature, or a `group_context` that does not decode or whose suite, group_id or epoch
    differ from `suite` and the content's.  The tags are not checked.
    """
    public = message.public_message if isinstance(message, MLSMessage) else message
    if public is None or not _check_context(public.content, suite, group_context):
        return False
    tbs = framed_content_tbs(
        ProtocolVersion.mls10, WireFormat.mls_public_message, public.content, group_context
    )
    return crypto.verify_with_label(
        suite, signature_key, FRAMED_CONTENT_TBS_LABEL, tbs, public.auth.signature
    )


def build_commit(
    suite: crypto.CipherSuite,
    signing_key: crypto.SigningKey,
    *,
    group_id: bytes,
    epoch: int,
    leaf_index: int,
    authenticated_data: bytes,
    group_context: bytes,
    confirmation_tag: bytes,
    membership_tag: bytes,
    commit_body: bytes = EMPTY_COMMIT,
) -> MLSMessage:
    """A member's signed commit PublicMessage for the project's simplified group.

    `commit_body` is an encoded Commit (default: no proposals, no path); the tags are the
    caller's.  Raises ValueError (DecodeError for a bad `commit_body`) on bad input.
    """
    content = FramedContent(
        group_id=group_id,
        epoch=epoch,
        sender=Sender.member(leaf_index),
        authenticated_data=authenticated_data,
        content_type=ContentType.commit,
        body=Commit.decode(commit_body),
    )
    return sign_public_message(
        suite,
        signing_key,
        content,
        group_context,
        confirmation_tag=confirmation_tag,
        membership_tag=membership_tag,
    )
