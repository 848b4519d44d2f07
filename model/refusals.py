"""What a peer must get back when the rules refuse its message, read off model/rules.py.

This module owns the lockstep's expectation of a refusal; the data are the rules' own (each
`check(...)`'s `refusal` codes, each `Rule`'s `misrouted` codes), nothing here is a rule:

- `refused_delivery(config, state, m, args)`: message `m` delivered to the party `args`
  names, where every rule receiving its kind there refuses it: the checks that fail (every
  failing conjunct of every such rule, `rule:check`), the refusal codes they allow, and
  what the refusal must carry (`Expected`);
- `refused_commit(config, state, client, group)`: an ordinary commit the rules refuse;
- `misdelivered(config, state, m, party)`: `m` handed to a party the routing does not send
  it to: the receiving rules' `misrouted` codes, or unexpected_message where no rule of
  that party's role receives its kind;
- `refused_calls(config, state)`: the client application's calls the rules refuse now
  (a second migration while one is in progress, abandoning none), each with the local
  error (impl/errors.py LocalProtocolError) the role must raise.

What a refusal carries (`Expected`): a group_moved refusal is possible only at a DS whose
host of the group is moved, and carries that host's target and the migration commit that
DS fanned out for it; a wrong_epoch refusal carries the receiver's current epoch of the
group.  The codes are impl/errors.py's `code`s; "ignored" is an answer of nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import state as ms
from .actions import ACTIONS_BY_NAME, live
from .config import Config
from .messages import CommitFanout, MigrationAborted, TargetMigrationRejected
from .routing import PARTY, RECEIVERS

IGNORED = "ignored"
UNEXPECTED = "unexpected_message"
WIRE: dict[type[Any], type[Any]] = {MigrationAborted: TargetMigrationRejected}
"""A model kind -> the kind of the bytes that carry it, where they differ: MigrationAborted
is the target's TargetMigrationRejected, forwarded by the source."""


@dataclass(frozen=True)
class Expected:
    """A refusal the rules say a peer must get."""

    checks: tuple[str, ...]
    """The failing conjuncts, "rule:check" (or "misrouted:rule", "unexpected:kind")."""
    codes: frozenset[str]
    """The refusal codes those allow (impl/errors.py), "ignored" for no answer at all."""
    moved_to: int | None = None
    """The receiving DS's host of the group is moved to this DS (group_moved carries it)."""
    commit: CommitFanout | None = None
    """The migration commit that DS fanned out for the move (group_moved carries it)."""
    epoch: int | None = None
    """The receiver's current epoch of the group (wrong_epoch carries it)."""


CALLS: dict[str, tuple[str, bool]] = {
    "start_migration": ("request.no_migration_in_progress", False),
    "abandon_migration": ("request.no_migration_in_progress", True),
}
"""The client's application calls the rules refuse, each by one check of client_request's
guard: (check id, whether the call is refused when that check holds rather than fails).
Starting a migration needs none in progress (the check's own `refusal`); abandoning one
needs one (its local error is `ABANDON_REFUSAL`)."""
ABANDON_REFUSAL = "local:no_migration_to_abandon"


def refused_calls(config: Config, state: ms.State) -> list[tuple[str, int, int, str]]:
    """(call, client, group, local error code) of every application call the rules refuse
    now (`CALLS`), for each honest client and group."""
    from .rules import CHECKS

    out = []
    for client in range(config.clients):
        for group in range(config.groups):
            other = (state.clients[client][group].ds + 1) % config.honest_ds
            fails = {c.id for c in failing(config, state, "client_request",
                                           (client, group, other))}
            for call, (cid, when_holds) in CALLS.items():
                if (cid not in fails) == when_holds:
                    code = (ABANDON_REFUSAL if call == "abandon_migration"
                            else CHECKS[cid].refusal[0])
                    out.append((call, client, group, code.removeprefix("local:")))
    return out


def group_of(m: Any) -> int:
    """The group a model message is about."""
    for path in (("group",), ("request", "group"), ("response", "request", "group"),
                 ("content", "response", "request", "group")):
        value = m
        for name in path:
            if name not in value._fields:
                break
            value = getattr(value, name)
        else:
            return int(value)
    raise ValueError(f"{type(m).__name__} names no group")


def failing(config: Config, state: ms.State, name: str, args: tuple[Any, ...]) -> list[Any]:
    """Every conjunct of `name`'s guard that fails for `args` (a check the design drops
    reads as true); the walk stops where a later conjunct cannot be read once an earlier
    one failed."""
    out = []
    try:
        for c, value in ACTIONS_BY_NAME[name].conjuncts(config, state, *args):
            if c.id not in config.dropped and not value and c not in out:
                out.append(c)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        pass
    return out


def _carried(config: Config, state: ms.State, party: tuple[str, int], group: int,
             checks: tuple[str, ...], codes: set[str]) -> Expected:
    role, i = party
    moved_to = commit = epoch = None
    if role == "ds":
        host = state.hosts[i][group]
        if host.phase == ms.MOVED:
            moved_to = host.target
            fanned = [f for f in state.network.fanouts
                      if f.ds == i and f.group == group and f.aad_target == host.target]
            commit = max(fanned, key=lambda f: f.epoch, default=None)
        elif host.phase in (ms.ACTIVE, ms.LOCKED):
            epoch = host.epoch
    else:
        epoch = state.clients[i][group].epoch
    return Expected(checks, frozenset(codes), moved_to, commit, epoch)


def refused_delivery(config: Config, state: ms.State, m: Any,
                     args: tuple[Any, ...]) -> Expected:
    checks: list[str] = []
    codes: set[str] = set()
    party: tuple[str, int] | None = None
    for rule in RECEIVERS[type(m)]:
        if not live(config, rule):
            continue
        spec = ACTIONS_BY_NAME[rule.name]
        if args not in spec.parties(config, state, m):
            continue
        party = (PARTY[rule.role], int(args[0]))
        for c in failing(config, state, rule.name, args):
            checks.append(f"{rule.name}:{c.id}")
            codes.update(c.refusal)
    assert party is not None, (m, args)
    return _carried(config, state, party, group_of(m), tuple(checks), codes)


def refused_commit(config: Config, state: ms.State, client: int, group: int) -> Expected:
    """An ordinary commit by `client`, refused by its DS: what the DS answers."""
    fails = failing(config, state, "commit_at_current_ds", (client, group))
    ds = state.clients[client][group].ds
    codes = {code for c in fails for code in c.refusal}
    checks = tuple(f"commit_at_current_ds:{c.id}" for c in fails)
    return _carried(config, state, ("ds", ds), group, checks, codes)


def misdelivered(config: Config, state: ms.State, m: Any, party: tuple[str, int]) -> Expected:
    """`m`'s bytes handed to `party`, which the routing does not send them to."""
    wire = type(m)
    rules = [r for kind, rs in RECEIVERS.items() if WIRE.get(kind, kind) is wire
             for r in rs if PARTY[r.role] == party[0] and live(config, r)]
    if not rules:
        return Expected((f"unexpected:{wire.__name__}",), frozenset({UNEXPECTED}))
    codes = {code for r in rules for code in r.misrouted}
    return _carried(config, state, party, group_of(m),
                    tuple(f"misrouted:{r.name}" for r in rules), codes)
