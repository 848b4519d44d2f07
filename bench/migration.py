#!/usr/bin/env python3
"""Cost of whole migrations against the cost of the cryptography they perform.

For group states of about 1 KiB, 10 KiB, 100 KiB, 1 MiB and 10 MiB (encoded GroupState; the
member count grows until the encoding reaches the size: one member is a leaf index, an
identity `member-N@client.example` and a signature key, 60 to 70 bytes with suite 1) this runs
--migrations migrations in one process, back and forth between the two DSs of an
`impl.world` world (source -> target -> source -> ...: each one a fresh import).

What one migration is, here: everything from the initiator's MigrationRequest until every
member runs at the new DS, i.e.

* core: the six messages (MigrationRequest, MigrationResponse, MigrationInit with the
  migration commit, MigrationContent, TargetMigrationComplete, MigrationConfirmation) with
  all the work of the three roles on them, including the source building the fan-out;
* fan-out: the N Fanout envelopes and every member's processing of the migration commit
  (each member checks the commit's signature against its group state and switches).

The roles are driven by a plain FIFO queue (not impl.network, whose logs and adversary
bookkeeping are test tooling, not protocol cost).  The cryptography is measured in the same
run: every call of impl.crypto's sign_with_label, verify_with_label, ref_hash and hash_bytes
is wrapped with a counter and a timer (perf_counter) and booked to the phase of the message
being processed, so "crypto" is exactly the signatures, verifications and hashes that the
timed migrations performed, with the same inputs.  The goal: total/crypto <= 2 and time
growing linearly with the state size; both verdicts are printed, --check makes a miss exit 1.

Where the time goes is printed too: per message of the core, the time beyond its crypto
(MigrationContent: the target's import, which checks the member list; TargetMigrationComplete:
the source building the N Fanout envelopes).  The memory budget: after the timed migrations
one more runs under tracemalloc, and its peak of Python allocations above what was allocated
before it (the world itself excluded) is printed per byte of group state, with its growth per
x10 of size; the process's peak RSS (which includes the world of N clients) is printed beside.

    python3 bench/migration.py                      # all five sizes, 20 migrations each
                                                    # (~30 min: 10 MiB is ~160k members)
    python3 bench/migration.py --sizes 1MiB --migrations 5
    python3 bench/migration.py --profile 1MiB       # cProfile one migration's core
    python3 bench/migration.py --profile 1MiB --profile-fanout   # ... and its fan-out
    python3 bench/migration.py --freeze-world       # gc.freeze() the world once built

--freeze-world moves the objects of the freshly built world (N Client objects with their keys
and views, which exist only because one process simulates every member) out of the cyclic
garbage collector's reach.  Without it, the 160k Fanout envelopes a 10 MiB migration allocates
set off full collections that walk the whole simulated world; the flag shows how much of the
core's time that is.  The default leaves the collector as it is, and times it: every pause of
the collector is booked to the phase it falls in (gc.callbacks), young and full collections
apart, and the core's ratio is printed once more without its full collections.  Nearly all of
a migration's collections fall in the core (the source's N new envelopes are its one net
allocation; the members' fan-out frees as many objects as it makes), so they are the price
of N Python objects per migration in a heap that holds N simulated clients.

Over 500 lines on purpose: one benchmark, whose phases (setup, crypto baseline, core,
fan-out, garbage-collector pauses, memory) are measured on the same world in one run, so
that every ratio is against a baseline measured beside it.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import dataclasses
import functools
import gc
import io
import itertools
import pstats
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from impl import crypto  # noqa: E402
from impl.codec import encode_length  # noqa: E402
from impl.crypto import CipherSuite, SigningKey  # noqa: E402
from impl.envelope import Envelope  # noqa: E402
from impl.world import GROUP_ID, SOURCE, TARGET, World, build_world  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
SIZES = {"1KiB": KIB, "10KiB": 10 * KIB, "100KiB": 100 * KIB, "1MiB": MIB, "10MiB": 10 * MIB}
#: The goal: a migration costs at most this many times the cryptography it performs.
GOAL_RATIO = 2.0
#: Linear growth: from one size to the next (10x), time may grow at most this much more than
#: the size does.  Sizes below 100 KiB are dominated by fixed costs and are not judged.
LINEAR_SLACK = 1.5
LINEAR_FROM = 100 * KIB
CRYPTO_FUNCTIONS = ("sign_with_label", "verify_with_label", "ref_hash", "hash_bytes")
PHASES = ("core", "fanout")
#: The core's steps, by the kind of envelope processed ("start": the initiator's request).
STEPS = (
    "start",
    "MigrationRequest",
    "MigrationResponse",
    "MigrationInitWithCommit",
    "MigrationContent",
    "TargetMigrationComplete",
    "MigrationConfirmation",
)


class CryptoClock:
    """Counts and times every impl.crypto signature, verification and hash while installed."""

    def __init__(self) -> None:
        self.phase = "core"
        self.seconds: dict[tuple[str, str], float] = collections.defaultdict(float)
        self.calls: dict[tuple[str, str], int] = collections.defaultdict(int)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def total(self, phase: str | None = None) -> float:
        return sum(s for (p, _), s in self.seconds.items() if phase in (None, p))

    def count(self, phase: str | None = None) -> dict[str, int]:
        counts: dict[str, int] = collections.Counter()
        for (p, name), n in self.calls.items():
            if phase in (None, p):
                counts[name] += n
        return dict(counts)

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                key = (self.phase, name)
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1

        return timed

    @contextmanager
    def installed(self) -> Iterator[CryptoClock]:
        originals = {name: getattr(crypto, name) for name in CRYPTO_FUNCTIONS}
        for name, fn in originals.items():
            setattr(crypto, name, self._wrap(name, fn))
        try:
            yield self
        finally:
            for name, fn in originals.items():
                setattr(crypto, name, fn)


class CollectorClock:
    """Times the cyclic garbage collector's pauses while installed, booked to the phase the
    CryptoClock is in ("fanout" or a core step): young collections (generations 0 and 1) and
    full ones (generation 2) apart.  A full collection walks every tracked object, the N
    simulated clients included, and the core sets them off: its N Fanout envelopes are the
    one net allocation of a migration (the fan-out frees as much as it allocates)."""

    def __init__(self, crypto_clock: CryptoClock) -> None:
        self.crypto_clock = crypto_clock
        self.seconds: dict[tuple[str, bool], float] = collections.defaultdict(float)
        self.full: dict[str, int] = collections.defaultdict(int)
        self._started = 0.0

    def reset(self) -> None:
        self.seconds.clear()
        self.full.clear()

    def pause(self, phase: str, full: bool | None = None) -> float:
        """Seconds paused in `phase` ("core" or "fanout"): full collections, young ones, or
        (None) both."""
        return sum(
            s
            for (p, f), s in self.seconds.items()
            if p == phase and full in (None, f)
        )

    def _callback(self, stage: str, info: dict[str, int]) -> None:
        if stage == "start":
            self._started = time.perf_counter()
            return
        phase = "fanout" if self.crypto_clock.phase == "fanout" else "core"
        full = info["generation"] == 2
        self.seconds[(phase, full)] += time.perf_counter() - self._started
        self.full[phase] += full

    @contextmanager
    def installed(self) -> Iterator[CollectorClock]:
        gc.callbacks.append(self._callback)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._callback)


def _member_size(i: int, key_size: int) -> int:
    identity = len(f"member-{i}@client.example")
    return 4 + len(encode_length(identity)) + identity + len(encode_length(key_size)) + key_size


def members_for(size: int, suite: CipherSuite) -> int:
    """The fewest members whose encoded GroupState (as impl.world builds it) has >= size bytes."""
    key_size = len(SigningKey.derive(suite, b"size probe").public_bytes())
    fixed = len(encode_length(len(GROUP_ID))) + len(GROUP_ID) + 8 + 2
    members_bytes, n = 0, 0
    while True:
        n_bytes = fixed + len(encode_length(members_bytes)) + members_bytes
        if n >= 1 and n_bytes >= size:
            return n
        members_bytes += _member_size(n, key_size)
        n += 1


@dataclasses.dataclass
class Migration:
    """What one migration took: wall time and crypto time per phase, crypto call counts."""

    seconds: dict[str, float]
    crypto: dict[str, float]
    calls: dict[str, dict[str, int]]
    #: Per core step: wall time and crypto time.
    step_seconds: dict[str, float]
    step_crypto: dict[str, float]
    #: Per phase: the collector's pauses, full collections (generation 2) alone, and their
    #: number (all zero when migrate ran without a CollectorClock).
    collector: dict[str, float] = dataclasses.field(default_factory=dict)
    full_collections: dict[str, float] = dataclasses.field(default_factory=dict)
    full_count: dict[str, int] = dataclasses.field(default_factory=dict)

    def less_full_collections(self, phase: str) -> float:
        """The phase's wall time less the collector's full collections in it."""
        return self.seconds[phase] - self.full_collections.get(phase, 0.0)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @property
    def crypto_total(self) -> float:
        return sum(self.crypto.values())


def migrate(
    world: World,
    destination: str,
    now: float,
    clock: CryptoClock,
    profiler: cProfile.Profile | None = None,
    collector: CollectorClock | None = None,
) -> Migration:
    """One migration of the world's group to `destination`, driven to the end by a FIFO;
    `profiler`, if given, runs during the core's steps only (not the members' fan-out);
    `collector`, if given and installed, times the garbage collector's pauses."""
    nodes: dict[str, Any] = {world.source.domain: world.source, world.target.domain: world.target}
    nodes.update((c.identity, c) for c in world.clients)
    steps = dict.fromkeys(STEPS, 0.0)
    fanout = 0.0
    clock.reset()
    if collector is not None:
        collector.reset()
    clock.phase = "start"
    if profiler is not None:
        profiler.enable()
    start = time.perf_counter()
    queue: collections.deque[Envelope] = collections.deque(
        [world.initiator.start_migration(world.group_id, destination)]
    )
    steps["start"] += time.perf_counter() - start
    while queue:
        envelope = queue.popleft()
        core = envelope.kind != "Fanout"
        clock.phase = envelope.kind if core else "fanout"
        if profiler is not None and not core:
            profiler.disable()
        start = time.perf_counter()
        out = nodes[envelope.recipient].receive(envelope, now)
        queue.extend(out)
        if core:
            steps[envelope.kind] += time.perf_counter() - start
        else:
            fanout += time.perf_counter() - start
    if profiler is not None:
        profiler.disable()
    step_crypto = {step: clock.total(step) for step in STEPS}
    core_calls: dict[str, int] = collections.Counter()
    for step in STEPS:
        core_calls.update(clock.count(step))
    return Migration(
        seconds={"core": sum(steps.values()), "fanout": fanout},
        crypto={"core": sum(step_crypto.values()), "fanout": clock.total("fanout")},
        calls={"core": dict(core_calls), "fanout": clock.count("fanout")},
        step_seconds=steps,
        step_crypto=step_crypto,
        collector={p: collector.pause(p) for p in PHASES} if collector else {},
        full_collections={p: collector.pause(p, True) for p in PHASES} if collector else {},
        full_count={p: collector.full[p] for p in PHASES} if collector else {},
    )


