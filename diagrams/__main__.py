"""`python -m diagrams`: the `diagrams` subcommand on its own."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .commands import register


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(["diagrams", *arguments])
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
