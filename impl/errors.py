"""Every refusal a role can make, named, carrying what the peer needs to act; and the
errors of calling a role wrongly, apart from them.

This module owns the error taxonomy of the roles, split as h11 splits its errors:
- `ProtocolError` (h11's RemoteProtocolError): one named class per refusal of a peer's
  input.  A role raises exactly one of these from `receive` and changes no state when it
  does; low-level `DecodeError`s are translated to `Malformed` at the role's boundary.  The
  network answers the sender with it (a Refusal envelope).
- `LocalProtocolError`: the application called a role wrongly (`start_migration` while one
  is in flight, a call for a group the client is not in, ...).  It also changes no state,
  but it is a bug of the caller, never sent to a peer.
`code` is a stable snake_case name used in refusal envelopes, logs and tests; `details()`
the fields a peer (or the caller) can act on (e.g. WrongEpoch.current, GroupMoved.target).
"""

from __future__ import annotations

from typing import ClassVar


class RoleError(Exception):
    """A named error of a role. Subclasses set `code` and keep their fields as attributes."""

    code: ClassVar[str] = "role_error"

    def details(self) -> dict[str, object]:
        return {
            k: v.hex() if isinstance(v, bytes) else v
            for k, v in vars(self).items()
            if not k.startswith("_")
        }

    def __str__(self) -> str:
        shown = {
            k: v[:32] + "..." if isinstance(v, str) and len(v) > 40 else v
            for k, v in self.details().items()
        }
        fields = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"{self.code}({fields})"


class ProtocolError(RoleError):
    """Base of every refusal of a peer's input (what the network sends back as a Refusal)."""

    code: ClassVar[str] = "protocol_error"


class LocalProtocolError(RoleError):
    """Base of every misuse of a role by its own application: a caller's bug, not a peer's
    input; never sent to a peer."""

    code: ClassVar[str] = "local_protocol_error"


class Malformed(ProtocolError):
    """The bytes do not decode (the DecodeError's reason and text)."""

    code = "malformed"

    def __init__(self, *, message_type: str, reason: str, detail: str) -> None:
        super().__init__()
        self.message_type, self.reason, self.detail = message_type, reason, detail


class UnexpectedMessage(ProtocolError):
    """A message that this role does not take in its current state."""

    code = "unexpected_message"

    def __init__(self, *, message_type: str, state: str) -> None:
        super().__init__()
        self.message_type, self.state = message_type, state


class WrongRecipient(ProtocolError):
    """The message names another DS than the one that received it."""

    code = "wrong_recipient"

    def __init__(self, *, expected: str, named: str) -> None:
        super().__init__()
        self.expected, self.named = expected, named


class UnknownPeer(ProtocolError):
    """No signing key for this DS and ciphersuite in the trust store."""

    code = "unknown_peer"

    def __init__(self, *, domain: str, cipher_suite: int) -> None:
        super().__init__()
        self.domain, self.cipher_suite = domain, cipher_suite


class UnsupportedSuite(ProtocolError):
    """This DS has no signing key for the ciphersuite."""

    code = "unsupported_suite"

    def __init__(self, *, cipher_suite: int) -> None:
        super().__init__()
        self.cipher_suite = cipher_suite


class BadSignature(ProtocolError):
    """A signature that does not verify under the expected signer's key and label."""

    code = "bad_signature"

    def __init__(self, *, message_type: str, expected_signer: str) -> None:
        super().__init__()
        self.message_type, self.expected_signer = message_type, expected_signer


class NotAuthorized(ProtocolError):
    """A policy (source or target) refuses this client."""

    code = "not_authorized"

    def __init__(self, *, policy: str, client: str) -> None:
        super().__init__()
        self.policy, self.client = policy, client


class NotMember(ProtocolError):
    """The sender is not a current member of the group."""

    code = "not_member"

    def __init__(self, *, group_id: bytes, leaf_index: int) -> None:
        super().__init__()
        self.group_id, self.leaf_index = group_id, leaf_index


class UnknownGroup(ProtocolError):
    """This DS neither hosts the group nor keeps a tombstone for it."""

    code = "unknown_group"

    def __init__(self, *, group_id: bytes) -> None:
        super().__init__()
        self.group_id = group_id


