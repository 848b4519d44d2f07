"""RFC 9420 section 6 framing structs, exact on the wire, as far as a Delivery Service needs them.

This module owns `MLSMessage`, `PublicMessage`, `FramedContent`, `Sender`,
`FramedContentAuthData`, `GroupContext`, `Proposal` and `Commit`, and their code points.  A DS
reads a handshake message's group_id, epoch, sender, authenticated_data and content_type, and
checks a sender's signature (impl.mls.signing) with the key it holds for that sender
(docs/profile.md section 4, "Group state and the migration commit").  What is parsed and what
is kept as bytes: of an `MLSMessage` only `mls_public_message` is parsed (only version `mls10`
is accepted); every other wire format keeps the rest of the message as raw bytes, so it
round-trips unchecked.  A `Proposal` body (the type-specific struct, e.g. a KeyPackage for
`add`) and a `Commit.path` (an UpdatePath) are kept as raw bytes too, found and checked by the
walkers of impl.mls.walkers; constructors walk raw pieces the same way, so every value encodes
to bytes that decode again.  Proposal types other than RFC 9420's are rejected
("invalid-value").  Decoding is strict like impl.codec: only `DecodeError` escapes, with its
reason codes, and every decodable input re-encodes to exactly itself.  The tags
(`confirmation_tag`, `membership_tag`) are carried, never computed or checked here.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import ClassVar, Final, Self, TypeVar

from .. import crypto
from ..codec import DecodeError, Reader, Writer
from ..messages import Struct, _build, _check_bytes, _check_uint
from .walkers import (
    Copier,
    capture,
    copy_extension,
    copy_extensions,
    copy_external_init,
    copy_key_package,
    copy_leaf_node,
    copy_psk_id,
    copy_reinit,
    copy_remove,
    copy_update_path,
    pull_extensions_content,
    validate,
)

__all__ = [
    "EMPTY_COMMIT",
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
]

#: A valid empty Commit: `proposals<V>` of length 0, `optional<UpdatePath>` absent.
EMPTY_COMMIT: Final = b"\x00\x00"


class ProtocolVersion(enum.IntEnum):
    mls10 = 1


class WireFormat(enum.IntEnum):
    mls_public_message = 1
    mls_private_message = 2
    mls_welcome = 3
    mls_group_info = 4
    mls_key_package = 5


class SenderType(enum.IntEnum):
    member = 1
    external = 2
    new_member_proposal = 3
    new_member_commit = 4


class ContentType(enum.IntEnum):
    application = 1
    proposal = 2
    commit = 3


class ProposalType(enum.IntEnum):
    add = 1
    update = 2
    remove = 3
    psk = 4
    reinit = 5
    external_init = 6
    group_context_extensions = 7


E = TypeVar("E", bound=enum.IntEnum)


def _enum(cls: type[E], value: int, what: str) -> E:
    """A decoded code point as its enum; an unknown one is a DecodeError "invalid-value"."""
    try:
        return cls(value)
    except ValueError:
        raise DecodeError("invalid-value", f"{what}: unknown value {value}") from None


def _coerce(obj: object, name: str, cls: type[enum.IntEnum]) -> None:
    """Constructor helper: turn an int field into its enum (ValueError if not a member)."""
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a {cls.__name__}, got {value!r}")
    object.__setattr__(obj, name, cls(value))

#: The walker of each proposal type's body (RFC 9420 section 12.1).
_PROPOSAL_BODIES: Final[dict[ProposalType, Copier]] = {
    ProposalType.add: copy_key_package,
    ProposalType.update: copy_leaf_node,
    ProposalType.remove: copy_remove,
    ProposalType.psk: copy_psk_id,
    ProposalType.reinit: copy_reinit,
    ProposalType.external_init: copy_external_init,
    ProposalType.group_context_extensions: copy_extensions,
}


# --- proposals and commits ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Proposal(Struct):
    """`Proposal`: the type, and the type-specific struct (Add's KeyPackage, ...) as raw bytes."""

    NAME: ClassVar[str] = "Proposal"
    proposal_type: ProposalType
    body: bytes

    def __post_init__(self) -> None:
        _coerce(self, "proposal_type", ProposalType)
        _check_bytes(self.body, "Proposal.body")
        validate(self.body, _PROPOSAL_BODIES[self.proposal_type], "Proposal.body")

    def push(self, w: Writer) -> None:
        w.push_uint16(self.proposal_type)
        w.push_fixed(self.body, len(self.body))

    @classmethod
    def pull(cls, r: Reader) -> Self:
        kind = _enum(ProposalType, r.pull_uint16("Proposal.proposal_type"), "Proposal")
        body = capture(r, _PROPOSAL_BODIES[kind])
        return _build(cls, cls.NAME, proposal_type=kind, body=body)


def _pull_proposal_or_ref(r: Reader) -> Proposal | bytes:
    kind = r.pull_uint8("ProposalOrRef.type")
    if kind == 1:
        return Proposal.pull(r)
    if kind == 2:
        return r.pull_opaque("ProposalOrRef.reference")
    raise DecodeError("invalid-value", f"ProposalOrRef: unknown type {kind}")


def _push_proposal_or_ref(w: Writer, item: Proposal | bytes) -> None:
    if isinstance(item, Proposal):
        w.push_uint8(1)
        item.push(w)
    else:
        w.push_uint8(2)
        w.push_opaque(item)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Commit(Struct):
    """`Commit { ProposalOrRef proposals<V>; optional<UpdatePath> path; }`.

    `proposals`: a `Proposal` for an inline proposal, bytes for a ProposalRef.  `path`: the
    encoded UpdatePath, or None.
    """

    NAME: ClassVar[str] = "Commit"
    proposals: tuple[Proposal | bytes, ...] = ()
    path: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.proposals, tuple):
            raise ValueError("Commit.proposals must be a tuple")
        for item in self.proposals:
            if not isinstance(item, Proposal | bytes):
                raise ValueError("Commit.proposals: each item must be a Proposal or bytes")
        if self.path is not None:
            _check_bytes(self.path, "Commit.path")
            validate(self.path, copy_update_path, "Commit.path")

    def push(self, w: Writer) -> None:
        w.push_vector(self.proposals, _push_proposal_or_ref)
        w.push_optional(self.path, lambda ww, p: ww.push_fixed(p, len(p)))

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            proposals=tuple(r.pull_vector(_pull_proposal_or_ref, "Commit.proposals")),
            path=r.pull_optional(lambda rr: capture(rr, copy_update_path), "Commit.path"),
        )


