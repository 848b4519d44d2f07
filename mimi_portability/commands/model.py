"""The model's subcommands (`check`, `variants`, `checks`) and its checks for `verify`.

This module owns how the checker is driven from the command line: the text and JSON reports,
and the exit code (0 only
if the reference design holds every property, every variant violates the property it is
expected to break, and, when every design ran, the design x property matrix has no empty row
or column).  mimi_portability/cli.py mounts `register(subparsers)`; mimi_portability/verify.py
runs `verify_checks()`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from model.checker import (
    VARIANT_BUDGET,
    VIOLATED,
    DesignReport,
    check,
    default_reports,
    problems,
    stderr_progress,
    vacuity_matrix,
)
from model.config import (
    ALL_DESIGNS,
    EXPLORED,
    REFERENCE,
    VARIANTS,
    Config,
    Variant,
    config_json,
    variant,
)
from model.properties import LIVENESS_ID, NEGATIVE_CONTROL
from model.rules import CHECKS, action_of

from ..args import Check, Subparsers, add_bounds, config_from, with_drops
from ..reports import add_report_options, write_reports
from ..traces import format_trace
from ..verdicts import from_check
from .itf import add_itf_option, write_traces


def _lengths(reports: Sequence[DesignReport]) -> dict[tuple[str, str], int]:
    return {
        (r.design.name, p.property): len(p.trace)
        for r in reports
        for p in r.results
        if p.trace is not None
    }


def report_text(reports: Sequence[DesignReport], *, traces: bool, all_designs: bool) -> str:
    lines = []
    header = f"{'design':34} {'states':>9} {'transitions':>11} {'depth':>5} {'seconds':>8}  verdict"
    lines.append(header)
    lines.append("-" * len(header))
    for r in reports:
        bad = [f"{p.property}({p.length})" for p in r.results if p.verdict == VIOLATED]
        verdict = "holds every property" if not bad else "violates " + ", ".join(bad)
        if not r.complete:
            verdict += " (state budget reached: the rest undecided)"
        lines.append(
            f"{r.design.name:34} {r.states:>9,} {r.transitions:>11,} {r.depth:>5} "
            f"{r.seconds:>8.2f}  {verdict}"
        )
    if traces:
        for r in reports:
            for p in r.results:
                if p.trace is not None:
                    lines.append("")
                    lines.append(f"{r.design.name}: {p.property} violated in {len(p.trace)} steps")
                    lines.extend(format_trace(r.config, p.trace))
    if all_designs:
        matrix = vacuity_matrix(reports)
        lines.append("")
        lines.append("variant x property (X n: violated, shortest counterexample n steps)")
        lines.append(matrix.render(_lengths(reports)))
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = config_from(args)
        names = args.variant or (["reference"] if config.drop else ["all"])
        if "all" in names:
            designs: list[Variant] = list(ALL_DESIGNS)
        else:
            designs = [variant(n) for n in names]
        designs = with_drops(config, designs)
    except (ValueError, KeyError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 1
    all_designs = len(designs) == len(ALL_DESIGNS)
    progress = None if args.quiet else stderr_progress
    budget = args.max_states or None
    reports = []
    for design in designs:
        if not args.quiet and not args.json:
            print(f"checking {design.name} ({config.summary()})", file=sys.stderr, flush=True)
        reports.append(
            check(config, design=design, symmetry=not args.no_symmetry,
                  liveness=not args.no_liveness, progress=progress,
                  max_states=None if design.expected is None else budget,
                  incremental=not args.no_incremental)
        )
    found = problems(reports, vacuity=all_designs)
    write_traces(args.itf, "check", ((r.config, r.design.name, p.property, p.verdict, p.trace)
                                     for r in reports for p in r.results
                                     if p.trace is not None))
    if args.json:
        doc: dict[str, Any] = {
            "config": config_json(config),
            "results": [row for r in reports for row in r.json_rows()],
            "problems": found,
        }
        if all_designs:
            m = vacuity_matrix(reports)
            doc["matrix"] = {
                v: [p for p in m.properties if (v, p) in m.caught] for v in m.variants
            }
        print(json.dumps(doc, indent=2))
    else:
        print(report_text(reports, traces=args.traces, all_designs=all_designs))
        print()
        if found:
            for p in found:
                print(f"error: {p}")
        elif any(d.exploratory for d in designs):
            print("ok: every verdict decided (an ad-hoc design: nothing is expected of it)")
        else:
            print("ok: the reference design holds every property; every variant violates "
                  "what it should" + ("; no empty row or column" if all_designs else ""))
    code = 1 if found else 0
    write_reports(args, from_check(reports, vacuity=all_designs), code, name="check")
    return code


def cmd_variants(args: argparse.Namespace) -> int:
    del args
    width = max(len(v.name) for v in (*VARIANTS, *EXPLORED))
    pwidth = max(len(v.expected or "") for v in VARIANTS)
    for v in VARIANTS:
        print(f"{v.name:{width}}  breaks {v.expected:{pwidth}}  {v.description}")
    for v in EXPLORED:
        print(f"{v.name:{width}}  {'explored':{pwidth + 7}}  {v.description}")
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `check` and `variants` to an argparse subparsers object."""
    names = ", ".join(v.name for v in ALL_DESIGNS)
    explored = ", ".join(v.name for v in EXPLORED)
    p = subparsers.add_parser(
        "check",
        help="exhaust the model for the reference design and its variants",
        description="Breadth-first explicit-state check of the MIMI Portability model. "
        f"Designs: {names}; explored (nothing expected of them, docs/findings.md): "
        f"{explored}.",
    )
    p.add_argument("--variant", action="append", metavar="NAME",
                   help="a design to check (repeatable), or 'all' (default)")
    add_bounds(p)
    p.add_argument("--max-states", type=int, default=VARIANT_BUDGET, metavar="N",
                   help="state budget of each variant's search; what it has not violated "
                   f"by then is 'unknown' (default {VARIANT_BUDGET:,}; 0: none). The "
                   "reference design is always exhausted")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    add_report_options(p)
    p.add_argument("--traces", action="store_true", help="print every counterexample")
    add_itf_option(p)
    p.add_argument("--no-symmetry", action="store_true", help="no symmetry reduction")
    p.add_argument("--no-liveness", action="store_true",
                   help=f"skip {LIVENESS_ID} (saves the graph's memory)")
    p.add_argument("--no-incremental", action="store_true",
                   help="evaluate every guard on every state (default: each action's guards "
                   "once per distinct value of the parts of the state they read; the same "
                   "search, step for step)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(handler=cmd_check)
    p = subparsers.add_parser("variants", help="list the design variants and what each breaks "
                              "(then the explored designs, of which nothing is expected)")
    p.set_defaults(handler=cmd_variants)
    p = subparsers.add_parser(
        "checks", help="list every check of the rules: id, action, text, clause, options",
        description="Every labelled conjunct (check) and effect switch of model/rules.py, "
        "with the action that holds it, what it says, the docs/profile.md clause it "
        "implements, the design options that drop it and, where no safety property needs "
        "it, why it is kept.  Any id can be dropped with --drop on check and prove.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(handler=cmd_checks)


def checks_json() -> list[dict[str, Any]]:
    return [{"id": c.id, "kind": c.kind, "action": action_of(c), "text": c.text,
             "clause": c.clause, "options": list(c.options), "kept": c.kept}
            for c in CHECKS.values()]


def cmd_checks(args: argparse.Namespace) -> int:
    rows = checks_json()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["id"]) for r in rows)
    awidth = max(len(r["action"]) for r in rows)
    for r in rows:
        extra = ""
        if r["options"]:
            extra += f"  [options: {', '.join(r['options'])}]"
        if r["kept"]:
            extra += f"  [kept: {r['kept']}]"
        kind = "" if r["kind"] == "check" else " (switch)"
        print(f"{r['id']:{width}}  {r['action']:{awidth}}  {r['text']}{kind}{extra}")
        if r["clause"]:
            print(f"{'':{width}}  {'':{awidth}}  docs/profile.md {r['clause']}")
    return 0


