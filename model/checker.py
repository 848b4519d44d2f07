"""The explicit-state checker: breadth-first search, traces, liveness and the vacuity matrix.

This module owns exploring the reachable states of one design (`explore`), turning a state
found into a replayable trace of model actions (`trace_to`), deciding the bounded liveness
property on the explored graph (`doomed_state`), and the reports built from those: one
verdict per (design, property) (`check`, `check_designs`) and the design x property matrix
whose empty rows and columns are vacuity findings (`vacuity_matrix`).

Breadth-first order makes every reported counterexample a shortest one.  States are stored
canonically under model/symmetry.py; a trace is rebuilt on concrete states by re-searching,
from the concrete initial state, a successor whose canonical form is the next state on the
path, so traces replay through `actions.replay` exactly as printed.

Over 500 lines on purpose: the search, the trace rebuilt from it, the liveness decision on
its graph and the per-design reports all read one `Exploration` (its parents, depths and
edges) and the interned states it keeps; apart, each would need that structure exported.
"""

from __future__ import annotations

import builtins
import enum
import sys
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from . import compiled
from .actions import Action, steps, successors
from .config import ALL_DESIGNS, Config, Variant
from .expander import Expander, part_ids, part_key
from .properties import LIVENESS_ID, PROPERTIES, Property, footprint, migrations_open
from .state import EMPTY_GHOST, EMPTY_NETWORK, Ghost, Network, State, initial_state
from .symmetry import Symmetry

_new = tuple.__new__


class Verdict(enum.StrEnum):
    """The explicit checker's verdict on one property of one design: it holds in every
    reachable state (the search was exhaustive), a reachable state violates it (with a
    shortest trace), or the state budget ran out first."""

    HOLDS = "holds"
    VIOLATED = "violated"
    UNKNOWN = "unknown"


HOLDS, VIOLATED, UNKNOWN = Verdict



@dataclass(frozen=True)
class Progress:
    states: int
    transitions: int
    depth: int
    seconds: float
    queue: int = 0
    """States found and not yet expanded."""
    rss: int = 0
    """The process's peak resident memory so far, in bytes (0: unknown)."""

    def line(self) -> str:
        rate = self.states / self.seconds if self.seconds else 0.0
        memory = f", {self.rss / 2**20:,.0f} MiB peak RSS" if self.rss else ""
        return (
            f"  ... {self.states:,} states, {self.transitions:,} transitions, depth "
            f"{self.depth}, {self.seconds:.1f}s, {rate:,.0f} states/s, queue "
            f"{self.queue:,}{memory}"
        )


def peak_rss() -> int:
    """The peak resident set size of this process in bytes (0 where it cannot be read)."""
    try:
        import resource
    except ImportError:  # not on every platform
        return 0
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * scale


def stderr_progress(p: Progress) -> None:
    print(p.line(), file=sys.stderr, flush=True)


@dataclass
class Exploration:
    """The explored graph of one design: canonical states in breadth-first order."""

    config: Config
    states: list[State]
    parent: array[int]
    depth: array[int]
    violations: dict[str, int]
    """Property ID -> index of the first (shallowest) state violating it."""
    transitions: int
    seconds: float
    symmetry: bool
    edges: tuple[array[int], array[int], array[int]] | None = None
    """(source index, target index, step label of `_expand`) of every non-stutter step."""
    index: dict[State, int] = field(default_factory=dict, repr=False)
    """Each canonical state, and each concrete successor met, -> its canonical state's
    index in `states` (without symmetry: the states themselves)."""
    complete: bool = True
    """False when `max_states` stopped the search: "holds" cannot be concluded."""

    @property
    def max_depth(self) -> int:
        return self.depth[-1] if len(self.depth) else 0

    def path(self, target: int) -> list[int]:
        out = [target]
        while self.parent[out[-1]] >= 0:
            out.append(self.parent[out[-1]])
        return out[::-1]


def _expand(config: Config, state: State) -> Iterable[tuple[int, State]]:
    """(step label, next state); the label is 2 * action index, plus 1 when the step
    receives a message the adversary forged."""
    return steps(config, state)


