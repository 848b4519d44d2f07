"""A loopback world (impl/http/world.py `init_world`) run as real servers behind fault proxies.

This module owns the wiring of a faulted world: one `Proxy` (impl/faults/proxy.py) in front
of each DS, and every party configured to reach that DS through it, so every request
addressed to a DS (a member's POST or queue fetch, a peer DS's POST) passes that DS's proxy:
`init_world` is given each DS's listen port and, as the URL its peers and the members reach
it at, its proxy's address. Plain HTTP on loopback, or with `tls` HTTPS everywhere: the
world's certificates, each proxy presenting its DS's own. `/status` is read on the listen
port directly. It starts, kills (SIGKILL, counted) and restarts the servers
(impl/http/world.py `ServerProcess`), waits until a world has settled, and reads what must
hold (impl/faults/checks.py): from every DS's `/status`, and from every member's own state
file. Nothing here knows a protocol message; impl/faults/matrix.py does.
"""

from __future__ import annotations

import contextlib
import random
import socket
import ssl
import time
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import tomli_w

from ..client import Client
from ..http.config import WorldFile
from ..http.server import CRASH_ENV
from ..http.world import ServerProcess, client_names, ds_names, free_port, init_world
from ..storage.driver import DurableClient
from .checks import Placement, member_problems, placements
from .proxy import Proxy, ProxyThread

#: Every DS config of a faulted world: quick resends and ticks, so a lost message costs
#: a fraction of a second rather than the defaults' seconds.
SETTINGS: dict[str, Any] = {"retry_interval": 0.25, "tick_interval": 0.05}


HOST = "127.0.0.1"


