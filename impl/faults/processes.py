"""Server processes a test or a benchmark starts, kills and restarts itself.

This module owns one `mimi-portability serve --config FILE` child process: starting it with
an environment of the caller's choosing (`MIMI_CRASH_AT` for a planned self-kill), waiting
until its `GET /status` answers, SIGKILL from outside (`kill`), graceful stop (`stop`:
SIGTERM), waiting for a planned crash (`wait_exit`), restarting it on the same state file,
and reading its resident set size.  Its standard output and error go to a log file beside
the config, whose tail every failure quotes.  It knows nothing of the protocol beyond
the status path.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

STATUS_PATH = "/status"


class ServerFailed(RuntimeError):
    """The server did not come up, or exited when it should not have."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the kernel's choice; bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


class ServerProcess:
    """One DS server child process (see the module docstring)."""

    def __init__(self, name: str, config: Path, address: str, *,
                 env: dict[str, str] | None = None, log: Path | None = None,
                 launcher: list[str] | None = None) -> None:
        self.name = name
        #: what runs before `serve --config FILE` (a test may plant a bug through its own)
        self.launcher = launcher or [sys.executable, "-m", "mimi_portability"]
        self.config = config
        self.address = address  # HOST:PORT it listens on
        self.env = dict(env or {})
        self.log = log or config.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def argv(self) -> list[str]:
        return [*self.launcher, "serve", "--config", str(self.config)]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, *, crash_at: str | None = None, timeout: float = 30.0) -> None:
        """Start the server (`crash_at`: MIMI_CRASH_AT for this run only) and wait until
        its status answers."""
        if self.alive():
            raise ServerFailed(f"{self.name} is already running")
        env = {**os.environ, **self.env}
        env.pop("MIMI_CRASH_AT", None)
        if crash_at is not None:
            env["MIMI_CRASH_AT"] = crash_at
        with open(self.log, "ab") as log:
            log.write(f"--- start {self.starts} crash_at={crash_at}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerFailed(f"{self.name} exited {self.proc.returncode} on start:\n"
                                   + self.log_tail())
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url + STATUS_PATH, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        self.kill()
        raise ServerFailed(f"{self.name}: no status within {timeout}s:\n" + self.log_tail())

    def status(self, timeout: float = 5.0) -> dict[str, Any]:
        answer = httpx.get(self.url + STATUS_PATH, timeout=timeout)
        answer.raise_for_status()
        document: dict[str, Any] = json.loads(answer.content)
        return document

    def kill(self) -> None:
        """SIGKILL from outside, and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.kills += 1

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (the graceful stop) and wait; SIGKILL if it does not end in `timeout`.
        The exit code (None if it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def wait_exit(self, timeout: float) -> int | None:
        """Wait for the process to end on its own (a planned crash); its exit code, or None
        if it is still running after `timeout`."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def restart(self, *, crash_at: str | None = None) -> None:
        self.kill()
        self.start(crash_at=crash_at)

    def rss_kib(self) -> int:
        """VmRSS of the running process, KiB (0 where /proc is not readable)."""
        if self.proc is None:
            return 0
        try:
            text = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


__all__ = ["STATUS_PATH", "ServerFailed", "ServerProcess", "free_port"]
