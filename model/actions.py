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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import adversary
from .compiled import Compiled, compiled_effect, compiled_guard, compiled_helper
from .config import Config
from .messages import message_from_json, message_to_json
from .rules import RULES, Rule, can_forge
from .state import SLOT, State
from .vocabulary import Check, Concrete, StateView, range_values


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
        route = router(config, rule)
        for m in network:
            for args in route(m):
                yield args, True
        if rule.forged:
            for m in adversary.candidates(config, state, rule.receives):
                if m not in network:
                    for args in route(m):
                        yield args, False

    def parties(self, config: Config, state: State, m: Any) -> Iterator[tuple[Any, ...]]:
        """The parameter tuples (ending in `m`) of the parties that would receive `m`."""
        return iter(router(config, self.rule)(m))

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
        holds = compiled_guard(self.rule.guard, config.dropped)
        return holds(reading(config), StateView(state), *args)

    def guard(self, config: Config, state: State, *args: Any) -> bool:
        if self.rule.receives is not None and not self.delivered(config, state, args[-1]):
            return False
        return self.accepts(config, state, *args)

    def effect(self, config: Config, state: State, *args: Any) -> State:
        update = compiled_effect(self.rule.effect, config.dropped)
        out: StateView = update(reading(config), StateView(state), *args)
        return out.st


def reading(config: Config) -> Concrete:
    """The concrete reading of the rules for one Config (its design included), made once
    per Config object (hashing a Config on every guard would cost more than the guard)."""
    found: Concrete | None = config.__dict__.get("_concrete")
    if found is None:
        found = Concrete(config)
        config.__dict__["_concrete"] = found
    return found


Router = Callable[[Any], Iterable[tuple[Any, ...]]]


def router(config: Config, rule: Rule) -> Router:
    """`rule`'s routing for one Config: message -> the parameter tuples of its receivers (the
    parameters `rule.to` fixes, checked against their domains, and every value of the
    others), made once per Config and rule."""
    cache: dict[str, Router] = config.__dict__.setdefault("_routers", {})
    found = cache.get(rule.name)
    if found is None:
        found = cache[rule.name] = _router(config, rule)
    return found


def _router(config: Config, rule: Rule) -> Router:
    to = rule.to
    assert to is not None
    names = rule.params[:-1]
    bounds = [len(range_values(config, d)) for d in rule.domains[:-1]]
    free = [list(range_values(config, d)) for d in rule.domains[:-1]]
    fixed = to(_Probe())
    fixed_names = {n for n in names if n in fixed}
    if fixed_names == set(names) and len(names) == 1:
        (only,), (hi,) = names, bounds

        def one_fixed(m: Any) -> Iterable[tuple[Any, ...]]:
            v = to(m)[only]
            return ((v, m),) if 0 <= v < hi else ()

        return one_fixed
    if fixed_names == set(names) and len(names) == 2:
        (first, second), (hi1, hi2) = names, bounds

        def two_fixed(m: Any) -> Iterable[tuple[Any, ...]]:
            given = to(m)
            a, b = given[first], given[second]
            return ((a, b, m),) if 0 <= a < hi1 and 0 <= b < hi2 else ()

        return two_fixed
    if fixed_names == set(names):

        def all_fixed(m: Any) -> Iterable[tuple[Any, ...]]:
            given = to(m)
            values = tuple(given[n] for n in names)
            for v, hi in zip(values, bounds, strict=True):
                if not 0 <= v < hi:
                    return ()
            return ((*values, m),)

        return all_fixed

    def some_free(m: Any) -> Iterable[tuple[Any, ...]]:
        given = to(m)
        axes: list[Iterable[Any]] = []
        for n, hi, values in zip(names, bounds, free, strict=True):
            if n in given:
                v = given[n]
                if not 0 <= v < hi:
                    return ()
                axes.append((v,))
            else:
                axes.append(values)
        return [(*combo, m) for combo in itertools.product(*axes)]

    return some_free


class _Probe:
    """Stands for a message when asking which parameters a rule's `to` fixes: every field
    read of it is another probe."""

    def __getattr__(self, name: str) -> _Probe:
        return _Probe()