class Interner:
    """Makes the parts of stored states that are equal the same object: the tables, each
    set of the network and of the ghost, the network and the ghost.  States then share
    their parts by identity, which the Expander's memo keys on and which keeps one copy
    of each distinct part in memory."""

    def __init__(self) -> None:
        self.tables: tuple[dict[Any, Any], ...] = ({}, {}, {})
        self.slots: list[dict[Any, Any]] = [{} for _ in range(len(EMPTY_NETWORK))]
        self.ghosts: list[dict[Any, Any]] = [{} for _ in range(len(EMPTY_GHOST))]
        self.nets: dict[Any, Any] = {}
        self.ghost: dict[Any, Any] = {}

    def __call__(self, state: State) -> State:
        hosts, nonces, clients, net, ghost = state
        t0, t1, t2 = self.tables
        hosts = t0.setdefault(hosts, hosts)
        nonces = t1.setdefault(nonces, nonces)
        clients = t2.setdefault(clients, clients)
        found = self.nets.get(net)
        if found is None:
            found = _new(Network, [d.setdefault(fs, fs)
                                   for d, fs in zip(self.slots, net, strict=True)])
            self.nets[found] = found
        net = found
        found = self.ghost.get(ghost)
        if found is None:
            found = _new(Ghost, [d.setdefault(fs, fs)
                                 for d, fs in zip(self.ghosts, ghost, strict=True)])
            self.ghost[found] = found
        return _new(State, (hosts, nonces, clients, net, found))


def explore(
    config: Config,
    *,
    properties: Sequence[Property] = PROPERTIES,
    symmetry: bool = True,
    keep_edges: bool = False,
    progress: Callable[[Progress], None] | None = None,
    progress_after: float = 2.0,
    max_states: int | None = None,
    stop_at: frozenset[str] = frozenset(),
    incremental: bool = True,
) -> Exploration:
    """Exhaust the reachable states of `config` breadth-first, noting the first state that
    violates each of `properties`.  With `max_states`, stop expanding once that many states
    are known; with `stop_at`, once every property named there is violated (either way the
    exploration is marked incomplete).  `incremental` (the default) evaluates each action's
    guards once per distinct value of the parts they read (model/expander.py); off, every
    guard on every state: the same search, step for step."""
    start = time.perf_counter()
    compiled.preload(config.dropped)
    canon = Symmetry(config).canonical if symmetry else (lambda s: s)
    stored = Interner()
    expand = Expander(config, memo=incremental).steps
    root = stored(canon(initial_state(config)))
    index: dict[State, int] = {root: 0}
    states = [root]
    parent = array("i", [-1])
    depth = array("i", [0])
    violations: dict[str, int] = {}
    # each property's verdict per (ids of the parts it reads) of the stored states, which
    # `stored` makes share equal parts and `states` keeps alive (so no id is reused)
    unchecked: list[tuple[Property, Callable[[tuple[int, ...]], Any] | None,
                          dict[Any, bool]]] = [
        (p, None if footprint(p) is None else part_key(footprint(p) or ()), {})
        for p in properties]

    def check_state(c: State, j: int) -> None:
        ids = part_ids(c)
        for entry in list(unchecked):
            p, keyer, verdicts = entry
            if keyer is None:
                ok = p.predicate(config, c)
            else:
                key = keyer(ids)
                known = verdicts.get(key)
                ok = verdicts[key] = p.predicate(config, c) if known is None else known
            if not ok:
                violations[p.id] = j
                unchecked.remove(entry)

    check_state(root, 0)
    src, dst, act = array("i"), array("i"), array("h")
    transitions = 0
    head = 0
    next_report = start + progress_after
    complete = True
    while head < len(states):
        if max_states is not None and len(states) >= max_states:
            complete = False
            break
        if stop_at and stop_at <= violations.keys():
            complete = False
            break
        state = states[head]
        d = depth[head] + 1
        for action_index, nxt in expand(state):
            transitions += 1
            if nxt is state:
                continue
            # one dict for canonical states and the concrete successors met (a concrete
            # state equal to a canonical one is that canonical state): a successor met
            # before is found without canonicalising, and each look-up hashes it once
            j = index.get(nxt)
            if j is None:
                c = canon(nxt)
                renamed = c is not nxt
                if renamed:
                    j = index.get(c)
                    if j is not None:
                        index[nxt] = j
            if j is None:
                j = len(states)
                c = stored(c)
                index[c] = j
                if renamed:
                    index[nxt] = j
                states.append(c)
                parent.append(head)
                depth.append(d)
                if unchecked:
                    check_state(c, j)
            if keep_edges:
                src.append(head)
                dst.append(j)
                act.append(action_index)
        head += 1
        if head == 1:
            compiled.keep(config.dropped)  # what the first expansion compiled, for the next run
        if progress is not None and not head & 1023:
            now = time.perf_counter()
            if now >= next_report:
                progress(Progress(len(states), transitions, depth[head - 1], now - start,
                                  len(states) - head, peak_rss()))
                next_report = now + 2.0
    compiled.keep(config.dropped)
    return Exploration(
        config=config,
        states=states,
        parent=parent,
        depth=depth,
        violations=violations,
        transitions=transitions,
        seconds=time.perf_counter() - start,
        symmetry=symmetry,
        edges=(src, dst, act) if keep_edges else None,
        index=index,
        complete=complete,
    )


class TraceError(Exception):
    """A canonical path could not be matched by concrete steps (a checker bug)."""


