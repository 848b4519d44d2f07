#!/usr/bin/env python3
"""Z3 proof times: the reference proof per property and in total, each variant's
counterexample, and how the bounded and the parameterised encodings scale with the parties.

Three tables, figures only (never an assertion on a timing):

1. The reference design's unbounded proof (proofs/prove.py: induction over the parametric
   universe, with the stored hints): solver seconds per safety property and per lemma
   group, obligations, wall time with --jobs processes, and once more without hints.
2. Each variant: its shortest counterexample (the explicit checker's length), seconds to
   the replayed trace, by Z3's bounded model checking alone and by the portfolio (Z3 and
   the explicit search racing, proofs/portfolio.py), with the engine that won.  Goal: each
   under 2 s.
3. Scaling: bounded model checking of the reference design to a fixed depth (--depth,
   default 4) on growing configurations, beside the parametric induction proof, which has no
   parties to grow and so stays flat (it is run once per row to show it).

    .venv/bin/python bench/prove.py [--jobs 2] [--depth 4] [--skip-variants] [--no-hints]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model.checker import check  # noqa: E402
from model.config import VARIANTS, Config, DesignOptions  # noqa: E402
from proofs import bmc, hints, portfolio  # noqa: E402
from proofs.encoding import ParametricUniverse  # noqa: E402
from proofs.induction import FRAME, InductionReport  # noqa: E402
from proofs.induction import check as induction_check  # noqa: E402
from proofs.lemmas import BASIC  # noqa: E402
from proofs.ownership import OWNERSHIP  # noqa: E402
from proofs.properties import PROPERTIES, property_by_id  # noqa: E402
from proofs.prove import INVARIANT  # noqa: E402

LADDER: tuple[dict[str, int], ...] = (
    {"clients": 1, "attempts": 1},
    {},  # the default: 2 clients, d0 + d1 + R, 1 group, 2 nonces per target
    {"clients": 3},
    {"clients": 4},
    {"ds": 4},
    {"ds": 5},
    {"groups": 2},
    {"attempts": 3},
)


def reference(jobs: int, use_hints: bool) -> tuple[InductionReport, float]:
    t0 = time.perf_counter()
    report = induction_check(ParametricUniverse(), DesignOptions(), INVARIANT, jobs=jobs,
                             hints=hints.load() if use_hints else None, timeout_ms=60_000)
    return report, time.perf_counter() - t0


def table_reference(jobs: int, no_hints: bool) -> None:
    report, wall = reference(jobs, True)
    frame = sum(1 for o in report.obligations if o.how == FRAME)
    print(f"1. reference design, unbounded ({report.universe})")
    print(f"   {len(report.invariant)} lemmas, {len(report.obligations)} obligations "
          f"({frame} by the frame rule, {len(report.obligations) - frame} by Z3), "
          f"{'proved' if report.proved else 'NOT PROVED: ' + str(len(report.failures()))}")
    print(f"   {'property / lemma group':28} {'obligations':>11} {'solver s':>9}")
    for p in PROPERTIES:
        obligations = report.of(p.id)
        print(f"   {p.id:28} {len(obligations):>11} {report.solver_seconds(p.id):>9.2f}")
    for name, group in (("lemmas: basic", BASIC), ("lemmas: ownership", OWNERSHIP)):
        ids = {lem.id for lem in group}
        seconds = sum(o.seconds for o in report.obligations if o.lemma in ids)
        count = sum(1 for o in report.obligations if o.lemma in ids)
        print(f"   {name:28} {count:>11} {seconds:>9.2f}")
    print(f"   solver total {report.solver_seconds():.2f} s; wall {wall:.2f} s with "
          f"{jobs} job(s), hints on (goal: under 3 s)")
    if not no_hints:
        bare, wall = reference(jobs, False)
        print(f"   without hints: solver total {bare.solver_seconds():.2f} s, wall "
              f"{wall:.2f} s, {'proved' if bare.proved else 'not proved'}")


def table_variants() -> None:
    print()
    print("2. each variant: the shortest counterexample by Z3's bounded model checking, and "
          "by the portfolio\n   (Z3 and the explicit search racing, proofs/portfolio.py; the "
          "winner named) (goal: under 2 s each)")
    print(f"   {'variant':34} {'property':22} {'steps':>5} {'explicit':>8} {'z3 s':>7} "
          f"{'portfolio s':>11} {'won by':>8}")
    config = Config()
    totals = [0.0, 0.0]
    for v in VARIANTS:
        assert v.expected is not None
        explicit = check(config, design=v, liveness=False, stop_at=frozenset({v.expected}))
        k = explicit.result(v.expected).length or 0
        row = []
        for i, engine in enumerate(("z3", "portfolio")):
            t0 = time.perf_counter()
            (r,) = portfolio.run(config.with_options(v.options),
                                 [property_by_id(v.expected)], k, engine=engine)
            seconds = time.perf_counter() - t0
            totals[i] += seconds
            steps = "-" if r.trace is None else str(len(r.trace))
            row.append((steps, seconds, r))
        (steps, z3s, r), (psteps, ps, pr) = row
        flags = "".join(f"  {x.engine} {x.verdict.upper()}" for x in (r, pr)
                        if x.verdict != bmc.VIOLATED)
        if psteps != steps:
            flags += f"  PORTFOLIO FOUND {psteps} STEPS"
        print(f"   {v.name:34} {v.expected:22} {steps:>5} {k:>8} {z3s:>7.2f} {ps:>11.2f} "
              f"{pr.engine:>8}{flags}")
    print(f"   total {totals[0]:.1f} s by Z3 alone, {totals[1]:.1f} s by the portfolio")


def table_scaling(depth: int, jobs: int) -> None:
    print()
    print(f"3. scaling: reference BMC of every property to depth {depth} vs the parametric "
          "proof")
    print(f"   {'configuration':48} {'bmc s':>8} {'induction s':>12}")
    for bounds in LADDER:
        config = Config(**bounds)
        t0 = time.perf_counter()
        results = bmc.run(config, PROPERTIES, depth)
        seconds = time.perf_counter() - t0
        clean = all(r.verdict == bmc.CLEAN for r in results)
        _, wall = reference(jobs, True)
        print(f"   {config.summary():48} {seconds:>8.2f} {wall:>12.2f}"
              + ("" if clean else "  NOT CLEAN"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--skip-variants", action="store_true")
    parser.add_argument("--no-hints", action="store_true",
                        help="skip the second reference run without hints")
    args = parser.parse_args()
    table_reference(args.jobs, args.no_hints)
    if not args.skip_variants:
        table_variants()
    table_scaling(args.depth, args.jobs)


if __name__ == "__main__":
    main()
