"""`python -m model check ...` / `python -m model variants`: the model's commands alone."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .commands import register


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model",
                                     description="The MIMI Portability model checker.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register(sub)
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
