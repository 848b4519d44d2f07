"""`mimi-portability verify`: run every check the toolkit has and print one summary table.

This module owns the umbrella: the list of checks, how each is timed, and the table.  A check
is a function returning a `Verdict`; it never decides by exit code alone, and `skipped` is
shown as such, never as a pass.  Later parts of the toolkit (model check, proofs, diagrams,
lockstep) add their checks to `CHECKS`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Verdict:
    status: str  # "pass" | "fail" | "skipped"
    detail: str


@dataclasses.dataclass(frozen=True)
class Row:
    check: str
    status: str
    detail: str
    seconds: float


def mls_vectors_dir() -> Path | None:
    """MLS_TEST_VECTORS, else ../shared/vectors/mls beside the checkout, else None."""
    env = os.environ.get("MLS_TEST_VECTORS")
    if env:
        return Path(env)
    beside = REPO.parent / "shared" / "vectors" / "mls"
    return beside if beside.is_dir() else None


def check_committed_vectors() -> Verdict:
    from . import vectors

    folder = REPO / "test-vectors"
    if not (folder / vectors.VALID_FILE).is_file():
        return Verdict("skipped", "no test-vectors/ folder in this installation")
    count, problems = vectors.check_folder(folder)
    if problems:
        return Verdict("fail", f"{len(problems)} mismatches, first: {problems[0]}")
    committed = json.loads((folder / vectors.VALID_FILE).read_text())
    if committed != vectors.valid_vectors():
        return Verdict("fail", "regenerated valid vectors differ from the committed ones")
    committed_invalid = json.loads((folder / vectors.INVALID_FILE).read_text())
    if committed_invalid != vectors.invalid_vectors():
        return Verdict("fail", "regenerated invalid vectors differ from the committed ones")
    return Verdict("pass", f"{count} entries verified; regeneration reproduces them")


def _rfc9420(
    name: str, check: Callable[[list[dict[str, object]]], tuple[int, list[str]]]
) -> Verdict:
    folder = mls_vectors_dir()
    if folder is None:
        return Verdict("skipped", "set MLS_TEST_VECTORS to mls-implementations/test-vectors")
    path = folder / name
    try:
        entries = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        return Verdict("fail", f"{path}: {err}")
    count, problems = check(entries)
    if problems:
        return Verdict("fail", f"{len(problems)} of {count} fail, first: {problems[0]}")
    return Verdict("pass", f"{count} cases")


def check_crypto_basics() -> Verdict:
    from . import interop

    return _rfc9420("crypto-basics.json", interop.check_crypto_basics)


def check_deserialization() -> Verdict:
    from . import interop

    return _rfc9420("deserialization.json", interop.check_deserialization)


def check_demo() -> Verdict:
    """The implementation: a whole migration per suite, and under every demo fault."""
    from . import demo

    runs = [demo.run_demo(members=5, suite=suite) for suite in range(1, 8)]
    runs += [demo.run_demo(members=5, fault=fault) for fault in demo.FAULTS]
    failed = [
        (r.fault or f"suite {int(r.world.suite)}", r.violations) for r in runs if r.violations
    ]
    if failed:
        return Verdict("fail", f"{failed[0][0]}: {failed[0][1][0]}")
    return Verdict(
        "pass", f"7 suites and {len(demo.FAULTS)} faults: every migration safe and complete"
    )


CHECKS: list[tuple[str, Callable[[], Verdict]]] = [
    ("RFC 9420 deserialization vectors", check_deserialization),
    ("RFC 9420 crypto-basics vectors", check_crypto_basics),
    ("MIMI Portability test vectors", check_committed_vectors),
    ("implementation: demo migrations", check_demo),
]


def _extension_checks() -> list[tuple[str, Callable[[], Verdict]]]:
    """The checks the model, diagrams, proofs and lockstep parts contribute."""
    from .cli import EXTENSIONS

    out: list[tuple[str, Callable[[], Verdict]]] = []
    for module in EXTENSIONS:
        for name, check in importlib.import_module(module).verify_checks():
            out.append((name, _as_verdict(check)))
    return out


def _extension_summaries() -> list[list[str]]:
    """Tables an extension keeps from its checks (e.g. explicit x Z3 per property)."""
    from .cli import EXTENSIONS

    out = []
    for module in EXTENSIONS:
        summary = getattr(importlib.import_module(module), "verify_summary", None)
        lines = [] if summary is None else summary()
        if lines:
            out.append(lines)
    return out


def _as_verdict(check: Callable[[], tuple[str, str]]) -> Callable[[], Verdict]:
    def run() -> Verdict:
        status, detail = check()
        return Verdict(status, detail)

    return run


def run_checks(checks: list[tuple[str, Callable[[], Verdict]]]) -> list[Row]:
    rows = []
    for name, check in checks:
        start = time.perf_counter()
        try:
            verdict = check()
        except Exception as err:  # a crashing check is a failed check, reported, not hidden
            verdict = Verdict("fail", f"crashed: {type(err).__name__}: {err}")
        rows.append(Row(name, verdict.status, verdict.detail, time.perf_counter() - start))
        print(f"[{verdict.status:>7}] {name} ({rows[-1].seconds:.1f}s)", flush=True)
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


def run(*, quick: bool = False) -> int:
    del quick  # no check has a size knob yet
    rows = run_checks(CHECKS + _extension_checks())
    print()
    print(format_table(rows))
    for lines in _extension_summaries():
        print()
        print("\n".join(lines))
    failed = [r for r in rows if r.status == "fail"]
    print()
    print(f"{len(rows)} checks: {len(rows) - len(failed)} without failure, {len(failed)} failed")
    return 1 if failed else 0
