"""A solver query's budget, in Z3's resource units, so a verdict does not depend on load.

This module owns how long a query may run.  A wall-clock timeout makes a verdict depend on
the machine: on a loaded machine an obligation that needs two seconds misses a one-second
timeout, its lemma is dropped, and the same design is proved on one run and not the next
(the findings report once said 8 of 9 properties where an unloaded run said 9).  Z3 counts
its work in resource units (the `rlimit` parameter, relative to what the context has spent
so far) and stops with `unknown` ("max. resource limit exceeded") when a query has spent
its budget: a count, the same on every machine for the same Z3 and the same query.

So the callers keep speaking in milliseconds (the nominal timeout of each kind of query)
and `limit` turns that into UNITS_PER_MS resource units per millisecond: about the rate at
which Z3 spends them here, unloaded (measured on the induction queries of `prove`: 1.8
million units a second; 1,500 per millisecond keeps every budget a little under its
nominal time).  The largest obligation the reference and explored designs prove spends
about 0.4 million units, a quarter of the smallest budget (1,000 ms, 1.5 million).  The
wall-clock timeout stays as a guard against a query that spends little and runs long,
WALL_FACTOR times the nominal one; a query it stops is `unknown`, as ever, never a pass.

A count is the same for the same query in the same context history: what the solver's
context met before (the terms of earlier queries in the process) steers its heuristics, so
one obligation can take 0.4 million units in a fresh process and more than 45 million after
another design's proof (seen for abort_names_no_nonce's no_group_lost after the reference).
A verdict is therefore a function of the command that asks, not of the machine's load; the
findings report proves each design in an interpreter of its own (mimi_portability/
findings.py `prove_apart`), as `prove --variant NAME` does.
"""

from __future__ import annotations

from typing import Any

UNITS_PER_MS = 1_500
WALL_FACTOR = 20


def limit(solver: Any, timeout_ms: int) -> None:
    """Give `solver` the budget of a query whose nominal timeout is `timeout_ms`."""
    solver.set("rlimit", UNITS_PER_MS * timeout_ms)
    solver.set("timeout", WALL_FACTOR * timeout_ms)
