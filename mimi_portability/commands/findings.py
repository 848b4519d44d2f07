"""The `findings` subcommand: docs/findings.md, the report for the draft's authors.

This module owns its command line: `register(subparsers)` adds
`findings [--output FILE] [--check] [--quiet]` to the front (mimi_portability/cli.py).  The
report itself is mimi_portability/findings.py's.  `--check` writes nothing and exits 1 when
the file differs from what the code gives now (as `diagrams` keeps docs/figures current).
`verify` checks it is current (not with --quick: building the report runs every design and
spec mutation again, six to ten minutes); so does tests/test_findings_current.py with
MIMI_FINDINGS_CURRENT=1.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from ..args import Check, Subparsers

DEFAULT_OUTPUT = Path("docs/findings.md")


def _progress(text: str) -> None:
    print(f"findings: {text}", file=sys.stderr, flush=True)


def cmd_findings(args: argparse.Namespace) -> int:
    # Imported here: the report stands on the proofs, and `--help` must not load Z3.
    from .. import findings

    path = Path(args.output)
    text = findings.build(None if args.quiet else _progress)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current == text:
            print(f"{path} is current")
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(path),
                                    "this code", lineterm="", n=1)
        shown = list(diff)[:40]
        print("\n".join(shown))
        print(f"error: {path} is not current (run mimi-portability findings)",
              file=sys.stderr)
        return 1
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        unchanged = path.is_file() and path.read_text(encoding="utf-8") == text
        if not unchanged:
            path.write_text(text, encoding="utf-8")
    except OSError as err:
        print(f"error: {path}: {err.strerror or err}", file=sys.stderr)
        return 1
    print(f"{path}: {'unchanged' if unchanged else 'written'}")
    return 0


def register(subparsers: Subparsers) -> None:
    """Add the `findings` subcommand; its handler (args.handler) returns an exit code."""
    p = subparsers.add_parser(
        "findings",
        help="write docs/findings.md: every decision, what breaks without it, the fixes "
        "of the open findings, the draft's open questions, proposed normative text",
        description="Run the explicit checker, the Z3 proofs and the witness searches on "
        "every design and write the findings report for the draft's authors "
        "(deterministic: the same code writes the same bytes).  Its charts are the "
        "committed figures of docs/figures/ (run `diagrams` first after a model change).",
    )
    p.add_argument("--output", metavar="FILE", default=str(DEFAULT_OUTPUT),
                   help=f"where to write the report (default {DEFAULT_OUTPUT})")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if FILE is not what the code gives now")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(handler=cmd_findings)


def _current() -> tuple[str, str]:
    from .. import findings

    path = Path(__file__).resolve().parents[2] / "docs" / "findings.md"
    text = findings.build()
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        return "fail", "docs/findings.md is not what `mimi-portability findings` writes now"
    return "pass", f"docs/findings.md is current ({len(text.splitlines())} lines)"


def verify_checks(*, quick: bool = False) -> list[tuple[str, Check]]:
    """Whether docs/findings.md is current (not quick: building it runs every design)."""
    if quick:
        return []
    return [("findings: docs/findings.md is current", _current)]