# --- framing -----------------------------------------------------------------------------------

_INDEXED: Final = (SenderType.member, SenderType.external)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Sender(Struct):
    """`Sender`: `index` is the leaf_index of a member or the sender_index of an external
    sender (uint32), None for the new_member_* types (which carry no index)."""

    NAME: ClassVar[str] = "Sender"
    sender_type: SenderType
    index: int | None = None

    def __post_init__(self) -> None:
        _coerce(self, "sender_type", SenderType)
        if self.sender_type in _INDEXED:
            if self.index is None:
                raise ValueError(f"Sender: a {self.sender_type.name} sender needs an index")
            _check_uint(self.index, 32, "Sender.index")
        elif self.index is not None:
            raise ValueError(f"Sender: a {self.sender_type.name} sender has no index")

    @classmethod
    def member(cls, leaf_index: int) -> Sender:
        return cls(sender_type=SenderType.member, index=leaf_index)

    def push(self, w: Writer) -> None:
        w.push_uint8(self.sender_type)
        if self.index is not None:
            w.push_uint32(self.index)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        kind = _enum(SenderType, r.pull_uint8("Sender.sender_type"), "Sender")
        index = r.pull_uint32("Sender.index") if kind in _INDEXED else None
        return _build(cls, cls.NAME, sender_type=kind, index=index)