def check_done(world: World, destination: str, epoch: int) -> None:
    """Every member at `destination` at `epoch`, the destination serving the group."""
    for client in world.clients:
        view = client.groups[world.group_id]
        if view.ds != destination or view.state.epoch != epoch:
            raise SystemExit(f"{client.identity} is at {view.ds} epoch {view.state.epoch}")
    served = world.target if destination == TARGET else world.source
    if served.status(world.group_id) != "active" or world.safety_violations():
        raise SystemExit(f"migration to {destination} did not complete cleanly")


@dataclasses.dataclass
class Row:
    label: str
    size: int
    state_bytes: int
    members: int
    migrations: list[Migration]
    #: tracemalloc peak of one more migration above what was allocated before it, in bytes.
    peak_bytes: int
    #: The process's peak RSS after this size, in bytes (the world of N clients included).
    rss_bytes: int

    def mean(self, fn: Callable[[Migration], float]) -> float:
        return statistics.fmean(fn(m) for m in self.migrations)

    @property
    def ratio(self) -> float:
        return self.mean(lambda m: m.total) / self.mean(lambda m: m.crypto_total)

    @property
    def core_ratio_less_full(self) -> float:
        return self.mean(lambda m: m.less_full_collections("core")) / self.mean(
            lambda m: m.crypto["core"]
        )

    def phase_ratio(self, phase: str) -> float:
        return self.mean(lambda m: m.seconds[phase]) / self.mean(lambda m: m.crypto[phase])


