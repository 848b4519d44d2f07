#!/usr/bin/env python3
"""Explicit-state checker throughput: states/s and wall time per configuration size, side by
side with a baseline commit measured in the same run.

Runs the reference design (the exhaustive run: every state, every property, liveness on the
explored graph unless --no-liveness) on a ladder of growing configurations and prints per
configuration: the bounds, states, transitions, depth, wall seconds and states per second,
for this tree and, with --baseline REV (default 2955a64, the checker before the rules were
written once in model/rules.py), for that commit's model/ extracted with `git archive` into a
temporary folder.  Each measurement runs in its own interpreter, one after another, the two
trees alternating per configuration so that machine load affects both alike; the last
column is the baseline's seconds over ours (above 1: this tree is faster; for a configuration
both stop at the limit, our states over the baseline's).  With --repeat N each tree runs N
times per configuration and its fastest run is shown; a configuration both trees run in
under a second is run 5 times each regardless (milliseconds are mostly the machine's
noise).  Before the ladder each tree runs the smallest configuration once, untimed: the
first process after an edit of model/ rewrites the rules into the code cache
(model/codecache.py), which every later run reads.  Both trees check the same safety
properties on every state, the baseline's (this tree has more: --all-properties checks them
all), so the ratio is the engine's, not the price of a property the baseline lacks.  A
configuration still running after --limit seconds (default 60) is stopped and shown as
such.  RSS MiB is the measuring process's peak resident memory and B/state its growth
during the run (peak minus the resident memory before it) over the states stored: the
checker's memory per state, graph, indexes and caches included (a small run's figure is
mostly the interpreter's own growth).  Prints figures only, never asserts on timings.

    .venv/bin/python bench/check.py [--limit 60] [--baseline REV | --no-baseline]
                                    [--repeat N] [--all-properties] [--no-symmetry]
                                    [--no-liveness]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("MIMI_BENCH_ROOT") or Path(__file__).resolve().parent.parent)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REPO = Path(__file__).resolve().parent.parent

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


def measure(bounds: dict[str, Any], limit: float, symmetry: bool, liveness: bool,
            only: list[str] | None = None) -> dict[str, Any]:
    """One exhaustive run of the tree on sys.path: its figures, or how far it got; `only`:
    the IDs of the safety properties checked on every state (default: all the tree has)."""
    from model.checker import Progress, doomed_state, explore
    from model.config import Config
    from model.properties import PROPERTIES

    config = Config(**bounds)
    properties = [p for p in PROPERTIES if only is None or p.id in only]
    before = _rss()
    start = time.perf_counter()

    def watch(p: Progress) -> None:
        if p.seconds > limit:
            raise OutOfTime(f"{p.states:,} states after {p.seconds:.0f}s")

    try:
        ex = explore(config, properties=properties, symmetry=symmetry, keep_edges=liveness,
                     progress=watch, progress_after=0.5)
        if liveness:
            doomed_state(ex)
    except OutOfTime as err:
        return {"summary": config.summary(), "stopped": str(err),
                "reached": int(str(err).split()[0].replace(",", ""))}
    seconds = time.perf_counter() - start
    return {"summary": config.summary(), "properties": [p.id for p in properties],
            "states": len(ex.states),
            "transitions": ex.transitions, "depth": ex.max_depth,
            "seconds": seconds, "rss": _peak(), "rss_before": before}


def _peak() -> int:
    """Peak resident memory of this process so far, in bytes."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _rss() -> int:
    """Current resident memory of this process in bytes (Linux; else the peak so far)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return _peak()


def measure_in(root: Path, bounds: dict[str, int], args: argparse.Namespace,
               only: list[str] | None = None) -> dict[str, Any]:
    """`measure` in a fresh interpreter importing the model of `root`."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", json.dumps(bounds),
           "--limit", str(args.limit)]
    if only is not None:
        cmd += ["--only", ",".join(only)]
    cmd += ["--no-symmetry"] * args.no_symmetry + ["--no-liveness"] * args.no_liveness
    env = {**os.environ, "MIMI_BENCH_ROOT": str(root), "PYTHONPATH": str(root)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False,
                          cwd=root)
    if done.returncode != 0:
        raise RuntimeError(f"measurement in {root} failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def property_ids(root: Path) -> list[str]:
    """The IDs of the safety properties of the model under `root`."""
    code = "from model.properties import PROPERTIES; print(','.join(p.id for p in PROPERTIES))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    return done.stdout.strip().split(",")


def extract(rev: str, into: Path) -> Path:
    """`rev`'s model/ (all the checker needs) unpacked below `into`."""
    blob = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev, "model"],
                          capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of repeated runs (the one least disturbed by the machine's other load);
    among runs stopped by the limit, the one that got furthest."""
    done = [r for r in runs if "seconds" in r]
    if done:
        return min(done, key=lambda r: r["seconds"])
    return max(runs, key=lambda r: r["reached"])


SHORT = 1.0
"""Seconds under which a configuration is run SHORT_REPEAT times per tree (fastest kept):
a run of milliseconds is mostly the machine's noise."""
SHORT_REPEAT = 5


def _short(*runs: list[dict[str, Any]]) -> bool:
    return all(r and all(x.get("seconds", SHORT) < SHORT for x in r) for r in runs if r)


def cells(r: dict[str, Any] | None) -> str:
    if r is None:
        return ""
    if "stopped" in r:
        return f"stopped ({r['stopped']})"
    rate = r["states"] / r["seconds"] if r["seconds"] else 0.0
    per_state = ""
    if "rss" in r:
        grown = max(0, r["rss"] - r["rss_before"])
        per_state = f" {r['rss'] / 2**20:>7,.0f} {grown / max(1, r['states']):>7,.0f}"
    return (f"{r['states']:>9,} {r['transitions']:>10,} {r['depth']:>5} {r['seconds']:>8.2f} "
            f"{rate:>9,.0f}{per_state}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per configuration")
    parser.add_argument("--baseline", default="2955a64", metavar="REV",
                        help="the commit to compare with (default 2955a64)")
    parser.add_argument("--no-baseline", action="store_true", help="measure this tree only")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each configuration N times per tree, alternating, and keep "
                             "each tree's fastest run (default 1)")
    parser.add_argument("--no-symmetry", action="store_true")
    parser.add_argument("--no-liveness", action="store_true")
    parser.add_argument("--all-properties", action="store_true",
                        help="this tree checks every property it has (default: only those "
                             "the baseline has too, so both do the same work)")
    parser.add_argument("--measure", metavar="JSON", help=argparse.SUPPRESS)
    parser.add_argument("--only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        only = args.only.split(",") if args.only else None
        print(json.dumps(measure(json.loads(args.measure), args.limit, not args.no_symmetry,
                                 not args.no_liveness, only)))
        return 0
    print(f"reference design, symmetry {'off' if args.no_symmetry else 'on'}, liveness "
          f"{'off' if args.no_liveness else 'on'}, limit {args.limit:.0f}s per configuration")
    head = (f"{'states':>9} {'transitions':>10} {'depth':>5} {'seconds':>8} {'states/s':>9} "
            f"{'RSS MiB':>7} {'B/state':>7}")
    print(f"{'configuration':58} {'tree':8} {head}  baseline/ours")
    biggest: tuple[int, str] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        base = None if args.no_baseline else extract(args.baseline, Path(tmp))
        shared = None if base is None or args.all_properties else property_ids(base)
        if shared is not None:
            print(f"both trees check the {len(shared)} properties the baseline has: "
                  f"{', '.join(shared)}")
        # one untimed run per tree first: the first process after an edit of model/ rewrites
        # the rules and writes the code cache (model/codecache.py); every later one reads it
        measure_in(REPO, LADDER[0], args, shared)
        if base is not None:
            measure_in(base, LADDER[0], args)
        for bounds in LADDER:
            our_runs, their_runs = [], []
            for k in range(max(1, args.repeat, SHORT_REPEAT)):
                if k >= args.repeat and not _short(our_runs, their_runs):
                    break
                our_runs.append(measure_in(REPO, bounds, args, shared))
                if base is not None:
                    their_runs.append(measure_in(base, bounds, args))
            ours = best(our_runs)
            theirs = best(their_runs) if their_runs else None
            ratio = ""
            if theirs is not None and "seconds" in ours and "seconds" in theirs:
                ratio = f"{theirs['seconds'] / ours['seconds']:.2f}x"
                if (ours["states"], ours["transitions"]) != (theirs["states"],
                                                              theirs["transitions"]):
                    ratio += " (different state counts!)"
            elif theirs is not None and "reached" in ours and "reached" in theirs:
                ratio = f"{ours['reached'] / theirs['reached']:.2f}x states in the limit"
            print(f"{ours['summary']:58} {'ours':8} {cells(ours)}  {ratio}", flush=True)
            if theirs is not None:
                print(f"{'':58} {args.baseline[:8]:8} {cells(theirs)}", flush=True)
            if "states" in ours and (biggest is None or ours["states"] > biggest[0]):
                biggest = (ours["states"], ours["summary"])
    if biggest is not None:
        print(f"biggest configuration exhausted within {args.limit:.0f}s: {biggest[1]} "
              f"({biggest[0]:,} states)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
