"""The `prove` and `mutate` subcommands and the proofs' checks for `verify`.

This module owns how the Z3 proofs are driven from the command line: the designs and
bounds from the arguments, the text and JSON reports (the JSON of `check` plus "method" and
"bound" per result), and the exit code: 0 only if no verdict is "unknown", the reference
design (when asked for) has every property proved and refutes the negative controls, and
every variant asked for violates the property it is expected to break.  For `verify` it
proves the reference design (unbounded), refutes the negative controls, and puts the Z3
verdict of every property x variant beside the explicit checker's (`verify_summary`).
Every proofs/ module imports Z3 (proofs/encoding.py), which alone takes longer than the rest of
`mimi-portability --help`: they are imported inside the handlers and checks, and only for
type annotations up here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from model.config import ALL_DESIGNS, Config, DesignOptions, Variant, config_json, variant

from ..args import (
    Check,
    Subparsers,
    add_bounds,
    check_ids,
    config_from,
    positive,
    with_drops,
)
from ..reports import add_report_options, write_reports
from ..traces import format_trace
from ..verdicts import from_mutate, from_prove
from .itf import add_itf_option, write_traces

if TYPE_CHECKING:
    from proofs.prove import DesignProof, Verdict

DEFAULT_DEPTH = 9
"""Deep enough for every variant's shortest counterexample (volatile_nonces needs 9 steps)."""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def _designs(names: Sequence[str] | None) -> list[Variant]:
    names = names or ["reference"]
    if "all" in names:
        return list(ALL_DESIGNS)
    return [variant(n) for n in dict.fromkeys(names)]


def problems(proofs: Sequence[DesignProof], negatives: Sequence[Verdict]) -> list[str]:
    """What makes `prove` fail: unknown verdicts, an unproved reference, an uncaught
    variant, an unrefuted negative control."""
    from proofs.prove import PROVED, UNKNOWN, VIOLATED

    out = []
    for proof in proofs:
        design = proof.design
        for v in proof.verdicts:
            if v.verdict == UNKNOWN:
                out.append(f"{design.name}: {v.property} unknown ({v.detail})")
            elif design.exploratory:
                continue
            elif design.expected is None and v.verdict != PROVED:
                out.append(f"reference: {v.property} is {v.verdict}")
        if (design.expected is not None and not design.exploratory
                and proof.verdict(design.expected).verdict != VIOLATED):
            out.append(f"{design.name}: {design.expected} not violated within the bound")
    for v in negatives:
        if v.verdict != VIOLATED:
            out.append(f"negative control {v.property} not refuted ({v.verdict})")
    return out


def _row(v: Verdict) -> str:
    length = "-" if v.length is None else str(v.length)
    method = v.method if v.engine == "z3" else v.engine
    return (f"{v.design:32} {v.property:21} {v.verdict:9} {method:9} "
            f"{v.bound_text():32} {length:>6} {v.seconds:>8.2f}")


def report_text(proofs: Sequence[DesignProof], negatives: Sequence[Verdict]) -> str:
    header = (f"{'design':32} {'property':21} {'verdict':9} {'method':9} {'bound':32} "
              f"{'length':>6} {'seconds':>8}")
    lines = [header, "-" * len(header)]
    for proof in proofs:
        lines.extend(_row(v) for v in proof.verdicts)
    lines.append("")
    for proof in proofs:
        r = proof.induction
        if r is not None:
            frame = sum(1 for o in r.obligations if o.how == "frame")
            lines.append(
                f"induction, {proof.design.name}: an inductive invariant of "
                f"{len(r.invariant)} lemmas, {len(r.obligations)} obligations ({frame} by "
                f"the frame rule), {r.seconds:.1f}s; {r.universe}")
    for v in negatives:
        lines.append(f"negative control {v.property}: {v.verdict}"
                     + (f" in {v.length} steps" if v.length is not None else ""))
    for proof in proofs:
        for v in proof.verdicts:
            if v.trace is None:
                continue
            lines.append("")
            by = "Z3" if v.engine == "z3" else f"the {v.engine} search"
            lines.append(f"{v.design}: {v.property} violated in {v.length} steps "
                         f"({by}, replayed through the model)")
            lines.extend(format_trace(proof.config, v.trace))
            for d in v.diagnosis:
                lines.extend(f"  {line}" for line in d.lines())
    return "\n".join(lines)


