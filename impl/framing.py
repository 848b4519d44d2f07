"""RFC 9420 section 6 message framing, exact on the wire, as far as a Delivery Service needs it.

This module owns `MLSMessage`, `PublicMessage`, `FramedContent`, `Sender`,
`FramedContentAuthData` and `GroupContext`, and the signature over `FramedContentTBS`
(`framed_content_tbs`, `sign_public_message`, `verify_public_message`).  A DS reads a handshake
message's group_id, epoch, sender, authenticated_data and content_type, and checks a sender's
signature with the key it holds for that sender (shared/design/profile.md, "Group state and
the migration commit").

What is parsed and what is kept as bytes:

* `MLSMessage`: only `mls_public_message` is parsed; for every other wire format (private
  message, welcome, group info, key package) the rest of the message is kept as raw bytes, so
  it round-trips but is not checked.  Only `mls10` is accepted as the version.
* A `Proposal` or `Commit` body is not length-prefixed, so the decoder walks it per RFC 9420
  (KeyPackage, LeafNode, Credential, Capabilities, PreSharedKeyID, UpdatePath, ...) to find
  its end, then keeps the pieces a DS does not interpret as raw bytes: `Proposal.body` (the
  type-specific struct, e.g. a KeyPackage for `add`) and `Commit.path` (an UpdatePath).
  Proposal types, credential types, leaf node sources and PSK types other than RFC 9420's are
  rejected ("invalid-value"): their length cannot be known.  Constructors walk raw pieces the
  same way, so every value encodes to bytes that decode again.
* Decoding is strict like `impl.codec`: only `DecodeError` escapes, with its reason codes, and
  every decodable input re-encodes to exactly itself.

The project's group has no TreeKEM and no key schedule: `confirmation_tag` (in
`FramedContentAuthData`, for commits) and `membership_tag` (in `PublicMessage`, for member
senders) are computed by the caller (this project derives them with a stated simplification
instead of the RFC 9420 key schedule); framing only carries them and never checks them.
`verify_public_message` checks the signature (and that the GroupContext fits the content) only.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import ClassVar, Final, Self, TypeVar

from . import crypto
from .codec import DecodeError, Reader, Writer
from .messages import Struct, _build, _check_bytes, _check_uint

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

#: SignWithLabel label of FramedContentTBS (RFC 9420 section 6.1), without "MLS 1.0 ".
FRAMED_CONTENT_TBS_LABEL: Final = b"FramedContentTBS"
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


# --- walkers: pull a nested RFC 9420 struct and push it unchanged ------------------------------
#
# Each `_copy_*` reads one struct from `r` with the strict codec rules and writes the same
# struct to `w`; since the encoding is canonical, the bytes written are the bytes read.

_Copier = Callable[[Reader, Writer], None]


def _capture(r: Reader, copy: _Copier) -> bytes:
    w = Writer()
    copy(r, w)
    return bytes(w)


def _validate(data: bytes, copy: _Copier, what: str) -> None:
    """Constructor helper: `data` must be exactly one struct (raises DecodeError, a ValueError)."""
    r = Reader(data)
    copy(r, Writer())
    r.finish(what)


def _copy_opaque(r: Reader, w: Writer, what: str) -> None:
    w.push_opaque(r.pull_opaque(what))


def _copy_vector(r: Reader, w: Writer, item: _Copier, what: str) -> None:
    inner = Writer()
    r.pull_vector(lambda rr: item(rr, inner), what)
    w.push_opaque(bytes(inner))


def _copy_uint16s(r: Reader, w: Writer, what: str) -> None:
    _copy_vector(r, w, lambda rr, ww: ww.push_uint16(rr.pull_uint16(what)), what)


def _copy_extension(r: Reader, w: Writer) -> None:
    w.push_uint16(r.pull_uint16("Extension.extension_type"))
    _copy_opaque(r, w, "Extension.extension_data")


def _copy_extensions(r: Reader, w: Writer) -> None:
    _copy_vector(r, w, _copy_extension, "extensions")


def _pull_extensions_content(r: Reader, what: str) -> bytes:
    """An `Extension extensions<V>`, returned without its length header."""
    inner = Writer()
    r.pull_vector(lambda rr: _copy_extension(rr, inner), what)
    return bytes(inner)


def _copy_credential(r: Reader, w: Writer) -> None:
    kind = r.pull_uint16("Credential.credential_type")
    w.push_uint16(kind)
    if kind == 1:  # basic
        _copy_opaque(r, w, "Credential.identity")
    elif kind == 2:  # x509
        _copy_vector(
            r, w, lambda rr, ww: _copy_opaque(rr, ww, "Certificate.cert_data"), "certificates"
        )
    else:
        raise DecodeError("invalid-value", f"Credential: unknown credential_type {kind}")


def _copy_leaf_node(r: Reader, w: Writer) -> None:
    _copy_opaque(r, w, "LeafNode.encryption_key")
    _copy_opaque(r, w, "LeafNode.signature_key")
    _copy_credential(r, w)
    for field in ("versions", "cipher_suites", "extensions", "proposals", "credentials"):
        _copy_uint16s(r, w, f"Capabilities.{field}")
    source = r.pull_uint8("LeafNode.leaf_node_source")
    w.push_uint8(source)
    if source == 1:  # key_package: Lifetime
        w.push_uint64(r.pull_uint64("Lifetime.not_before"))
        w.push_uint64(r.pull_uint64("Lifetime.not_after"))
    elif source == 3:  # commit
        _copy_opaque(r, w, "LeafNode.parent_hash")
    elif source != 2:  # update: nothing
        raise DecodeError("invalid-value", f"LeafNode: unknown leaf_node_source {source}")
    _copy_extensions(r, w)
    _copy_opaque(r, w, "LeafNode.signature")


def _copy_key_package(r: Reader, w: Writer) -> None:
    w.push_uint16(r.pull_uint16("KeyPackage.version"))
    w.push_uint16(r.pull_uint16("KeyPackage.cipher_suite"))
    _copy_opaque(r, w, "KeyPackage.init_key")
    _copy_leaf_node(r, w)
    _copy_extensions(r, w)
    _copy_opaque(r, w, "KeyPackage.signature")


def _copy_psk_id(r: Reader, w: Writer) -> None:
    kind = r.pull_uint8("PreSharedKeyID.psktype")
    w.push_uint8(kind)
    if kind == 1:  # external
        _copy_opaque(r, w, "PreSharedKeyID.psk_id")
    elif kind == 2:  # resumption
        w.push_uint8(r.pull_uint8("PreSharedKeyID.usage"))
        _copy_opaque(r, w, "PreSharedKeyID.psk_group_id")
        w.push_uint64(r.pull_uint64("PreSharedKeyID.psk_epoch"))
    else:
        raise DecodeError("invalid-value", f"PreSharedKeyID: unknown psktype {kind}")
    _copy_opaque(r, w, "PreSharedKeyID.psk_nonce")


def _copy_reinit(r: Reader, w: Writer) -> None:
    _copy_opaque(r, w, "ReInit.group_id")
    w.push_uint16(r.pull_uint16("ReInit.version"))
    w.push_uint16(r.pull_uint16("ReInit.cipher_suite"))
    _copy_extensions(r, w)


def _copy_hpke_ciphertext(r: Reader, w: Writer) -> None:
    _copy_opaque(r, w, "HPKECiphertext.kem_output")
    _copy_opaque(r, w, "HPKECiphertext.ciphertext")


def _copy_update_path_node(r: Reader, w: Writer) -> None:
    _copy_opaque(r, w, "UpdatePathNode.encryption_key")
    _copy_vector(r, w, _copy_hpke_ciphertext, "UpdatePathNode.encrypted_path_secret")


def _copy_update_path(r: Reader, w: Writer) -> None:
    _copy_leaf_node(r, w)
    _copy_vector(r, w, _copy_update_path_node, "UpdatePath.nodes")


_PROPOSAL_BODIES: Final[dict[ProposalType, _Copier]] = {
    ProposalType.add: _copy_key_package,
    ProposalType.update: _copy_leaf_node,
    ProposalType.remove: lambda r, w: w.push_uint32(r.pull_uint32("Remove.removed")),
    ProposalType.psk: _copy_psk_id,
    ProposalType.reinit: _copy_reinit,
    ProposalType.external_init: lambda r, w: _copy_opaque(r, w, "ExternalInit.kem_output"),
    ProposalType.group_context_extensions: _copy_extensions,
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
        _validate(self.body, _PROPOSAL_BODIES[self.proposal_type], "Proposal.body")

    def push(self, w: Writer) -> None:
        w.push_uint16(self.proposal_type)
        w.push_fixed(self.body, len(self.body))

    @classmethod
    def pull(cls, r: Reader) -> Self:
        kind = _enum(ProposalType, r.pull_uint16("Proposal.proposal_type"), "Proposal")
        body = _capture(r, _PROPOSAL_BODIES[kind])
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
            _validate(self.path, _copy_update_path, "Commit.path")

    def push(self, w: Writer) -> None:
        w.push_vector(self.proposals, _push_proposal_or_ref)
        w.push_optional(self.path, lambda ww, p: ww.push_fixed(p, len(p)))

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            proposals=tuple(r.pull_vector(_pull_proposal_or_ref, "Commit.proposals")),
            path=r.pull_optional(lambda rr: _capture(rr, _copy_update_path), "Commit.path"),
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
            _copy_extension(r, Writer())

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
            extensions=_pull_extensions_content(r, "GroupContext.extensions"),
        )


# --- signatures --------------------------------------------------------------------------------


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