def run_size(
    label: str,
    size: int,
    suite: CipherSuite,
    migrations: int,
    clock: CryptoClock,
    collector: CollectorClock,
    freeze: bool,
) -> Row:
    members = members_for(size, suite)
    world = build_world(members=members, suite=suite, epoch=1)
    state_bytes = len(world.source.groups[world.group_id].state.encode())
    if freeze:
        gc.collect()
        gc.freeze()
    done: list[Migration] = []
    for i in range(migrations):
        destination = TARGET if i % 2 == 0 else SOURCE
        done.append(migrate(world, destination, float(i), clock, collector=collector))
        check_done(world, destination, world.initial_epoch + i + 1)
    destination = TARGET if migrations % 2 == 0 else SOURCE
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    migrate(world, destination, float(migrations), clock)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    check_done(world, destination, world.initial_epoch + migrations + 1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    if freeze:
        gc.unfreeze()
    return Row(label, size, state_bytes, members, done, peak, rss)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:10.2f}"


def report(rows: list[Row]) -> tuple[bool, bool]:
    print(
        "one migration = the six messages and the three roles' work on them (core) + the N\n"
        "Fanout envelopes and every member's processing of the migration commit (fan-out);\n"
        "crypto = the impl.crypto signatures, verifications and hashes those performed.\n"
    )
    head = (
        f"{'size':>7} {'state B':>10} {'members':>8} {'ms/migr':>10} {'crypto ms':>10} "
        f"{'ratio':>6} | {'core ms':>10} {'crypto':>10} {'ratio':>6} | "
        f"{'fanout ms':>10} {'crypto':>10} {'ratio':>6} | {'us/KiB':>8}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        print(
            f"{row.label:>7} {row.state_bytes:>10} {row.members:>8} "
            f"{_ms(row.mean(lambda m: m.total))} {_ms(row.mean(lambda m: m.crypto_total))} "
            f"{row.ratio:6.2f} | {_ms(row.mean(lambda m: m.seconds['core']))} "
            f"{_ms(row.mean(lambda m: m.crypto['core']))} {row.phase_ratio('core'):6.2f} | "
            f"{_ms(row.mean(lambda m: m.seconds['fanout']))} "
            f"{_ms(row.mean(lambda m: m.crypto['fanout']))} {row.phase_ratio('fanout'):6.2f} | "
            f"{row.mean(lambda m: m.total) / (row.state_bytes / KIB) * 1e6:8.1f}"
        )
    print()
    for row in rows:
        core, fanout = row.migrations[-1].calls["core"], row.migrations[-1].calls["fanout"]
        print(f"{row.label:>7} crypto calls per migration: core {core}, fan-out {fanout}")
    print()
    print("core time beyond crypto, per message processed, ms (where the core's time goes):")
    names = {"MigrationInitWithCommit": "MigrInit", "TargetMigrationComplete": "TMComplete"}
    cols = [names.get(s, s.removeprefix("Migration")) for s in STEPS]
    print(f"{'size':>7} " + " ".join(f"{c:>11}" for c in cols) + f" {'crypto ms':>10}")
    for row in rows:
        extra = [row.mean(lambda m, s=s: m.step_seconds[s] - m.step_crypto[s]) for s in STEPS]
        print(
            f"{row.label:>7} "
            + " ".join(_ms(x).rjust(11) for x in extra)
            + f" {_ms(row.mean(lambda m: m.crypto['core']))}"
        )
    print()
    print(
        "the garbage collector's pauses in the core, ms a migration: young collections and\n"
        "full ones (they walk every tracked object, the N simulated clients' included, and\n"
        "the core's N Fanout envelopes set them off); the core's ratio without the full ones:"
    )
    print(
        f"{'size':>7} {'young ms':>10} {'full ms':>10} {'full/migr':>9} "
        f"{'core-full':>10} {'crypto':>10} {'ratio':>6}"
    )
    for row in rows:
        young = row.mean(lambda m: m.collector.get("core", 0.0) - m.full_collections["core"])
        print(
            f"{row.label:>7} {_ms(young)} {_ms(row.mean(lambda m: m.full_collections['core']))} "
            f"{row.mean(lambda m: m.full_count['core']):9.2f} "
            f"{_ms(row.mean(lambda m: m.less_full_collections('core')))} "
            f"{_ms(row.mean(lambda m: m.crypto['core']))} {row.core_ratio_less_full:6.2f}"
        )
    print()
    print("memory: tracemalloc peak of one migration above its start (the world excluded),")
    print("and the process's peak RSS after the size (the world of N clients included):")
    print(f"{'size':>7} {'state B':>10} {'peak MiB':>9} {'peak B/B':>9} {'RSS MiB':>9}")
    for row in rows:
        print(
            f"{row.label:>7} {row.state_bytes:>10} {row.peak_bytes / MIB:9.2f} "
            f"{row.peak_bytes / row.state_bytes:9.2f} {row.rss_bytes / MIB:9.1f}"
        )
    print()
    def grows(small: Row, large: Row, fn: Callable[[Migration], float]) -> str:
        return f"x{large.mean(fn) / small.mean(fn):.1f}"

    for small, large in itertools.pairwise(rows):
        print(
            f"x{large.state_bytes / small.state_bytes:.1f} {small.label} -> {large.label}: "
            f"time {grows(small, large, lambda m: m.total)} "
            f"(core {grows(small, large, lambda m: m.seconds['core'])}, "
            f"its crypto {grows(small, large, lambda m: m.crypto['core'])}), "
            f"memory peak x{large.peak_bytes / small.peak_bytes:.1f}"
        )
    print()
    ratio_ok = all(row.ratio <= GOAL_RATIO for row in rows)
    judged = [row for row in rows if row.state_bytes >= LINEAR_FROM]
    linear_ok = True
    for small, large in itertools.pairwise(judged):
        growth = large.mean(lambda m: m.total) / small.mean(lambda m: m.total)
        allowed = large.state_bytes / small.state_bytes * LINEAR_SLACK
        linear_ok &= growth <= allowed
        print(
            f"growth {small.label} -> {large.label}: time x{growth:.1f} for state "
            f"x{large.state_bytes / small.state_bytes:.1f} (allowed x{allowed:.1f})"
        )
    print()
    print(f"goal total/crypto <= {GOAL_RATIO:g}: {'met' if ratio_ok else 'NOT met'}")
    core_ok = all(row.phase_ratio("core") <= GOAL_RATIO for row in rows)
    print(
        f"  (core alone, the six messages without the members' processing: "
        f"{'within' if core_ok else 'NOT within'} {GOAL_RATIO:g}, "
        f"{min(r.phase_ratio('core') for r in rows):.1f}.."
        f"{max(r.phase_ratio('core') for r in rows):.1f})"
    )
    less = [r.core_ratio_less_full for r in rows]
    print(
        f"  (core alone less the collector's full collections: "
        f"{'within' if max(less) <= GOAL_RATIO else 'NOT within'} {GOAL_RATIO:g}, "
        f"{min(less):.1f}..{max(less):.1f})"
    )
    print(
        f"goal linear growth (from 100 KiB, slack x{LINEAR_SLACK:g}): "
        f"{'met' if linear_ok else 'NOT met'}"
        if len(judged) > 1
        else "goal linear growth: not judged (needs two sizes of 100 KiB or more)"
    )
    return ratio_ok, linear_ok


