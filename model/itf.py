"""Model traces in the Informal Trace Format (ITF, Apalache ADR-015): written, read, replayed.

This module owns the ITF form of a trace of the model: one ITF state per model state, the
model's five variables (`hosts`, `nonces`, `clients`, `network`, `ghost`) in each, and, as
Quint's `--mbt` writes them, the action that led to the state (`mbt::actionTaken`, "init"
for the first) and its arguments (`mbt::nondetPicks`, each an Option variant
`{"tag": "Some", "value": v}`).  Values as ADR-015 has them: an integer is
`{"#bigint": "n"}`, a tuple `{"#tup": [...]}`, a set `{"#set": [...]}` (its elements in a
fixed order, so the same trace writes the same bytes), a record (a model NamedTuple: a
state part or a message) a JSON object with its field names.  The trace's `#meta` carries
what a reader needs to replay it: the whole configuration and design (`mimi-portability`
key), the property and verdict it is a trace of, and which command wrote it.

Reading is typed: every value is decoded against the field types of model/state.py and
model/messages.py, so a file that does not describe a model state (a missing or extra
field, a set where a tuple belongs, a string for an integer) is an `ItfError` naming the
path of the value, never a traceback.  `replay` runs the trace through the model and says
where it stops being a model behaviour: the first state that is not the initial state or
not the successor of the one before by its action, with the first false check of that
action's guard (its id and docs/profile.md clause) when the action was not enabled.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from .actions import (
    ACTIONS,
    ACTIONS_BY_NAME,
    Action,
    ActionNotEnabled,
    ActionSpec,
    instances,
    step,
    successors,
)
from .config import Config, DesignOptions
from .properties import LIVENESS_ID, migrations_open, violated
from .refusals import failing
from .state import State, initial_state

FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"
ACTION_TAKEN = "mbt::actionTaken"
NONDET_PICKS = "mbt::nondetPicks"
VARS: tuple[str, ...] = State._fields
META_KEY = "mimi-portability"
"""The key of `#meta` under which this project keeps the configuration and the verdict."""


class ItfError(ValueError):
    """A file that is not an ITF trace of this model; the message names where."""


# ---------------------------------------------------------------- values


def encode(value: Any) -> Any:
    """A model value (int, bool, str, NamedTuple, tuple, frozenset) as an ITF JSON value."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: encode(item) for name, item in zip(value._fields, value, strict=True)}
    if isinstance(value, tuple):
        return {"#tup": [encode(item) for item in value]}
    if isinstance(value, frozenset | set):
        items = [encode(item) for item in value]
        return {"#set": sorted(items, key=lambda v: json.dumps(v, sort_keys=True))}
    raise TypeError(f"no ITF form for {type(value).__name__}")


def decode(value: Any, kind: Any, path: str = "$") -> Any:
    """The ITF JSON `value` as a model value of type `kind` (a field annotation)."""
    origin = typing.get_origin(kind)
    if kind is bool:
        if not isinstance(value, bool):
            raise ItfError(f"{path}: expected a boolean, got {_shape(value)}")
        return value
    if kind is int:
        return _int(value, path)
    if kind is str:
        if not isinstance(value, str):
            raise ItfError(f"{path}: expected a string, got {_shape(value)}")
        return value
    if isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields"):
        return _record(value, kind, path)
    if origin is tuple:
        args = typing.get_args(kind)
        items = _tagged(value, "#tup", path)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(v, args[0], f"{path}[{i}]") for i, v in enumerate(items))
        if len(items) != len(args):
            raise ItfError(f"{path}: expected a tuple of {len(args)}, got {len(items)}")
        return tuple(decode(v, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(items, args,
                                                                                  strict=True)))
    if origin is frozenset:
        (element,) = typing.get_args(kind)
        items = _tagged(value, "#set", path)
        out = frozenset(decode(v, element, f"{path}{{{i}}}") for i, v in enumerate(items))
        if len(out) != len(items):
            raise ItfError(f"{path}: a set with a repeated element")
        return out
    raise TypeError(f"{path}: no ITF reading for {kind!r}")


