#!/usr/bin/env python3
"""`validate` throughput: events per second, and how the time grows with the log length.

    python3 bench/validate.py [--events N] [--planted]

Writes the logs of our roles migrating a group back and forth (impl/tracelog/samples.py)
at 1/8, 1/4, 1/2 and all of N events (default 10,000), validates each set and prints
events, search nodes, seconds and events/s, with each time's ratio to the previous one
(the growth per doubling of the log; 2.0 is linear).  The baseline, in the same run, is
reading and decoding the logs alone (every message decoded and its signature checked,
no search), so the search's own share shows.  --planted adds the planted-bug table:
each bug of tests/lockstep/planted.py, the line validate rejects its session's logs at
and the check id it names.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from impl.tracelog.format import Message, read_log
from impl.tracelog.names import Cast
from impl.tracelog.samples import back_and_forth
from mimi_portability.commands.validate import validate

EVENTS_PER_MIGRATION = 7 + 3 * 3  # three members


def _decode_only(paths: list[Path]) -> float:
    start = time.perf_counter()
    logs = [read_log(p) for p in paths]
    cast = Cast.of(logs)
    for log in logs:
        for e in log.events:
            if isinstance(e, Message):
                cast.message(e, log.header.name, log.header.role)
    return time.perf_counter() - start


def growth(events: int) -> int:
    print("| events | nodes | decode only (s) | validate (s) | events/s | x previous |")
    print("|---:|---:|---:|---:|---:|---:|")
    previous = None
    for share in (8, 4, 2, 1):
        with tempfile.TemporaryDirectory() as tmp:
            paths = back_and_forth(Path(tmp), max(1, events // share // EVENTS_PER_MIGRATION))
            decode = _decode_only(paths)
            start = time.perf_counter()
            v = validate(paths)
            seconds = time.perf_counter() - start
        if v.verdict != "accepted":
            print(f"NOT ACCEPTED: {v.verdict} at {v.at}: {v.reason}")
            return 1
        ratio = f"{seconds / previous:.2f}" if previous else "-"
        print(f"| {v.events:,} | {v.nodes:,} | {decode:.2f} | {seconds:.2f} | "
              f"{v.events / seconds:,.0f} | {ratio} |")
        previous = seconds
    return 0


def planted() -> int:
    from tests.lockstep.planted import BUGS, validate_logs

    print("\n| planted bug | rejected at | check id | validate (s) |")
    print("|---|---|---|---:|")
    missed = 0
    for bug in BUGS:
        with tempfile.TemporaryDirectory() as tmp:
            found = validate_logs(bug, tmp)
        if found is None:
            print(f"| `{bug.name}` | (the session does not find it; the tour does) | | |")
            continue
        v = found.verdict
        checks = ", ".join(c.check for c in v.candidates if c.check) or "-"
        where = f"{found.example}/{Path(v.at).name}" if v.at else "-"
        print(f"| `{bug.name}` | {where} ({v.verdict}) | {checks} | {found.seconds:.2f} |")
        missed += v.verdict != "rejected"
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--planted", action="store_true")
    args = parser.parse_args()
    status = growth(args.events)
    if args.planted:
        status |= planted()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
