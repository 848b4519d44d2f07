"""`mimi-portability validate LOG...`: hold the roles' logs (docs/trace-format.md) to the model.

Reads every log strictly (impl/tracelog/format.py), fixes the parties, nonces and keys
(impl/tracelog/names.py) and searches for a model behaviour that explains them all
(impl/tracelog/search.py).  Prints the verdict (`accepted`, `rejected at FILE:LINE` with
the longest matched prefix, the actions enabled there and the candidate rules' false
conjuncts with their check ids and docs/profile.md clauses, or `inconclusive`); `--json`
prints it as one JSON object.  Exit 0 only on `accepted`.  A log that cannot be read is
rejected at its bad line, with the reason, never with a traceback.

Its verify check runs the demo under every fault with tracing on and validates the logs
(all must be accepted), then a hand-edited copy (a line dropped), which must be rejected.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from impl import demo
from impl.tracelog.format import Log, LogError, read_log
from impl.tracelog.logview import Verdict
from impl.tracelog.names import Cast, CastError
from impl.tracelog.search import Search
from model.itf import trace_to_itf

from ..args import Check, Subparsers, positive
from .itf import add_itf_option, write_itf


def validate(paths: list[Path], *, extra_ds: list[str] | None = None, silent: int = 3,
             max_nodes: int = 2_000_000, itf: Path | None = None, name: str = "validate",
             ) -> Verdict:
    """The verdict on a set of logs; a log that cannot be read is a rejection at its line.
    `itf`: a folder; the model behaviour found (accepted: the whole of it; rejected: the
    longest matched prefix) is written there as `name`-<verdict>.itf.json."""
    logs: list[Log] = []
    try:
        logs = [read_log(p) for p in paths]
        names = [log.header.name for log in logs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise CastError(f"two logs name the same role: {', '.join(twice)}")
        cast = Cast.of(logs, extra_ds or ())
    except LogError as err:
        return Verdict("rejected", 0, 0, 0, 0, 0, at=f"{err.path}:{err.line}",
                       reason=err.reason)
    except CastError as err:
        return Verdict("rejected", 0, 0, 0, 0, 0, reason=str(err))
    verdict = Search(logs, cast, silent=silent, max_nodes=max_nodes).run()
    if itf is not None:
        write_itf(itf, f"{name}-{verdict.verdict}", trace_to_itf(
            cast.config, verdict.actions(cast.config), source=f"mimi-portability {name}",
            description=f"the model behaviour that explains {verdict.matched} of "
            f"{verdict.events} events of {len(logs)} logs ({verdict.verdict}"
            f"{' at ' + verdict.at if verdict.at else ''})",
            verdict={"verdict": verdict.verdict, "at": verdict.at}))
    return verdict


def format_text(v: Verdict, seconds: float) -> str:
    head = f"validate: {v.verdict}"
    if v.at:
        head += f" at {v.at}"
    if v.reason:
        head += f": {v.reason}"
    lines = [head]
    if v.events:
        lines.append(f"  matched {v.matched} of {v.events} events; {v.steps} logged steps, "
                     f"{v.silent} silent; {v.nodes:,} search nodes in {seconds:.2f} s")
    if v.event:
        e = v.event
        what = e["event"] + (f" {e['kind']} {'to' if e['event'] == 'send' else 'from'} "
                             f"{e['peer']}" if "kind" in e else "")
        lines.append(f"  the event: {what}")
    if v.verdict == "rejected" and v.prefix:
        lines.append("  matched per log: " + ", ".join(
            f"{Path(p).name} {n}" for p, n in v.prefix.items()))
    if v.enabled:
        lines.append(f"  enabled in the model there: {', '.join(v.enabled)}")
    for c in v.candidates:
        if c.check:
            lines.append(f"  {c.action}: {c.check} is false: {c.text}")
            if c.clause:
                lines.append(f"      docs/profile.md {c.clause}")
        else:
            lines.append(f"  {c.action}: {c.text}")
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    v = validate([Path(p) for p in args.logs], extra_ds=args.ds, silent=args.silent,
                 max_nodes=args.max_nodes, itf=args.itf)
    seconds = time.perf_counter() - start
    if args.json:
        out: dict[str, Any] = v.to_json()
        out["seconds"] = round(seconds, 3)
        if not args.path:
            out.pop("path")
        print(json.dumps(out))
    else:
        print(format_text(v, seconds))
        if args.path:
            print("\n".join(f"  {i:4}. {s}" for i, s in enumerate(v.path, 1)))
    return 0 if v.verdict == "accepted" else 1


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "validate", help="is what the roles' logs record a behaviour of the model?")
    p.add_argument("logs", nargs="+", metavar="LOG",
                   help="one NDJSON log per role (docs/trace-format.md)")
    p.add_argument("--ds", action="append", metavar="DOMAIN", default=[],
                   help="an honest DS that wrote no log (any other unlogged DS is the rogue)")
    p.add_argument("--silent", type=int, default=3, metavar="N",
                   help="unlogged steps tried in a row where no logged step fits (default 3)")
    p.add_argument("--max-nodes", type=positive, default=2_000_000, metavar="N",
                   help="search budget; past it the verdict is inconclusive (default 2000000)")
    p.add_argument("--path", action="store_true", help="also print the model steps found")
    add_itf_option(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_validate)


def drop_line(path: Path, line: int) -> None:
    """Remove line `line` (1-based) of a log: a hand-edited log for the negative controls."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[line - 1]
    path.write_text("".join(lines), encoding="utf-8")


def check_demo_logs() -> tuple[str, str]:
    accepted = events = 0
    with tempfile.TemporaryDirectory() as tmp:
        for fault in (None, *demo.FAULTS):
            folder = Path(tmp) / (fault or "none")
            demo.run_demo(fault=fault, trace=folder)
            v = validate(sorted(folder.glob("*.ndjson")))
            if v.verdict != "accepted":
                return "fail", f"demo {fault or 'without fault'}: {v.verdict} at {v.at}: " \
                    f"{v.reason}"
            accepted += 1
            events += v.events
        target = Path(tmp) / "none" / "target.example.ndjson"
        drop_line(target, 3)  # the MigrationResponse the target sent
        v = validate(sorted((Path(tmp) / "none").glob("*.ndjson")))
        if v.verdict != "rejected" or v.at != f"{target}:2":
            return "fail", f"a log with its MigrationResponse dropped: {v.verdict} at {v.at}"
    return "pass", (f"{accepted} demo runs' logs accepted ({events} events); the log with a "
                    "dropped line rejected at the line before it")


def verify_checks(*, quick: bool = False) -> list[tuple[str, Check]]:
    return [("validate: demo logs accepted, an edited log rejected", check_demo_logs)]
