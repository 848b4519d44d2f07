"""What moves between roles: the envelope, the MigrationInit bundle, refusals, environment.

This module owns the transport-level shapes every driver moves and every role reads:

- `Kind`: the message kinds, each named by the struct its payload holds.
- `Envelope`: sender, recipient, kind, payload bytes, and the one transport
  parameter the draft leaves out: the group's ciphersuite on a MigrationRequest (the Target
  DS must know which of its keys signs the MigrationResponse; MigrationRequest has no field
  for it).  The sender of an envelope is taken as authenticated by the transport, which is
  how the Target DS learns the requesting client's identity.
- `MigrationInitWithCommit`: profile.md sends MigrationInit and the migration commit in one
  request, `struct { MigrationInit migration_init; opaque commit<V>; }` (commit: MLSMessage).
- `Refusal`: a named ProtocolError sent back to the peer,
  `struct { opaque code<V>; opaque details<V>; }` (details: UTF-8 JSON, except for
  group_moved, whose details are a `GroupMovedRedirect`).
- `GroupMovedRedirect`: a tombstone's redirect, `struct { opaque group_id<V>;
  opaque target_domain_name<V>; opaque commit<V>; }` (commit: the migration MLSMessage).
- `RandomSource`, `SeededRandom`, `SystemRandom`: the injected randomness of the roles.
- `TrustStore`: DS domain -> ciphersuite -> signing public key (profile.md: configuration).
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import hashlib
import itertools
import json
import os
from collections.abc import Iterable
from typing import Any, ClassVar, Protocol, Self, TypeVar

from . import signing
from .codec import DecodeError, Reader, Writer
from .crypto import CipherSuite
from .errors import ERRORS, BadSignature, GroupMoved, Malformed, ProtocolError, UnknownPeer
from .messages import MigrationInit, SignedStruct, Struct, _build, _check_bytes, validate_domain

S = TypeVar("S", bound=Struct)


def decode_payload(cls: type[S], payload: bytes) -> S:
    """Decode a peer's bytes; a DecodeError becomes the role-level refusal Malformed."""
    try:
        return cls.decode(payload)
    except DecodeError as err:
        raise Malformed(message_type=cls.NAME, reason=err.reason, detail=str(err)) from None


class Kind(enum.StrEnum):
    """The kinds of message an envelope carries: each named by the struct its payload holds
    (Fanout: a fanned-out commit; Commit: an ordinary commit; both MLSMessages).  A `str`
    enum whose members are named as their values, so a kind prints, compares, hashes and
    serialises as the plain name."""

    MigrationRequest = "MigrationRequest"
    MigrationResponse = "MigrationResponse"
    MigrationInitWithCommit = "MigrationInitWithCommit"
    MigrationContent = "MigrationContent"
    TargetMigrationComplete = "TargetMigrationComplete"
    TargetMigrationRejected = "TargetMigrationRejected"
    MigrationConfirmation = "MigrationConfirmation"
    Commit = "Commit"
    Fanout = "Fanout"
    Refusal = "Refusal"


KINDS: tuple[Kind, ...] = tuple(Kind)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """One message in flight. `cipher_suite` is 0 where the kind does not need it.  A
    transport that reads a kind it does not know may still pass it on as a plain str: every
    role refuses it (UnexpectedMessage), as it must refuse any input it cannot take."""

    sender: str
    recipient: str
    kind: Kind
    payload: bytes
    cipher_suite: int = 0

    def describe(self) -> str:
        return f"{self.kind} ({len(self.payload)} bytes) {self.sender} -> {self.recipient}"

    @classmethod
    def to_each(
        cls, sender: str, recipients: Iterable[str], kind: Kind, payload: bytes
    ) -> list[Envelope]:
        """One envelope of `payload` (the same bytes object in all: no copies) from `sender`
        to each recipient: a fan-out.  Each is an ordinary Envelope, built here with its
        slots set directly rather than through the keyword `__init__`, since a fan-out builds
        one per member (160k for a 10 MiB group state)."""
        recipients = list(recipients)
        n = len(recipients)
        out = list(map(object.__new__, itertools.repeat(cls, n)))
        values = (sender, recipients, kind, payload, 0)
        for set_slot, value in zip(_SLOT_SETTERS, values, strict=True):
            column = value if value is recipients else itertools.repeat(value, n)
            collections.deque(map(set_slot, out, column), maxlen=0)  # set in C, column by column
        return out