# ---------------------------------------------------------------- `verify` umbrella


def _check_reference() -> tuple[str, str]:
    ref = default_reports()[0]
    bad = ref.violated()
    if bad:
        return "fail", f"reference violates {', '.join(bad)}"
    return "pass", (f"{len(ref.results)} properties hold; {ref.states:,} states, "
                    f"{ref.transitions:,} transitions, depth {ref.depth}")


def _check_variants() -> tuple[str, str]:
    reports = default_reports()
    found = problems(reports, vacuity=False)
    if found:
        return "fail", "; ".join(found)
    lengths = ", ".join(f"{r.design.name}:{r.result(r.design.expected).length}"
                        for r in reports if r.design.expected is not None)
    return "pass", f"{len(reports) - 1} variants caught (counterexample steps {lengths})"


def _check_vacuity() -> tuple[str, str]:
    m = vacuity_matrix(default_reports())
    found = [f"variant {v} uncaught" for v in m.uncaught_variants()]
    found += [f"property {p} catches nothing" for p in m.idle_properties()]
    if found:
        return "fail", "; ".join(found)
    return "pass", f"{len(m.variants)} variants x {len(m.properties)} properties, no empty line"


def _check_negative_control() -> tuple[str, str]:
    r = check(Config(), design=ALL_DESIGNS[0], properties=(NEGATIVE_CONTROL,), liveness=False)
    if r.result(NEGATIVE_CONTROL.id).verdict != VIOLATED:
        return "fail", f"deliberately false {NEGATIVE_CONTROL.id} reported as holding"
    return "pass", f"{NEGATIVE_CONTROL.id} violated as it must be"


def _check_reference_alone() -> tuple[str, str]:
    """The reference design alone (what `verify --quick` checks instead of every design)."""
    ref = check(Config(), design=REFERENCE)
    bad = ref.violated()
    if bad:
        return "fail", f"reference violates {', '.join(bad)}"
    return "pass", (f"{len(ref.results)} properties hold; {ref.states:,} states, "
                    f"{ref.transitions:,} transitions, depth {ref.depth}")


def verify_checks(*, quick: bool = False) -> list[tuple[str, Check]]:
    """(name, check) pairs for `mimi-portability verify`; each check returns (status, detail)
    with status "pass" or "fail".  Quick: the reference design and the negative control, not
    the variants (whose searches take most of a minute)."""
    if quick:
        return [
            ("model: reference design holds every property", _check_reference_alone),
            ("model: negative control reported violated", _check_negative_control),
        ]
    return [
        ("model: reference design holds every property", _check_reference),
        ("model: every variant violates its property", _check_variants),
        ("model: vacuity (no empty row or column)", _check_vacuity),
        ("model: negative control reported violated", _check_negative_control),
    ]

