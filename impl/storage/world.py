"""A ready-made world whose every party is durable: build, restart a party, check.

This module owns running impl/world.py's world (source and target DS, N members) with each
role behind a Durable driver, on SQLite files in a directory or on in-memory stores, and
restarting any party as a crash would: the driver and the role object are dropped (the
store abandoned, so nothing uncommitted survives), a fresh role is built from the party's
configuration alone (keys, trust store, policies, times, a freshly seeded random source),
its state restored from the store, attached to the network in place of the old one, and
its outbox resent.  `problems()` states what must hold after every step, crash or not.
It decides nothing about the protocol; the roles do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from ..client import Client
from ..ds import DeliveryService, GroupPhase, NonceStatus
from ..envelope import SeededRandom
from ..events import Switched
from ..world import SOURCE, TARGET, World, build_world, check_safety
from .driver import CrashPoint, Durable, DurableClient, DurableDS
from .store import Store

Hook = Callable[[CrashPoint, str], None]


@dataclasses.dataclass
class DurableWorld:
    world: World
    directory: Path | None
    drivers: dict[str, Durable[DeliveryService] | Durable[Client]]
    builders: dict[str, Callable[[int], DeliveryService | Client]]
    memory: dict[str, Store]
    restarts: int = 0
    hook: Hook | None = None

    @property
    def group_id(self) -> bytes:
        return self.world.group_id

    def path(self, name: str) -> str:
        assert self.directory is not None
        return str(self.directory / f"{name}.sqlite")

    def stores(self) -> list[Store]:
        return [d.store for d in self.drivers.values()]

    def restart(self, name: str, *, resume: bool = True) -> None:
        """Crash and re-open party `name` (see the module docstring); `resume=False` leaves
        the resending of its outbox to the caller (`drivers[name].resume()`)."""
        self.drivers[name].store.abandon()
        self.restarts += 1
        role = self.builders[name](self.restarts)
        send = self.world.network.send
        driver: Durable[DeliveryService] | Durable[Client]
        if isinstance(role, DeliveryService):
            driver = (DurableDS.open_sqlite(role, self.path(name), send) if self.directory
                      else DurableDS.open(role, self.memory[name], send))
            if name == self.world.source.domain:
                self.world.source = role
            else:
                self.world.target = role
        else:
            driver = (DurableClient.open_sqlite(role, self.path(name), send) if self.directory
                      else DurableClient.open(role, self.memory[name], send))
            self.world.clients = [role if c.identity == name else c for c in self.world.clients]
        driver.crash_hook = self.hook
        self.drivers[name] = driver
        self.world.network.attach(driver)
        if resume:
            driver.resume()

    def close(self) -> None:
        for driver in self.drivers.values():
            driver.close()

    # -- what must hold ------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """0 groups lost, 0 forks (check_safety; every member's history one line)."""
        w, gid = self.world, self.group_id
        found = []
        if not any(d.status(gid) in (GroupPhase.ACTIVE, GroupPhase.LOCKED)
                   for d in (w.source, w.target)):
            found.append("no_group_lost: no DS serves the group")
        found += check_safety(w)
        line: dict[int, str] = {w.initial_epoch: SOURCE}
        for client in w.clients:
            visited = [(w.initial_epoch, SOURCE)] + [
                (e.epoch, e.target) for e in client.events
                if isinstance(e, Switched) and e.group_id == gid
            ]
            view = client.groups[gid]
            visited.append((view.state.epoch, view.ds))
            for epoch, ds in visited:
                if line.setdefault(epoch, ds) != ds:
                    found.append(f"fork: {client.identity} at {ds} in epoch {epoch}, "
                                 f"another member at {line[epoch]}")
            epochs = [e for e, _ in visited[:-1]]
            if epochs != sorted(set(epochs)):
                found.append(f"fork: {client.identity} went through an epoch twice {epochs}")
        return found

    def outcome(self) -> str:
        """"completed", "aborted" (cleanly: back where it started, nothing left pending),
        or "stuck: ..." saying what is neither."""
        w, gid, e = self.world, self.group_id, self.world.initial_epoch
        views = [c.groups[gid] for c in w.clients]
        hosted, tomb = w.target.groups.get(gid), w.source.tombstones.get(gid)
        if (hosted is not None and hosted.lock is None and hosted.state.epoch == e + 1
                and tomb is not None and tomb.target == TARGET
                and gid not in w.source.groups
                and all(v.ds == TARGET and v.state.epoch == e + 1 and v.pending is None
                        for v in views)):
            return "completed"
        at_source = w.source.groups.get(gid)
        pending_nonce = any(r.status is NonceStatus.PENDING and r.request.group_id == gid
                            for r in w.target.nonces.values())
        if (at_source is not None and at_source.lock is None and at_source.state.epoch == e
                and w.target.status(gid) == GroupPhase.ABSENT and not pending_nonce
                and all(v.ds == SOURCE and v.state.epoch == e and v.pending is None
                        for v in views)):
            return "aborted"
        return (f"stuck: source {w.source.status(gid)}, target {w.target.status(gid)}, "
                f"pending nonce at target {pending_nonce}, members "
                f"{sorted({(v.ds, v.state.epoch, v.pending is not None) for v in views})}")


def build_durable_world(directory: Path | None, *, members: int = 3, seed: int = 0,
                        epoch: int = 7, retry_interval: float = 5.0,
                        nonce_lifetime: float = 300.0) -> DurableWorld:
    """impl/world.py's world with every party durable: SQLite files in `directory`, or
    in-memory stores when it is None."""
    world = build_world(members=members, seed=seed, epoch=epoch, retry_interval=retry_interval,
                        nonce_lifetime=nonce_lifetime)
    send = world.network.send
    builders: dict[str, Callable[[int], DeliveryService | Client]] = {}
    drivers: dict[str, Durable[DeliveryService] | Durable[Client]] = {}
    memory: dict[str, Store] = {}

    def ds_builder(ds: DeliveryService) -> Callable[[int], DeliveryService | Client]:
        return lambda n: DeliveryService(
            ds.domain, keys=ds.keys, trust=ds.trust, random=SeededRandom(f"{ds.domain} {n}"),
            source_policy=ds.source_policy, target_policy=ds.target_policy,
            nonce_lifetime=ds.nonce_lifetime, retry_interval=ds.retry_interval)

    def client_builder(c: Client) -> Callable[[int], DeliveryService | Client]:
        return lambda n: Client(c.identity, key=c.key, trust=c.trust)

    for ds in (world.source, world.target):
        builders[ds.domain] = ds_builder(ds)
        driver: Durable[DeliveryService] | Durable[Client]
        if directory is None:
            driver = DurableDS.create_memory(ds, send)
        else:
            driver = DurableDS.create_sqlite(ds, str(directory / f"{ds.domain}.sqlite"), send)
        drivers[ds.domain] = driver
    for c in world.clients:
        builders[c.identity] = client_builder(c)
        if directory is None:
            driver = DurableClient.create_memory(c, send)
        else:
            driver = DurableClient.create_sqlite(c, str(directory / f"{c.identity}.sqlite"),
                                                 send)
        drivers[c.identity] = driver
    for name, driver in drivers.items():
        memory[name] = driver.store
        world.network.attach(driver)
    return DurableWorld(world, directory, drivers, builders, memory)


__all__ = ["DurableWorld", "build_durable_world"]