def _int(value: Any, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # ADR-015 allows a plain number within 2^53
    if isinstance(value, dict) and set(value) == {"#bigint"} and isinstance(value["#bigint"],
                                                                           str):
        try:
            return int(value["#bigint"], 10)
        except ValueError:
            pass
    raise ItfError(f"{path}: expected an integer ({{\"#bigint\": \"n\"}}), got {_shape(value)}")


def _tagged(value: Any, tag: str, path: str) -> list[Any]:
    if isinstance(value, dict) and set(value) == {tag} and isinstance(value[tag], list):
        items: list[Any] = value[tag]
        return items
    raise ItfError(f"{path}: expected {{\"{tag}\": [...]}}, got {_shape(value)}")


def _record(value: Any, kind: type[Any], path: str) -> Any:
    fields: tuple[str, ...] = kind._fields
    if not isinstance(value, dict) or any(k.startswith("#") for k in value):
        raise ItfError(f"{path}: expected a {kind.__name__} record, got {_shape(value)}")
    missing, extra = set(fields) - set(value), set(value) - set(fields)
    if missing or extra:
        raise ItfError(f"{path}: a {kind.__name__} has the fields {', '.join(fields)}"
                       + (f"; missing {', '.join(sorted(missing))}" if missing else "")
                       + (f"; unknown {', '.join(sorted(extra))}" if extra else ""))
    hints = _hints(kind)
    return kind(*(decode(value[f], hints[f], f"{path}.{f}") for f in fields))


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(kind: type[Any]) -> dict[str, Any]:
    found = _HINTS.get(kind)
    if found is None:
        found = _HINTS[kind] = typing.get_type_hints(kind)
    return found


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(sorted(value)[:4])
        return f"an object with {keys or 'no keys'}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    return f"{type(value).__name__} {json.dumps(value)[:40]}"


# ---------------------------------------------------------------- the configuration


def config_meta(config: Config) -> dict[str, Any]:
    """Everything `Config` holds, as JSON: the bounds, the rogues, the policies, the design."""
    return {
        "clients": config.clients, "ds": config.ds, "groups": config.groups,
        "attempts": config.attempts, "epochs": config.max_epoch,
        "rogue_ds": config.rogue_ds, "rogue_client": config.rogue_client,
        "source_denies": sorted(config.source_denies),
        "target_denies": sorted(config.target_denies),
        "options": sorted(config.options.enabled()), "drop": sorted(config.drop),
    }


def config_from_meta(meta: Any) -> Config:
    """The inverse of `config_meta`; a field of the wrong type or an unknown option or
    check id is an ItfError."""
    if not isinstance(meta, dict):
        raise ItfError(f"#meta.{META_KEY}.config: expected an object, got {_shape(meta)}")
    where = f"#meta.{META_KEY}.config"
    known = {f.name for f in dataclasses.fields(DesignOptions)}
    try:
        options = [str(o) for o in meta.get("options", [])]
        unknown = sorted(set(options) - known)
        if unknown:
            raise ItfError(f"{where}.options: unknown design option {', '.join(unknown)}")
        ints = {k: meta[k] for k in ("clients", "ds", "groups", "attempts", "epochs")}
        if any(not isinstance(v, int) or isinstance(v, bool) for v in ints.values()):
            raise ItfError(f"{where}: clients, ds, groups, attempts and epochs are integers")
        config = Config(
            clients=ints["clients"], ds=ints["ds"], groups=ints["groups"],
            attempts=ints["attempts"], max_epoch=ints["epochs"],
            rogue_ds=bool(meta["rogue_ds"]), rogue_client=bool(meta["rogue_client"]),
            source_denies=frozenset(int(c) for c in meta.get("source_denies", [])),
            target_denies=frozenset(int(c) for c in meta.get("target_denies", [])),
            options=DesignOptions(**dict.fromkeys(options, True)),
            drop=frozenset(str(c) for c in meta.get("drop", [])))
        config.dropped  # noqa: B018 - raises on an unknown check id
    except KeyError as err:
        raise ItfError(f"{where}: missing {err.args[0]}") from None
    except (TypeError, ValueError) as err:
        if isinstance(err, ItfError):
            raise
        raise ItfError(f"{where}: {err}") from None
    return config


# ---------------------------------------------------------------- traces


def trace_to_itf(config: Config, actions: Sequence[Action], *, source: str,
                 description: str, verdict: Mapping[str, Any] | None = None,
                 start: State | None = None) -> dict[str, Any]:
    """The ITF document of the run of `actions` from `start` (default: the initial state)."""
    state = initial_state(config) if start is None else start
    states = [_itf_state(0, state, "init", {})]
    for i, action in enumerate(actions, 1):
        state = step(config, state, action)
        picks = {k: {"tag": "Some", "value": encode(v)} for k, v in action.args}
        states.append(_itf_state(i, state, action.name, picks))
    meta: dict[str, Any] = {"config": config_meta(config), "design": config.design_name()}
    if verdict:
        meta.update(verdict)
    return {
        "#meta": {"format": "ITF", "format-description": FORMAT_DESCRIPTION,
                  "source": source, "description": description, META_KEY: meta},
        "vars": [*VARS, ACTION_TAKEN, NONDET_PICKS],
        "states": states,
    }


def _itf_state(index: int, state: State, action: str, picks: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"#meta": {"index": index}}
    out.update({name: encode(part) for name, part in zip(VARS, state, strict=True)})
    out[ACTION_TAKEN] = action
    out[NONDET_PICKS] = picks
    return out


@dataclasses.dataclass(frozen=True)
class ItfTrace:
    """An ITF trace read back: its configuration, states, actions and what it claims."""

    config: Config
    states: tuple[State, ...]
    actions: tuple[Action | None, ...]
    """The action that led to each state after the first (None: the file names none)."""
    meta: dict[str, Any]


def read_itf(doc: Any) -> ItfTrace:
    """The trace of an ITF document (parsed JSON) of this model; ItfError where it is not."""
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list):
        raise ItfError("$: an ITF trace is an object with \"states\": [...]")
    meta = doc.get("#meta", {})
    ours = meta.get(META_KEY) if isinstance(meta, dict) else None
    if not isinstance(ours, dict) or "config" not in ours:
        raise ItfError(f"#meta.{META_KEY}.config: the trace does not say its configuration")
    config = config_from_meta(ours["config"])
    if not doc["states"]:
        raise ItfError("$.states: an empty trace")
    states: list[State] = []
    actions: list[Action | None] = []
    hints = _hints(State)
    for i, raw in enumerate(doc["states"]):
        where = f"$.states[{i}]"
        if not isinstance(raw, dict):
            raise ItfError(f"{where}: expected a state object, got {_shape(raw)}")
        missing = [v for v in VARS if v not in raw]
        if missing:
            raise ItfError(f"{where}: missing the variable {', '.join(missing)}")
        states.append(State(*(decode(raw[v], hints[v], f"{where}.{v}") for v in VARS)))
        if i:
            actions.append(_action(raw, where))
    return ItfTrace(config, tuple(states), tuple(actions), ours)


