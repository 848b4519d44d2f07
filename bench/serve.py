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
  loopback port, state in SQLite; a world of impl/http/world.py `init_world`, plain HTTP
  unless --tls), the members impl/http/client.py `HttpMember`s in this process (each with
  its SQLite state and relay files, as `workload` runs them): every migration is started,
  then every member flushes its relay and fetches its queues at both DSs, round after
  round, until every group is at the target.

Printed, for G in --groups (default 1, 10, 100): migrations/s and p50/p99 latency of each
driver (the median of --repeat runs) and the http/inprocess ratios.  Then growth with the
number of groups a DS holds, for N in --held (default 0, 100, 1,000, 10,000): the source's
state file is written with N groups besides the migrated ones (in process, one
transaction, before the server starts), and the source server's resident set size (VmRSS)
after it opened the file, the latency of --growth-migrations migrations one after the
other, and the in-process latency of the same migrations beside the same N groups.
Figures only: nothing here asserts a time.

    python3 bench/serve.py
    python3 bench/serve.py --groups 1 10 --members 3 --held 0 1000
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
from impl.ds import DeliveryService  # noqa: E402
from impl.envelope import Envelope, SystemRandom  # noqa: E402
from impl.events import Switched  # noqa: E402
from impl.group_state import GroupState, Member  # noqa: E402
from impl.http.client import HttpMember, http_client  # noqa: E402
from impl.http.config import WorldFile, load_ds_config  # noqa: E402
from impl.http.world import ServerProcess, client_names, init_world, start_server  # noqa: E402
from impl.network import Network  # noqa: E402
from impl.storage.driver import DurableClient, DurableDS  # noqa: E402
from impl.world import TARGET, build_world  # noqa: E402

HTTP_SOURCE, HTTP_TARGET = "source.example", "target.example"
#: Give up on a run after this long (a figure is then missing, and the reason printed).
TIMEOUT = 600.0


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


def held_states(suite: int, n: int) -> list[GroupState]:
    """N groups of one member each that nobody migrates (what a DS holds besides)."""
    return [GroupState(group_id=f"held group {i:06d}".encode(), epoch=0, cipher_suite=suite,
                       members=(Member(leaf_index=0, identity=b"bystander@client.example",
                                       signature_key=b"\x01" * 32),))
            for i in range(n)]


def inprocess(groups: int, members: int, folder: Path, held: int = 0) -> Figures:
    """G groups at one source, all migrated at once to the target (module docstring);
    `held` more groups at the source that stay."""
    world = build_world(members=members, epoch=7)
    state = world.source.groups[world.group_id].state
    del world.source.groups[world.group_id]
    for client in world.clients:
        del client.groups[world.group_id]
    for extra in held_states(int(state.cipher_suite), held):
        world.source.create_group(extra)
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


def http_world(folder: Path, members: int, tls: bool, held: int = 0
               ) -> tuple[WorldFile, dict[str, ServerProcess]]:
    """A world of two DSs and `members` clients; `held` groups written into the source's
    state file before its server starts; both servers started."""
    world = init_world(folder, domains=[HTTP_SOURCE, HTTP_TARGET],
                       clients=client_names(members), tls=tls)
    if held:
        config = load_ds_config(world.configs[HTTP_SOURCE])
        role = DeliveryService(config.domain, keys=config.keys, trust=config.trust(),
                               random=SystemRandom())
        for extra in held_states(world.suite, held):
            role.create_group(extra)
        DurableDS.create_sqlite(role, str(config.state), lambda envelopes: None).close()
    servers: dict[str, ServerProcess] = {}
    try:
        for domain in (HTTP_SOURCE, HTTP_TARGET):
            servers[domain] = start_server(world, domain)
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return world, servers


def http_migrations(world: WorldFile, groups: int, *, sequential: bool = False) -> Figures:
    """G groups created at the source by the world's members, then migrated to the target:
    all at once, or one after the other (`sequential`)."""
    with http_client(world.ca, timeout=30.0) as http:
        members = [HttpMember(c, world, http) for c in world.clients.values()]
        try:
            gids = group_ids(groups)
            roster = tuple(Member(leaf_index=i, identity=m.identity.encode(),
                                  signature_key=m.key.public_bytes())
                           for i, m in enumerate(members))
            for gid in gids:
                state = GroupState(group_id=gid, epoch=7, cipher_suite=world.suite,
                                   members=roster)
                status, _ = members[0].create_group(state, HTTP_SOURCE)
                if status != 202:
                    raise SystemExit(f"http: the source refused a group creation ({status})")
                for i, m in enumerate(members):
                    m.call(lambda c, i=i, state=state: c.join(state, HTTP_SOURCE, i))
            began: dict[bytes, float] = {}
            done: dict[bytes, float] = {}
            start = time.perf_counter()
            batches = [[g] for g in gids] if sequential else [gids]
            for batch in batches:
                for gid in batch:
                    began[gid] = time.perf_counter()
                    members[0].call(lambda c, gid=gid: c.start_migration(gid, HTTP_TARGET))
                waiting = set(batch)
                deadline = time.monotonic() + TIMEOUT
                while waiting:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"http: {len(waiting)} migrations unfinished after "
                                         f"{TIMEOUT:g} s")
                    for m in members:
                        m.flush()
                        m.poll(HTTP_SOURCE)
                        m.poll(HTTP_TARGET)
                        m.flush()
                    for gid in list(waiting):
                        if all(m.role.groups[gid].ds == HTTP_TARGET
                               and m.role.groups[gid].pending is None for m in members):
                            done[gid] = time.perf_counter()
                            waiting.discard(gid)
            seconds = time.perf_counter() - start
        finally:
            for m in members:
                m.close()
    return Figures(groups, seconds, [done[g] - began[g] for g in gids])


