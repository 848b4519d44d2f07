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
`--trace DIR` writes each example's honest roles' logs (impl/lockstep/tracing.py,
docs/trace-format.md), `--itf DIR` each example's model actions as ITF.
Exit status 1 on any divergence.

`--remote CONFIG` runs the same sessions against two DS servers reached over the wire
binding (impl/lockstep/remote_run.py; docs/remote.md): each divergence printed as its trace,
with the rules' check ids the server broke, and with `--itf DIR` its model actions as an ITF
file.  A bad CONFIG or an unreachable server is one `error:` line naming the file and key or
the URL.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from impl.http.config import ConfigError
from impl.lockstep.driver import Lockstep
from impl.lockstep.moves import Report, session, text_progress
from impl.lockstep.remote_config import load_remote, write_remote
from impl.lockstep.remote_run import RemoteError, RemoteResult, run_remote
from model.config import Config
from model.itf import trace_to_itf

from ..args import Check, Subparsers, add_bounds, config_from, positive
from .itf import add_itf_option, write_itf


def conform(
    examples: int, seed: int, *, progress: bool = False, stop_on_divergence: bool = True,
    config: Config | None = None, trace: Path | None = None, itf: Path | None = None,
    max_steps: int = 60,
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
            max_steps=max_steps,
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
    if args.remote_init is not None:
        return _cmd_remote_init(args.remote_init, args.clients)
    if args.remote is not None:
        return _cmd_remote(args, config)
    report = conform(
        args.examples, args.seed, config=config, max_steps=args.max_steps,
        progress=(not args.json and sys.stderr.isatty()) or args.progress, trace=args.trace,
        itf=args.itf,
    )
    data = report.as_json(config)
    data["config"] = config.summary()
    if args.json:
        print(json.dumps(data))
    else:
        rate = data["steps"] / data["seconds"] if data["seconds"] else 0.0
        states = data["states_total"] or "not enumerated"
        print(
            f"conform ({data['config']}): {report.examples} examples, {data['steps']} steps in "
            f"{data['seconds']:.1f}s ({rate:,.0f} steps/s); actions "
            f"{data['actions_covered']}/{data['actions_total']}, (action, outcome) pairs "
            f"{data['pairs_covered']}/{data['pairs_total']}; model states visited "
            f"{data['states_visited']}/{states}; divergences "
            f"{data['divergences']}; skipped {data['skipped']}"
        )
        if data["pairs_total_of"] != data["config"]:
            print(f"  (this configuration's graph is too large to enumerate: the totals are "
                  f"the pairs of {data['pairs_total_of']}, which it reaches too; "
                  f"{data['pairs_beyond']} (action, outcome) pairs beyond those covered)")
        refusals = ", ".join(f"{code} {n}" for code, n in data["refusals"].items())
        print(f"refusals compared with the rules' ({len(data['refusals'])} kinds): {refusals}")
        print(f"one-field tampering: {data['fields_tampered']}/{data['fields_total']} "
              "(field, re-signed or not) of the signed message kinds")
        for why, count in data["skipped_why"].items():
            print(f"SKIPPED: {count} examples: {why}")
        for d in report.divergences:
            print(f"DIVERGENCE: {d}")
    return 1 if report.divergences else 0


def _cmd_remote_init(folder: Path, clients: int) -> int:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        print(f"error: {folder}: exists and is not an empty folder", file=sys.stderr)
        return 1
    path = write_remote(folder, clients=clients)
    print(f"wrote {path} and this project's two DS configs set up for it; start them, then:")
    for d in load_remote(path).ds:
        print(f"  mimi-portability serve --config {folder / (d.domain + '.toml')} &")
    print(f"  mimi-portability conform --remote {path}")
    return 0


def _cmd_remote(args: argparse.Namespace, config: Config) -> int:
    try:
        result = run_remote(args.remote, args.examples, args.seed, config=config,
                            max_steps=args.max_steps)
    except (ConfigError, RemoteError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    data = result.as_json()
    data["config"] = config.summary()
    if args.itf is not None and result.report.divergences:
        # the model's side of the example: a behaviour of the model (`replay` says so);
        # the server left it at the last step, held to `checks`
        write_itf(args.itf, "conform-remote-divergence", trace_to_itf(
            config, result.actions, source="mimi-portability conform --remote",
            description=f"example {result.example}: the server diverged at step "
            f"{len(result.trace)} (checks {', '.join(result.checks)})",
            verdict={"divergence": list(result.checks), "length": len(result.actions)}))
    if args.json:
        print(json.dumps(data))
    else:
        _print_remote(data, result)
    return 1 if result.report.divergences else 0


def _print_remote(data: dict[str, object], result: RemoteResult) -> None:
    print(f"conform --remote ({data['config']}): {data['examples']} examples, "
          f"{data['steps']} steps in {data['seconds']}s ({data['steps_per_second']} steps/s, "
          f"{data['http_requests']} HTTP requests); actions "
          f"{data['actions_covered']}/{data['actions_total']}, (action, outcome) pairs "
          f"{data['pairs_covered']}/{data['pairs_total']} of those the remote setting can "
          f"drive; divergences {data['divergences']}")
    refusals = result.report.refusals
    print(f"refusals compared with the rules' ({len(refusals)} kinds): "
          + ", ".join(f"{code} {n}" for code, n in sorted(refusals.items())))
    missed = data["pairs_missed"]
    if missed:
        print(f"pairs not reached: {', '.join(missed)}")  # type: ignore[arg-type]
    print("not driven over the wire: " + "; ".join(
        f"{pair} ({why})" for pair, why in data["undrivable"].items()))  # type: ignore[attr-defined]
    if result.report.divergences:
        print(f"DIVERGENCE in example {result.example}, step {len(result.trace)}; "
              f"check {', '.join(result.checks)}")
        for i, line in enumerate(result.trace, 1):
            print(f"  {i:4}. {line}")
        print(f"  {result.report.divergences[0]}")


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
    p.add_argument("--remote", type=Path, metavar="CONFIG",
                   help="drive two DS servers over HTTP instead (docs/remote.md: CONFIG names "
                   "them, their keys and the test's parties)")
    p.add_argument("--remote-init", type=Path, metavar="DIR",
                   help="write a CONFIG and this project's two DS configs set up for "
                   "--remote into DIR (an empty or new folder), and say how to run them")
    p.add_argument("--max-steps", type=positive, default=60,
                   help="steps per example (default 60)")
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
