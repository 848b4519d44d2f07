"""A loopback world on disk (`world init`), and its servers started as processes.

This module owns:

- `init_world(folder, ...)`: for N DSs and M clients, fresh signing keys (every DS one per
  ciphersuite 1..7, every client one of the world's suite), a self-signed CA and one server
  certificate per DS (pyca/cryptography; SANs 127.0.0.1, localhost and the DS's domain),
  free loopback ports, and the files: `DIR/<domain>.toml` (the DS config,
  impl/http/config.py), `DIR/keys/`, `DIR/tls/`, `DIR/clients/<identity>.key`, and
  `DIR/world.toml` (every DS's URL and public keys, every client's key and state file).
  Private key files are written mode 0600.
- `ServerProcess`, `start_server`: `mimi-portability serve --config FILE` as a child
  process, waited for until its /status answers, stopped by SIGTERM (graceful) or SIGKILL.
- `running_world`: both together, a context manager that stops every server on the way
  out (what the tests and `demo --http` use).
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..crypto import CipherSuite, SigningKey
from . import wire
from .client import tls_verify
from .config import WorldFile, load_ds_config, load_world

SUITES = tuple(int(s) for s in CipherSuite)


def free_port() -> int:
    """A port free on 127.0.0.1 now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_file(path: Path, key: SigningKey, identity: str | None = None) -> None:
    doc: dict[str, Any] = {"suite": int(key.suite), "private_key": key.private_bytes().hex()}
    if identity is not None:
        doc["identity"] = identity
    _write_private(path, tomli_w.dumps(doc).encode())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _certificates(tls: Path, domains: Sequence[str]) -> None:
    """tls/ca.crt, and tls/<domain>.crt and .key for each DS (valid for 30 days)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mimi-portability world CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    tls.mkdir(parents=True, exist_ok=True)
    (tls / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for domain in domains:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"), x509.DNSName(domain)]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        (tls / f"{domain}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_private(tls / f"{domain}.key", _pem_key(key))


def ds_names(n: int) -> list[str]:
    return [f"ds{i}.example" for i in range(1, n + 1)]


def client_names(n: int) -> list[str]:
    return [f"member-{i}@client.example" for i in range(n)]


def init_world(folder: Path, *, domains: Sequence[str], clients: Sequence[str], suite: int = 1,
               tls: bool = True, ports: Mapping[str, int] | None = None,
               urls: Mapping[str, str] | None = None,
               settings: Mapping[str, Any] | None = None) -> WorldFile:
    """Write a world (the module docstring says what); ValueError if `folder` is not empty
    or an argument is bad.  `ports`: the port each DS listens on (default: a free one);
    `urls`: the URL its peers and the clients reach it at (default: its listen address; a
    test puts a proxy there); `settings`: extra top-level keys of every DS config
    (nonce_lifetime, retry_interval, tick_interval, limits, policy)."""
    cs = CipherSuite.parse(suite)
    if len(set(domains)) != len(domains) or not domains:
        raise ValueError("give one or more distinct DS domains")
    if len(set(clients)) != len(clients):
        raise ValueError("client identities must be distinct")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError(f"{folder}: exists and is not an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    ports = dict(ports or {})
    for d in domains:
        ports.setdefault(d, free_port())
    scheme = "https" if tls else "http"
    url = {d: (urls or {}).get(d) or f"{scheme}://127.0.0.1:{ports[d]}" for d in domains}
    ds_public: dict[str, dict[str, str]] = {}
    for d in domains:
        ds_public[d] = {}
        for s in SUITES:
            key = SigningKey.generate(CipherSuite(s))
            _key_file(folder / "keys" / f"{d}.suite{s}.key", key)
            ds_public[d][str(s)] = key.public_bytes().hex()
    client_public: dict[str, dict[str, Any]] = {}
    world_clients: dict[str, Any] = {}
    for c in clients:
        key = SigningKey.generate(cs)
        _key_file(folder / "clients" / f"{c}.key", key, identity=c)
        client_public[c] = {"suite": int(cs), "public_key": key.public_bytes().hex()}
        world_clients[c] = {"key": f"clients/{c}.key", "state": f"clients/{c}.sqlite",
                            "relay": f"clients/{c}.relay.sqlite"}
    if tls:
        _certificates(folder / "tls", domains)
    (folder / "state").mkdir(exist_ok=True)
    (folder / "log").mkdir(exist_ok=True)
    for d in domains:
        config: dict[str, Any] = {
            "domain": d,
            "listen": f"127.0.0.1:{ports[d]}",
            "state": f"state/{d}.sqlite",
            "relay": f"state/{d}.relay.sqlite",
            "log": f"log/{d}.jsonl",
            # the draft's defaults, spelled out (docs/profile.md §5): any member may move a
            # group away, any client may create or import one; a list restricts them
            "policy": {"target_own_domain_only": False},
            **dict(settings or {}),
            "keys": {str(s): f"keys/{d}.suite{s}.key" for s in SUITES},
            "peers": {p: {"url": url[p], "keys": ds_public[p]} for p in domains if p != d},
            "clients": client_public,
        }
        if tls:
            config["tls"] = {"cert": f"tls/{d}.crt", "key": f"tls/{d}.key", "ca": "tls/ca.crt"}
        (folder / f"{d}.toml").write_text(tomli_w.dumps(config))
    world: dict[str, Any] = {
        "suite": int(cs),
        **({"ca": "tls/ca.crt"} if tls else {}),
        "ds": {d: {"url": url[d], "config": f"{d}.toml", "keys": ds_public[d]} for d in domains},
        "clients": world_clients,
    }
    (folder / "world.toml").write_text(tomli_w.dumps(world))
    return load_world(folder)


class ServerProcess:
    """`mimi-portability serve --config FILE` as a child process; `url` is its own listen
    address (what `start` polls and `status` reads), whatever URL the world gives peers."""

    def __init__(self, domain: str, config: Path, url: str, ca: Path | None,
                 env: Mapping[str, str] | None = None, trace: Path | None = None) -> None:
        self.domain, self.config, self.url, self.ca = domain, config, url, ca
        self.env = dict(env or {})
        self.trace = trace
        """Where the server writes its trace log (`serve --trace`), if anywhere."""
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr_path = config.parent / "log" / f"{domain}.stderr"

    def start(self, timeout: float = 30.0) -> None:
        self.stderr_path.parent.mkdir(exist_ok=True)
        stderr = self.stderr_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mimi_portability", "serve", "--config", str(self.config),
             *(["--trace", str(self.trace)] if self.trace else [])],
            env={**os.environ, **self.env}, stdout=subprocess.DEVNULL, stderr=stderr)
        stderr.close()
        deadline = time.monotonic() + timeout
        with httpx.Client(verify=tls_verify(self.ca), timeout=1.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.domain} exited with {self.process.returncode}: "
                                       f"{self.stderr()[-2000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if http.get(self.url + wire.STATUS_PATH).status_code == 200:
                        return
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"{self.domain} did not answer /status within {timeout:g} s")

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait (a graceful stop); SIGKILL if it does not end in `timeout`."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def status(self) -> dict[str, Any]:
        with httpx.Client(verify=tls_verify(self.ca), timeout=5.0) as http:
            document: dict[str, Any] = http.get(self.url + wire.STATUS_PATH).json()
            return document


def start_server(world: WorldFile, domain: str, env: Mapping[str, str] | None = None,
                 trace: Path | None = None) -> ServerProcess:
    """Start DS `domain` of `world` and wait until it answers on its listen address;
    `trace`: a folder for its trace log, <domain>.ndjson."""
    config = load_ds_config(world.configs[domain])
    host = f"[{config.host}]" if ":" in config.host else config.host
    server = ServerProcess(domain, config.path, f"{config.scheme}://{host}:{config.port}",
                           world.ca, env, None if trace is None else trace / f"{domain}.ndjson")
    server.start()
    return server


@contextlib.contextmanager
def running_world(folder: Path, *, ds: int | Sequence[str] = 2, clients: int = 3,
                  suite: int = 1, tls: bool = True, settings: Mapping[str, Any] | None = None,
                  env: Mapping[str, Mapping[str, str]] | None = None,
                  ports: Mapping[str, int] | None = None, urls: Mapping[str, str] | None = None,
                  trace: Path | None = None,
                  ) -> Iterator[tuple[WorldFile, dict[str, ServerProcess]]]:
    """`init_world` in `folder`, every DS started; every server stopped on the way out.
    `env`: extra environment per domain (e.g. {"ds1.example": {"MIMI_CRASH_AT": ...}});
    `trace`: a folder every server writes its trace log to (<domain>.ndjson).
    A port picked free that another process took before the server bound it (tests run
    side by side) gets the world written again with other ports, up to three times."""
    domains = ds_names(ds) if isinstance(ds, int) else list(ds)
    servers: dict[str, ServerProcess] = {}
    for attempt in range(3):
        world = init_world(folder, domains=domains, clients=client_names(clients),
                           suite=suite, tls=tls, ports=ports, urls=urls, settings=settings)
        try:
            for d in domains:
                servers[d] = start_server(world, d, (env or {}).get(d), trace)
            break
        except RuntimeError as err:
            for server in servers.values():
                server.stop()
            servers = {}
            if ports is not None or "address already in use" not in str(err) or attempt == 2:
                raise
            shutil.rmtree(folder)  # ours: written just now
    try:
        yield world, servers
    finally:
        for server in servers.values():
            server.stop()


__all__ = ["ServerProcess", "client_names", "ds_names", "free_port", "init_world",
           "running_world", "start_server"]