#: The `__set__` of Envelope's field slots, in the order Envelope.to_each sets them; that
#: these are all of its fields is checked when this module loads.
_SLOT_SETTERS: tuple[Any, ...] = tuple(
    Envelope.__dict__[name].__set__
    for name in ("sender", "recipient", "kind", "payload", "cipher_suite")
)
if len(_SLOT_SETTERS) != len(dataclasses.fields(Envelope)):
    raise ImportError("Envelope.to_each must set every field of Envelope")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MigrationInitWithCommit(Struct):
    """MigrationInit and the migration commit (an MLSMessage), sent together."""

    NAME: ClassVar[str] = "MigrationInitWithCommit"
    migration_init: MigrationInit
    commit: bytes

    def push(self, w: Writer) -> None:
        self.migration_init.push(w)
        w.push_opaque(self.commit)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            migration_init=MigrationInit.pull(r),
            commit=r.pull_opaque("MigrationInitWithCommit.commit"),
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GroupMovedRedirect(Struct):
    """What a tombstone tells a late member (the details of a group_moved refusal): the
    group now lives at `target_domain_name`; `commit` is the migration commit to apply."""

    NAME: ClassVar[str] = "GroupMovedRedirect"
    group_id: bytes
    target_domain_name: bytes
    commit: bytes

    def __post_init__(self) -> None:
        _check_bytes(self.group_id, "group_id")
        validate_domain(self.target_domain_name, "target_domain_name")
        _check_bytes(self.commit, "commit")

    def push(self, w: Writer) -> None:
        w.push_opaque(self.group_id)
        w.push_opaque(self.target_domain_name)
        w.push_opaque(self.commit)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            group_id=r.pull_opaque("GroupMovedRedirect.group_id"),
            target_domain_name=r.pull_opaque("GroupMovedRedirect.target_domain_name"),
            commit=r.pull_opaque("GroupMovedRedirect.commit"),
        )

    @classmethod
    def of(cls, error: GroupMoved) -> GroupMovedRedirect:
        return cls(
            group_id=error.group_id, target_domain_name=error.target.encode(), commit=error.commit
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Refusal(Struct):
    """A refusal sent to the peer: the error's code and its details (JSON; for group_moved
    the encoded GroupMovedRedirect, decoded with `redirect`)."""

    NAME: ClassVar[str] = "Refusal"
    code: bytes
    details: bytes

    def push(self, w: Writer) -> None:
        w.push_opaque(self.code)
        w.push_opaque(self.details)

    @classmethod
    def pull(cls, r: Reader) -> Self:
        return _build(
            cls,
            cls.NAME,
            code=r.pull_opaque("Refusal.code"),
            details=r.pull_opaque("Refusal.details"),
        )

    @classmethod
    def of(cls, error: ProtocolError) -> Refusal:
        if isinstance(error, GroupMoved):
            return cls(code=error.code.encode(), details=GroupMovedRedirect.of(error).encode())
        return cls(code=error.code.encode(), details=json.dumps(error.details()).encode())

    @classmethod
    def answer(cls, envelope: Envelope, error: ProtocolError) -> Envelope:
        """The Refusal envelope the recipient of `envelope` sends back for `error` (as a
        transport would answer a request with an error body)."""
        return Envelope(sender=envelope.recipient, recipient=envelope.sender, kind=Kind.Refusal,
                        payload=cls.of(error).encode())

    def redirect(self) -> GroupMovedRedirect | None:
        """The redirect of a group_moved refusal (None for any other code); Malformed if
        its details do not decode (a peer's bytes)."""
        if self.code != GroupMoved.code.encode():
            return None
        return decode_payload(GroupMovedRedirect, self.details)

    def fields(self) -> dict[str, Any]:
        """The details, or {} when they are not a JSON object (a peer's bytes: never trusted)."""
        try:
            value = json.loads(self.details.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {}
        return value if isinstance(value, dict) else {}

    def known(self) -> bool:
        return self.code.decode("utf-8", "replace") in ERRORS


class RandomSource(Protocol):
    """Where a role draws nonces and keys from; injected so runs are reproducible."""

    def random_bytes(self, n: int) -> bytes: ...


class SystemRandom:
    """The operating system's CSPRNG: what a deployment uses."""

    def random_bytes(self, n: int) -> bytes:
        return os.urandom(n)


class SeededRandom:
    """Deterministic bytes from a seed (SHAKE-256 over seed and a counter), for tests/demo."""

    def __init__(self, seed: bytes | str | int) -> None:
        self._seed = str(seed).encode() if not isinstance(seed, bytes) else seed
        self._counter = 0

    def random_bytes(self, n: int) -> bytes:
        self._counter += 1
        return hashlib.shake_256(self._seed + self._counter.to_bytes(8, "big")).digest(n)


class TrustStore:
    """Which public key signs for which DS and ciphersuite (profile.md: configuration now)."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, int], bytes] = {}

    def add(self, domain: str, cipher_suite: int, public_key: bytes) -> None:
        self._keys[(domain, int(cipher_suite))] = public_key

    def items(self) -> list[tuple[tuple[str, int], bytes]]:
        """((domain, ciphersuite), public key) for every key, sorted."""
        return sorted(self._keys.items())

    def key(self, domain: str, cipher_suite: int) -> bytes | None:
        return self._keys.get((domain, int(cipher_suite)))

    def verify_signed(self, message: SignedStruct, domain: str, cipher_suite: int) -> None:
        """Check `message` is signed by DS `domain`'s key for the suite; UnknownPeer or
        BadSignature otherwise (the one signer check both roles apply to a DS's message)."""
        public = self.key(domain, cipher_suite)
        if public is None:
            raise UnknownPeer(domain=domain, cipher_suite=cipher_suite)
        if not signing.verify(message, CipherSuite(cipher_suite), public):
            raise BadSignature(message_type=type(message).__name__, expected_signer=domain)
