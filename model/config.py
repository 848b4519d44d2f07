"""Bounds of a model run and the protocol's design options (the variants).

This module owns two things.  `Config` holds the finite bounds that make the state space
finite (honest clients, delivery services, groups, nonces per Target DS, epochs) and which
adversaries exist.  `DesignOptions` holds one boolean per design decision of
docs/profile.md that a designer might drop: each is a draft TODO or a tempting shortcut, the
reference design has all of them off, and `VARIANTS` names the interesting values together
with the safety property each one is expected to break.  Adding a variant is adding a field
here, its name in the `options` of the checks and switches it removes (model/rules.py) and
an entry in `VARIANTS`.

Parties are small integers so states stay small, hashable and totally ordered:
honest clients are 0..clients-1 (shown c0, c1, ...; every one is a member of every group);
the rogue client X, a non-member that signs whatever it can, is `clients` when enabled;
honest delivery services are 0..honest_ds-1 (d0 hosts every group at the start, the others
are possible targets); the rogue DS R, compromised and signing anything with its own key, is
`honest_ds` when enabled.  A nonce is the pair (issuing DS, index in its pool).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

NONE = -1
"""Stands for 'no party' / 'no target' in integer fields (keeps states orderable)."""


class Nonce(NamedTuple):
    """(issuing DS, index in that DS's pool): an abstract 32-byte random value."""

    ds: int
    number: int
    """Its index in the issuing DS's pool."""


NO_NONCE: Nonce = Nonce(NONE, NONE)


@dataclass(frozen=True)
class DesignOptions:
    """One field per design decision; `DesignOptions()` is the reference design."""

    fanout_before_ack: bool = False
    """The source fans the migration commit out as soon as it locks, before any
    TargetMigrationComplete."""
    unlock_on_timeout: bool = False
    """The source unlocks a locked group on a timeout instead of only on a signed rejection."""
    no_nonce_check: bool = False
    """The target imports a MigrationContent for a response it signed whatever became of
    the nonce (expired, consumed): it never looks the nonce up."""
    nonce_reuse: bool = False
    """The target does not consume a nonce when it imports: the nonce stays pending."""
    unsigned_response: bool = False
    """MigrationResponse carries no signature: nobody can check that the target issued it."""
    no_epoch_check: bool = False
    """The source accepts a MigrationInit whatever epoch it is for, and sequences other
    commits while the group is locked."""
    no_group_id_uniqueness: bool = False
    """The target answers a request for a group id it already hosts or has pending."""
    confirmation_without_nonce_check: bool = False
    """A client accepts any MigrationConfirmation its DS signed for the group."""
    forget_consumed_nonces: bool = False
    """The target answers a retried MigrationContent for a consumed nonce with a rejection."""
    predictable_nonces: bool = False
    """Nonces are predictable: the adversary knows the nonce each target will issue next and
    may present it before the target issued it."""
    unsigned_content: bool = False
    """The target does not check that a MigrationContent is signed by the request's source."""
    unsigned_init: bool = False
    """The source accepts a MigrationInit not signed by a current member."""
    volatile_nonces: bool = False
    """The target keeps its nonce records in memory only: a restart forgets them."""
    volatile_lock: bool = False
    """The source keeps a lock in memory only: after a restart the group is active again."""
    send_before_commit: bool = False
    """A DS sends its reply before its state change is durable: a crash in between loses
    the change but not the message (a commit fanned out, an ack sent, then the crash)."""
    response_names_no_client: bool = False
    """The draft's MigrationRequest (so its MigrationResponse) names no client (finding F4):
    a member holding another member's response for the same group, epoch and DSs cannot
    tell it from its own, and the source cannot check the MigrationInit's signer asked."""
    abort_names_no_nonce: bool = False
    """The client cannot tell which attempt a forwarded rejection ends (finding F6): it
    takes any abort its DS signed for the group as the end of its pending migration."""
    commit_beside_init: bool = False
    """The Commit is sent beside the MigrationInit, not inside it (the draft's PR #1 open
    question): the source cannot check that the commit it locks with is the one the request
    is for (its epoch and its AAD's target)."""

    def enabled(self) -> tuple[str, ...]:
        """Names of the options that are switched on."""
        return tuple(f.name for f in dataclasses.fields(self) if getattr(self, f.name))


OPTION_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(DesignOptions))


