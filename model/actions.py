"""The engine that runs the rules of model/rules.py on concrete states: the ACTIONS table.

This module owns the concrete reading of a `Rule`: which parameter values to try in a state
(`candidates`: the integer domains, and for a receiving action each message of the network,
or one the adversary can forge, routed to the parties its `to` names), whether the guard
holds (every labelled conjunct true, a check the design drops read as true), and the next
state.  The explicit checker, the lockstep test, the diagrams and the trace tools iterate
`ACTIONS`; the rules themselves are in model/rules.py and nowhere else.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import adversary
from .config import Config
from .messages import message_from_json, message_to_json
from .rules import RULES, Rule, can_forge
from .state import SLOT, State
from .vocabulary import Check, Concrete, StateView, in_range, range_values


class Action(NamedTuple):
    """One step of a trace: the action's name and its arguments as (name, value) pairs."""

    name: str
    args: tuple[tuple[str, Any], ...]

    def arg(self, key: str) -> Any:
        for k, v in self.args:
            if k == key:
                return v
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        return {"action": self.name, "args": {k: message_to_json(v) for k, v in self.args}}

    @staticmethod
    def from_json(entry: Mapping[str, Any]) -> Action:
        args = entry.get("args", {})
        return Action(
            str(entry["action"]), tuple((k, message_from_json(v)) for k, v in args.items())
        )


@dataclass(frozen=True)
class ActionSpec:
    """A rule of model/rules.py read concretely: candidates, guard and effect."""

    rule: Rule

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def role(self) -> str:
        return self.rule.role

    @property
    def params(self) -> tuple[str, ...]:
        return self.rule.params

    @property
    def receives(self) -> type[Any] | None:
        return self.rule.receives

    @property
    def forged(self) -> bool:
        return self.rule.forged

    @property
    def doc(self) -> str:
        return self.rule.doc

    def candidates(self, config: Config, state: State) -> Iterator[tuple[Any, ...]]:
        """A superset of the parameter values for which the guard can hold."""
        for args, _ in self.sourced(config, state):
            yield args

    def sourced(self, config: Config, state: State) -> Iterator[tuple[tuple[Any, ...], bool]]:
        """(candidate parameter values, whether the message is one of the network's); a
        forged candidate still has to pass `can_forge`."""
        rule = self.rule
        if rule.receives is None:
            for args in itertools.product(*(range_values(config, d) for d in rule.domains)):
                yield args, True
            return
        network = state.network[SLOT[rule.receives]]
        for m in network:
            for args in self.parties(config, state, m):
                yield args, True
        if rule.forged:
            for m in adversary.candidates(config, state, rule.receives):
                if m not in network:
                    for args in self.parties(config, state, m):
                        yield args, False

    def parties(self, config: Config, state: State, m: Any) -> Iterator[tuple[Any, ...]]:
        """The parameter tuples (ending in `m`) of the parties that would receive `m`."""
        rule = self.rule
        assert rule.to is not None
        fixed = rule.to(m)
        u = reading(config).u
        free: list[Iterable[Any]] = []
        for name, domain in zip(rule.params[:-1], rule.domains[:-1], strict=True):
            if name in fixed:
                if not in_range(u, domain, fixed[name]):
                    return
                free.append((fixed[name],))
            else:
                free.append(range_values(config, domain))
        if len(free) == 1:
            for value in free[0]:
                yield value, m
            return
        for values in itertools.product(*free):
            yield (*values, m)

    def delivered(self, config: Config, state: State, m: Any) -> bool:
        """`m` is in the network or, if the action takes forged messages, the adversary can
        produce it now."""
        kind = self.rule.receives
        assert kind is not None
        if m in state.network[SLOT[kind]]:
            return True
        return self.rule.forged and bool(
            can_forge(reading(config), StateView(state), kind, m))

    def conjuncts(self, config: Config, state: State, *args: Any) -> Iterator[tuple[Check, Any]]:
        """The guard's labelled conjuncts in order, lazily (a later one may assume the
        earlier ones held)."""
        return self.rule.guard(reading(config), StateView(state), *args)

    def accepts(self, config: Config, state: State, *args: Any) -> bool:
        """The guard minus "the message is delivered"."""
        dropped = config.dropped
        for chk, ok in self.rule.guard(reading(config), StateView(state), *args):
            if not ok and (chk.kind != "check" or chk.id not in dropped):
                return False
        return True

    def guard(self, config: Config, state: State, *args: Any) -> bool:
        if self.rule.receives is not None and not self.delivered(config, state, args[-1]):
            return False
        return self.accepts(config, state, *args)

    def effect(self, config: Config, state: State, *args: Any) -> State:
        out: StateView = self.rule.effect(reading(config), StateView(state), *args)
        return out.st