def trace_to(exploration: Exploration, target: int) -> list[Action]:
    """A concrete, replayable trace from the initial state to (a renaming of) state
    `target`."""
    config = exploration.config
    canon = Symmetry(config).canonical if exploration.symmetry else (lambda s: s)
    path = exploration.path(target)
    state = initial_state(config)
    if canon(state) != exploration.states[path[0]]:
        raise TraceError("initial state does not match the explored root")
    trace: list[Action] = []
    for j in path[1:]:
        wanted = exploration.states[j]
        for action, nxt in successors(config, state):
            if canon(nxt) == wanted:
                trace.append(action)
                state = nxt
                break
        else:
            raise TraceError(f"no concrete step reaches explored state {j}")
    return trace


def doomed_state(exploration: Exploration) -> int | None:
    """Liveness on the bounded graph: the shallowest reachable state with an accepted but
    unfinished migration from which no run of honest steps (network delivery, parties,
    timeouts; no forged message) reaches a state where every accepted migration completed.
    In a finite graph under strong fairness of those steps, a migration completes on every
    fair run exactly when no such state exists.  None if there is none."""
    if exploration.edges is None:
        raise ValueError("explore(..., keep_edges=True) is needed for liveness")
    config = exploration.config
    states = exploration.states
    n = len(states)
    src, dst, act = exploration.edges
    # reverse adjacency over honest edges, in CSR form
    counts = array("i", bytes(4 * (n + 1)))
    for k in range(len(src)):
        if not act[k] & 1:
            counts[dst[k] + 1] += 1
    for i in range(n):
        counts[i + 1] += counts[i]
    preds = array("i", bytes(4 * max(counts[n], 1)))
    fill = array("i", counts[:n])
    for k in range(len(src)):
        if not act[k] & 1:
            t = dst[k]
            preds[fill[t]] = src[k]
            fill[t] += 1
    good = bytearray(n)
    queue: deque[int] = deque()
    for i, st in enumerate(states):
        if not migrations_open(config, st):
            good[i] = 1
            queue.append(i)
    while queue:
        t = queue.popleft()
        for k in range(counts[t], counts[t + 1]):
            s = preds[k]
            if not good[s]:
                good[s] = 1
                queue.append(s)
    for i in range(n):
        if not good[i]:
            return i
    return None


@dataclass(frozen=True)
class PropertyResult:
    property: str
    verdict: Verdict
    trace: list[Action] | None

    @builtins.property  # the field `property` shadows the builtin in this class body
    def length(self) -> int | None:
        return None if self.trace is None else len(self.trace)


@dataclass(frozen=True)
class DesignReport:
    """Every property's verdict for one design on one configuration."""

    design: Variant
    config: Config
    states: int
    transitions: int
    depth: int
    seconds: float
    results: tuple[PropertyResult, ...]

    def result(self, pid: str) -> PropertyResult:
        for r in self.results:
            if r.property == pid:
                return r
        raise KeyError(pid)

    def violated(self) -> list[str]:
        return [r.property for r in self.results if r.verdict == VIOLATED]

    @property
    def complete(self) -> bool:
        return all(r.verdict != UNKNOWN for r in self.results)

    def json_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "variant": self.design.name,
                "property": r.property,
                "verdict": r.verdict,
                "states": self.states,
                "transitions": self.transitions,
                "depth": self.depth,
                "seconds": round(self.seconds, 3),
                "trace": None if r.trace is None else [a.to_json() for a in r.trace],
            }
            for r in self.results
        ]


def check(
    config: Config,
    *,
    design: Variant | None = None,
    properties: Sequence[Property] = PROPERTIES,
    liveness: bool = True,
    symmetry: bool = True,
    progress: Callable[[Progress], None] | None = None,
    max_states: int | None = None,
    stop_at: frozenset[str] = frozenset(),
    incremental: bool = True,
) -> DesignReport:
    """Exhaust `config` (with `design`'s options if given) and give every property's verdict,
    with a shortest counterexample trace for each violated one."""
    if design is not None:
        config = config.with_options(design.options)
    else:
        design = next((v for v in ALL_DESIGNS if v.options == config.options),
                      Variant("custom", config.options, None, "custom options"))
    ex = explore(config, properties=properties, symmetry=symmetry, keep_edges=liveness,
                 progress=progress, max_states=max_states, stop_at=stop_at,
                 incremental=incremental)
    unproved = HOLDS if ex.complete else UNKNOWN
    results = []
    for p in properties:
        at = ex.violations.get(p.id)
        results.append(
            PropertyResult(p.id, unproved, None)
            if at is None
            else PropertyResult(p.id, VIOLATED, trace_to(ex, at))
        )
    seconds = ex.seconds
    if liveness and not ex.complete:
        results.append(PropertyResult(LIVENESS_ID, UNKNOWN, None))
    elif liveness:
        t0 = time.perf_counter()
        at = doomed_state(ex)
        results.append(
            PropertyResult(LIVENESS_ID, HOLDS, None)
            if at is None
            else PropertyResult(LIVENESS_ID, VIOLATED, trace_to(ex, at))
        )
        seconds += time.perf_counter() - t0
    return DesignReport(design, config, len(ex.states), ex.transitions, ex.max_depth, seconds,
                        tuple(results))


