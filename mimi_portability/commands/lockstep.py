"""`mimi-portability conform`: the lockstep check outside pytest, and its verify check.

Runs random swarm/steered lockstep sessions (impl.lockstep.moves.session: the moves and
checks of the Hypothesis machine in tests/lockstep/machine.py, with a seeded random
generator instead of Hypothesis' choices, so no shrinking) against the default
configuration or the bounds given (--clients, --ds, --groups, --attempts, --epochs, as
`check` takes them), with a progress bar on stderr.  Moves that run into the reported findings
(F4 and F6, impl.lockstep.moves.known_finding) are not made.
A move the model allows that the driver cannot make on the implementation is a divergence
(driver.CannotPerform); an example the driver cannot run at all (a configuration or design
it does not cover, driver.Unsupported) is counted as skipped, with why (`skipped` and
`skipped_why` in the JSON; 0 in the default run).
Exit status 1 on any divergence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from impl.lockstep.driver import Lockstep
from impl.lockstep.moves import Report, session, text_progress
from model.config import Config
from model.itf import trace_to_itf

from ..args import Check, Subparsers, add_bounds, config_from, positive
from .itf import add_itf_option, write_itf


def conform(
    examples: int, seed: int, *, progress: bool = False, stop_on_divergence: bool = True,
    config: Config | None = None, trace: Path | None = None, itf: Path | None = None,
) -> Report:
    """`trace`: a folder; example n's honest roles write their logs to trace/example-n/.
    `itf`: a folder; example n's model trace is itf/conform-example-n.itf.json."""
    runs: list[Lockstep] = []
    cfg = config or Config()

    def done(run: Lockstep) -> None:
        if run.traces is not None:
            run.traces.close()
        if itf is not None:
            n = len(runs)
            write_itf(itf, f"conform-example-{n:04}", trace_to_itf(
                cfg, run.actions, source="mimi-portability conform",
                description=f"conform example {n} (seed {seed}): {len(run.actions)} model "
                f"actions, {run.steps} moves ({cfg.summary()})"))

    def recorded() -> Lockstep:
        if runs:
            done(runs[-1])
        folder = None if trace is None else trace / f"example-{len(runs) + 1:04}"
        runs.append(Lockstep(config, trace=folder))
        return runs[-1]

    try:
        return session(
            examples,
            seed,
            config=config,
            progress=text_progress if progress else None,
            stop_on_divergence=stop_on_divergence,
            factory=recorded if trace is not None or itf is not None else None,
        )
    finally:
        if runs:
            done(runs[-1])


def cmd_conform(args: argparse.Namespace) -> int:
    try:
        config = config_from(args)
    except ValueError as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 1
    report = conform(
        args.examples, args.seed, config=config,
        progress=(not args.json and sys.stderr.isatty()) or args.progress, trace=args.trace,
        itf=args.itf,
    )
    data = report.as_json(config)
    data["config"] = config.summary()
    if args.json:
        print(json.dumps(data))
    else:
        rate = data["steps"] / data["seconds"] if data["seconds"] else 0.0
        print(
            f"conform ({data['config']}): {report.examples} examples, {data['steps']} steps in "
            f"{data['seconds']:.1f}s ({rate:,.0f} steps/s); actions "
            f"{data['actions_covered']}/{data['actions_total']}, (action, outcome) pairs "
            f"{data['pairs_covered']}/{data['pairs_total']}; model states visited "
            f"{data['states_visited']}/{data['states_total']}; divergences "
            f"{data['divergences']}; skipped {data['skipped']}"
        )
        refusals = ", ".join(f"{code} {n}" for code, n in data["refusals"].items())
        print(f"refusals compared with the rules' ({len(data['refusals'])} kinds): {refusals}")
        print(f"one-field tampering: {data['fields_tampered']}/{data['fields_total']} "
              "(field, re-signed or not) of the signed message kinds")
        for why, count in data["skipped_why"].items():
            print(f"SKIPPED: {count} examples: {why}")
        for d in report.divergences:
            print(f"DIVERGENCE: {d}")
    return 1 if report.divergences else 0


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "conform", help="run the implementation and the model in lockstep (random sessions)"
    )
    p.add_argument("--examples", type=positive, default=200,
                   help="examples to run (default 200)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--progress", action="store_true", help="progress bar even when not a tty")
    p.add_argument("--trace", type=Path, metavar="DIR",
                   help="write each example's honest role logs to DIR/example-N/ "
                   "(docs/trace-format.md)")
    add_itf_option(p)
    add_bounds(p)
    p.set_defaults(handler=cmd_conform)


def _short_conform() -> tuple[str, str]:
    report = conform(60, 0)
    data = report.as_json(Config())
    detail = (
        f"{data['steps']} steps, pairs {data['pairs_covered']}/{data['pairs_total']}, "
        f"{data['divergences']} divergences, {data['skipped']} skipped"
    )
    return ("fail" if report.divergences or report.skipped else "pass"), detail


def verify_checks(*, quick: bool = False) -> list[tuple[str, Check]]:
    """(name, check) pairs for `mimi-portability verify`; a check returns (status, detail).
    The same short run when quick (a few seconds)."""
    del quick
    return [("lockstep conform (short)", _short_conform)]