def _action(raw: dict[str, Any], where: str) -> Action | None:
    name = raw.get(ACTION_TAKEN)
    if name is None:
        return None
    spec = ACTIONS_BY_NAME.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ItfError(f"{where}.{ACTION_TAKEN}: unknown action {json.dumps(name)[:60]}")
    picks = raw.get(NONDET_PICKS, {})
    if not isinstance(picks, dict) or set(picks) != set(spec.params):
        raise ItfError(f"{where}.{NONDET_PICKS}: {spec.name} takes {', '.join(spec.params)}")
    args = []
    for p in spec.params:
        pick = picks[p]
        if not (isinstance(pick, dict) and pick.get("tag") == "Some" and "value" in pick):
            raise ItfError(f"{where}.{NONDET_PICKS}.{p}: expected {{\"tag\": \"Some\", "
                           "\"value\": ...}")
        kind = spec.receives if p == spec.params[-1] and spec.receives else int
        args.append((p, decode(pick["value"], kind, f"{where}.{NONDET_PICKS}.{p}.value")))
    return Action(spec.name, tuple(args))


# ---------------------------------------------------------------- replay


@dataclasses.dataclass(frozen=True)
class Replay:
    """How far a trace is a behaviour of the model, and what its last state violates."""

    matched: int
    """States 0 .. matched-1 are a model behaviour."""
    total: int
    stop: str | None
    """Why state `matched` is not (None: the whole trace is)."""
    violates: tuple[str, ...]
    """The properties the last matched state violates (the liveness property when no run
    of honest steps from it completes its open migrations)."""

    @property
    def complete(self) -> bool:
        return self.stop is None


