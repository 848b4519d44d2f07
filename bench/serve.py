#!/usr/bin/env python3
"""What the wire costs: migrations over two real servers on loopback against the same work
in process, and the memory of a server holding many groups.

The work, for G concurrent groups: G groups hosted by one source DS, each with the same
`--members` members; every group is migrated to the target at once (all G migrations in
flight together), and a migration's latency runs from its MigrationRequest until every
member follows the group at the target.  Two drivers do the same work:

* inprocess: both DSs and every member behind impl/storage's durable driver on SQLite
  files (WAL, synchronous=FULL), the envelopes carried by impl.network in FIFO order, in
  this process: what the protocol and durability cost with no wire;
* http: `mimi-portability serve` twice (source and target, each its own process on a free
  loopback port, state in SQLite), the members driven by `mimi-portability workload`.

Printed, for G in --groups (default 1, 10, 100): migrations/s and p50/p99 latency of each
driver and the http/inprocess ratios; then the resident set size of a server process
holding each of --rss-groups (default up to 10,000) groups, and how time and memory grow
with the number of groups.  Figures only: nothing here asserts a time.

    python3 bench/serve.py
    python3 bench/serve.py --groups 1 10 --members 3 --rss-groups 100 1000
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from impl.client import Client  # noqa: E402
from impl.envelope import Envelope  # noqa: E402
from impl.events import Switched  # noqa: E402
from impl.network import Network  # noqa: E402
from impl.storage.driver import DurableClient, DurableDS  # noqa: E402
from impl.world import TARGET, build_world  # noqa: E402


@dataclasses.dataclass
class Figures:
    """One driver's run of G concurrent migrations."""

    groups: int
    seconds: float  # wall time from the first request to the last member switched
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.groups / self.seconds

    def quantile(self, q: float) -> float:
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]


def group_ids(groups: int) -> list[bytes]:
    return [f"bench group {i:06d}".encode() for i in range(groups)]


def inprocess(groups: int, members: int, folder: Path) -> Figures:
    """G groups at one source, all migrated at once to the target (module docstring)."""
    world = build_world(members=members, epoch=7)
    state = world.source.groups[world.group_id].state
    del world.source.groups[world.group_id]
    for client in world.clients:
        del client.groups[world.group_id]
    gids = group_ids(groups)
    for gid in gids:
        world.source.create_group(dataclasses.replace(state, group_id=gid))
        for i, client in enumerate(world.clients):
            client.join(dataclasses.replace(state, group_id=gid), world.source.domain, i)
    network = Network()
    drivers: dict[str, DurableDS | DurableClient] = {}
    for ds in (world.source, world.target):
        drivers[ds.domain] = DurableDS.create_sqlite(ds, str(folder / f"{ds.domain}.sqlite"),
                                                     network.send)
    for client in world.clients:
        drivers[client.identity] = DurableClient.create_sqlite(
            client, str(folder / f"{client.identity}.sqlite"), network.send)
    for driver in drivers.values():
        network.attach(driver)
    clients: dict[str, Client] = {c.identity: c for c in world.clients}
    seen = dict.fromkeys(clients, 0)
    switched: dict[bytes, int] = dict.fromkeys(gids, 0)
    done: dict[bytes, float] = {}
    initiator = drivers[world.initiator.identity]
    assert isinstance(initiator, DurableClient)
    start = time.perf_counter()
    began: dict[bytes, float] = {}
    for gid in gids:
        began[gid] = time.perf_counter()

        def call(c: Client, gid: bytes = gid) -> Envelope:
            return c.start_migration(gid, TARGET)

        initiator.call(call)
    while network.in_flight:
        envelope = network.in_flight[0]
        network.deliver(0.0)
        client = clients.get(envelope.recipient)
        if client is None:
            continue
        for event in client.events[seen[client.identity]:]:
            if isinstance(event, Switched) and event.target == TARGET:
                switched[event.group_id] += 1
                if switched[event.group_id] == members:
                    done[event.group_id] = time.perf_counter()
        seen[client.identity] = len(client.events)
    seconds = time.perf_counter() - start
    for driver in drivers.values():
        driver.close()
    if len(done) != groups:
        raise SystemExit(f"in process: {groups - len(done)} of {groups} migrations unfinished")
    return Figures(groups, seconds, [done[g] - began[g] for g in gids])


def _print_row(name: str, f: Figures) -> None:
    print(f"  {name:<10} {f.per_second:>10.1f} {f.quantile(50) * 1e3:>10.1f} "
          f"{f.quantile(99) * 1e3:>10.1f} {f.seconds:>9.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--dir", help="where the SQLite files go (default: a temporary folder)")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-serve-", dir=args.dir))
    try:
        print(f"{args.members} members per group; all of a run's migrations in flight at once")
        print(f"  {'driver':<10} {'migr/s':>10} {'p50 ms':>10} {'p99 ms':>10} {'total s':>9}")
        for g in args.groups:
            folder = base / f"inprocess-{g}"
            folder.mkdir()
            print(f"{g} concurrent groups")
            _print_row("inprocess", inprocess(g, args.members, folder))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
