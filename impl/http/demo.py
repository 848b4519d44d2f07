"""`mimi-portability demo --http`: the demo's story over two real server processes.

This module owns running impl/demo.py's story (source.example hosts the demo group at epoch
7 with N members; member-0 moves it to target.example) over HTTP: a fresh world in a
temporary folder (impl/http/world.py, TLS, free loopback ports), both servers started as
`mimi-portability serve` processes, the group created by a GroupCreation, the migration
driven by the members over their queues, the servers stopped by SIGTERM.  The result has
the in-memory demo's JSON shape (`DemoResult.to_json`): the messages are those the servers
logged receiving and those the members fetched from their queues, in time order; the
final state and the safety properties are evaluated on the roles re-opened from the
servers' and members' SQLite files after the servers stopped, with the same checks as the
in-memory demo (impl/world.py `check_safety`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from ..adversary import RogueClient, RogueDS
from ..client import Client
from ..crypto import CipherSuite, SigningKey
from ..demo import DemoResult
from ..demo import format_text as format_demo
from ..ds import DeliveryService
from ..envelope import Envelope, SeededRandom
from ..group_state import GroupState, Member
from ..network import Network
from ..storage.driver import DurableClient, DurableDS
from ..world import GROUP_ID, ROGUE, SOURCE, TARGET, World
from .client import HttpMember, Observer, http_client
from .config import WorldFile, load_ds_config
from .world import running_world

EPOCH = 7


@dataclasses.dataclass
class HttpDemoResult(DemoResult):
    """A DemoResult whose messages are the wire log; `seconds`: the whole run."""

    messages: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = DemoResult.to_json(self)
        out["messages"] = self.messages
        return out


def format_text(result: HttpDemoResult) -> str:
    """The in-memory demo's text (impl/demo.py `format_text`), its message lines from the
    wire log."""
    text = format_demo(result).split("\n")
    # [header, "", notes..., "", <messages go here>, "", summary...]
    gap = text.index("", 2) if result.notes else 1
    lines = []
    for i, m in enumerate(result.messages, 1):
        lines.append(f"{i:4}. {m['type']:<25} {m['bytes']:>7} B  {m['from']} -> {m['to']}")
        if m.get("refused"):
            lines.append(f"        refused: {m['refused']}")
    return "\n".join(text[:gap + 1] + lines + text[gap + 1:])


def _reopen(world: WorldFile, suite: int) -> World:
    """Both DSs and every member, restored from their files (the servers have stopped)."""
    def noop(envelopes: list[Envelope]) -> None:
        del envelopes

    dss: dict[str, DeliveryService] = {}
    for domain in (SOURCE, TARGET):
        config = load_ds_config(world.configs[domain])
        role = DeliveryService(domain, keys=config.keys, trust=config.trust(),
                               random=SeededRandom(domain))
        driver = DurableDS.open_sqlite(role, str(config.state), noop)
        driver.close()
        dss[domain] = role
    clients = []
    for c in world.clients.values():
        client = Client(c.identity, key=c.key, trust=world.trust())
        driver_c = DurableClient.open_sqlite(client, str(c.state), noop)
        driver_c.close()
        clients.append(client)
    cs = CipherSuite(suite)
    rogue = SigningKey.derive(cs, b"demo --http rogue")
    return World(suite=cs, trust=world.trust(), network=Network(), source=dss[SOURCE],
                 target=dss[TARGET], clients=clients, rogue_ds=RogueDS(ROGUE, rogue),
                 rogue_client=RogueClient("mallory@rogue.example", rogue),
                 group_id=GROUP_ID, initial_epoch=EPOCH)


def _wire_log(folder: Path, observed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = list(observed)
    for domain in (SOURCE, TARGET):
        path = folder / "log" / f"{domain}.jsonl"
        if path.exists():
            lines += [json.loads(line) for line in path.read_text().splitlines() if line]
    lines = [line for line in lines if "type" in line]
    lines.sort(key=lambda line: float(line["t"]))
    return [{"type": m["type"], "from": m["from"], "to": m["to"], "bytes": m["bytes"],
             **({"refused": m["refused"]} if m.get("refused") else {})} for m in lines]


def _story(world: WorldFile, http: httpx.Client, observe: Observer, notes: list[str],
           suite: int, timeout: float) -> None:
    parties = [HttpMember(c, world, http, observe=observe) for c in world.clients.values()]
    try:
        state = GroupState(group_id=GROUP_ID, epoch=EPOCH, cipher_suite=suite,
                           members=tuple(Member(leaf_index=i, identity=p.identity.encode(),
                                                signature_key=p.key.public_bytes())
                                         for i, p in enumerate(parties)))
        status, refusal = parties[0].create_group(state, SOURCE)
        if status != 202:
            raise RuntimeError(f"{SOURCE} refused the group: {status} {refusal}")
        for i, p in enumerate(parties):
            p.call(functools.partial(Client.join, state=state, ds=SOURCE, leaf_index=i))
        parties[0].call(lambda c: c.start_migration(GROUP_ID, TARGET))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in parties:
                p.flush()
                for domain in (SOURCE, TARGET):
                    p.poll(domain)
                p.flush()
            if all(p.role.groups[GROUP_ID].ds == TARGET for p in parties):
                return
            time.sleep(0.02)
        notes.append(f"the migration did not complete within {timeout:g} s")
    finally:
        for p in parties:
            p.close()


def run_http_demo(*, members: int = 5, suite: int = 1, timeout: float = 60.0,
                  folder: Path | None = None, trace: Path | None = None,
                  env: Mapping[str, Mapping[str, str]] | None = None) -> HttpDemoResult:
    """Run the story (see the module docstring) in `folder` (default: a temporary one);
    `trace`: a folder each server writes its trace log to (`serve --trace`); `env`: extra
    environment per server (running_world's)."""
    if members < 1:
        raise ValueError("a group needs at least one member")
    CipherSuite.parse(suite)
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="mimi-demo-http-") as tmp:
            return run_http_demo(members=members, suite=suite, timeout=timeout,
                                 folder=Path(tmp) / "world", trace=trace, env=env)
    started = time.monotonic()
    observed: list[dict[str, Any]] = []
    notes: list[str] = []

    def observe(who: str, envelope: Envelope, refused: str | None) -> None:
        observed.append({"t": time.time(), "type": envelope.kind.value,
                         "from": envelope.sender, "to": envelope.recipient,
                         "bytes": len(envelope.payload), "refused": refused})

    if trace is not None:
        trace.mkdir(parents=True, exist_ok=True)
    with running_world(folder, ds=[SOURCE, TARGET], clients=members, suite=suite,
                       trace=trace, env=env) as (world, servers):
        notes.append(f"servers: {', '.join(f'{d} at {s.url}' for d, s in servers.items())}")
        with http_client(world.ca) as http:  # closed before the servers stop (docs/wire.md)
            _story(world, http, observe, notes, suite, timeout)
        for server in servers.values():
            server.stop()
    result = HttpDemoResult(world=_reopen(world, suite), fault=None, deliveries=[],
                            notes=notes)
    result.messages = _wire_log(folder, observed)
    result.seconds = time.monotonic() - started
    return result


__all__ = ["HttpDemoResult", "format_text", "run_http_demo"]