def rss_kib(server: ServerProcess) -> int:
    if server.process is None:
        return 0
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _median(runs: list[Figures]) -> Figures:
    return sorted(runs, key=lambda f: f.seconds)[len(runs) // 2]


def _print_row(name: str, f: Figures) -> None:
    print(f"  {name:<10} {f.per_second:>10.1f} {f.quantile(50) * 1e3:>10.1f} "
          f"{f.quantile(99) * 1e3:>10.1f} {f.seconds:>9.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--held", type=int, nargs="+", default=[0, 100, 1000, 10000])
    parser.add_argument("--growth-migrations", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="runs per G (the median)")
    parser.add_argument("--tls", action="store_true", help="HTTPS between every party")
    parser.add_argument("--dir", help="where the SQLite files go (default: a temporary folder)")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-serve-", dir=args.dir))
    wire = "HTTPS" if args.tls else "plain HTTP"
    try:
        print(f"{args.members} members per group; all of a run's migrations in flight at "
              f"once; {wire} on loopback; SQLite files under {base.parent}")
        print(f"  {'driver':<10} {'migr/s':>10} {'p50 ms':>10} {'p99 ms':>10} {'total s':>9}")
        warm = base / "warm-up"
        warm.mkdir()
        inprocess(1, args.members, warm)  # imports, first SQLite files: not measured
        for g in args.groups:
            print(f"{g} concurrent groups (the median of {args.repeat} runs by total time)")
            locals_, remotes = [], []
            for r in range(args.repeat):
                folder = base / f"inprocess-{g}-{r}"
                folder.mkdir()
                locals_.append(inprocess(g, args.members, folder))
                world, servers = http_world(base / f"http-{g}-{r}", args.members, args.tls)
                try:
                    remotes.append(http_migrations(world, g))
                finally:
                    for server in servers.values():
                        server.stop()
            local, remote = _median(locals_), _median(remotes)
            _print_row("inprocess", local)
            _print_row("http", remote)
            print(f"  {'http/inproc':<10} {local.per_second / remote.per_second:>9.1f}x "
                  f"{remote.quantile(50) / local.quantile(50):>9.1f}x "
                  f"{remote.quantile(99) / local.quantile(99):>9.1f}x  (slower by)")
        print(f"\ngrowth with the groups a DS holds ({args.growth_migrations} migrations of "
              f"one group after the other, beside N held groups at the source)")
        print(f"  {'N held':>8} {'source RSS':>11} {'http p50':>10} {'inproc p50':>11} "
              f"{'ratio':>7}")
        grown: list[tuple[int, int, float, float]] = []
        for n in args.held:
            world, servers = http_world(base / f"held-{n}", args.members, args.tls, held=n)
            try:
                rss = rss_kib(servers[HTTP_SOURCE])
                remote = http_migrations(world, args.growth_migrations, sequential=True)
            finally:
                for server in servers.values():
                    server.stop()
            times = []
            for i in range(args.growth_migrations):
                folder = base / f"held-inprocess-{n}-{i}"
                folder.mkdir()
                times += inprocess(1, args.members, folder, held=n).latencies
            local_p50 = statistics.median(times)
            print(f"  {n:>8} {rss / 1024:>8.1f} MiB {remote.quantile(50) * 1e3:>7.1f} ms "
                  f"{local_p50 * 1e3:>8.1f} ms {remote.quantile(50) / local_p50:>6.1f}x")
            grown.append((n, rss, remote.quantile(50), local_p50))
        (n0, rss0, http0, local0), (n1, rss1, http1, local1) = grown[0], grown[-1]
        if n1 > n0:
            print(f"  from {n0} to {n1} held groups: RSS +{(rss1 - rss0) / (n1 - n0):.2f} KiB "
                  f"per group; migration latency x{http1 / http0:.1f} over http, "
                  f"x{local1 / local0:.1f} in process")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