def reading(config: Config) -> Concrete:
    """The concrete reading of the rules for one Config (its design included), made once
    per Config object (hashing a Config on every guard would cost more than the guard)."""
    found: Concrete | None = config.__dict__.get("_concrete")
    if found is None:
        found = Concrete(config)
        config.__dict__["_concrete"] = found
    return found


def instances(config: Config, state: State) -> Iterator[tuple[int, tuple[Any, ...], bool]]:
    """(index in ACTIONS, arguments, whether the message was forged) of every enabled action
    instance of `state`, in table order: the one loop the checker and `enabled` share."""
    x = reading(config)
    view = StateView(state)
    dropped = config.dropped
    for i, spec in enumerate(ACTIONS):
        rule = spec.rule
        guard = rule.guard
        kind = rule.receives
        for args, sent in spec.sourced(config, state):
            if not sent and not can_forge(x, view, kind, args[-1]):  # type: ignore[arg-type]
                continue
            for chk, ok in guard(x, view, *args):
                if not ok and (chk.kind != "check" or chk.id not in dropped):
                    break
            else:
                yield i, args, not sent


ACTIONS: tuple[ActionSpec, ...] = tuple(ActionSpec(rule) for rule in RULES)

ACTIONS_BY_NAME: dict[str, ActionSpec] = {spec.name: spec for spec in ACTIONS}


def honest_client(config: Config, client: int) -> bool:
    return 0 <= client < config.clients


def honest_ds(config: Config, ds: int) -> bool:
    return 0 <= ds < config.honest_ds


# ---------------------------------------------------------------- public API


def enabled(config: Config, state: State) -> Iterator[tuple[ActionSpec, tuple[Any, ...]]]:
    """Every enabled action instance of `state`, in table order."""
    for i, args, _ in instances(config, state):
        yield ACTIONS[i], args


def successors(config: Config, state: State) -> Iterator[tuple[Action, State]]:
    """(Action(name, args), next state) for every enabled action instance of `state`."""
    for spec, args in enabled(config, state):
        yield (
            Action(spec.name, tuple(zip(spec.params, args, strict=True))),
            spec.effect(config, state, *args),
        )


def next_states(config: Config, state: State) -> Iterator[State]:
    """The successor states alone (the checker's hot path)."""
    for _, nxt in successors(config, state):
        yield nxt


class ActionNotEnabled(Exception):
    """A trace step whose action is unknown or whose guard does not hold."""


def step(config: Config, state: State, action: Action) -> State:
    """Apply one action; raises ActionNotEnabled unless its guard holds in `state`."""
    spec = ACTIONS_BY_NAME.get(action.name)
    if spec is None:
        raise ActionNotEnabled(f"unknown action {action.name!r}")
    given = dict(action.args)
    if set(given) != set(spec.params):
        raise ActionNotEnabled(f"{action.name}: arguments {sorted(given)} != {spec.params}")
    args = tuple(given[p] for p in spec.params)
    try:
        ok = spec.guard(config, state, *args)
    except (IndexError, KeyError, TypeError, AttributeError, ValueError) as err:
        raise ActionNotEnabled(f"{action.name}{args}: malformed arguments ({err})") from None
    if not ok:
        raise ActionNotEnabled(f"{action.name} is not enabled with {dict(action.args)}")
    return spec.effect(config, state, *args)


def replay(config: Config, trace: Sequence[Action | Mapping[str, Any]],
           start: State | None = None) -> list[State]:
    """The states a trace goes through (the initial state first).  Each step may be an
    Action or its JSON form {"action", "args"}; raises ActionNotEnabled at the first step
    whose guard does not hold."""
    from .state import initial_state

    state = initial_state(config) if start is None else start
    states = [state]
    for entry in trace:
        action = entry if isinstance(entry, Action) else Action.from_json(entry)
        state = step(config, state, action)
        states.append(state)
    return states
