"""`python -m proofs prove ...`: the Z3 proofs alone."""

from __future__ import annotations

import sys

from model.commands import standalone

from .commands import register

main = standalone("python -m proofs", "The MIMI Portability proofs (Z3).", register)

if __name__ == "__main__":
    sys.exit(main(None))
