"""MIMI Portability as an explicit state-transition system: the single source of truth.

Where things are (each module's docstring says what it owns):

- model.config: `Config` (bounds), `DesignOptions`, `VARIANTS` / `REFERENCE` / `variant(name)`.
- model.messages: the abstract messages (NamedTuples; `signer` stands for the signature).
- model.state: `State`, `initial_state(config)`, the ghost history.
- model.actions: `ACTIONS` (the rules, as data), `successors(config, state)` ->
  (Action(name, args), next state), `step`, `replay(config, trace)` (raises
  `ActionNotEnabled`).
- model.adversary: what the rogue client X and rogue DS R can send.
- model.properties: `PROPERTIES` (stable IDs), `LIVENESS_ID`, `NEGATIVE_CONTROL`.
- model.symmetry: canonical states under renaming of interchangeable parties.
- model.checker: `explore`, `check`, `check_designs`, `default_reports`, `trace_to`,
  `doomed_state`, `vacuity_matrix`.

The model has no command line of its own: `check`, `variants` and `checks` are
mimi_portability/commands/model.py's.
"""
