#!/usr/bin/env python3
"""Lockstep throughput: steps per second of implementation + model + abstraction check.

    python3 bench/lockstep.py [--examples N] [--seed S] [--no-check]

A step is one move of impl.lockstep.moves (a model action on both sides, or a refused,
misdelivered, tampered or forged delivery), each followed by the full abstraction check.
--no-check leaves the abstraction check out, to show its share.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from impl.lockstep.driver import Lockstep
from impl.lockstep.moves import session
from model.config import Config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()
    check = not args.no_check
    report = session(args.examples, args.seed, factory=lambda: Lockstep(Config(), check=check))
    rate = report.steps / report.seconds if report.seconds else 0.0
    print(f"{report.steps} steps in {report.seconds:.2f}s: {rate:,.0f} steps/s "
          f"({'with' if check else 'without'} the abstraction check); "
          f"divergences: {len(report.divergences)}")
    return 1 if report.divergences else 0


if __name__ == "__main__":
    raise SystemExit(main())
