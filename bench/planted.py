#!/usr/bin/env python3
"""The planted-bug table: each bug of tests/lockstep/planted.py, the move that caught it
and the steps it took (Markdown, as in docs/lockstep.md).

    python3 bench/planted.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lockstep.planted import BUGS, hunt, table


def main() -> int:
    found = [hunt(bug) for bug in BUGS]
    missed = [bug.name for bug, f in zip(BUGS, found, strict=True) if f is None]
    print(table([f for f in found if f is not None]))
    for name in missed:
        print(f"NOT FOUND: {name}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
