"""The face of the toolkit: the `mimi-portability` command line, `verify`, and what they share.

What this package owns (each module's docstring says more):

- mimi_portability.cli: the argparse front, `main` (the console script), `verify`'s flags.
- mimi_portability.verify: the umbrella check and its summary table (`--quick`: a subset).
- mimi_portability.parts: `PARTS`, the registry of parts the front and `verify` go through.
- mimi_portability.args: the argument helpers every part shares (`positive`, `add_bounds`,
  `config_from`, `with_drops`) and `CliError`.
- mimi_portability.traces: a trace step's readable line, and where each rule's guard is.
- mimi_portability.verdicts: `Record`, the one verdict record every command's results convert
  to; mimi_portability.junit and mimi_portability.sarif write it as JUnit XML and SARIF;
  mimi_portability.reports owns `--junit FILE` and `--sarif FILE` (docs/ci.md).
- mimi_portability.commands.{impl,model,proofs,diagrams,lockstep}: each part's subcommands
  and `verify` checks.

Layering, one way only: model/ is the ground; proofs/ and diagrams/ stand on it; impl/ stands
on nothing of them but its lockstep (impl/lockstep/) on model/; this package stands on all of
them and nothing imports it back.  That is why the command-line code of every part lives here
rather than in a `commands` module beside the part: the helpers the parts' commands share
(`add_bounds`, `config_from`) would otherwise sit in model/ (the lowest part, where they did
before) or need an arrow from model/ up to here.  What the parts themselves need of it stays
below: `model.config.config_json` (the JSON of the bounds) and `model.checker.default_reports`
(shared by the model's checks and the proofs' cross-check).  So model/, proofs/, diagrams/
and impl/ hold no command-line code, and `python -m model`, `python -m proofs` and
`python -m diagrams` are gone: `mimi-portability check`, `prove` and `diagrams` (or
`python -m mimi_portability ...`) do the same.

Imports are plain, with one exception: every proofs/ module imports Z3, whose import alone
costs more than the rest of `mimi-portability --help`, so mimi_portability.commands.proofs
imports them inside its handlers and checks.
"""
