"""Lockstep testing: the implementation and the model driven together.

`abstraction` maps the implementation's world to a model state (the contract between the
two); `driver.Lockstep` applies one model action to both sides and checks that contract
after every step; `moves` lists the moves of a lockstep run (model actions, refused
deliveries, misdeliveries, tampering; who receives what is model/routing.py's) and runs
random swarm/steered sessions, `steering` steers them to the least visited model states and
`tour` walks every edge of the state graph.  The `mimi-portability conform` subcommand and
the verify check are mimi_portability/commands/lockstep.py's.
"""
