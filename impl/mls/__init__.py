"""The RFC 9420 parts of the implementation: MLS framing, its signatures, the interop checks.

This package owns what the implementation takes from RFC 9420 (MLS) rather than from the
draft: `walkers` (the nested structs a DS carries without interpreting them: KeyPackage,
LeafNode, UpdatePath, ...), `framing` (MLSMessage, PublicMessage, FramedContent and the rest
of section 6, exact on the wire), `signing` (FramedContentTBS and the signature over it, and
the simplified group's commit) and `interop` (checks against the official RFC 9420 test
vectors of mlswg/mls-implementations).  The TLS presentation language (impl.codec) and the
ciphersuites with SignWithLabel and RefHash (impl.crypto) are RFC 9420 too, but the draft's
own messages are built on them, so they stay at the top of impl/.  The names of `framing`
and `signing` are re-exported here: `from impl.mls import MLSMessage, verify_public_message`.
"""

from .framing import (
    EMPTY_COMMIT,
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
from .signing import (
    FRAMED_CONTENT_TBS_LABEL,
    build_commit,
    framed_content_tbs,
    sign_public_message,
    verify_public_message,
)

__all__ = [
    "EMPTY_COMMIT",
    "FRAMED_CONTENT_TBS_LABEL",
    "Commit",
    "ContentType",
    "FramedContent",
    "FramedContentAuthData",
    "GroupContext",
    "MLSMessage",
    "Proposal",
    "ProposalType",
    "ProtocolVersion",
    "PublicMessage",
    "Sender",
    "SenderType",
    "WireFormat",
    "build_commit",
    "framed_content_tbs",
    "sign_public_message",
    "verify_public_message",
]
