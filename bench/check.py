#!/usr/bin/env python3
"""Explicit-state checker throughput: states/s and wall time per configuration size.

Runs the reference design (the exhaustive run: every state, every property, liveness on the
explored graph unless --no-liveness) on a ladder of growing configurations, one process, one
after another, and prints per configuration: the bounds, states, transitions, depth, wall
seconds and states per second.  A configuration still running after --limit seconds
(default 60) is stopped and shown as such; the last line names the biggest configuration
exhausted within the limit.  Prints figures only, never asserts on timings, so it can be
read beside TLC and Spin runs of the same protocol.

    .venv/bin/python bench/check.py [--limit 60] [--no-symmetry] [--no-liveness]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model.checker import Progress, doomed_state, explore  # noqa: E402
from model.config import Config  # noqa: E402

LADDER: tuple[dict[str, int], ...] = (
    {"clients": 1, "attempts": 1},
    {"clients": 2, "attempts": 1},
    {},  # the default: 2 clients, d0 + d1 + R, 1 group, 2 nonces per target, epoch 1
    {"clients": 3},
    {"ds": 4},
    {"groups": 2},
    {"attempts": 3},
    {"clients": 3, "ds": 4},
    {"max_epoch": 2, "attempts": 1},
    {"max_epoch": 2},
    {"max_epoch": 2, "clients": 3},
)


class OutOfTime(Exception):
    pass


def run(bounds: dict[str, int], limit: float, symmetry: bool, liveness: bool) -> str:
    config = Config(**bounds)
    start = time.perf_counter()

    def watch(p: Progress) -> None:
        if p.seconds > limit:
            raise OutOfTime(f"{p.states:,} states after {p.seconds:.0f}s")

    try:
        ex = explore(config, symmetry=symmetry, keep_edges=liveness, progress=watch,
                     progress_after=0.5)
        if liveness:
            doomed_state(ex)
    except OutOfTime as err:
        return f"{config.summary():58} stopped at the {limit:.0f}s limit ({err})"
    seconds = time.perf_counter() - start
    if seconds > limit:
        return f"{config.summary():58} took {seconds:.1f}s, beyond the limit"
    rate = len(ex.states) / seconds if seconds else 0.0
    return (
        f"{config.summary():58} {len(ex.states):>9,} {ex.transitions:>10,} {ex.max_depth:>5} "
        f"{seconds:>8.2f} {rate:>9,.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per configuration")
    parser.add_argument("--no-symmetry", action="store_true")
    parser.add_argument("--no-liveness", action="store_true")
    args = parser.parse_args()
    print(f"reference design, symmetry {'off' if args.no_symmetry else 'on'}, liveness "
          f"{'off' if args.no_liveness else 'on'}, limit {args.limit:.0f}s per configuration")
    print(f"{'configuration':58} {'states':>9} {'transitions':>10} {'depth':>5} "
          f"{'seconds':>8} {'states/s':>9}")
    biggest: tuple[int, str] | None = None
    for bounds in LADDER:
        line = run(bounds, args.limit, not args.no_symmetry, not args.no_liveness)
        print(line, flush=True)
        parts = line.split()
        if "limit" not in line and "beyond" not in line:
            states = int(parts[-5].replace(",", ""))
            if biggest is None or states > biggest[0]:
                biggest = (states, Config(**bounds).summary())
    if biggest is not None:
        print(f"biggest configuration exhausted within {args.limit:.0f}s: {biggest[1]} "
              f"({biggest[0]:,} states)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
