"""A world folder (`mimi-portability world init DIR`) run as real servers behind fault proxies.

This module owns the wiring of a faulted loopback world: one `Proxy` (impl/faults/proxy.py)
in front of each DS, and every party configured to reach that DS through it, so every
request addressed to a DS (a member's POST or queue fetch, a peer DS's POST) passes the
DS's proxy.  It rewrites, in the folder it is given (a test's copy):

* each DS config's `listen` to a free loopback port (so tests can run side by side);
* each DS config's `[peers.<domain>] url` to that peer's proxy;
* world.toml's `[ds.<domain>] url` (what the workload and the members read) to the proxy.

It starts, kills and restarts the servers (impl/faults/processes.py), reads every DS's
`/status`, and judges the world (impl/faults/checks.py).  Nothing here knows a protocol
message; the tests name the messages.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from .processes import ServerProcess, free_port
from .proxy import Proxy, ProxyThread

HOST = "127.0.0.1"


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def _write(path: Path, data: dict[str, Any]) -> None:
    path.write_bytes(tomli_w.dumps(data).encode())


class LoopbackWorld:
    """The servers and proxies of one world folder (see the module docstring)."""

    def __init__(self, folder: Path, proxies: ProxyThread, *,
                 launcher: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.world_file = folder / "world.toml"
        world = _read(self.world_file)
        self.configs: dict[str, Path] = {}
        for name, entry in world["ds"].items():
            where = Path(entry["config"])
            self.configs[name] = where if where.is_absolute() else folder / where
        self.domains = sorted(self.configs)
        listen = {name: f"{HOST}:{free_port()}" for name in self.domains}
        self.proxy: dict[str, Proxy] = {}
        for name in self.domains:
            host, port = listen[name].rsplit(":", 1)
            self.proxy[name] = proxies.add((host, int(port)), name=name)
        urls = {name: f"http://{self.proxy[name].address}" for name in self.domains}
        for name, path in self.configs.items():
            config = _read(path)
            config["listen"] = listen[name]
            for peer, table in config.get("peers", {}).items():
                if peer in urls:
                    table["url"] = urls[peer]
            _write(path, config)
        for name, entry in world["ds"].items():
            entry["url"] = urls[name]
        _write(self.world_file, world)
        self.server: dict[str, ServerProcess] = {
            name: ServerProcess(name, self.configs[name], listen[name], env=env,
                                launcher=launcher)
            for name in self.domains
        }

    def start(self) -> None:
        for server in self.server.values():
            server.start()

    def stop(self) -> dict[str, int | None]:
        """SIGTERM every server; their exit codes."""
        return {name: server.stop() for name, server in self.server.items()}

    def kill_all(self) -> None:
        for server in self.server.values():
            server.kill()

    def statuses(self) -> dict[str, dict[str, Any]]:
        return {name: server.status() for name, server in self.server.items()}

    @property
    def kills(self) -> int:
        return sum(s.kills for s in self.server.values())

    def log_tails(self) -> str:
        return "\n".join(f"== {n}\n{s.log_tail()}" for n, s in self.server.items())


__all__ = ["HOST", "LoopbackWorld"]