def profile(label: str, suite: CipherSuite, top: int, fanout: bool) -> None:
    """cProfile one migration (after a first, unprofiled one warmed the caches): its core
    (the six messages), or with `fanout` all of it."""
    world = build_world(members=members_for(SIZES[label], suite), suite=suite, epoch=1)
    clock = CryptoClock()
    migrate(world, TARGET, 0.0, clock)
    profiler = cProfile.Profile()
    if fanout:
        profiler.enable()
        migrate(world, SOURCE, 1.0, clock)
        profiler.disable()
    else:
        migrate(world, SOURCE, 1.0, clock, profiler)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--migrations",
        type=int,
        default=None,
        help="migrations per size (default: 20 up to 100 KiB, 3 above, so a run takes minutes)",
    )
    parser.add_argument(
        "--sizes", default=",".join(SIZES), help=f"comma-separated, from {', '.join(SIZES)}"
    )
    parser.add_argument("--suite", default="1", help="RFC 9420 ciphersuite (1..7)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    parser.add_argument(
        "--freeze-world",
        action="store_true",
        help="gc.freeze() each world once built (see the module docstring)",
    )
    parser.add_argument(
        "--profile", metavar="SIZE", help="cProfile the core of one migration of SIZE"
    )
    parser.add_argument(
        "--profile-fanout", action="store_true", help="--profile the members' fan-out too"
    )
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    args = parser.parse_args(argv)
    suite = CipherSuite.parse(args.suite)
    if args.profile:
        if args.profile not in SIZES:
            parser.error(f"unknown size {args.profile!r}")
        profile(args.profile, suite, args.top, args.profile_fanout)
        return 0
    labels = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in labels if s not in SIZES]
    if unknown or (args.migrations is not None and args.migrations < 1):
        parser.error(f"unknown sizes {unknown}" if unknown else "--migrations must be >= 1")
    clock = CryptoClock()
    collector = CollectorClock(clock)
    rows = []
    with clock.installed(), collector.installed():
        for label in labels:
            count = args.migrations or (20 if SIZES[label] <= 100 * 1024 else 3)
            rows.append(
                run_size(label, SIZES[label], suite, count, clock, collector, args.freeze_world)
            )
            print(f"# {label}: {count} migrations done", file=sys.stderr, flush=True)
    per_size = args.migrations or "20 (<= 100 KiB) / 3"
    frozen = ", world frozen out of the GC (--freeze-world)" if args.freeze_world else ""
    print(f"suite {int(suite)} ({suite.name}), {per_size} migrations per size{frozen}\n")
    ratio_ok, linear_ok = report(rows)
    return 1 if args.check and not (ratio_ok and linear_ok) else 0


if __name__ == "__main__":
    sys.exit(main())