VARIANT_BUDGET = 100_000
"""Default state budget of a variant's search (the reference is always exhausted)."""


def check_designs(
    config: Config,
    designs: Iterable[Variant] = ALL_DESIGNS,
    *,
    variant_budget: int | None = VARIANT_BUDGET,
    **kwargs: Any,
) -> list[DesignReport]:
    """`check` every design; a variant (not the reference) stops after `variant_budget`
    states, and what it has not violated by then is "unknown"."""
    return [
        check(config, design=d, max_states=None if d.expected is None else variant_budget,
              **kwargs)
        for d in designs
    ]


@dataclass(frozen=True)
class Matrix:
    """Design x property: which property catches which variant."""

    variants: tuple[str, ...]
    properties: tuple[str, ...]
    caught: frozenset[tuple[str, str]]
    """(variant, property) pairs where the property is violated."""
    unknown: frozenset[tuple[str, str]] = frozenset()
    """Pairs a bounded search could not decide."""

    def uncaught_variants(self) -> list[str]:
        return [v for v in self.variants if not any((v, p) in self.caught for p in self.properties)]

    def idle_properties(self) -> list[str]:
        return [p for p in self.properties if not any((v, p) in self.caught for v in self.variants)]

    def render(self, lengths: dict[tuple[str, str], int] | None = None) -> str:
        """Rows: variants; columns: properties; "X n": violated, shortest counterexample n
        steps; ".": holds; "?": not decided within the state budget."""
        short = [p.replace("_", " ") for p in self.properties]
        width = max(len(v) for v in self.variants)
        cols = [max(6, *(len(w) for w in s.split())) for s in short]
        header_words = [s.split() for s in short]
        lines = []
        for row in range(max(len(w) for w in header_words)):
            cells = [
                (w[row] if row < len(w) else "").center(c)
                for w, c in zip(header_words, cols, strict=True)
            ]
            lines.append(" " * width + " | " + " ".join(cells))
        lines.append("-" * width + "-+-" + "-".join("-" * c for c in cols))
        for v in self.variants:
            cells = []
            for p, c in zip(self.properties, cols, strict=True):
                if (v, p) in self.caught:
                    n = lengths.get((v, p)) if lengths else None
                    cells.append((f"X {n}" if n is not None else "X").center(c))
                elif (v, p) in self.unknown:
                    cells.append("?".center(c))
                else:
                    cells.append(".".center(c))
            lines.append(v.ljust(width) + " | " + " ".join(cells))
        return "\n".join(lines)


def vacuity_matrix(reports: Sequence[DesignReport]) -> Matrix:
    """The matrix over the variants (the reference design excluded)."""
    variants = tuple(r.design.name for r in reports if r.design.expected is not None)
    props = tuple(r.property for r in reports[0].results) if reports else ()
    caught = frozenset(
        (r.design.name, p) for r in reports if r.design.expected is not None for p in r.violated()
    )
    unknown = frozenset(
        (r.design.name, p.property)
        for r in reports
        if r.design.expected is not None
        for p in r.results
        if p.verdict == UNKNOWN
    )
    return Matrix(variants, props, caught, unknown)


def problems(reports: Sequence[DesignReport], *, vacuity: bool) -> list[str]:
    """Everything that makes a check run fail: the reference violating a property, a variant
    not violating its expected property, and (when all designs ran) vacuity findings."""
    out: list[str] = []
    for r in reports:
        if r.design.exploratory:
            out.extend(f"{r.design.name}: {p.property} undecided (state budget)"
                       for p in r.results if p.verdict == UNKNOWN)
        elif r.design.expected is None:
            out.extend(f"{r.design.name} violates {p}" for p in r.violated())
            out.extend(f"{r.design.name}: {p.property} undecided (state budget)"
                       for p in r.results if p.verdict == UNKNOWN)
        elif r.design.expected not in r.violated():
            out.append(f"{r.design.name} does not violate {r.design.expected}")
    if vacuity and reports:
        m = vacuity_matrix(reports)
        out.extend(f"variant {v} is caught by no property" for v in m.uncaught_variants())
        out.extend(f"property {p} catches no variant" for p in m.idle_properties())
    return out


@cache
def default_reports() -> tuple[DesignReport, ...]:
    """Every design checked on the default configuration (once per process: `verify`'s model
    checks and the proofs' cross-check share it)."""
    return tuple(check_designs(Config()))
