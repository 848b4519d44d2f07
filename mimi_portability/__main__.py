"""`python -m mimi_portability ...`: the same command line as `mimi-portability ...`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
