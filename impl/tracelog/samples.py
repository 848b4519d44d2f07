"""Sample logs of our own roles, as long as asked: migrations back and forth.

This module owns `back_and_forth(folder, migrations)`: a world (impl/world.py) whose
group moves source -> target -> source ... `migrations` times, every member at every
step, with every honest role's log written to `folder` (impl/tracelog/record.py).  Each
migration is 7 + 3 x members events, so a log set of any length is at hand for the
benchmark of `validate` (bench/validate.py) and its tests.
"""

from __future__ import annotations

from pathlib import Path

from ..world import SOURCE, TARGET, build_world
from .record import NetworkTraces


def back_and_forth(folder: Path, migrations: int, *, members: int = 3) -> list[Path]:
    """Write the logs of `migrations` migrations; returns their paths."""
    world = build_world(members=members, nonce_lifetime=1e12)
    traces = NetworkTraces(folder, [world.source, world.target, *world.clients])
    world.network.trace = traces
    try:
        for k in range(migrations):
            initiator = world.clients[k % members]
            target = TARGET if k % 2 == 0 else SOURCE
            world.network.send([initiator.start_migration(world.group_id, target)])
            world.run()
            view = initiator.groups[world.group_id]
            if view.ds != target:
                raise RuntimeError(f"migration {k + 1} did not complete ({view.ds})")
    finally:
        traces.close()
    return traces.paths
