#!/usr/bin/env python3
"""What durability costs: a migration with the roles bare, on in-memory stores, on SQLite.

One migration here is the happy path of impl/storage/crashes.py without a crash: the
initiator's start_migration, then every delivery until nothing is in flight (the six
messages, the fan-out to every member and the confirmation), over impl.network, with every
party (both DSs and every member) behind a durable driver (impl/storage/driver.py).  Each
migration runs in a fresh world (building it, which creates the stores, is not timed).
Three drivers:

* roles: the Sans-IO roles on the network with no driver at all (what the protocol costs);
* memory: every party a Durable driver on a MemoryStore (the cost of the driver itself:
  encoding rows, diffing, the outbox and idempotency bookkeeping);
* sqlite: the same on SQLite files (WAL, synchronous=FULL), in --dir (default: a temporary
  folder; point it at the disk you care about: a tmpfs hides the cost of fsync).

Printed: time per migration and per handled message (the start call and every delivery),
each as a ratio to the memory driver; and the disk writes of one SQLite migration: committed
transactions, rows written, bytes the process passed to write() and the block layer's
write_bytes (from /proc/self/io, where readable), and fsync/fdatasync calls, counted with
`strace -f -c` on a child process when strace is installed and allowed (--no-strace skips
it).  Figures only: nothing here asserts a time.

    python3 bench/storage.py                          # 5 members, 20 migrations per driver
    python3 bench/storage.py --members 50 --migrations 5 --dir /var/tmp
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from impl.storage.driver import DurableClient  # noqa: E402
from impl.storage.world import DurableWorld, build_durable_world  # noqa: E402
from impl.world import TARGET, build_world  # noqa: E402

DRIVERS = ("roles", "memory", "sqlite")


def _io() -> dict[str, int]:
    try:
        text = Path("/proc/self/io").read_text()
    except OSError:
        return {}
    return {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", text)}


def migrate_roles(members: int) -> tuple[float, int]:
    world = build_world(members=members, epoch=7)
    start = time.perf_counter()
    world.network.send([world.initiator.start_migration(world.group_id, TARGET)])
    world.network.run(0.0)
    seconds = time.perf_counter() - start
    assert all(c.groups[world.group_id].ds == TARGET for c in world.clients)
    return seconds, 1 + len(world.network.deliveries)


def _start(dw: DurableWorld) -> None:
    driver = dw.drivers[dw.world.initiator.identity]
    assert isinstance(driver, DurableClient)
    driver.call(lambda c: c.start_migration(dw.group_id, TARGET))


def migrate_durable(members: int, folder: Path | None) -> tuple[float, int, dict[str, int]]:
    dw = build_durable_world(folder, members=members)
    stats = dw.stores()
    before = [(s.stats.transactions, s.stats.rows_written) for s in stats]
    io_before = _io()
    start = time.perf_counter()
    _start(dw)
    dw.world.network.run(0.0)
    seconds = time.perf_counter() - start
    io_after = _io()
    assert dw.outcome() == "completed", dw.outcome()
    writes = {
        "transactions": sum(s.stats.transactions - b[0] for s, b in zip(stats, before,
                                                                         strict=True)),
        "rows": sum(s.stats.rows_written - b[1] for s, b in zip(stats, before, strict=True)),
    }
    for key in ("wchar", "write_bytes"):
        if key in io_before and key in io_after:
            writes[key] = io_after[key] - io_before[key]
    dw.close()
    return seconds, 1 + len(dw.world.network.deliveries), writes


def run(driver: str, members: int, migrations: int, base: Path) -> dict[str, float]:
    times, messages, writes = [], 0, []
    for n in range(migrations):
        if driver == "roles":
            seconds, messages = migrate_roles(members)
        else:
            folder = None
            if driver == "sqlite":
                folder = base / f"m{n}"
                folder.mkdir()
            seconds, messages, w = migrate_durable(members, folder)
            writes.append(w)
        times.append(seconds)
    out = {"migration": statistics.median(times), "messages": messages}
    for key in writes[0] if writes else ():
        out[key] = statistics.median(w[key] for w in writes)
    return out


def count_syncs(members: int, migrations: int, base: Path) -> float | None:
    """fsync + fdatasync calls per SQLite migration, from strace on child processes: one
    that only creates (and closes) a world's stores, one that runs `migrations` migrations,
    each in a world of its own; the difference per migration."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    counts = []
    for n in (0, migrations):
        folder = Path(tempfile.mkdtemp(dir=base))
        child = subprocess.run(
            [strace, "-f", "-c", "-e", "trace=fsync,fdatasync", sys.executable, __file__,
             "--child", str(n), "--members", str(members), "--dir", str(folder)],
            capture_output=True, text=True, timeout=600)
        if child.returncode != 0:
            return None
        found = re.findall(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(?:fsync|fdatasync)$",
                           child.stderr, re.MULTILINE)
        counts.append(sum(int(calls) for calls in found))
    return counts[1] / migrations - counts[0]


