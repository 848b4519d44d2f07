"""Who sends and who receives each message kind, read off the rules once.

This module owns the routing of the protocol's messages as the diagrams, the lockstep driver
and its move enumeration need it, derived from model/rules.py and nowhere else restated:

- `SENDERS[kind]` / `RECEIVERS[kind]`: the rules whose effect sends that kind, and the rules
  that receive it (their `sends` and `receives`);
- `signer(m)`: the party whose key signed `m` (whose channel carried it, for a request): a
  client for the kinds client rules send, a DS for the others, named by the field the rules'
  signature abstraction uses;
- `addressed(config, m)`: the parties a message is for, (role, id), from the receiving
  rules' `to` (for the kinds every member of a group receives, every honest client);
- `deliveries(config, state)`: every network message with every party that would receive
  it, and whether some rule accepts it there (the lockstep's delivery and refusal moves).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from . import state as ms
from .actions import ACTIONS_BY_NAME, live
from .config import Config
from .messages import MESSAGE_TYPES
from .rules import RULES, Rule
from .vocabulary import range_values

SENDERS: dict[type[Any], tuple[Rule, ...]] = {
    kind: tuple(r for r in RULES if kind in r.sends) for kind in MESSAGE_TYPES
}
"""Each message kind -> the rules whose effect sends it."""

RECEIVERS: dict[type[Any], tuple[Rule, ...]] = {
    kind: tuple(r for r in RULES if r.receives is kind) for kind in MESSAGE_TYPES
}
"""Each message kind -> the rules that receive it."""

PARTY = {"client": "client", "source": "ds", "target": "ds"}
"""A rule's role -> the kind of party that plays it."""


def sending_party(kind: type[Any]) -> str:
    """"client" or "ds": who sends messages of `kind`: the party its `ds` or `client` field
    names (a commit a client makes is fanned out by its DS), else the role of every rule
    that sends it (they agree)."""
    fields = kind._fields
    if "signer" not in fields:
        return "ds" if "ds" in fields else "client"
    parties = {PARTY[r.role] for r in SENDERS[kind]}
    if len(parties) != 1:
        raise ValueError(f"{kind.__name__}: sent by {sorted(parties) or 'nobody'}")
    return parties.pop()


def signer(m: Any) -> int:
    """The id of the party whose key signed `m` (whose channel carried it, for a request)."""
    for name in ("signer", "client", "ds"):
        if name in m._fields:
            return int(getattr(m, name))
    raise ValueError(f"{type(m).__name__} names no sender")


def addressed(config: Config, m: Any) -> list[tuple[str, int]]:
    """The parties `m` is for, (role kind, id), as its receiving rules route it (a party the
    rules name but no honest rule plays, the rogue, included)."""
    out: list[tuple[str, int]] = []
    for rule in RECEIVERS[type(m)]:
        assert rule.to is not None
        fixed = rule.to(m)
        party = PARTY[rule.role]
        who = rule.params[0]
        if who in fixed:
            out.append((party, int(fixed[who])))
        else:
            out.extend((party, i) for i in range_values(config, rule.domains[0]))
    return list(dict.fromkeys(out))


def relaxed(config: Config, state: ms.State) -> tuple[Config, ms.State]:
    """The same state under one more nonce per target and one more epoch: a delivery the
    model refuses only because of its bounds is not a refusal the implementation must make
    (the implementation has no such bounds)."""
    pools = tuple((*pool, ms.UNUSED_NONCE) for pool in state.nonces)
    return config.one_bound_more, state._replace(nonces=pools)


def refused_by_bounds(config: Config, state: ms.State, names: Iterable[str],
                      args: tuple[Any, ...]) -> bool:
    """Some rule of `names` accepts `args` under one more nonce per target and one more
    epoch (`relaxed`): a refusal due to the model's bounds, not one the implementation
    must make."""
    big_config, big_state = relaxed(config, state)
    return any(ACTIONS_BY_NAME[name].accepts(big_config, big_state, *args) for name in names)


def deliveries(config: Config, state: ms.State) -> Iterator[tuple[str, tuple[Any, ...], bool]]:
    """(action, args, accepted) for every network message and every party of an action that
    receives its kind; `accepted` is False when no action receiving that kind accepts it there
    (then one tuple per such action, all refused).  Refusals due only to the model's bounds
    (`relaxed`) are left out."""
    for kind, rules in RECEIVERS.items():
        if not rules:
            continue
        for m in state.network[ms.SLOT[kind]]:
            per_party: dict[tuple[Any, ...], list[tuple[str, bool]]] = {}
            for rule in rules:
                if not live(config, rule):
                    continue  # never enabled in this design: it accepts and refuses nothing
                spec = ACTIONS_BY_NAME[rule.name]
                for args in spec.parties(config, state, m):
                    per_party.setdefault(args, []).append(
                        (rule.name, spec.accepts(config, state, *args))
                    )
            for args, verdicts in per_party.items():
                accepted = any(ok for _, ok in verdicts)
                if not accepted and refused_by_bounds(
                        config, state, (name for name, _ in verdicts), args):
                    continue
                for name, ok in verdicts:
                    if ok or not accepted:
                        yield name, args, ok


def receiving_rules(kind: type[Any]) -> list[str]:
    """The names of the rules that receive `kind`, in table order."""
    return [r.name for r in RECEIVERS[kind]]


