"""A DS's configuration file and a world's files, read strictly (docs/wire.md, "Config").

This module owns turning TOML (stdlib tomllib) into checked values: `DSConfig` (one DS
process: domain, listen address, state files, signing keys by ciphersuite, TLS, limits,
policies, its peers' URLs and keys, the clients it knows), `WorldFile` (what the workload
and the demo read: every DS's URL and keys, every client's key and state file) and key files
(`load_key`).  Every defect is a `ConfigError` naming the file and the key; nothing is
opened or written while reading.  Relative paths are relative to the file's folder.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import tomllib
from pathlib import Path
from typing import Any

from ..crypto import CipherSuite, SigningKey
from ..envelope import TrustStore
from ..messages import validate_domain
from ..policy import SourcePolicy, TargetPolicy
from ..storage.driver import ANSWER_LIFETIME


class ConfigError(Exception):
    """A config or key file that cannot be used: `path: what is wrong`."""

    def __init__(self, path: Path | str, message: str) -> None:
        super().__init__(f"{path}: {message}")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(path, "no such file") from None
    except OSError as err:
        raise ConfigError(path, f"cannot read: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, f"not TOML: {err}") from None


_REQUIRED = object()


class _Table:
    """Typed access to one TOML table, every error naming the file and the dotted key."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def _err(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.path, f"{self.prefix}{key}: {message}")

    def _get(self, key: str, kind: type | tuple[type, ...], default: Any, what: str) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                raise self._err(key, "missing")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self._err(key, f"must be {what}, got {type(value).__name__}")
        return value

    def text(self, key: str, default: Any = None) -> Any:
        return self._get(key, str, default, "a string")

    def number(self, key: str, default: Any, *, low: float, high: float) -> float:
        value = float(self._get(key, (int, float), default, "a number"))
        if not low <= value <= high:
            raise self._err(key, f"must be in {low:g}..{high:g}, got {value:g}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value: bool = self._get(key, bool, default, "true or false")
        return value

    def table(self, key: str, required: bool = False) -> _Table:
        value = self._get(key, dict, _REQUIRED if required else {}, "a table")
        return _Table(self.path, value, f"{self.prefix}{key}.")

    def names(self, key: str) -> frozenset[str] | None:
        value = self._get(key, list, None, "a list of strings")
        if value is None:
            return None
        if not all(isinstance(v, str) for v in value):
            raise self._err(key, "must be a list of strings")
        return frozenset(value)

    def path_of(self, key: str) -> Path:
        """A required path, relative to the file's folder unless absolute."""
        p = Path(self.text(key, _REQUIRED))
        return p if p.is_absolute() else self.path.parent / p

    def extra(self, known: set[str]) -> None:
        unknown = sorted(set(self.data) - known)
        if unknown:
            raise self._err(unknown[0], f"unknown key (known: {', '.join(sorted(known))})")




def parse_listen(path: Path, text: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:PORT`) -> (host, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ConfigError(path, f"listen: {text!r} is not HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(path, f"listen: port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise ConfigError(path, f"listen: port {port} is not 1..65535")
    return host, port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _suite_key(t: _Table, key: str) -> CipherSuite:
    try:
        return CipherSuite.parse(int(key))
    except (ValueError, TypeError):
        raise t._err(key, "not a ciphersuite number 1..7") from None


def _hex(t: _Table, key: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise t._err(key, "must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise t._err(key, "not hexadecimal") from None


def load_key(path: Path) -> tuple[str | None, SigningKey]:
    """A key file: `suite = N`, `private_key = "hex"`, optionally `identity = "..."`."""
    t = _Table(path, read_toml(path))
    t.extra({"suite", "private_key", "identity"})
    suite_number = t._get("suite", int, _REQUIRED, "a ciphersuite number")
    suite = _suite_key(t, str(suite_number))
    private = _hex(t, "private_key", t.text("private_key", _REQUIRED))
    try:
        key = SigningKey.from_private_bytes(suite, private)
    except ValueError as err:
        raise ConfigError(path, f"private_key: {err}") from None
    identity: str | None = t.text("identity", None)
    return identity, key


@dataclasses.dataclass(frozen=True)
class Peer:
    """A DS reached at `url`, with its signature public keys by ciphersuite (a DS's
    peer, a world's DS, a DS under `conform --remote`)."""

    domain: str
    url: str
    keys: dict[int, bytes]


@dataclasses.dataclass(frozen=True)
class KnownClient:
    identity: str
    suite: int
    public_key: bytes


@dataclasses.dataclass(frozen=True)
class Limits:
    max_body: int = 8 * 1024 * 1024
    body_timeout: float = 10.0
    keep_alive: int = 5
    max_connections: int = 256
    queue_window: float = 300.0


@dataclasses.dataclass(frozen=True)
class DSConfig:
    path: Path
    domain: str
    host: str
    port: int
    state: Path
    relay: Path
    log: Path | None
    keys: dict[int, SigningKey]
    tls_cert: Path | None
    tls_key: Path | None
    ca: Path | None
    limits: Limits
    source_policy: SourcePolicy
    target_policy: TargetPolicy
    nonce_lifetime: float
    retry_interval: float
    answer_lifetime: float
    """Seconds an idempotency record is kept (impl/storage/driver.py)."""
    tick_interval: float
    peers: dict[str, Peer]
    clients: dict[str, KnownClient]

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert is not None else "http"

    def trust(self) -> TrustStore:
        """Its own keys and its peers' (profile.md: the trust store is configuration)."""
        trust = TrustStore()
        for suite, key in self.keys.items():
            trust.add(self.domain, suite, key.public_bytes())
        for peer in self.peers.values():
            for suite, public in peer.keys.items():
                trust.add(peer.domain, suite, public)
        return trust


DS_KEYS = {"domain", "listen", "state", "relay", "log", "keys", "tls", "limits", "policy",
           "nonce_lifetime", "retry_interval", "answer_lifetime", "tick_interval", "peers",
           "clients"}


def _domain(t: _Table, key: str, value: str) -> str:
    try:
        validate_domain(value.encode(), key)
    except ValueError as err:
        raise t._err(key, str(err)) from None
    return value


def load_ds_config(path: Path) -> DSConfig:
    """Read and check a DS config (docs/wire.md lists its keys); ConfigError if anything is
    wrong, plain HTTP on a non-loopback address included."""
    t = _Table(path, read_toml(path))
    t.extra(DS_KEYS)
    domain = _domain(t, "domain", t.text("domain", _REQUIRED))
    host, port = parse_listen(path, t.text("listen", _REQUIRED))
    keys: dict[int, SigningKey] = {}
    kt = t.table("keys", required=True)
    for name in kt.data:
        suite = _suite_key(kt, name)
        _, key = load_key(kt.path_of(name))
        if key.suite != suite:
            raise kt._err(name, f"the key file holds a key of suite {int(key.suite)}")
        keys[int(suite)] = key
    if not keys:
        raise t._err("keys", "no signing key")
    tls = t.table("tls")
    tls.extra({"cert", "key", "ca"})
    cert = tls.path_of("cert") if "cert" in tls.data else None
    tls_key = tls.path_of("key") if "key" in tls.data else None
    ca = tls.path_of("ca") if "ca" in tls.data else None
    if (cert is None) != (tls_key is None):
        raise t._err("tls", "give both cert and key, or neither")
    for p in (cert, tls_key, ca):
        if p is not None and not p.is_file():
            raise ConfigError(path, f"tls: {p}: no such file")
    if cert is None and not is_loopback(host):
        raise ConfigError(path, f"listen: plain HTTP is allowed only on a loopback address, "
                          f"not {host!r}: give [tls] cert and key")
    lt = t.table("limits")
    lt.extra({"max_body", "body_timeout", "keep_alive", "max_connections", "queue_window"})
    limits = Limits(
        max_body=int(lt.number("max_body", Limits.max_body, low=1024, high=1 << 30)),
        body_timeout=lt.number("body_timeout", Limits.body_timeout, low=0.05, high=3600),
        keep_alive=int(lt.number("keep_alive", Limits.keep_alive, low=1, high=3600)),
        max_connections=int(lt.number("max_connections", Limits.max_connections, low=1,
                                      high=100_000)),
        queue_window=lt.number("queue_window", Limits.queue_window, low=1, high=86400),
    )
    pt = t.table("policy")
    pt.extra({"source_allowed", "target_creators", "target_creator_domains",
              "target_own_domain_only"})
    source_policy = SourcePolicy(allowed=pt.names("source_allowed"))
    target_policy = TargetPolicy(creators=pt.names("target_creators"),
                                 creator_domains=pt.names("target_creator_domains"),
                                 own_domain_only=pt.flag("target_own_domain_only", False))
    peers: dict[str, Peer] = {}
    peers_t = t.table("peers")
    for name in peers_t.data:
        _domain(peers_t, name, name)
        entry = peers_t.table(name, required=True)
        entry.extra({"url", "keys"})
        url = entry.text("url", _REQUIRED)
        if not url.startswith(("http://", "https://")):
            raise entry._err("url", f"{url!r} is not an http:// or https:// URL")
        pk = entry.table("keys", required=True)
        peer_keys = {int(_suite_key(pk, s)): _hex(pk, s, v) for s, v in pk.data.items()}
        peers[name] = Peer(name, url.rstrip("/"), peer_keys)
    if domain in peers:
        raise t._err(f"peers.{domain}", "a DS is not its own peer")
    clients: dict[str, KnownClient] = {}
    ct = t.table("clients")
    for identity in ct.data:
        c = ct.table(identity, required=True)
        c.extra({"suite", "public_key"})
        suite = _suite_key(c, str(c._get("suite", int, _REQUIRED, "a ciphersuite number")))
        clients[identity] = KnownClient(identity, int(suite),
                                        _hex(c, "public_key", c.text("public_key", _REQUIRED)))
    log = t.path_of("log") if "log" in t.data else None
    return DSConfig(
        path=path, domain=domain, host=host, port=port,
        state=t.path_of("state"),
        relay=t.path_of("relay") if "relay" in t.data else t.path_of("state").with_suffix(
            ".relay.sqlite"),
        log=log, keys=keys, tls_cert=cert, tls_key=tls_key, ca=ca, limits=limits,
        source_policy=source_policy, target_policy=target_policy,
        nonce_lifetime=t.number("nonce_lifetime", 300.0, low=0.0, high=86400 * 30),
        retry_interval=t.number("retry_interval", 5.0, low=0.01, high=86400),
        answer_lifetime=t.number("answer_lifetime", ANSWER_LIFETIME, low=1.0,
                                 high=86400 * 365),
        tick_interval=t.number("tick_interval", 1.0, low=0.01, high=3600),
        peers=peers, clients=clients,
    )


@dataclasses.dataclass(frozen=True)
class WorldClient:
    identity: str
    key: SigningKey
    state: Path
    relay: Path


@dataclasses.dataclass(frozen=True)
class WorldFile:
    """`DIR/world.toml`: what a party outside the DSs needs to reach them."""

    path: Path
    suite: int
    ca: Path | None
    ds: dict[str, Peer]
    configs: dict[str, Path]
    clients: dict[str, WorldClient]

    def trust(self) -> TrustStore:
        trust = TrustStore()
        for peer in self.ds.values():
            for suite, public in peer.keys.items():
                trust.add(peer.domain, suite, public)
        return trust


def load_world(folder: Path) -> WorldFile:
    path = folder / "world.toml"
    t = _Table(path, read_toml(path))
    t.extra({"suite", "ca", "ds", "clients"})
    suite = int(_suite_key(t, str(t._get("suite", int, _REQUIRED, "a ciphersuite number"))))
    ca = t.path_of("ca") if "ca" in t.data else None
    ds: dict[str, Peer] = {}
    configs: dict[str, Path] = {}
    dt = t.table("ds", required=True)
    for name in dt.data:
        d = dt.table(name, required=True)
        d.extra({"url", "config", "keys"})
        pk = d.table("keys", required=True)
        ds[name] = Peer(name, d.text("url", _REQUIRED).rstrip("/"),
                        {int(_suite_key(pk, s)): _hex(pk, s, v) for s, v in pk.data.items()})
        configs[name] = d.path_of("config")
    clients: dict[str, WorldClient] = {}
    ct = t.table("clients", required=True)
    for identity in ct.data:
        entry = ct.table(identity, required=True)
        entry.extra({"key", "state", "relay"})
        _, key = load_key(entry.path_of("key"))
        clients[identity] = WorldClient(identity, key, entry.path_of("state"),
                                        entry.path_of("relay"))
    return WorldFile(path, suite, ca, ds, configs, clients)


__all__ = ["ConfigError", "DSConfig", "KnownClient", "Limits", "Peer", "WorldClient",
           "WorldFile", "is_loopback", "load_ds_config", "load_key", "load_world",
           "parse_listen"]