def replay(trace: ItfTrace) -> Replay:
    config, states = trace.config, trace.states
    first = initial_state(config)
    if states[0] != first:
        return Replay(0, len(states), f"state 0 is not the initial state of "
                      f"{config.summary()} (differs in {_differs(states[0], first)})", ())
    for i, action in enumerate(trace.actions, 1):
        before, after = states[i - 1], states[i]
        if action is None:
            if not any(s == after for _, s in successors(config, before)):
                return _stop(config, states, i, "no action of the model leads to it")
            continue
        spec = ACTIONS_BY_NAME[action.name]
        why = refusal(config, before, spec, tuple(v for _, v in action.args))
        if why is not None:
            return _stop(config, states, i, f"{_call(action)} is not enabled: {why}")
        try:
            expected = step(config, before, action)
        except ActionNotEnabled as err:  # arguments the configuration has no room for
            return _stop(config, states, i, f"{_call(action)} is not enabled: {err}")
        if expected != after:
            return _stop(config, states, i, f"{_call(action)} leads elsewhere (differs in "
                         f"{_differs(after, expected)})")
    return Replay(len(states), len(states), None, _violations(config, states[-1]))


def _stop(config: Config, states: Sequence[State], i: int, why: str) -> Replay:
    return Replay(i, len(states), f"state {i}: {why}", _violations(config, states[i - 1]))


def refusal(config: Config, state: State, spec: ActionSpec, args: tuple[Any, ...]) -> str | None:
    """Why `spec` with `args` is not enabled in `state` (None: as far as its message and
    guard say, it is): the message is not on the network and no rogue party can forge it,
    or the first false check of the guard (model/refusals.py `failing`) with its id and
    docs/profile.md clause."""
    if spec.receives is not None and not spec.delivered(config, state, args[-1]):
        return "its message was never sent and no rogue party can forge it"
    false = failing(config, state, spec.name, args)
    if not false:
        return None
    check = false[0]
    clause = f"; docs/profile.md {check.clause}" if check.clause else ""
    return f"check {check.id} is false ({check.text}{clause})"


def _violations(config: Config, state: State) -> tuple[str, ...]:
    found = violated(config, state)
    if migrations_open(config, state) and not _can_complete(config, state):
        found.append(LIVENESS_ID)
    return tuple(found)


def _can_complete(config: Config, start: State) -> bool:
    """Whether some run of honest steps (no forged message) from `start` reaches a state in
    which every accepted migration completed: the liveness verdict on one state."""
    seen, queue = {start}, [start]
    while queue:
        state = queue.pop()
        if not migrations_open(config, state):
            return True
        for i, args, forged in instances(config, state):
            if not forged:
                nxt = ACTIONS[i].effect(config, state, *args)
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
    return False


def _differs(a: State, b: State) -> str:
    return ", ".join(v for v, x, y in zip(VARS, a, b, strict=True) if x != y) or "nothing"


def _call(action: Action) -> str:
    return f"{action.name}({', '.join(k for k, _ in action.args)})"