def child(migrations: int, members: int, base: Path) -> int:
    """Under strace: 0 creates one world's stores and closes them; n runs n migrations."""
    if migrations == 0:
        build_durable_world(base, members=members).close()
    for n in range(migrations):
        folder = base / f"c{n}"
        folder.mkdir()
        migrate_durable(members, folder)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--migrations", type=int, default=20, help="per driver")
    parser.add_argument("--dir", help="where the SQLite files go (default: a temporary folder)")
    parser.add_argument("--no-strace", action="store_true", help="do not count fsync calls")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.members < 1 or args.migrations < 1:
        parser.error("--members and --migrations must be >= 1")
    base = Path(tempfile.mkdtemp(prefix="bench-storage-", dir=args.dir))
    try:
        if args.child is not None:
            return child(args.child, args.members, base)
        rows = {d: run(d, args.members, args.migrations, base) for d in DRIVERS}
        syncs = None if args.no_strace else count_syncs(args.members, 3, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    where = args.dir or tempfile.gettempdir()
    print(f"{args.members} members, {args.migrations} migrations per driver (medians); "
          f"SQLite files under {where}")
    print(f"one migration = {rows['memory']['messages']:.0f} handled messages "
          f"(start_migration and every delivery)\n")
    memory = rows["memory"]
    print(f"{'driver':<8} {'per migration':>14} {'x memory':>9} {'per message':>12} "
          f"{'x memory':>9}")
    for d in DRIVERS:
        r = rows[d]
        per_message = r["migration"] / r["messages"]
        memory_per_message = memory["migration"] / memory["messages"]
        ratio = r["migration"] / memory["migration"]
        print(f"{d:<8} {r['migration'] * 1e3:>11.2f} ms {ratio:>9.2f}"
              f" {per_message * 1e6:>9.0f} us {per_message / memory_per_message:>9.2f}")
    sq = rows["sqlite"]
    print("\ndisk writes per SQLite migration:")
    print(f"  committed transactions: {sq['transactions']:.0f} "
          f"(memory driver: {memory['transactions']:.0f}; one per message that changed state "
          f"or sent, plus one outbox mark per message that sent)")
    print(f"  rows written: {sq['rows']:.0f}")
    if "wchar" in sq:
        print(f"  bytes passed to write(): {sq['wchar']:.0f} "
              f"({sq['wchar'] / sq['transactions']:.0f} per transaction)")
        print(f"  block-layer write_bytes: {sq['write_bytes']:.0f} "
              f"(0 on a tmpfs or when the kernel has not flushed yet)")
    else:
        print("  bytes written: /proc/self/io is not readable here")
    if syncs is not None:
        print(f"  fsync/fdatasync calls: {syncs:.1f} (strace -f -c)")
    else:
        print("  fsync/fdatasync calls: not counted (no strace, not allowed, or --no-strace)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
