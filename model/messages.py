"""The abstract messages of MIMI Portability, as the model sees them.

This module owns the message shapes: the draft's six structs, this project's
TargetMigrationRejected extension, the source's notice to the client that a migration was
aborted, and the fan-out of a commit to the members.  A message is a NamedTuple of small
integers and nested messages: hashable, totally ordered within its kind, cheap to build.
A signature is abstracted to the `signer` field: honest parties sign only what the rules in
model/actions.py say, the rogue DS and client sign anything with their own id, and nobody can
put another party's id there.  Hashes are abstracted to the message itself
(TargetMigrationComplete carries the content it acknowledges).

It also owns the JSON form of messages (`message_to_json` / `message_from_json`) and their
one-line rendering, so traces can be stored, read back and replayed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .config import NO_NONCE, NONE, Config, Nonce, client_name, ds_name, nonce_name


class MigrationRequest(NamedTuple):
    """Client -> Target DS.  Carried by an authenticated channel: `client` is the sender."""

    client: int
    source: int
    target: int
    group: int
    epoch: int


class MigrationResponse(NamedTuple):
    """Target DS -> client, signed by the Target DS; binds a fresh nonce to the request."""

    signer: int
    request: MigrationRequest
    nonce: Nonce


class MigrationInit(NamedTuple):
    """Client -> Source DS, signed with the client's leaf key, sent together with the
    migration commit for `commit_epoch` whose MigrationCommitAAD names `aad_target`."""

    signer: int
    response: MigrationResponse
    commit_epoch: int
    aad_target: int


class GroupState(NamedTuple):
    """The exported group state: the group after the migration commit.

    `members` tells the member list apart by identity, not by value: OWN_MEMBERS is the
    group's own list (what an honest source exports, the members it has), OTHER_MEMBERS
    any other list (only the rogue DS signs one).  A target cannot tell them apart (it
    knows no member list of a group it does not host); a second content under a consumed
    nonce can (docs/profile.md §5: "a different MigrationContent for the same nonce")."""

    group: int
    epoch: int
    members: int


OWN_MEMBERS = 0
OTHER_MEMBERS = 1


class MigrationContent(NamedTuple):
    """Source DS -> Target DS, signed by the Source DS."""

    signer: int
    response: MigrationResponse
    state: GroupState


class TargetMigrationComplete(NamedTuple):
    """Target DS -> Source DS, signed by the Target DS; `content` stands for its hash."""

    signer: int
    content: MigrationContent


class TargetMigrationRejected(NamedTuple):
    """Target DS -> Source DS (this project's extension): the target will never import it."""

    signer: int
    content: MigrationContent


class MigrationConfirmation(NamedTuple):
    """Source DS -> client, signed by the Source DS."""

    signer: int
    target: int
    nonce: Nonce
    group: int


class MigrationAborted(NamedTuple):
    """Source DS -> client: the source unlocked the group, the migration with `nonce` is off."""

    signer: int
    group: int
    nonce: Nonce


class CommitFanout(NamedTuple):
    """A DS fans out the commit `committer` made in `epoch`; `aad_target` is the target named
    by its MigrationCommitAAD, NONE for a regular commit."""

    ds: int
    group: int
    epoch: int
    committer: int
    aad_target: int


NO_REQUEST = MigrationRequest(NONE, NONE, NONE, NONE, NONE)
"""Stands for 'no request' in a record field (a nonce not issued yet): every integer NONE."""

NO_CONTENT = MigrationContent(
    NONE, MigrationResponse(NONE, NO_REQUEST, NO_NONCE), GroupState(NONE, NONE, NONE)
)
"""Stands for 'no content' in a record field (no lock, a nonce not consumed)."""

Message = (
    MigrationRequest
    | MigrationResponse
    | MigrationInit
    | MigrationContent
    | TargetMigrationComplete
    | TargetMigrationRejected
    | MigrationConfirmation
    | MigrationAborted
    | CommitFanout
)

MESSAGE_TYPES: tuple[type[Any], ...] = (
    MigrationRequest,
    MigrationResponse,
    MigrationInit,
    MigrationContent,
    TargetMigrationComplete,
    TargetMigrationRejected,
    MigrationConfirmation,
    MigrationAborted,
    CommitFanout,
)
"""In the order of the network's slots (model/state.py)."""

_BY_NAME: dict[str, type[Any]] = {t.__name__: t for t in (*MESSAGE_TYPES, GroupState)}
_NONCE_FIELDS = frozenset({"nonce"})
_ADDED: dict[tuple[type[Any], str], Any] = {(GroupState, "members"): OWN_MEMBERS}
"""Fields added after traces were first written, and what a trace without one meant (every
group state was the group's own before a state could carry another member list)."""


def message_to_json(value: object) -> Any:
    """Message (or GroupState, nonce, int) -> JSON value; messages carry a "type" key."""
    if isinstance(value, tuple) and type(value).__name__ in _BY_NAME:
        out: dict[str, Any] = {"type": type(value).__name__}
        for name, item in zip(value._fields, value, strict=True):  # type: ignore[attr-defined]
            out[name] = message_to_json(item)
        return out
    if isinstance(value, tuple):
        return [message_to_json(v) for v in value]
    return value


def message_from_json(value: Any) -> Any:
    """Inverse of `message_to_json`."""
    if isinstance(value, dict):
        cls = _BY_NAME[value["type"]]
        kwargs = {}
        for name in cls._fields:
            added = name not in value and (cls, name) in _ADDED
            item = _ADDED[cls, name] if added else value[name]
            if name in _NONCE_FIELDS:
                kwargs[name] = Nonce(int(item[0]), int(item[1]))
            else:
                kwargs[name] = message_from_json(item)
        return cls(**kwargs)
    if isinstance(value, list):
        return tuple(message_from_json(v) for v in value)
    return value


def describe(config: Config, value: object) -> str:
    """A short, readable rendering of a message, for traces and diagrams."""

    def c(x: int) -> str:
        return client_name(config, x)

    def d(x: int) -> str:
        return ds_name(config, x)

    def n(x: Nonce) -> str:
        return nonce_name(config, x)

    if isinstance(value, MigrationRequest):
        return (
            f"Request({c(value.client)}: g{value.group}@e{value.epoch} "
            f"{d(value.source)}->{d(value.target)})"
        )
    if isinstance(value, MigrationResponse):
        return f"Response[{d(value.signer)}]({describe(config, value.request)}, {n(value.nonce)})"
    if isinstance(value, MigrationInit):
        return (
            f"Init[{c(value.signer)}]({n(value.response.nonce)}, commit e{value.commit_epoch} "
            f"aad={d(value.aad_target)})"
        )
    if isinstance(value, MigrationContent):
        r = value.response.request
        forged = value.response.signer != r.target
        other = value.state.members == OTHER_MEMBERS
        return (
            f"Content[{d(value.signer)}](g{value.state.group}@e{value.state.epoch}"
            f"{' other members' if other else ''} "
            f"{d(r.source)}->{d(r.target)} {n(value.response.nonce)}"
            f"{' response by ' + d(value.response.signer) if forged else ''})"
        )
    if isinstance(value, TargetMigrationComplete):
        return f"Complete[{d(value.signer)}]({describe(config, value.content)})"
    if isinstance(value, TargetMigrationRejected):
        return f"Rejected[{d(value.signer)}]({describe(config, value.content)})"
    if isinstance(value, MigrationConfirmation):
        return (
            f"Confirmation[{d(value.signer)}](g{value.group} ->{d(value.target)} "
            f"{n(value.nonce)})"
        )
    if isinstance(value, MigrationAborted):
        return f"Aborted[{d(value.signer)}](g{value.group} {n(value.nonce)})"
    if isinstance(value, CommitFanout):
        aad = "" if value.aad_target == NONE else f" aad={d(value.aad_target)}"
        return f"Fanout[{d(value.ds)}](g{value.group}@e{value.epoch} by {c(value.committer)}{aad})"
    return str(value)