@dataclass(frozen=True)
class Config:
    """Finite bounds of one model run, and the design under check."""

    clients: int = 2
    """Honest clients; each is a member of every group."""
    ds: int = 3
    """Delivery services, the rogue one included when `rogue_ds` is on (default: source d0,
    target d1 and the rogue R)."""
    groups: int = 1
    attempts: int = 2
    """Nonces each Target DS can issue: the number of migration attempts it can answer."""
    max_epoch: int = 1
    """No commit (regular or migration) moves a group past this epoch.  With 1, a group
    sees one commit (a migration or a regular one) and the races around it; 2 adds a commit
    after a migration and migrating back."""
    rogue_ds: bool = True
    rogue_client: bool = True
    source_denies: frozenset[int] = frozenset()
    """Honest clients the source policy refuses to let migrate (default: any member may)."""
    target_denies: frozenset[int] = frozenset()
    """Clients (the rogue client X included) the target policy refuses."""
    options: DesignOptions = field(default_factory=DesignOptions)
    drop: frozenset[str] = frozenset()
    """Check ids (model/rules.py) dropped on top of the options: an ad-hoc design."""
    # derived, read in every guard: computed once
    honest_ds: int = field(init=False, repr=False, compare=False)
    """Honest DSs: d0 .. d(honest_ds-1)."""
    rogue_ds_id: int = field(init=False, repr=False, compare=False)
    """The rogue DS's id, or NONE."""
    rogue_client_id: int = field(init=False, repr=False, compare=False)
    """The rogue client's id, or NONE."""

    def __post_init__(self) -> None:
        honest = self.ds - (1 if self.rogue_ds else 0)
        object.__setattr__(self, "honest_ds", honest)
        object.__setattr__(self, "rogue_ds_id", honest if self.rogue_ds else NONE)
        object.__setattr__(self, "rogue_client_id", self.clients if self.rogue_client else NONE)
        if self.clients < 1:
            raise ValueError("clients must be at least 1")
        if honest < 2:
            raise ValueError("ds must leave at least two honest DSs (source and target)")
        if self.groups < 1 or self.attempts < 1 or self.max_epoch < 1:
            raise ValueError("groups, attempts and max_epoch must be at least 1")

    def with_options(self, options: DesignOptions) -> Config:
        return dataclasses.replace(self, options=options)

    @cached_property
    def one_bound_more(self) -> Config:
        """This design with one more nonce per target and one more epoch (model/routing.py
        `relaxed`), made once: the lockstep asks for it at every refused delivery."""
        return dataclasses.replace(self, attempts=self.attempts + 1,
                                   max_epoch=self.max_epoch + 1)

    @cached_property
    def dropped(self) -> frozenset[str]:
        """The ids of every check and switch this design drops: its options' (each check
        names the options that remove it, beside the rule) and `drop`."""
        # The rules import this module, so their table is read here, on first use.
        from .rules import CHECKS, option_checks

        unknown = sorted(self.drop - set(CHECKS))
        if unknown:
            raise ValueError(f"unknown check id {', '.join(unknown)} (see 'mimi-portability "
                             "checks')")
        by_option = option_checks()
        out = set(self.drop)
        for option in self.options.enabled():
            out.update(by_option[option])
        return frozenset(out)

    def design_name(self) -> str:
        """The variant whose options these are, with any ad-hoc drops appended."""
        base = next((v.name for v in (*ALL_DESIGNS, *EXPLORED) if v.options == self.options),
                    "custom")
        if not self.drop:
            return base
        drops = "drop:" + ",".join(sorted(self.drop))
        return drops if base == "reference" else f"{base}+{drops}"

    def summary(self) -> str:
        rogues = [n for n, on in (("R", self.rogue_ds), ("X", self.rogue_client)) if on]
        return (
            f"clients={self.clients} ds={self.ds} groups={self.groups} "
            f"attempts={self.attempts} epochs={self.max_epoch} "
            f"rogues={'+'.join(rogues) or 'none'}"
        )


def client_name(config: Config, client: int) -> str:
    if client == NONE:
        return "-"
    return "X" if client == config.rogue_client_id else f"c{client}"


def ds_name(config: Config, ds: int) -> str:
    if ds == NONE:
        return "-"
    return "R" if ds == config.rogue_ds_id else f"d{ds}"


def nonce_name(config: Config, nonce: tuple[int, int]) -> str:
    if nonce == NO_NONCE:
        return "-"
    return f"n{nonce[1]}@{ds_name(config, nonce[0])}"


def source_policy_allows(config: Config, source: int, client: int) -> bool:
    """Source policy (draft section 4): by default any current member may migrate."""
    del source  # one policy for every honest DS
    return client not in config.source_denies


def target_policy_allows(config: Config, target: int, client: int) -> bool:
    """Target policy (draft section 4): by default any client allowed to create groups."""
    del target
    return client not in config.target_denies


@dataclass(frozen=True)
class Variant:
    """A named design: options, what it stands for, and what it should break."""

    name: str
    options: DesignOptions
    expected: str | None
    """Property ID the variant must violate (None for the reference design)."""
    description: str
    exploratory: bool = False
    """An ad-hoc design (checks dropped with --drop): its verdicts are reported, none is
    expected."""


REFERENCE = Variant(
    "reference", DesignOptions(), None, "the design of docs/profile.md, every option off"
)

