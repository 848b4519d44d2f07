"""Rogue parties: a third DS and a non-member client that send whatever they can sign.

This module owns the adversary's signing power, nothing more: a `RogueDS` signs any
MIMI Portability message with its own DS key, a `RogueClient` signs MigrationInit and
commits with its own key.  Neither holds an honest party's key, so what they can forge is
exactly what the model's rogue actions allow; the network (impl.network) supplies replay,
reordering and tampering.
"""

from __future__ import annotations

from . import signing
from .crypto import SigningKey
from .envelope import Envelope, Kind, MigrationInitWithCommit
from .group import build_commit
from .group_state import GroupState
from .messages import (
    MigrationCommitAAD,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    TargetMigrationComplete,
)


class RogueDS:
    """A compromised DS with its own (trusted-as-itself) signing key."""

    def __init__(self, domain: str, key: SigningKey) -> None:
        self.domain = domain
        self.key = key

    def _env(
        self, recipient: str, kind: Kind, payload: bytes, sender: str | None = None
    ) -> Envelope:
        return Envelope(
            sender=sender or self.domain, recipient=recipient, kind=kind, payload=payload
        )

    def response(self, request: MigrationRequest, nonce: bytes, to: str) -> Envelope:
        """A MigrationResponse for any request, signed by the rogue (not by its target)."""
        msg = signing.sign(
            MigrationResponse(migration_request=request, nonce=nonce, signature=b""), self.key
        )
        return self._env(to, Kind.MigrationResponse, msg.encode())

    def content(
        self,
        response: MigrationResponse,
        state: GroupState,
        to: str,
        *,
        as_sender: str | None = None,
    ) -> Envelope:
        """A MigrationContent with any state, signed by the rogue; may pose as another sender."""
        msg = signing.sign(
            MigrationContent(
                migration_response=response, group_state=state.encode(), signature=b""
            ),
            self.key,
        )
        return self._env(to, Kind.MigrationContent, msg.encode(), as_sender)

    def complete(self, content_hash: bytes, to: str, *, as_sender: str | None = None) -> Envelope:
        msg = signing.sign(
            TargetMigrationComplete(migration_content_hash=content_hash, signature=b""), self.key
        )
        return self._env(to, Kind.TargetMigrationComplete, msg.encode(), as_sender)

    def confirmation(
        self, target: str, nonce: bytes, group_id: bytes, to: str, *, as_sender: str | None = None
    ) -> Envelope:
        msg = signing.sign(
            MigrationConfirmation(
                domain_name=target.encode(), nonce=nonce, group_id=group_id, signature=b""
            ),
            self.key,
        )
        return self._env(to, Kind.MigrationConfirmation, msg.encode(), as_sender)


class RogueClient:
    """A client that is not a member of the group, with its own signature key."""

    def __init__(self, identity: str, key: SigningKey) -> None:
        self.identity = identity
        self.key = key

    def request(self, request: MigrationRequest, cipher_suite: int) -> Envelope:
        return Envelope(
            sender=self.identity,
            recipient=request.target_domain_name.decode(),
            kind=Kind.MigrationRequest,
            payload=request.encode(),
            cipher_suite=cipher_suite,
        )

    def init(self, response: MigrationResponse, state: GroupState, leaf_index: int) -> Envelope:
        """MigrationInit and a migration commit signed with the rogue's key, claiming a leaf."""
        request = response.migration_request
        aad = MigrationCommitAAD(target_ds_domain=request.target_domain_name).encode()
        commit = build_commit(state, self.key, leaf_index, aad)
        init = signing.sign(MigrationInit(migration_response=response, signature=b""), self.key)
        return Envelope(
            sender=self.identity,
            recipient=request.source_domain_name.decode(),
            kind=Kind.MigrationInitWithCommit,
            payload=MigrationInitWithCommit(migration_init=init, commit=commit).encode(),
        )
