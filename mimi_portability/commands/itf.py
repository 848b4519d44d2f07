"""ITF traces on the command line: `--itf DIR` of the trace-giving commands, and `replay`.

This module owns the option every command that produces traces has (`check`, `prove`,
`mutate`: `add_itf_option`), how their files are named and written (`write_itf`:
DIR/<command>-<design>-<property>.itf.json, each written whole, a temporary file beside it
then renamed), and `mimi-portability replay FILE...`, which reads ITF traces of the model
(model/itf.py) and says, for each, whether it is a behaviour of the model and where it
stops being one, and what its last state violates.  Exit 0 only when every file is a whole
model behaviour; 1 when one is not or cannot be read (one `error:` line naming the file and
the place in it, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from model.actions import Action
from model.config import Config
from model.itf import ItfError, read_itf, replay, trace_to_itf

from ..args import Check, CliError, Subparsers


def folder(text: str) -> Path:
    """An argparse type: a folder that exists or can be made, and can be written."""
    if not text:
        raise argparse.ArgumentTypeError("empty folder name")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    parent = path if path.exists() else path.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {parent}")
    return path


def add_itf_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--itf", type=folder, metavar="DIR",
                   help="also write every trace as ITF JSON (Apalache ADR-015, with Quint's "
                   "mbt::actionTaken and mbt::nondetPicks) into DIR; `replay` reads them")


def model_trace(config: Config, actions: Sequence[Action], *, command: str,
                design: str, prop: str, verdict: str) -> dict[str, Any]:
    """The ITF document of a counterexample (or any run) of the model."""
    return trace_to_itf(config, actions, source=f"mimi-portability {command}",
                        description=f"{design}: {prop} {verdict} in {len(actions)} steps "
                        f"({config.summary()})",
                        verdict={"property": prop, "verdict": verdict, "length": len(actions)})


Found = tuple[Config, str, str, str, Sequence[Action]]
"""One trace a command found: (configuration, design, property, verdict, actions)."""


def write_traces(into: Path | None, command: str, found: Iterable[Found]) -> None:
    """`--itf DIR`: each trace as DIR/<command>-<design>-<property>.itf.json (None: off)."""
    if into is None:
        return
    for config, design, prop, verdict, actions in found:
        write_itf(into, f"{command}-{design}-{prop}",
                  model_trace(config, actions, command=command, design=design, prop=prop,
                              verdict=verdict))


def write_itf(into: Path, name: str, doc: dict[str, Any]) -> Path:
    """Write `doc` as DIR/`name`.itf.json whole; CliError when the file system refuses."""
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", name)
    try:
        into.mkdir(parents=True, exist_ok=True)
        path = into / f"{safe}.itf.json"
        fd, tmp = tempfile.mkstemp(prefix=f".{safe}.", dir=into)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(doc, out, indent=1, sort_keys=False)
            out.write("\n")
        os.replace(tmp, path)
    except OSError as err:
        raise CliError(f"cannot write the ITF trace {name}: {err.strerror or err}") from None
    return path


def cmd_replay(args: argparse.Namespace) -> int:
    results = []
    code = 0
    for name in args.files:
        try:
            with open(name, encoding="utf-8") as f:
                doc = json.load(f)
            trace = read_itf(doc)
        except OSError as err:
            print(f"error: {name}: {err.strerror or err}", file=sys.stderr)
            code = 1
            continue
        except json.JSONDecodeError as err:
            print(f"error: {name}: not JSON (line {err.lineno}: {err.msg})", file=sys.stderr)
            code = 1
            continue
        except ItfError as err:
            print(f"error: {name}: {err}", file=sys.stderr)
            code = 1
            continue
        r = replay(trace)
        claimed = trace.meta.get("property")
        row = {"file": name, "design": trace.config.design_name(),
               "config": trace.config.summary(), "states": r.total, "matched": r.matched,
               "behaviour": r.complete, "stop": r.stop, "violates": list(r.violates),
               "claims": claimed,
               "confirmed": None if claimed is None else claimed in r.violates}
        results.append(row)
        if not r.complete or row["confirmed"] is False:
            code = 1
    if args.json:
        print(json.dumps({"traces": results}, indent=2))
    else:
        for row in results:
            print(_line(row))
    return code


def _line(row: dict[str, Any]) -> str:
    head = f"{row['file']}: {row['design']} ({row['config']}), {row['states']} states"
    if not row["behaviour"]:
        head += f": a model behaviour up to state {row['matched'] - 1}; {row['stop']}"
    else:
        head += ": a behaviour of the model"
    violates = ", ".join(row["violates"]) or "nothing"
    head += f"; its last state violates {violates}"
    if row["confirmed"] is True:
        head += f" (as the file claims: {row['claims']})"
    elif row["confirmed"] is False:
        head += f"; the file claims {row['claims']}, which it does not show"
    return head


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "replay", help="replay ITF traces through the model: where each stops being a "
        "model behaviour, and what it violates",
        description="Read ITF traces of the model (written by --itf of check, prove, mutate; "
        "or by any tool that writes the model's variables, see docs/traces.md) and replay "
        "each through the model: every state must be the initial state or the successor "
        "of the one before by the action the file names (mbt::actionTaken and "
        "mbt::nondetPicks; a state naming none may follow by any action). Exit 0 only "
        "when every file is a whole behaviour and shows the violation it claims.")
    p.add_argument("files", nargs="+", metavar="FILE", help="an .itf.json file")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.set_defaults(handler=cmd_replay)


def check_round_trip() -> tuple[str, str]:
    """A counterexample of `check` written as ITF, read back (model/itf.py's typed reader)
    and replayed through the model to the violation it claims."""
    from model.checker import check
    from model.config import variant

    design = variant("no_group_id_uniqueness")
    report = check(Config(), design=design, liveness=False)
    result = report.result("single_owner")
    if result.trace is None:
        return "fail", "no_group_id_uniqueness has no counterexample to single_owner"
    doc = model_trace(report.config, result.trace, command="check", design=design.name,
                      prop="single_owner", verdict="violated")
    r = replay(read_itf(json.loads(json.dumps(doc))))
    if not r.complete or "single_owner" not in r.violates:
        return "fail", f"the ITF trace does not replay: {r.stop or r.violates}"
    return "pass", (f"no_group_id_uniqueness's {len(result.trace)}-step counterexample "
                    "written, read back and replayed to single_owner")


def verify_checks(*, quick: bool = False) -> list[tuple[str, Check]]:
    """The ITF round trip (about 15 s: it checks a variant), left out of `--quick`."""
    if quick:
        return []
    return [("traces: an ITF counterexample replays to its violation", check_round_trip)]
