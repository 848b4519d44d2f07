"""The CONFIG of `conform --remote`: the DSs under test and the test's own parties.

This module owns reading that TOML file strictly (every defect a ConfigError naming the
file and the key, as impl/http/config.py does for a DS's config) and writing one, with the
configs of this project's two servers set up to be tested by it (`write_remote`):

```toml
suite = 1                                # the test group's ciphersuite
recorder = "127.0.0.1:9100"              # where the test takes DS -> DS traffic: every DS
                                         # under test has every peer at http://<this>
ca = "tls/ca.crt"                        # optional: verifies https:// DS URLs

[[ds]]                                   # d0 (the test group is created here), then d1
domain = "ds1.example"
url = "http://127.0.0.1:8443"
keys = { 1 = "<hex public key>" }        # its signing keys: what its messages are signed by

[rogue_ds]                               # the model's rogue DS R: a peer the DSs trust
domain = "rogue.example"
key = "keys/rogue.example.key"           # a key file (suite, private_key)

[rogue_client]                           # the model's rogue client X: a client they know
key = "clients/mallory.key"              # a key file with `identity`

[clients]                                # the honest members, in order (c0, c1, ...)
"member-0@client.example" = "clients/member-0.key"
```

The DSs under test must know the test's parties: R as a peer with its public key (at the
recorder's URL), X and every member as clients, each other's keys as peers at the
recorder's URL; their nonce lifetime and retry interval must be longer than the run (the
test does not set a remote DS's time).  `write_remote` writes such configs for this
project's servers (impl/http/world.py starts them).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import tomli_w

from ..crypto import CipherSuite, SigningKey
from ..http.config import (
    ConfigError,
    Peer,
    _domain,
    _hex,
    _suite_key,
    _Table,
    load_key,
    parse_listen,
    read_toml,
)
from ..http.world import ServerProcess, _key_file, free_port

LONG = 86400.0 * 30
"""Nonce lifetime and retry interval of a DS under test: longer than any run."""


@dataclasses.dataclass(frozen=True)
class RemoteConfig:
    path: Path
    suite: int
    recorder: tuple[str, int]
    ca: Path | None
    ds: tuple[Peer, Peer]
    rogue_domain: str
    rogue_key: SigningKey
    rogue_client: str
    rogue_client_key: SigningKey
    clients: dict[str, SigningKey]


def load_remote(path: Path) -> RemoteConfig:
    """Read and check a CONFIG (the module docstring); ConfigError naming file and key."""
    t = _Table(path, read_toml(path))
    t.extra({"suite", "recorder", "ca", "ds", "rogue_ds", "rogue_client", "clients"})
    suite = int(_suite_key(t, str(t._get("suite", int, 1, "a ciphersuite number"))))
    recorder = parse_listen(path, t.text("recorder", _required()))
    ca = t.path_of("ca") if "ca" in t.data else None
    if ca is not None and not ca.is_file():
        raise ConfigError(path, f"ca: {ca}: no such file")
    raw = t._get("ds", list, _required(), "an array of tables [[ds]]")
    if len(raw) != 2 or not all(isinstance(d, dict) for d in raw):
        raise ConfigError(path, f"ds: give exactly two [[ds]] tables (d0, d1), got {len(raw)}")
    dss = []
    for i, entry in enumerate(raw):
        d = _Table(path, entry, f"ds[{i}].")
        d.extra({"domain", "url", "keys"})
        domain = _domain(d, "domain", d.text("domain", _required()))
        url = d.text("url", _required())
        if not url.startswith(("http://", "https://")):
            raise d._err("url", f"{url!r} is not an http:// or https:// URL")
        pk = d.table("keys", required=True)
        keys = {int(_suite_key(pk, s)): _hex(pk, s, v) for s, v in pk.data.items()}
        if suite not in keys:
            raise pk._err(str(suite), f"missing: the DS's key for the test's suite {suite}")
        dss.append(Peer(domain, url.rstrip("/"), keys))
    if dss[0].domain == dss[1].domain:
        raise ConfigError(path, "ds: the two DSs must have different domains")
    rt = t.table("rogue_ds", required=True)
    rt.extra({"domain", "key"})
    rogue_domain = _domain(rt, "domain", rt.text("domain", _required()))
    _, rogue_key = _key(rt, "key", suite)
    xt = t.table("rogue_client", required=True)
    xt.extra({"key"})
    x_identity, x_key = _key(xt, "key", suite)
    if x_identity is None:
        raise xt._err("key", "the key file names no `identity`")
    ct = t.table("clients", required=True)
    clients: dict[str, SigningKey] = {}
    for identity in ct.data:
        clients[identity] = _key(ct, identity, suite)[1]
    if not clients:
        raise ct._err("", "no client")
    return RemoteConfig(path, suite, recorder, ca, (dss[0], dss[1]), rogue_domain, rogue_key,
                        x_identity, x_key, clients)


def _required() -> Any:
    from ..http import config

    return config._REQUIRED


def _key(t: _Table, name: str, suite: int) -> tuple[str | None, SigningKey]:
    identity, key = load_key(t.path_of(name))
    if int(key.suite) != suite:
        raise t._err(name, f"the key file holds a key of suite {int(key.suite)}, not {suite}")
    return identity, key


@contextlib.contextmanager
def running_remote(folder: Path, *, clients: int = 2,
                   env: Mapping[str, str] | None = None) -> Iterator[Path]:
    """`write_remote` in `folder` and both DSs started (`env`: extra environment of both
    server processes); yields the CONFIG's path; every server stopped on the way out."""
    path = write_remote(folder, clients=clients)
    rc = load_remote(path)
    servers: list[ServerProcess] = []
    try:
        for ds in rc.ds:
            servers.append(ServerProcess(ds.domain, folder / f"{ds.domain}.toml", ds.url,
                                         None, env))
            servers[-1].start()
        yield path
    finally:
        for server in servers:
            server.stop()


