"""`mimi-portability verify`: run every check the toolkit has and print one summary table.

This module owns the umbrella: the checks of every part (mimi_portability.parts.PARTS, in that
order), how each is timed, and the table.  A check returns (status, detail); it never decides
by exit code alone, a crashing check is a failed check, and `skipped` is shown as such, never
as a pass.

`--quick` runs a documented subset in well under a minute: the implementation's checks (RFC
9420 vectors, test vectors, demo migrations), the model's reference design and negative
control (not the sixteen variants), whether the committed figures are current (writing
nothing), and the short lockstep run; none of the Z3 proofs.

`--junit` and `--sarif` write one record per check (mimi_portability.verdicts.from_verify):
a testsuite per part, a testcase per check, a failed check a failure, a skipped one skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence

from .args import Check
from .parts import PARTS, Part
from .reports import write_reports
from .verdicts import from_verify


@dataclasses.dataclass(frozen=True)
class Row:
    check: str
    status: str
    detail: str
    seconds: float


def checks(*, quick: bool = False, parts: Sequence[Part] = PARTS) -> list[tuple[str, Check]]:
    """Every part's (name, check) pairs, in the order of `parts`."""
    return [pair for part in parts for pair in part.verify_checks(quick=quick)]


def part_names(*, quick: bool = False, parts: Sequence[Part] = PARTS) -> list[str]:
    """The part of each of `checks(...)`, in the same order."""
    return [part.name for part in parts for _ in part.verify_checks(quick=quick)]


def summaries(parts: Sequence[Part] = PARTS) -> list[list[str]]:
    """Tables a part keeps from its checks (e.g. explicit x Z3 per property), if any."""
    out = []
    for part in parts:
        lines = [] if part.verify_summary is None else part.verify_summary()
        if lines:
            out.append(lines)
    return out


def run_checks(pairs: Sequence[tuple[str, Check]]) -> list[Row]:
    rows = []
    for name, check in pairs:
        start = time.perf_counter()
        try:
            status, detail = check()
        except Exception as err:  # a crashing check is a failed check, reported, not hidden
            status, detail = "fail", f"crashed: {type(err).__name__}: {err}"
        rows.append(Row(name, status, detail, time.perf_counter() - start))
        print(f"[{status:>7}] {name} ({rows[-1].seconds:.1f}s)", flush=True)
    return rows


def format_table(rows: list[Row]) -> str:
    headers = ("check", "result", "seconds", "detail")
    body = [(r.check, r.status, f"{r.seconds:.2f}", r.detail) for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(headers[:3])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:3], widths, strict=True)) + "  detail"]
    lines.append("  ".join("-" * w for w in widths) + "  ------")
    for b in body:
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(b[:3], widths, strict=True)) + "  " + b[3]
        )
    return "\n".join(lines)


def run(*, quick: bool = False, reports: argparse.Namespace | None = None) -> int:
    """Run the checks and print the table; with `reports` (the command line's arguments),
    also write its `--junit` and `--sarif` files, one record per check."""
    pairs = checks(quick=quick)
    rows = run_checks(pairs)
    print()
    print(format_table(rows))
    for lines in summaries():
        print()
        print("\n".join(lines))
    failed = [r for r in rows if r.status == "fail"]
    print()
    print(f"{len(rows)} checks: {len(rows) - len(failed)} without failure, {len(failed)} failed")
    code = 1 if failed else 0
    if reports is not None:
        records = from_verify(
            (part, r.check, r.status, r.detail, r.seconds, fn)
            for part, r, (_, fn) in zip(part_names(quick=quick), rows, pairs, strict=True))
        write_reports(reports, records, code, name="verify" + (" --quick" if quick else ""))
    return code