def quiet_port() -> int:
    """A free loopback port below the kernel's ephemeral range: no outgoing connection of
    any process is given such a port, so a killed server finds its port still free when it
    starts again (a port of `free_port`, bound to 0, comes from that range)."""
    low = 32768
    with contextlib.suppress(OSError, ValueError, IndexError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    pick = random.SystemRandom()
    for _ in range(100):
        port = pick.randrange(max(1024, low - 12000), low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    return free_port()


class LoopbackWorld:
    """The servers and proxies of one world folder (see the module docstring)."""

    def __init__(self, folder: Path, proxies: ProxyThread, *, ds: int = 2, clients: int = 3,
                 env: Mapping[str, str] | None = None, tls: bool = False,
                 settings: Mapping[str, Any] | None = None) -> None:
        self.folder = folder
        self.env = dict(env or {})  # every start's extra environment (a planted bug's)
        self.scheme = "https" if tls else "http"
        domains = ds_names(ds)
        ports = {name: quiet_port() for name in domains}
        fronts = {name: quiet_port() for name in domains}  # where each proxy listens
        self.world: WorldFile = init_world(
            folder, domains=domains, clients=client_names(clients), tls=tls, ports=ports,
            urls={name: f"{self.scheme}://{HOST}:{fronts[name]}" for name in domains},
            settings={**SETTINGS, **(settings or {})})
        upstream_tls = (ssl.create_default_context(cafile=str(self.world.ca))
                        if self.world.ca else None)
        self.proxy: dict[str, Proxy] = {}
        for name in domains:
            front = None
            if tls:  # the proxy presents the DS's own certificate (SAN 127.0.0.1)
                front = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                front.load_cert_chain(folder / "tls" / f"{name}.crt",
                                      folder / "tls" / f"{name}.key")
            self.proxy[name] = proxies.add((HOST, ports[name]), name=name,
                                           listen=(HOST, fronts[name]), tls=front,
                                           upstream_tls=upstream_tls)
        self.domains = sorted(domains)
        self.server: dict[str, ServerProcess] = {
            name: ServerProcess(name, self.world.configs[name],
                                f"{self.scheme}://{HOST}:{ports[name]}", self.world.ca,
                                self.env)
            for name in self.domains
        }
        self.kills = 0
        self.groups: list[str] = []  # hex ids of every group a driver created here

    # -- processes ---------------------------------------------------------------------------

    def start(self) -> None:
        for name in self.domains:
            self._start(name)

    def _start(self, name: str) -> None:
        """Start `name`; if another process took its port meanwhile, move it to a new one
        (its config's `listen`, and its proxy's upstream), up to three times."""
        server = self.server[name]
        for attempt in range(3):
            try:
                server.start()
                return
            except RuntimeError as err:
                if "address already in use" not in str(err) or attempt == 2:
                    raise
            port = quiet_port()
            with server.config.open("rb") as f:
                config = tomllib.load(f)
            config["listen"] = f"{HOST}:{port}"
            server.config.write_text(tomli_w.dumps(config))
            server.url = f"{self.scheme}://{HOST}:{port}"
            self.proxy[name].retarget((HOST, port))

    def stop(self) -> dict[str, int | None]:
        """SIGTERM every server (the graceful stop); their exit codes."""
        return {name: server.stop() for name, server in self.server.items()}

    def kill(self, name: str) -> None:
        """SIGKILL from outside, counted."""
        server = self.server[name]
        if server.alive():
            server.kill()
            self.kills += 1

    def restart(self, name: str, crash_at: str | None = None) -> None:
        """Kill (if alive) and start again on the same files, with MIMI_CRASH_AT set to
        `crash_at` for this run (None: unset)."""
        self.kill(name)
        server = self.server[name]
        server.env = {**self.env, **({CRASH_ENV: crash_at} if crash_at else {})}
        self._start(name)

    def rss_kib(self, name: str) -> int:
        process = self.server[name].process
        if process is None:
            return 0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    # -- what must hold ----------------------------------------------------------------------

    def statuses(self) -> dict[str, dict[str, Any]]:
        return {name: server.status() for name, server in self.server.items()}

    def settle(self, timeout: float = 10.0) -> dict[str, dict[str, Any]]:
        """Wait until no DS has anything left to POST to a peer and no group is locked;
        the last statuses read (the caller judges them, settled or not)."""
        deadline = time.monotonic() + timeout
        while True:
            statuses = self.statuses()
            busy = any(s["relay"]["pending"] or any(g["phase"] == "locked" for g in s["groups"])
                       for s in statuses.values())
            if not busy or time.monotonic() > deadline:
                return statuses
            time.sleep(0.05)

    def member_views(self) -> dict[str, dict[str, tuple[str, int]]]:
        """Every member's own view (its DS and epoch per group), read from its state file;
        nothing is sent."""
        views: dict[str, dict[str, tuple[str, int]]] = {}
        trust = self.world.trust()
        for c in self.world.clients.values():
            if not c.state.exists():
                continue
            driver = DurableClient.open_sqlite(Client(c.identity, key=c.key, trust=trust),
                                               str(c.state), lambda envelopes: None)
            try:
                views[c.identity] = {gid.hex(): (m.ds, m.state.epoch)
                                     for gid, m in driver.role.groups.items()}
            finally:
                driver.close()
        return views

    def problems(self, statuses: Mapping[str, Mapping[str, Any]] | None = None
                 ) -> tuple[dict[str, Placement], list[str]]:
        statuses = self.settle() if statuses is None else statuses
        placed, found = placements(statuses, self.groups)
        return placed, found + member_problems(placed, self.member_views())

    def log_tails(self, chars: int = 3000) -> str:
        return "\n".join(f"== {n}\n{s.stderr()[-chars:]}" for n, s in self.server.items())


@contextlib.contextmanager
def loopback_world(folder: Path, **kwargs: Any) -> Iterator[LoopbackWorld]:
    """A started LoopbackWorld on its own proxy thread; on the way out every proxy closed,
    then every server stopped (so no connection a proxy keeps alive holds up a server's
    graceful stop)."""
    proxies = ProxyThread().start()
    world: LoopbackWorld | None = None
    try:
        world = LoopbackWorld(folder, proxies, **kwargs)
        world.start()
        yield world
    finally:
        proxies.stop()
        if world is not None:
            world.stop()


__all__ = ["SETTINGS", "LoopbackWorld", "loopback_world"]
