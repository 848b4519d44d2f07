"""The simplified MLS group both roles keep, and its handshake messages.

This module owns what a member and a DS agree on about a group without TreeKEM or the key
schedule (docs/profile.md section 9, "Simplifications of MLS"): the GroupState (id, epoch,
suite, members), the GroupContext a commit's signature covers, and building and reading the
member commits that carry the epoch forward.  Framing and signatures are exact RFC 9420
(impl.mls); what is simplified is how the context is derived: tree_hash is RefHash("MIMI
Portability tree", encoded member list), confirmed_transcript_hash is empty, there are no
extensions, and a commit carries no proposals and no UpdatePath (membership does not
change).  The confirmation and membership tags are RefHashes over the new and the current
GroupContext: carried as RFC 9420 lays them out, but not secret, and nobody relies on them
(a DS in real MLS cannot check them either).
"""

from __future__ import annotations

import dataclasses

from . import crypto, mls
from .codec import DecodeError
from .crypto import CipherSuite, SigningKey
from .errors import BadSignature, Malformed, NotMember, UnknownGroup, WrongEpoch
from .group_state import GroupState, Member
from .messages import MigrationCommitAAD

TREE_HASH_LABEL = b"MIMI Portability tree"
CONFIRMATION_TAG_LABEL = b"MIMI Portability confirmation_tag"
MEMBERSHIP_TAG_LABEL = b"MIMI Portability membership_tag"


#: Tree hashes by member list: (id of its key, suite) -> (the key itself, hash).  A commit
#: changes no membership, so the list (GroupState.member_list_key(): the member tuple, or a
#: lazy state's checked encoding, kept alive here so its id is not reused) is shared by every
#: epoch's state; like an MLS member that keeps its tree hash with its tree, nobody re-encodes
#: and re-hashes the whole list for each commit it builds or reads.
_TREE_HASHES: dict[tuple[int, int], tuple[object, bytes]] = {}
_TREE_HASH_CACHE_SIZE = 4


def tree_hash(state: GroupState) -> bytes:
    """RefHash("MIMI Portability tree", encoded member list), computed once per member list."""
    members = state.member_list_key()
    key = (id(members), state.cipher_suite)
    hit = _TREE_HASHES.pop(key, None)
    if hit is not None and hit[0] is members:
        _TREE_HASHES[key] = hit  # most recently used last: evicted last
        return hit[1]
    value = crypto.ref_hash(
        CipherSuite(state.cipher_suite), TREE_HASH_LABEL, state.members_encoding()
    )
    if len(_TREE_HASHES) >= _TREE_HASH_CACHE_SIZE:
        del _TREE_HASHES[next(iter(_TREE_HASHES))]
    _TREE_HASHES[key] = (members, value)
    return value


def group_context(state: GroupState) -> bytes:
    """The encoded RFC 9420 GroupContext for `state` (simplified tree and transcript)."""
    return mls.GroupContext(
        cipher_suite=CipherSuite(state.cipher_suite),
        group_id=state.group_id,
        epoch=state.epoch,
        tree_hash=tree_hash(state),
        confirmed_transcript_hash=b"",
    ).encode()


def next_epoch(state: GroupState) -> GroupState:
    """`state` one epoch on.  Only the epoch changes, so the member list, checked when `state`
    was built, is not checked again (that check is linear in the group's size), and its kept
    encoding is shared (GroupState.at_epoch)."""
    epoch = state.epoch + 1
    if epoch >= 1 << 64:
        raise ValueError("epoch does not fit in uint64")
    return state.at_epoch(epoch)


def build_commit(state: GroupState, key: SigningKey, leaf_index: int, aad: bytes = b"") -> bytes:
    """A member's commit for `state.epoch`, as an encoded MLSMessage (PublicMessage)."""
    suite = CipherSuite(state.cipher_suite)
    context = group_context(state)
    confirmation_tag = crypto.ref_hash(
        suite, CONFIRMATION_TAG_LABEL, group_context(next_epoch(state))
    )
    message = mls.build_commit(
        suite,
        key,
        group_id=state.group_id,
        epoch=state.epoch,
        leaf_index=leaf_index,
        authenticated_data=aad,
        group_context=context,
        confirmation_tag=confirmation_tag,
        membership_tag=crypto.ref_hash(suite, MEMBERSHIP_TAG_LABEL, context),
    )
    return message.encode()


@dataclasses.dataclass(frozen=True, slots=True)
class ReadCommit:
    """A commit that passed every check against a group state."""

    sender: Member
    epoch: int
    authenticated_data: bytes

    def migration_target(self) -> str | None:
        """The target domain if this is a migration commit (AAD = MigrationCommitAAD)."""
        if not self.authenticated_data:
            return None
        try:
            aad = MigrationCommitAAD.decode(self.authenticated_data)
        except DecodeError:
            return None
        return aad.target_ds_domain.decode()


def read_commit(state: GroupState, data: bytes | mls.MLSMessage) -> ReadCommit:
    """Decode and check a member commit against `state`; raise the named refusal otherwise.

    Checks: MLSMessage with a PublicMessage, content type commit, the group id, the current
    epoch, a member sender, and the sender's signature over FramedContentTBS.  `data` may be
    the MLSMessage a caller already decoded (to find the group), so it is not decoded twice.
    """
    if isinstance(data, mls.MLSMessage):
        message = data
    else:
        try:
            message = mls.MLSMessage.decode(data)
        except DecodeError as err:
            raise Malformed(message_type="MLSMessage", reason=err.reason, detail=str(err)) from None
    public = message.public_message
    if public is None or public.content.content_type != mls.ContentType.commit:
        raise Malformed(
            message_type="MLSMessage", reason="invalid-value", detail="not a PublicMessage commit"
        )
    content = public.content
    if content.group_id != state.group_id:
        raise UnknownGroup(group_id=content.group_id)
    if content.epoch != state.epoch:
        raise WrongEpoch(group_id=state.group_id, current=state.epoch, got=content.epoch)
    sender = content.sender
    is_member = sender.sender_type == mls.SenderType.member and sender.index is not None
    member = state.member(sender.index) if is_member and sender.index is not None else None
    if member is None:
        raise NotMember(group_id=state.group_id, leaf_index=sender.index or 0)
    suite = CipherSuite(state.cipher_suite)
    if not mls.verify_public_message(
        message, suite, member.signature_key, group_context(state)
    ):
        raise BadSignature(
            message_type="Commit", expected_signer=member.identity.decode("utf-8", "replace")
        )
    return ReadCommit(
        sender=member, epoch=content.epoch, authenticated_data=content.authenticated_data
    )