VARIANTS: tuple[Variant, ...] = (
    Variant(
        "fanout_before_ack",
        DesignOptions(fanout_before_ack=True),
        "no_fanout_before_ack",
        "source fans the migration commit out when it locks, before the target's ack",
    ),
    Variant(
        "unlock_on_timeout",
        DesignOptions(unlock_on_timeout=True),
        "single_owner",
        "source unlocks a locked group on a timeout (draft: nothing says it may not)",
    ),
    Variant(
        "no_nonce_check",
        DesignOptions(no_nonce_check=True),
        "nonce_binding",
        "target imports content for any response it signed, never looking the nonce up",
    ),
    Variant(
        "nonce_reuse",
        DesignOptions(nonce_reuse=True),
        "nonce_binding",
        "target does not consume a nonce on import",
    ),
    Variant(
        "unsigned_response",
        DesignOptions(unsigned_response=True),
        "export_consent",
        "MigrationResponse is not signed, so a forged one makes the source export",
    ),
    Variant(
        "no_epoch_check",
        DesignOptions(no_epoch_check=True),
        "single_owner",
        "source accepts a stale MigrationInit, and other commits while locked",
    ),
    Variant(
        "no_group_id_uniqueness",
        DesignOptions(no_group_id_uniqueness=True),
        "single_owner",
        "target answers requests for a group id it hosts or has pending (draft TODO)",
    ),
    Variant(
        "confirmation_without_nonce_check",
        DesignOptions(confirmation_without_nonce_check=True),
        "confirmation_matches",
        "client accepts any MigrationConfirmation its DS signed for the group",
    ),
    Variant(
        "forget_consumed_nonces",
        DesignOptions(forget_consumed_nonces=True),
        "single_owner",
        "target rejects a retried MigrationContent for a consumed nonce; source unlocks",
    ),
    Variant(
        "predictable_nonces",
        DesignOptions(predictable_nonces=True, unsigned_response=True),
        "single_owner",
        "nonces predictable (with unsigned responses: while responses are signed, "
        "predictable nonces alone break nothing)",
    ),
    Variant(
        "unsigned_content",
        DesignOptions(unsigned_content=True),
        "state_integrity",
        "target does not check that MigrationContent is signed by the request's source",
    ),
    Variant(
        "unsigned_init",
        DesignOptions(unsigned_init=True),
        "authorized_migration",
        "source accepts a MigrationInit not signed by a current member",
    ),
    Variant(
        "volatile_nonces",
        DesignOptions(volatile_nonces=True),
        "single_owner",
        "target keeps nonce records in memory only; after a restart it rejects a retry",
    ),
    Variant(
        "volatile_lock",
        DesignOptions(volatile_lock=True),
        "single_owner",
        "source keeps the lock in memory only; after a restart it sequences commits again",
    ),
    Variant(
        "send_before_commit",
        DesignOptions(send_before_commit=True),
        "no_group_lost",
        "a DS sends its reply before its state change is durable (an ack, then the crash)",
    ),
    Variant(
        "response_names_no_client",
        DesignOptions(response_names_no_client=True),
        "authorized_migration",
        "the draft's MigrationResponse names no client: another member uses it (F4)",
    ),
)

EXPLORED: tuple[Variant, ...] = (
    Variant(
        "abort_names_no_nonce",
        DesignOptions(abort_names_no_nonce=True),
        None,
        "a forwarded rejection does not name the attempt it ends (F6)",
        exploratory=True,
    ),
    Variant(
        "commit_beside_init",
        DesignOptions(commit_beside_init=True),
        None,
        "the Commit travels beside the MigrationInit, not inside it (PR #1's open question)",
        exploratory=True,
    ),
)
"""Designs the findings report (docs/findings.md) checks that no safety property is expected
to separate from the reference: each one's verdicts are reported, none is expected, so they
are not in `VARIANTS` (whose every member must break its property)."""

ALL_DESIGNS: tuple[Variant, ...] = (REFERENCE, *VARIANTS)


def variant(name: str) -> Variant:
    """The design called `name` ("reference", a variant or an explored design's name)."""
    for v in (*ALL_DESIGNS, *EXPLORED):
        if v.name == name:
            return v
    known = ", ".join(v.name for v in (*ALL_DESIGNS, *EXPLORED))
    raise KeyError(f"unknown variant {name!r}; known: {known}")


def config_json(config: Config) -> dict[str, Any]:
    """The bounds of `config` as the JSON reports of `check`, `prove` and `mutate` give them."""
    return {
        "clients": config.clients,
        "ds": config.ds,
        "groups": config.groups,
        "attempts": config.attempts,
        "epochs": config.max_epoch,
        "rogue_ds": config.rogue_ds,
        "rogue_client": config.rogue_client,
    }