def write_remote(folder: Path, *, clients: int = 2, suite: int = 1,
                 domains: tuple[str, str] = ("ds1.example", "ds2.example")) -> Path:
    """Write this project's two DS configs set up for `conform --remote` (plain HTTP on
    loopback, free ports) and the CONFIG naming them; returns the CONFIG's path
    (`folder/conform.toml`).  The DS configs are `folder/<domain>.toml`."""
    cs = CipherSuite.parse(suite)
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("keys", "clients", "state", "log"):
        (folder / sub).mkdir(exist_ok=True)
    recorder = free_port()
    ports = {d: free_port() for d in domains}
    public: dict[str, str] = {}
    for d in domains:
        key = SigningKey.generate(cs)
        _key_file(folder / "keys" / f"{d}.key", key)
        public[d] = key.public_bytes().hex()
    rogue = "rogue.example"
    rogue_key = SigningKey.generate(cs)
    _key_file(folder / "keys" / f"{rogue}.key", rogue_key)
    x = "mallory@rogue.example"
    x_key = SigningKey.generate(cs)
    _key_file(folder / "clients" / "mallory.key", x_key, identity=x)
    members: dict[str, str] = {}
    known: dict[str, Any] = {x: {"suite": int(cs), "public_key": x_key.public_bytes().hex()}}
    for i in range(clients):
        identity = f"member-{i}@client.example"
        key = SigningKey.generate(cs)
        _key_file(folder / "clients" / f"member-{i}.key", key, identity=identity)
        members[identity] = f"clients/member-{i}.key"
        known[identity] = {"suite": int(cs), "public_key": key.public_bytes().hex()}
    at = f"http://127.0.0.1:{recorder}"
    for d in domains:
        peers = {p: {"url": at, "keys": {str(int(cs)): public[p]}} for p in domains if p != d}
        peers[rogue] = {"url": at, "keys": {str(int(cs)): rogue_key.public_bytes().hex()}}
        config = {"domain": d, "listen": f"127.0.0.1:{ports[d]}",
                  "state": f"state/{d}.sqlite", "relay": f"state/{d}.relay.sqlite",
                  "log": f"log/{d}.jsonl", "nonce_lifetime": LONG, "retry_interval": 86400.0,
                  "policy": {"target_own_domain_only": False},
                  "keys": {str(int(cs)): f"keys/{d}.key"}, "peers": peers, "clients": known}
        (folder / f"{d}.toml").write_text(tomli_w.dumps(config))
    doc = {"suite": int(cs), "recorder": f"127.0.0.1:{recorder}",
           "ds": [{"domain": d, "url": f"http://127.0.0.1:{ports[d]}",
                   "keys": {str(int(cs)): public[d]}} for d in domains],
           "rogue_ds": {"domain": rogue, "key": f"keys/{rogue}.key"},
           "rogue_client": {"key": "clients/mallory.key"},
           "clients": members}
    path = folder / "conform.toml"
    path.write_text(tomli_w.dumps(doc))
    return path


__all__ = ["LONG", "ConfigError", "RemoteConfig", "load_remote", "running_remote",
           "write_remote"]