def as_json(proofs: Sequence[DesignProof], negatives: Sequence[Verdict], config: Config,
            depth: int, found: Sequence[str]) -> dict[str, Any]:
    return {
        "config": config_json(config),
        "depth": depth,
        "results": [v.as_json() for p in proofs for v in p.verdicts],
        "negative_controls": [v.as_json() for v in negatives],
        "induction": [
            {
                "variant": p.design.name,
                "universe": p.induction.universe,
                "invariant": list(p.induction.invariant),
                "obligations": len(p.induction.obligations),
                "frame": sum(1 for o in p.induction.obligations if o.how == "frame"),
                "failed": [{"action": o.action, "lemma": o.lemma, "answer": o.answer}
                           for o in p.induction.failures()],
                "seconds": round(p.induction.seconds, 3),
            }
            for p in proofs if p.induction is not None
        ],
        "problems": list(found),
    }


def cmd_prove(args: argparse.Namespace) -> int:
    from proofs.prove import prove_design, refute_negative_controls

    try:
        config = config_from(args)
        designs = with_drops(config, _designs(args.variant))
    except (ValueError, KeyError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 1
    if args.refresh_hints:
        return _refresh_hints()
    proofs = []
    for design in designs:
        if not args.quiet and not args.json:
            print(f"proving {design.name}", file=sys.stderr, flush=True)
        proofs.append(prove_design(design, config, depth=args.depth, jobs=args.jobs,
                                   deadline=args.deadline, induction=not args.no_induction,
                                   timeout_ms=None if args.timeout is None
                                   else int(args.timeout * 1000), engine=args.engine))
    negatives = []
    if any(d.expected is None for d in designs):
        negatives = refute_negative_controls(config, args.depth)
    found = problems(proofs, negatives)
    if args.json:
        print(json.dumps(as_json(proofs, negatives, config, args.depth, found), indent=2))
    else:
        print(report_text(proofs, negatives))
        print()
        for p in found:
            print(f"error: {p}")
        if not found and any(d.exploratory for d in designs):
            print("ok: every verdict decided (an ad-hoc design: nothing is expected of it); "
                  "the negative controls refuted")
        elif not found:
            print("ok: every verdict decided; the reference design proved, every variant "
                  "caught, the negative controls refuted")
    code = 1 if found else 0
    write_traces(args.itf, "prove", ((proof.config, v.design, v.property, v.verdict, v.trace)
                                     for proof in proofs for v in proof.verdicts
                                     if v.trace is not None))
    write_reports(args, from_prove(proofs, negatives, config), code, name="prove")
    return code


def _refresh_hints() -> int:
    from proofs import hints
    from proofs.encoding import ParametricUniverse
    from proofs.prove import INVARIANT

    new, unproved = hints.refresh(ParametricUniverse(), DesignOptions(), INVARIANT)
    hints.save(new)
    print(f"wrote {hints.PATH}: {len(new)} hints")
    for action, lemma in unproved:
        print(f"error: {action} / {lemma} is not proved by the whole invariant")
    return 1 if unproved else 0


def cmd_mutate(args: argparse.Namespace) -> int:
    from proofs import mutate

    try:
        config = config_from(args)
        chosen = mutate.mutants()
        if args.only:
            wanted = check_ids(args.only)
            chosen = [c for c in chosen if c.id in wanted]
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    started = time.perf_counter()

    def progress(m: mutate.Mutant) -> None:
        if not args.quiet and not args.json:
            print(m.line(), flush=True)

    results = mutate.run(config, chosen, prove=not args.no_proofs, progress=progress)
    seconds = time.perf_counter() - started
    counts = mutate.summary(results)
    found = mutate.failures(results)
    if args.json:
        print(json.dumps({"config": config_json(config), "summary": counts,
                          "seconds": round(seconds, 1),
                          "mutants": [m.as_json() for m in results], "problems": found},
                         indent=2))
    else:
        print()
        print(f"{counts['mutants']} mutants: {counts['killed']} killed, "
              f"{counts['redundant (proved)']} redundant (proved), {counts['kept']} kept, "
              f"{counts['survived']} survived, in {seconds:.0f}s ({config.summary()})")
        for p in found:
            print(f"error: {p}")
    write_traces(args.itf, "mutate", ((m.config, f"drop:{m.check}", prop, "violated", trace)
                                      for m in results if m.config is not None
                                      for prop, trace in m.counterexamples))
    code = 1 if found else 0
    write_reports(args, from_mutate(results), code, name="mutate")
    return code


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "prove",
        help="prove the safety properties with Z3 (induction, then bounded model checking)",
        description="Z3 verdicts per property: proved (unbounded, by an inductive invariant "
        "over any number of parties, or bounded to the depth given), violated (a shortest, "
        "replayed counterexample and the missing check), or unknown.",
    )
    p.add_argument("--variant", action="append", metavar="NAME",
                   help="a design to prove (repeatable), or 'all' (default: reference)")
    p.add_argument("--depth", type=positive, default=DEFAULT_DEPTH, metavar="K",
                   help=f"bounded model checking depth (default {DEFAULT_DEPTH})")
    add_bounds(p)
    p.add_argument("--jobs", type=positive, default=min(2, os.cpu_count() or 1),
                   help="processes for the induction queries (default: 2, or 1 on one core)")
    p.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="budget per induction query, as Z3 resource units worth SECONDS "
                   "unloaded (proofs/budget.py: the verdict does not depend on load); a "
                   "query that spends it counts as not proved (default 5 for the reference "
                   "and explored designs, 1 for a variant, whose queries assume only their "
                   "hints)")
    p.add_argument("--deadline", type=_seconds, default=None, metavar="SECONDS",
                   help="stop deepening bounded model checking after this long per design")
    p.add_argument("--no-induction", action="store_true",
                   help="bounded model checking only")
    p.add_argument("--engine", choices=("z3", "explicit", "portfolio"), default="z3",
                   help="who answers the bounded part: Z3 (default), the explicit "
                   "checker's breadth-first search, or both racing, the first to decide "
                   "every property winning (each verdict names its engine; "
                   "proofs/portfolio.py)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    add_report_options(p)
    add_itf_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--refresh-hints", action="store_true",
                   help="recompute proofs/hints.json from the reference proof's unsat cores")
    p.set_defaults(handler=cmd_prove)
    p = subparsers.add_parser(
        "mutate", help="spec mutation: drop each check of the rules in turn and check",
        description="One mutant per check and switch of model/rules.py (see 'checks'): each "
        "exhausted by the explicit checker; a mutant no property kills is proved redundant "
        "with Z3 (its check follows from the reference design's inductive invariant and the "
        "action's other conjuncts), or kept for the reason beside it, or it survived (exit "
        "1).")
    add_bounds(p)
    p.add_argument("--only", action="append", metavar="ID[,ID...]",
                   help="mutate only these checks")
    p.add_argument("--no-proofs", action="store_true",
                   help="no redundancy proofs: a mutant no property kills survives")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    add_report_options(p)
    add_itf_option(p)
    p.add_argument("--quiet", action="store_true", help="no line per mutant")
    p.set_defaults(handler=cmd_mutate)