Plan = list[tuple[int, Rule, int, Router | None, list[tuple[Any, ...]], Compiled]]


def _plan(config: Config) -> Plan:
    """Per action, once per Config: (index, rule, network slot or -1, router, the candidate
    tuples of a non-receiving action, the guard compiled for the design)."""
    found: list[Any] | None = config.__dict__.get("_plan")
    if found is None:
        found = []
        for i, spec in enumerate(ACTIONS):
            rule = spec.rule
            if not live(config, rule):
                continue
            holds = compiled_guard(rule.guard, config.dropped)
            if rule.receives is None:
                tuples = list(itertools.product(*(range_values(config, d)
                                                  for d in rule.domains)))
                found.append((i, rule, -1, None, tuples, holds))
            else:
                found.append((i, rule, SLOT[rule.receives], router(config, rule), [], holds))
        config.__dict__["_plan"] = found
    return found


def live(config: Config, rule: Rule) -> bool:
    """Whether `rule` can change a state in the design of `config`: False when the design
    keeps every check and switch of its `inert_unless` (never enabled, or a stutter)."""
    return not rule.inert_unless or any(c.id in config.dropped for c in rule.inert_unless)


def instances(config: Config, state: State) -> Iterator[tuple[int, tuple[Any, ...], bool]]:
    """(index in ACTIONS, arguments, whether the message was forged) of every enabled action
    instance of `state`, in table order: the one loop the checker and `enabled` share."""
    x = reading(config)
    view = StateView(state)
    network = state.network
    forgeable = compiled_helper(can_forge)

    for i, rule, slot, route, tuples, holds in _plan(config):
        if route is None:
            for args in tuples:
                if holds(x, view, *args):
                    yield i, args, False
            continue
        sent = network[slot]
        for m in sent:
            for args in route(m):
                if holds(x, view, *args):
                    yield i, args, False
        if rule.forged:
            kind = rule.receives
            for m in adversary.candidates(config, state, kind):  # type: ignore[arg-type]
                if m in sent:
                    continue
                routed = route(m)
                if routed and forgeable(x, view, kind, m):
                    for args in routed:
                        if holds(x, view, *args):
                            yield i, args, True


def steps(config: Config, state: State) -> Iterator[tuple[int, State]]:
    """(2 * index in ACTIONS, plus 1 for a forged message; next state) of every enabled
    action instance of `state`: the explicit checker's hot loop, with the effects compiled
    for the design."""
    effects: list[Any] | None = config.__dict__.get("_effects")
    if effects is None:
        effects = [compiled_effect(spec.rule.effect, config.dropped) for spec in ACTIONS]
        config.__dict__["_effects"] = effects
    x = reading(config)
    view = StateView(state)
    for i, args, forged in instances(config, state):
        yield 2 * i + forged, effects[i](x, view, *args).st


ACTIONS: tuple[ActionSpec, ...] = tuple(ActionSpec(rule) for rule in RULES)

ACTIONS_BY_NAME: dict[str, ActionSpec] = {spec.name: spec for spec in ACTIONS}


def honest_client(config: Config, client: int) -> bool:
    return 0 <= client < config.clients


def honest_ds(config: Config, ds: int) -> bool:
    return 0 <= ds < config.honest_ds


# ---------------------------------------------------------------- public API


def enabled(config: Config, state: State) -> Iterator[tuple[ActionSpec, tuple[Any, ...]]]:
    """Every enabled action instance of `state` that can change it, in table order (the
    rules inert in the design are left out, Rule.inert_unless; every_enabled has them)."""
    for i, args, _ in instances(config, state):
        yield ACTIONS[i], args


def every_enabled(config: Config, state: State
                  ) -> Iterator[tuple[ActionSpec, tuple[Any, ...]]]:
    """Every enabled action instance, the actions the checker leaves out as inert in this
    design (Rule.inert_unless) included: what the guards say, for comparing readings."""
    for spec in ACTIONS:
        for args in dict.fromkeys(spec.candidates(config, state)):
            if spec.guard(config, state, *args):
                yield spec, args


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