_BODY_TYPES: Final[dict[ContentType, type]] = {
    ContentType.application: bytes,
    ContentType.proposal: Proposal,
    ContentType.commit: Commit,
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FramedContent(Struct):
    """`FramedContent`.  `body` by content_type: application -> the application_data bytes,
    proposal -> a `Proposal`, commit -> a `Commit`."""

    NAME: ClassVar[str] = "FramedContent"
    group_id: bytes
    epoch: int
    sender: Sender
    authenticated_data: bytes
    content_type: ContentType
    body: bytes | Proposal | Commit

    def __post_init__(self) -> None:
        _check_bytes(self.group_id, "FramedContent.group_id")
        _check_uint(self.epoch, 64, "FramedContent.epoch")
        if not isinstance(self.sender, Sender):
            raise ValueError("FramedContent.sender must be a Sender")
        _check_bytes(self.authenticated_data, "FramedContent.authenticated_data")
        _coerce(self, "content_type", ContentType)
        expected = _BODY_TYPES[self.content_type]
        if not isinstance(self.body, expected):
            raise ValueError(
                f"FramedContent: a {self.content_type.name} body must be {expected.__name__}"
            )

    def push(self, w: Writer) -> None:
        w.push_opaque(self.group_id)
        w.push_uint64(self.epoch)
        self.sender.push(w)
        w.push_opaque(self.authenticated_data)
        w.push_uint8(self.content_type)
        if isinstance(self.body, bytes):
            w.push_opaque(self.body)
        else:
            self.body.push(w)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        group_id = r.pull_opaque("FramedContent.group_id")
        epoch = r.pull_uint64("FramedContent.epoch")
        sender = Sender.pull(r)
        authenticated_data = r.pull_opaque("FramedContent.authenticated_data")
        kind = _enum(ContentType, r.pull_uint8("FramedContent.content_type"), "FramedContent")
        body: bytes | Proposal | Commit
        if kind is ContentType.application:
            body = r.pull_opaque("FramedContent.application_data")
        elif kind is ContentType.proposal:
            body = Proposal.pull(r)
        else:
            body = Commit.pull(r)
        return _build(
            cls,
            cls.NAME,
            group_id=group_id,
            epoch=epoch,
            sender=sender,
            authenticated_data=authenticated_data,
            content_type=kind,
            body=body,
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FramedContentAuthData(Struct):
    """`FramedContentAuthData`: the signature, and the confirmation_tag of a commit.

    Inside a PublicMessage the content type says whether a tag follows (`pull_for`).  Decoded
    alone, a tag is read iff bytes follow the signature.
    """

    NAME: ClassVar[str] = "FramedContentAuthData"
    signature: bytes
    confirmation_tag: bytes | None = None

    def __post_init__(self) -> None:
        _check_bytes(self.signature, "FramedContentAuthData.signature")
        if self.confirmation_tag is not None:
            _check_bytes(self.confirmation_tag, "FramedContentAuthData.confirmation_tag")

    def push(self, w: Writer) -> None:
        w.push_opaque(self.signature)
        if self.confirmation_tag is not None:
            w.push_opaque(self.confirmation_tag)

    @classmethod
    def pull_for(cls, r: Reader, content_type: ContentType) -> Self:
        signature = r.pull_opaque("FramedContentAuthData.signature")
        tag = None
        if content_type is ContentType.commit:
            tag = r.pull_opaque("FramedContentAuthData.confirmation_tag")
        return _build(cls, cls.NAME, signature=signature, confirmation_tag=tag)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        signature = r.pull_opaque("FramedContentAuthData.signature")
        tag = r.pull_opaque("FramedContentAuthData.confirmation_tag") if r.remaining else None
        return _build(cls, cls.NAME, signature=signature, confirmation_tag=tag)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PublicMessage(Struct):
    """`PublicMessage`: content, auth data, and the membership_tag of a member sender.

    The confirmation_tag is present iff the content is a commit, the membership_tag iff the
    sender is a member (checked at construction, implied by the wire at decode).
    """

    NAME: ClassVar[str] = "PublicMessage"
    content: FramedContent
    auth: FramedContentAuthData
    membership_tag: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.content, FramedContent):
            raise ValueError("PublicMessage.content must be a FramedContent")
        if not isinstance(self.auth, FramedContentAuthData):
            raise ValueError("PublicMessage.auth must be a FramedContentAuthData")
        is_commit = self.content.content_type is ContentType.commit
        if (self.auth.confirmation_tag is not None) != is_commit:
            raise ValueError("PublicMessage: confirmation_tag must be present iff a commit")
        is_member = self.content.sender.sender_type is SenderType.member
        if (self.membership_tag is not None) != is_member:
            raise ValueError("PublicMessage: membership_tag must be present iff member sender")
        if self.membership_tag is not None:
            _check_bytes(self.membership_tag, "PublicMessage.membership_tag")

    def push(self, w: Writer) -> None:
        self.content.push(w)
        self.auth.push(w)
        if self.membership_tag is not None:
            w.push_opaque(self.membership_tag)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        content = FramedContent.pull(r)
        auth = FramedContentAuthData.pull_for(r, content.content_type)
        tag = None
        if content.sender.sender_type is SenderType.member:
            tag = r.pull_opaque("PublicMessage.membership_tag")
        return _build(cls, cls.NAME, content=content, auth=auth, membership_tag=tag)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MLSMessage(Struct):
    """`MLSMessage`: a `PublicMessage` body for mls_public_message; for every other wire
    format the rest of the message as raw bytes (unchecked).  Version must be mls10."""

    NAME: ClassVar[str] = "MLSMessage"
    version: ProtocolVersion = ProtocolVersion.mls10
    wire_format: WireFormat
    body: PublicMessage | bytes

    def __post_init__(self) -> None:
        _coerce(self, "version", ProtocolVersion)
        _coerce(self, "wire_format", WireFormat)
        if self.wire_format is WireFormat.mls_public_message:
            if not isinstance(self.body, PublicMessage):
                raise ValueError("MLSMessage: a public message body must be a PublicMessage")
        elif not isinstance(self.body, bytes):
            raise ValueError("MLSMessage: the body of a non-public message must be bytes")

    @property
    def public_message(self) -> PublicMessage | None:
        return self.body if isinstance(self.body, PublicMessage) else None

    def push(self, w: Writer) -> None:
        w.push_uint16(self.version)
        w.push_uint16(self.wire_format)
        if isinstance(self.body, PublicMessage):
            self.body.push(w)
        else:
            w.push_fixed(self.body, len(self.body))

    @classmethod
    def pull(cls, r: Reader) -> Self:
        """Reads to the end of the input for wire formats other than mls_public_message."""
        version = _enum(ProtocolVersion, r.pull_uint16("MLSMessage.version"), "MLSMessage")
        wire = _enum(WireFormat, r.pull_uint16("MLSMessage.wire_format"), "MLSMessage")
        body: PublicMessage | bytes
        if wire is WireFormat.mls_public_message:
            body = PublicMessage.pull(r)
        else:
            body = r.pull_fixed(r.remaining, "MLSMessage.body")
        return _build(cls, cls.NAME, version=version, wire_format=wire, body=body)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GroupContext(Struct):
    """`GroupContext`; `extensions` is the encoded `Extension extensions<V>` content (the
    Extension structs, without the vector's length header)."""

    NAME: ClassVar[str] = "GroupContext"
    version: ProtocolVersion = ProtocolVersion.mls10
    cipher_suite: crypto.CipherSuite
    group_id: bytes
    epoch: int
    tree_hash: bytes
    confirmed_transcript_hash: bytes
    extensions: bytes = b""

    def __post_init__(self) -> None:
        _coerce(self, "version", ProtocolVersion)
        _coerce(self, "cipher_suite", crypto.CipherSuite)
        _check_bytes(self.group_id, "GroupContext.group_id")
        _check_uint(self.epoch, 64, "GroupContext.epoch")
        _check_bytes(self.tree_hash, "GroupContext.tree_hash")
        _check_bytes(self.confirmed_transcript_hash, "GroupContext.confirmed_transcript_hash")
        _check_bytes(self.extensions, "GroupContext.extensions")
        r = Reader(self.extensions)
        while r.remaining:  # a sequence of Extension structs (DecodeError is a ValueError)
            copy_extension(r, Writer())

    def push(self, w: Writer) -> None:
        w.push_uint16(self.version)
        w.push_uint16(self.cipher_suite)
        w.push_opaque(self.group_id)
        w.push_uint64(self.epoch)
        w.push_opaque(self.tree_hash)
        w.push_opaque(self.confirmed_transcript_hash)
        w.push_opaque(self.extensions)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        version = _enum(ProtocolVersion, r.pull_uint16("GroupContext.version"), "GroupContext")
        suite = _enum(
            crypto.CipherSuite, r.pull_uint16("GroupContext.cipher_suite"), "GroupContext"
        )
        return _build(
            cls,
            cls.NAME,
            version=version,
            cipher_suite=suite,
            group_id=r.pull_opaque("GroupContext.group_id"),
            epoch=r.pull_uint64("GroupContext.epoch"),
            tree_hash=r.pull_opaque("GroupContext.tree_hash"),
            confirmed_transcript_hash=r.pull_opaque("GroupContext.confirmed_transcript_hash"),
            extensions=pull_extensions_content(r, "GroupContext.extensions"),
        )
