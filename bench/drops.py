#!/usr/bin/env python3
"""Every check of the rules dropped in turn, decided by the explicit checker and by Z3 BMC.

For each check id of `mimi-portability checks` (bounds of the model left out: dropping one
leaves the state space unbounded), the ad-hoc design `drop:ID` is exhausted by the explicit
checker on the default configuration, and bounded model checking of the same design looks
for each property's shortest counterexample up to the explicit checker's longest one (or
--depth when nothing is violated).  Where that is deeper than --max-depth (BMC's time grows
about twofold per step), the explicit checker tries the smaller configurations of SMALLER in
turn and BMC runs on the first that shows the same violations at the same lengths, where it
is far cheaper; the row names the configuration.  An id with no such configuration is
"undecided" by BMC.
Prints per id the violated properties with their shortest lengths from each engine, whether
the two agree, and the time each took; the last line counts the agreements.  Figures only,
no assertion; tests/test_design_drops.py holds one id as a test.

    .venv/bin/python bench/drops.py [--depth 6] [--max-depth 9] [--only ID[,ID...]]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model.checker import VIOLATED, check  # noqa: E402
from model.config import Config  # noqa: E402
from model.rules import BOUND, CHECKS  # noqa: E402
from proofs import bmc  # noqa: E402
from proofs.properties import PROPERTIES  # noqa: E402


def show(d: dict[str, int | None]) -> str:
    return ", ".join(f"{p}({n})" for p, n in sorted(d.items())) or "-"


SMALLER: tuple[dict[str, Any], ...] = ({"clients": 1, "attempts": 1}, {"attempts": 1},
                                      {"clients": 1})


def explicit_violations(config: Config) -> dict[str, int | None]:
    report = check(config, liveness=False, max_states=200_000)
    return {r.property: r.length for r in report.results if r.verdict == VIOLATED}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=6,
                        help="BMC depth where the explicit checker finds nothing (default 6)")
    parser.add_argument("--max-depth", type=int, default=9,
                        help="deepest BMC run (default 9); deeper ids try smaller bounds")
    parser.add_argument("--only", default="", metavar="ID[,ID...]")
    args = parser.parse_args()
    wanted = {c for c in args.only.split(",") if c}
    ids = [c.id for c in CHECKS.values()
           if c.kind == "check" and c.kept != BOUND and (not wanted or c.id in wanted)]
    print(f"{'check dropped':36} {'explicit':28} {'z3 bmc':28} {'agree':9} "
          f"{'explicit s':>10} {'bmc s':>8}  configuration")
    agree = undecided = 0
    for cid in ids:
        config = Config(drop=frozenset({cid}))
        t0 = time.perf_counter()
        explicit = explicit_violations(config)
        depth = int(max((n or 0 for n in explicit.values()), default=args.depth) or args.depth)
        smaller = False
        if depth > args.max_depth:
            for bounds in SMALLER:
                small = Config(drop=frozenset({cid}), **bounds)
                if explicit_violations(small) == explicit:
                    config, smaller = small, True
                    break
        t1 = time.perf_counter()
        if depth > args.max_depth and not smaller:
            undecided += 1
            print(f"{cid:36} {show(explicit):28} {'-':28} {'undecided':9} {t1 - t0:>10.1f} "
                  f"{'':>8}  BMC to depth {depth} is beyond --max-depth {args.max_depth}",
                  flush=True)
            continue
        found = bmc.run(config, PROPERTIES, depth)
        z3 = {r.property: (len(r.trace) if r.trace else None) for r in found
              if r.verdict == "violated"}
        t2 = time.perf_counter()
        same = explicit == z3
        agree += same
        print(f"{cid:36} {show(explicit):28} {show(z3):28} {'yes' if same else 'NO':9} "
              f"{t1 - t0:>10.1f} {t2 - t1:>8.1f}  {config.summary()}", flush=True)
    print(f"{agree}/{len(ids)} ad-hoc designs give the same violated properties and shortest "
          f"lengths in both engines (BMC bounded by the explicit checker's longest trace); "
          f"{undecided} undecided by BMC within --max-depth")
    return 0


if __name__ == "__main__":
    sys.exit(main())
