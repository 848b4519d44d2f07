"""Lockstep testing: the implementation and the model driven together (style.md item 6).

`abstraction` maps the implementation's world to a model state (the contract between the
two); `driver.Lockstep` applies one model action to both sides and checks that contract
after every step; `explore` lists the moves of a lockstep run (model actions, refused
deliveries, misdeliveries, tampering) and runs random swarm/steered sessions; `commands`
is the `mimi-portability conform` subcommand and the verify check.
"""
