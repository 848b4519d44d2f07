"""The explicit checker and Z3 side by side, for every safety property x design.

This module owns the cross-check `verify` runs.  The explicit checker (model/checker.py)
exhausts the default configuration for every design.  Z3 proves the reference design by
induction (unbounded, any number of parties) and runs bounded model checking on each
variant, as deep as the longest counterexample the explicit checker reports for that
variant: the two are independent decision procedures over the same model, so they must
agree cell by cell, a violation in exactly as many steps, a property that holds never
violated (by Z3: proved, unbounded or for every run within the depth searched).  Liveness
is the explicit checker's alone and is not in the table.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Sequence
from functools import cache

from model.checker import HOLDS, VIOLATED, DesignReport, default_reports
from model.config import ALL_DESIGNS

from . import prove as pv
from .properties import PROPERTIES

SHORT = {
    "single_owner": "owner",
    "no_fanout_before_ack": "fanout",
    "nonce_binding": "nonce",
    "state_integrity": "integrity",
    "authorized_migration": "authorized",
    "export_consent": "consent",
    "confirmation_matches": "confirm",
    "members_follow_owner": "members",
    "no_group_lost": "lost",
}


@dataclasses.dataclass(frozen=True)
class Cell:
    design: str
    property: str
    explicit: str
    explicit_length: int | None
    z3: str
    z3_length: int | None
    z3_bound: str

    def agrees(self) -> bool:
        if self.z3 == pv.UNKNOWN:
            return False
        if self.explicit == VIOLATED:
            return self.z3 == pv.VIOLATED and self.z3_length == self.explicit_length
        if self.explicit == HOLDS:
            return self.z3 == pv.PROVED
        return True  # the explicit search ran out of budget: nothing to compare

    def text(self) -> str:
        e = (f"X{self.explicit_length}" if self.explicit == VIOLATED
             else "ok" if self.explicit == HOLDS else "?")
        if self.z3 == pv.VIOLATED:
            z = f"X{self.z3_length}"
        elif self.z3 == pv.PROVED:
            z = "P*" if self.z3_bound == "unbounded" else f"P{self.z3_bound}"
        else:
            z = "?"
        return f"{e}/{z}"


@dataclasses.dataclass(frozen=True)
class Table:
    cells: tuple[Cell, ...]

    def mismatches(self) -> list[str]:
        return [f"{c.design}/{c.property}: explicit {c.text()}" for c in self.cells
                if not c.agrees()]


def _depth(report: DesignReport) -> int:
    lengths = [r.length for r in report.results
               if r.verdict == VIOLATED and r.length is not None and r.property in SHORT]
    return max(lengths, default=1)


Row = tuple[tuple[str, str, int | None, str], ...]


@cache
def reference_proof() -> pv.DesignProof:
    """The reference design proved by induction (once per process)."""
    return pv.prove_design(ALL_DESIGNS[0], jobs=min(2, os.cpu_count() or 1))


def _row(proof: pv.DesignProof) -> Row:
    return tuple((v.property, v.verdict, v.length, _bound(v)) for v in proof.verdicts)


def _variant_row(args: tuple[int, int]) -> Row:
    index, depth = args
    return _row(pv.prove_design(ALL_DESIGNS[index], depth=depth, induction=False))


def _bound(v: pv.Verdict) -> str:
    return "unbounded" if v.bound["kind"] == "unbounded" else f"<={v.bound['depth']}"


def crosscheck(jobs: int | None = None) -> Table:
    """Every property x design: the explicit verdict and Z3's (variants in parallel)."""
    reports = default_reports()
    jobs = jobs or min(2, os.cpu_count() or 1)
    work = [(i, _depth(r)) for i, r in enumerate(reports) if r.design.expected is not None]
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(jobs) as workers:
            variant_rows = workers.map(_variant_row, work, chunksize=1)
    else:
        variant_rows = [_variant_row(w) for w in work]
    z3_rows = [_row(reference_proof()), *variant_rows]
    cells = []
    for report, rows in zip(reports, z3_rows, strict=True):
        by_id = {row[0]: row for row in rows}
        for p in PROPERTIES:
            e = report.result(p.id)
            _, verdict, length, bound = by_id[p.id]
            cells.append(Cell(report.design.name, p.id, e.verdict, e.length, verdict, length,
                              bound))
    return Table(tuple(cells))


def render(table: Table, designs: Sequence[str] | None = None) -> list[str]:
    names = designs or list(dict.fromkeys(c.design for c in table.cells))
    width = max(len(n) for n in names)
    cols = list(SHORT)
    colw = max(9, *(len(SHORT[c]) for c in cols))
    lines = [
        "explicit / Z3, every safety property x design (Xn: violated, shortest trace n steps;",
        "ok: holds; P*: proved by induction for any number of parties; P<=k: no violation",
        "in any run of at most k steps; ?: undecided)",
        f"{'design':{width}} | " + " ".join(f"{SHORT[c]:>{colw}}" for c in cols),
        "-" * (width + 3 + (colw + 1) * len(cols)),
    ]
    by_key = {(c.design, c.property): c for c in table.cells}
    for name in names:
        row = [by_key[name, c].text() + ("" if by_key[name, c].agrees() else " !")
               for c in cols]
        lines.append(f"{name:{width}} | " + " ".join(f"{t:>{colw}}" for t in row))
    return lines
