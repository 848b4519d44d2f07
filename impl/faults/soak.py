"""The soak: `mimi-portability workload` against two real servers, one of which is SIGKILLed
from outside at random moments and restarted on its files, for a given time.

This module owns the killer and the rounds.  A round is one `workload --json` child process
(fresh groups, migrations back and forth, a commit before each); while it runs, a killer
picks a random server every `pause` seconds (uniform in `pauses`), SIGKILLs it wherever it
is (handling a request, syncing SQLite, POSTing to its peer, starting up) and starts it
again on the same files; with a `fault_rate`, every proxy also applies a random mode of
impl/faults/proxy.py to that share of all requests (delays of 0.3 s).  Rounds follow each
other until `seconds` have passed.  After
every round: the workload exited 0 with `ok` (every migration completed, was refused or
aborted, no commit lost), and, once the world settled, 0 lost and 0 forked groups over
every group of every round, every member at the DS and epoch of each of its groups
(impl/faults/loopback.py).  `Soak` holds the figures.
"""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
import threading
import time
from typing import Any

from .loopback import LoopbackWorld
from .proxy import Fault, Mode, Request


@dataclasses.dataclass
class Soak:
    rounds: int = 0
    kills: int = 0
    groups: int = 0
    migrations: dict[str, int] = dataclasses.field(
        default_factory=lambda: {"completed": 0, "refused": 0, "aborted": 0,
                                 "indeterminate": 0})
    commits: int = 0
    faults: dict[str, int] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    problems: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        m = self.migrations
        return (f"soak: {self.seconds:.1f} s, {self.rounds} workload rounds, {self.kills} "
                f"SIGKILLs, {self.groups} groups, {sum(m.values())} migrations "
                f"({m['completed']} completed, {m['refused']} refused, {m['aborted']} "
                f"aborted, {m['indeterminate']} indeterminate), {self.commits} commits, "
                f"{len(self.problems)} problems"
                + (f"; faults fired: {self.faults}" if any(self.faults.values()) else ""))


class Killer(threading.Thread):
    """SIGKILLs a random server of `lw` every `pauses`-uniform seconds and restarts it."""

    def __init__(self, lw: LoopbackWorld, rng: random.Random,
                 pauses: tuple[float, float]) -> None:
        super().__init__(daemon=True, name="killer")
        self.lw, self.rng, self.pauses = lw, rng, pauses
        self.kills = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.rng.uniform(*self.pauses)):
            name = self.rng.choice(self.lw.domains)
            try:
                if self.lw.server[name].alive():
                    self.lw.kill(name)
                    self.kills += 1
                self.lw.restart(name)
            except BaseException as err:  # reported by the caller, not lost in a thread
                self.error = err
                return

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=60)


def workload_round(lw: LoopbackWorld, *, groups: int, migrations: int, seed: int,
                   timeout: float) -> tuple[int, dict[str, Any] | None, str]:
    """One `workload --json` child process: (exit code, its JSON or None, its stderr)."""
    child = subprocess.run(
        [sys.executable, "-m", "mimi_portability", "workload", "--world", str(lw.folder),
         "--groups", str(groups), "--migrations", str(migrations), "--seed", str(seed),
         "--timeout", str(timeout), "--json"], capture_output=True, text=True, timeout=timeout + 60)
    try:
        document: dict[str, Any] | None = json.loads(child.stdout)
    except ValueError:
        document = None
    return child.returncode, document, child.stderr


def arm_random_faults(lw: LoopbackWorld, rate: float, rng: random.Random) -> list[Fault]:
    """On every proxy, each mode on a `rate`/6 share of the requests, at random."""
    armed = []
    for proxy in lw.proxy.values():
        for mode in Mode:
            def coin(_request: Request, share: float = rate / len(Mode)) -> bool:
                return rng.random() < share

            armed.append(proxy.arm(Fault(mode, match=coin, count=1 << 62, seconds=0.3)))
    return armed


def soak(lw: LoopbackWorld, *, seconds: float, seed: int = 0, groups: int = 3,
         migrations: int = 6, pauses: tuple[float, float] = (0.3, 1.2),
         timeout: float = 120.0, fault_rate: float = 0.0) -> Soak:
    """Rounds of the workload under random SIGKILLs for `seconds` (module docstring), and
    with `fault_rate` > 0 a random fault of a random mode on that share of all requests."""
    rng = random.Random(seed)
    figures = Soak()
    start = time.monotonic()
    armed = arm_random_faults(lw, fault_rate, random.Random(seed + 1)) if fault_rate else []
    while time.monotonic() - start < seconds or figures.rounds == 0:
        killer = Killer(lw, rng, pauses)
        killer.start()
        try:
            code, document, stderr = workload_round(
                lw, groups=groups, migrations=migrations, seed=seed * 1000 + figures.rounds,
                timeout=timeout)
        finally:
            killer.stop()
        figures.rounds += 1
        figures.kills += killer.kills
        if killer.error is not None:
            figures.problems.append(f"round {figures.rounds}: restart failed: {killer.error}")
        for name, server in lw.server.items():
            if not server.alive():
                lw.restart(name)
        if document is None:
            figures.problems.append(f"round {figures.rounds}: workload exited {code} "
                                    f"without JSON: {stderr[-2000:]}")
            break
        figures.groups += int(document["groups"])
        figures.commits += int(document["commits"])
        for key, value in document["migrations"].items():
            figures.migrations[key] += int(value)
        lw.groups += list(document["placement"])
        if code != 0 or not document["ok"]:
            figures.problems.append(f"round {figures.rounds}: workload exited {code}: "
                                    f"{document['problems']}")
        _, problems = lw.problems()
        figures.problems += [f"round {figures.rounds}: {p}" for p in problems]
        if figures.problems:
            break
    for proxy in lw.proxy.values():
        proxy.disarm()
    figures.faults = {str(m): sum(f.fired for f in armed if f.mode is m) for m in Mode}
    figures.seconds = time.monotonic() - start
    return figures


__all__ = ["Killer", "Soak", "arm_random_faults", "soak", "workload_round"]
