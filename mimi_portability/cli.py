"""The `mimi-portability` command line: one argparse front over every part of the toolkit.

This module owns argument parsing, the `verify` subcommand, and the translation of errors
into one-line messages and exit codes (0 success, 1 a check failed or input was rejected, 2 a
usage error, or a `--junit`/`--sarif` file that could not be written).  Every other
subcommand is a part's (mimi_portability.parts.PARTS), added by its `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import verify
from .args import CliError, Handler
from .parts import PARTS
from .reports import ReportError, add_report_options

QUICK_HELP = (
    "a subset, well under a minute: the implementation's checks, the model's reference "
    "design and negative control, whether the committed figures are current, the short "
    "lockstep run; no variants, no Z3 proofs, nothing written"
)


def cmd_verify(args: argparse.Namespace) -> int:
    return verify.run(quick=args.quick, reports=args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mimi-portability",
        description="Reference toolkit for MIMI Portability (draft-kohbrok-mimi-portability).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("verify", help="run every check and print one summary table")
    p.add_argument("--quick", action="store_true", help=QUICK_HELP)
    add_report_options(p)
    p.set_defaults(handler=cmd_verify)
    for part in PARTS:
        part.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except CliError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
