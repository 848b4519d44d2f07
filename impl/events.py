"""What the roles record having done: one frozen dataclass per event kind.

This module owns the roles' event log vocabulary (the style of h11's `_events.py` and
wsproto's `events.py`).  A `Client` appends `ClientEvent`s and a `DeliveryService` appends
`DSEvent`s to its `events` list; nothing in the protocol reads them back.  They are the
ghost log that `impl.world.check_safety`, the lockstep abstraction
(`impl.lockstep.abstraction`), the demo and the tests inspect, by attribute or with `match`.
Every event names the group it is about in `group_id`.
"""

from __future__ import annotations

import dataclasses

# -- the Delivery Service's ghost log --------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Sequenced:
    """`commit` joined the group's history at `epoch` on this DS (an ordinary commit when
    sequenced; a migration commit once acknowledged and fanned out)."""

    group_id: bytes
    epoch: int
    commit: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Exported:
    """As source: the group was locked and its MigrationContent (hash `content_hash`) sent
    for the target's `nonce`."""

    group_id: bytes
    nonce: bytes
    content_hash: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Imported:
    """As target: the MigrationContent `content_hash` was imported, consuming `nonce`."""

    group_id: bytes
    nonce: bytes
    content_hash: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Acknowledged:
    """As source: the target's TargetMigrationComplete for `content_hash` was accepted."""

    group_id: bytes
    nonce: bytes
    content_hash: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Fanout:
    """As source: the migration commit of `epoch` was fanned out; the group left for
    `target`."""

    group_id: bytes
    epoch: int
    target: str


@dataclasses.dataclass(frozen=True, slots=True)
class Unlocked:
    """As source: a signed TargetMigrationRejected ended the lock for `nonce`; `reason` is
    its code (messages.RejectionReason, or another a peer sent)."""

    group_id: bytes
    nonce: bytes
    reason: int


# -- the client's log ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Switched:
    """The member now follows the group at `target`, in `epoch`; `how` is what switched it:
    "confirmation", "fanout" or "redirect"."""

    group_id: bytes
    target: str
    epoch: int
    how: str


@dataclasses.dataclass(frozen=True, slots=True)
class Abandoned:
    """A pending migration was dropped: `reason` is "application" (the application gave
    up) or the code of the target's refusal of the MigrationRequest."""

    group_id: bytes
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class Aborted:
    """A forwarded, target-signed TargetMigrationRejected ended the pending migration;
    `reason` is its code."""

    group_id: bytes
    target: str
    reason: int


DSEvent = Sequenced | Exported | Imported | Acknowledged | Fanout | Unlocked
ClientEvent = Switched | Abandoned | Aborted
RoleEvent = DSEvent | ClientEvent

__all__ = [
    "Abandoned",
    "Aborted",
    "Acknowledged",
    "ClientEvent",
    "DSEvent",
    "Exported",
    "Fanout",
    "Imported",
    "RoleEvent",
    "Sequenced",
    "Switched",
    "Unlocked",
]
