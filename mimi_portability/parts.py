"""The registry of parts: which modules add subcommands to the front and checks to `verify`.

This module owns `PARTS`, in the order `mimi-portability verify` runs their checks and the
order their subcommands appear in `--help` after `verify`.  Each part is imported plainly, so
a reader (and mypy) sees every arrow from the front to the toolkit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

from .args import Check, Subparsers
from .commands import diagrams, findings, impl, itf, lockstep, model, proofs, serve, validate


class VerifyChecks(Protocol):
    """A part's `verify_checks`: (name, check) pairs, a subset when quick."""

    def __call__(self, *, quick: bool = ...) -> list[tuple[str, Check]]: ...


@dataclasses.dataclass(frozen=True)
class Part:
    name: str
    register: Callable[[Subparsers], None]
    verify_checks: VerifyChecks
    #: Lines `verify` prints after its table (the explicit x Z3 table), or None.
    verify_summary: Callable[[], list[str]] | None = None


PARTS: tuple[Part, ...] = (
    Part("impl", impl.register, impl.verify_checks),
    Part("model", model.register, model.verify_checks),
    Part("proofs", proofs.register, proofs.verify_checks, proofs.verify_summary),
    Part("diagrams", diagrams.register, diagrams.verify_checks),
    Part("lockstep", lockstep.register, lockstep.verify_checks),
    Part("findings", findings.register, findings.verify_checks),
    Part("traces", itf.register, itf.verify_checks),
    Part("validate", validate.register, validate.verify_checks),
    Part("serve", serve.register, serve.verify_checks),
)