# ---------------------------------------------------------------- `verify`

_SUMMARY: list[str] = []


def _prove_reference() -> tuple[str, str]:
    from proofs.crosscheck import reference_proof
    from proofs.prove import INDUCTION, PROVED

    proof = reference_proof()
    bad = [v for v in proof.verdicts if v.verdict != PROVED or v.method != INDUCTION]
    r = proof.induction
    assert r is not None
    if bad:
        return "fail", "; ".join(f"{v.property}: {v.verdict} ({v.detail})" for v in bad[:3])
    return "pass", (f"{len(proof.verdicts)} properties proved, unbounded (any number of "
                    f"parties): {len(r.invariant)} lemmas, {len(r.obligations)} obligations")


def _negative_controls() -> tuple[str, str]:
    from proofs.prove import VIOLATED, refute_negative_controls

    verdicts = refute_negative_controls()
    bad = [v for v in verdicts if v.verdict != VIOLATED]
    if bad:
        return "fail", f"{bad[0].property} reported {bad[0].verdict}"
    return "pass", ", ".join(f"{v.property} violated ({v.length} steps)" for v in verdicts)


def _mutation() -> tuple[str, str]:
    from proofs import mutate

    results = mutate.run(Config())
    counts = mutate.summary(results)
    figures = (f"{counts['mutants']} mutants: {counts['killed']} killed, "
               f"{counts['redundant (proved)']} redundant (proved), {counts['kept']} kept, "
               f"{counts['survived']} survived")
    found = mutate.failures(results)
    if found:
        return "fail", f"{figures}; first: {found[0]}"
    return "pass", figures


def _side_by_side() -> tuple[str, str]:
    from proofs.crosscheck import crosscheck, render

    table = crosscheck()
    _SUMMARY[:] = render(table)
    mismatches = table.mismatches()
    if mismatches:
        return "fail", f"{len(mismatches)} cells differ, first: {mismatches[0]}"
    return "pass", (f"{len(table.cells)} property x design cells agree; every counterexample "
                    "as short as the explicit checker's")


def verify_checks(*, quick: bool = False) -> list[tuple[str, Check]]:
    """(name, check) pairs for `mimi-portability verify`: none when quick (the Z3 proofs take
    minutes)."""
    if quick:
        return []
    return [
        ("proofs: reference design proved by Z3 (unbounded)", _prove_reference),
        ("proofs: negative controls refuted by Z3", _negative_controls),
        ("proofs: Z3 and the explicit checker agree", _side_by_side),
        ("proofs: spec mutation leaves no survivor", _mutation),
    ]


def verify_summary() -> list[str]:
    """The explicit x Z3 table of the last verify run (empty before it)."""
    return list(_SUMMARY)
