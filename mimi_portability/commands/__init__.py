"""Each part's subcommands and `verify` checks, one module per part of the toolkit.

- mimi_portability.commands.impl: `vectors`, `decode`, `demo`; the RFC 9420 vectors, the
  committed test vectors and the demo migrations for `verify`.
- mimi_portability.commands.model: `check`, `variants`, `checks`; the model checker's verdicts.
- mimi_portability.commands.proofs: `prove`, `mutate`; the Z3 proofs and the cross-check.
- mimi_portability.commands.diagrams: `diagrams`; the figures.
- mimi_portability.commands.lockstep: `conform`; a short lockstep run.

Every module has `register(subparsers)` and `verify_checks(quick=...)`; the list of them, in
the order `verify` runs them, is mimi_portability.parts.PARTS.
"""
