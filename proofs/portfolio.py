"""Bounded search by engine: Z3's bounded model checking, the explicit checker's breadth-first
search, or both racing (a portfolio), each answer naming the engine that gave it.

This module owns choosing who answers a bounded question: for each property of one Config,
a shortest counterexample of at most `depth` steps, or that there is none, or "unknown".
Both engines answer it the same way, which is what makes a race fair:

- "z3": proofs/bmc.py, depth by depth, one incremental solver.
- "explicit": model/checker.py's breadth-first search over the same rules (their concrete
  reading), stopped once every property is violated.  A breadth-first search meets states in
  order of depth, so the first violating state met gives a shortest trace; a trace longer
  than `depth` is no counterexample "of at most depth steps" and the property is clean to
  `depth`, as Z3 would say; a search that exhausts the reachable states without meeting one
  makes the property clean to any depth, so to `depth` too.  A search stopped by
  `max_states` or the deadline answers "unknown" for what it has not decided.
- "portfolio": both at once in two forked processes; the first to decide every property
  (no "unknown") wins and the other is stopped.  If neither decides everything, the Z3
  answer is kept.

Whatever the engine, every trace is replayed through the model (bmc.confirm) before it is
reported, and each result says which engine found it (BmcResult.engine).  `verify`'s
explicit x Z3 table runs the engines apart (engine "z3"), never the portfolio: an agreement
of the explicit checker with itself would show nothing.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from model.checker import Progress, explore, trace_to
from model.config import Config
from model.properties import property_by_id as model_property

from . import bmc
from .properties import SymProperty

ENGINES = ("z3", "explicit", "portfolio")
"""The engines `run` can use; "z3" is the default wherever a verdict is Z3's by name."""


class _OutOfTime(Exception):
    pass


def run(config: Config, properties: Sequence[SymProperty], depth: int, *,
        engine: str = "z3", timeout_ms: int | None = None, deadline: float | None = None,
        max_states: int | None = None) -> list[bmc.BmcResult]:
    """Each property's bounded verdict on `config` to `depth` steps by `engine` (ENGINES).
    `timeout_ms` is Z3's per query, `deadline` (seconds) each engine's whole search,
    `max_states` the explicit search's bound."""
    if engine == "z3":
        return bmc.run(config, properties, depth, timeout_ms=timeout_ms, deadline=deadline)
    if engine == "explicit":
        return explicit(config, properties, depth, deadline=deadline, max_states=max_states)
    if engine != "portfolio":
        raise ValueError(f"unknown engine {engine!r} (one of {', '.join(ENGINES)})")
    return race(config, properties, depth, timeout_ms=timeout_ms, deadline=deadline,
                max_states=max_states)


def explicit(config: Config, properties: Sequence[SymProperty], depth: int, *,
             deadline: float | None = None, max_states: int | None = None
             ) -> list[bmc.BmcResult]:
    """The explicit checker's answer, in bmc.run's terms (see the module's docstring)."""
    started = time.perf_counter()
    concrete = [model_property(p.id) for p in properties]

    def watch(p: Progress) -> None:
        if deadline is not None and p.seconds > deadline:
            raise _OutOfTime(f"deadline reached after {p.states:,} states")

    try:
        ex = explore(config, properties=concrete, progress=watch, progress_after=0.25,
                     max_states=max_states, stop_at=frozenset(p.id for p in properties))
    except _OutOfTime as err:
        seconds = time.perf_counter() - started
        return [bmc.BmcResult(p.id, bmc.UNKNOWN, 0, None, seconds, str(err), "explicit")
                for p in properties]
    out = []
    for prop in properties:
        seconds = time.perf_counter() - started
        at = ex.violations.get(prop.id)
        if at is not None and ex.depth[at] <= depth:
            trace = tuple(trace_to(ex, at))
            bmc.confirm(config, prop, trace)
            out.append(bmc.BmcResult(prop.id, bmc.VIOLATED, len(trace), trace, seconds,
                                     engine="explicit"))
        elif at is not None or ex.complete or ex.max_depth - 1 >= depth:
            # a longer shortest trace, or every reachable state, or (breadth first: a
            # state of depth D is stored only once every state of depth D - 1 is) every
            # state of at most `depth` steps checked
            out.append(bmc.BmcResult(prop.id, bmc.CLEAN, depth, None, seconds,
                                     engine="explicit"))
        else:
            reached = max(0, ex.max_depth - 1)
            out.append(bmc.BmcResult(prop.id, bmc.UNKNOWN, reached, None, seconds,
                                     f"stopped after {len(ex.states):,} states, every run "
                                     f"of at most {reached} steps clean", "explicit"))
    return out


def race(config: Config, properties: Sequence[SymProperty], depth: int, *,
         timeout_ms: int | None = None, deadline: float | None = None,
         max_states: int | None = None) -> list[bmc.BmcResult]:
    """Z3 and the explicit search in two forked processes; the first answer that decides
    every property, else Z3's."""
    started = time.perf_counter()
    engines: dict[str, Callable[[], list[bmc.BmcResult]]] = {
        "z3": lambda: bmc.run(config, properties, depth, timeout_ms=timeout_ms,
                              deadline=deadline),
        "explicit": lambda: explicit(config, properties, depth, deadline=deadline,
                                     max_states=max_states),
    }
    context = multiprocessing.get_context("fork")
    running: dict[Connection, tuple[str, Any]] = {}
    for name, work in engines.items():
        mine, theirs = context.Pipe(duplex=False)
        process = context.Process(target=_answer, args=(theirs, work), daemon=True)
        process.start()
        theirs.close()
        running[mine] = (name, process)
    answers: dict[str, list[bmc.BmcResult]] = {}
    try:
        while running:
            for ready in wait(list(running)):
                conn = next(c for c in running if c is ready)
                name, process = running.pop(conn)
                try:
                    status, value = conn.recv()
                except EOFError:
                    status, value = "error", f"the {name} engine's process died"
                conn.close()
                process.join()
                if status == "error":
                    raise RuntimeError(f"the {name} engine failed: {value}")
                answers[name] = value
                if all(r.verdict != bmc.UNKNOWN for r in value):
                    return _timed(value, started)
    finally:
        for _, process in running.values():
            process.terminate()
            process.join()
    return _timed(answers["z3"], started)


def _answer(conn: Connection, work: Callable[[], list[bmc.BmcResult]]) -> None:
    """In the engine's process: send ("ok", results) or ("error", what went wrong)."""
    try:
        conn.send(("ok", work()))
    except BaseException as err:  # reported to the parent, which raises
        conn.send(("error", f"{type(err).__name__}: {err}"))
    finally:
        conn.close()


def _timed(results: list[bmc.BmcResult], started: float) -> list[bmc.BmcResult]:
    """The winner's results with the race's wall time (what the user waited)."""
    seconds = time.perf_counter() - started
    return [dataclasses.replace(r, seconds=seconds) for r in results]
