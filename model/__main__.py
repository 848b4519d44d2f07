"""`python -m model check ...` / `python -m model variants`: the model's commands alone."""

from __future__ import annotations

import sys

from .commands import register, standalone

main = standalone("python -m model", "The MIMI Portability model checker.", register)

if __name__ == "__main__":
    sys.exit(main(None))