class WrongEpoch(ProtocolError):
    """The message is for another epoch than the group's current one."""

    code = "wrong_epoch"

    def __init__(self, *, group_id: bytes, current: int, got: int) -> None:
        super().__init__()
        self.group_id, self.current, self.got = group_id, current, got


class GroupLocked(ProtocolError):
    """A migration to `target` is in flight: no other commit is sequenced."""

    code = "group_locked"

    def __init__(self, *, group_id: bytes, target: str) -> None:
        super().__init__()
        self.group_id, self.target = group_id, target


class GroupMoved(ProtocolError):
    """Tombstone: the group lives at `target` now; `commit` is the migration commit to apply."""

    code = "group_moved"

    def __init__(self, *, group_id: bytes, target: str, commit: bytes) -> None:
        super().__init__()
        self.group_id, self.target, self.commit = group_id, target, commit


class GroupExists(ProtocolError):
    """The target already hosts or has a pending import of this group id."""

    code = "group_exists"

    def __init__(self, *, group_id: bytes) -> None:
        super().__init__()
        self.group_id = group_id


class UnknownNonce(ProtocolError):
    """A nonce this target never issued (or issued for another request)."""

    code = "unknown_nonce"

    def __init__(self, *, nonce: bytes) -> None:
        super().__init__()
        self.nonce = nonce


class NonceConsumed(ProtocolError):
    """The nonce was consumed by another MigrationContent (a different hash)."""

    code = "nonce_consumed"

    def __init__(self, *, nonce: bytes) -> None:
        super().__init__()
        self.nonce = nonce


class HashMismatch(ProtocolError):
    """An acknowledgment or rejection for another MigrationContent than the one sent."""

    code = "hash_mismatch"

    def __init__(self, *, message_type: str, group_id: bytes) -> None:
        super().__init__()
        self.message_type, self.group_id = message_type, group_id


class RequestMismatch(ProtocolError):
    """The message belongs to another migration request (group, epoch, DSs, client)."""

    code = "request_mismatch"

    def __init__(self, *, message_type: str, field: str) -> None:
        super().__init__()
        self.message_type, self.field = message_type, field


class ForeignNonce(ProtocolError):
    """A MigrationConfirmation for a nonce that is not the client's pending one."""

    code = "foreign_nonce"

    def __init__(self, *, nonce: bytes) -> None:
        super().__init__()
        self.nonce = nonce


class NoPendingMigration(ProtocolError):
    """The client has no migration in flight for this group."""

    code = "no_pending_migration"

    def __init__(self, *, group_id: bytes) -> None:
        super().__init__()
        self.group_id = group_id


# -- misuse by the role's own application ----------------------------------------------------


class MigrationInProgress(LocalProtocolError):
    """start_migration: the client already has a migration in flight for this group."""

    code = "migration_in_progress"

    def __init__(self, *, group_id: bytes) -> None:
        super().__init__()
        self.group_id = group_id


class NoMigrationToAbandon(LocalProtocolError):
    """abandon_migration: the client has no migration in flight for this group."""

    code = "no_migration_to_abandon"

    def __init__(self, *, group_id: bytes) -> None:
        super().__init__()
        self.group_id = group_id


class NotInGroup(LocalProtocolError):
    """A call of the application for a group this client is not a member of."""

    code = "not_in_group"

    def __init__(self, *, group_id: bytes) -> None:
        super().__init__()
        self.group_id = group_id


class AlreadyHosted(LocalProtocolError):
    """create_group: this DS already hosts a group with this id."""

    code = "already_hosted"

    def __init__(self, *, group_id: bytes) -> None:
        super().__init__()
        self.group_id = group_id


#: Every refusal class by its code (used to rebuild a refusal received from a peer).
ERRORS: dict[str, type[ProtocolError]] = {
    cls.code: cls
    for cls in (
        Malformed,
        UnexpectedMessage,
        WrongRecipient,
        UnknownPeer,
        UnsupportedSuite,
        BadSignature,
        NotAuthorized,
        NotMember,
        UnknownGroup,
        WrongEpoch,
        GroupLocked,
        GroupMoved,
        GroupExists,
        UnknownNonce,
        NonceConsumed,
        HashMismatch,
        RequestMismatch,
        ForeignNonce,
        NoPendingMigration,
    )
}
