"""The lockstep's honest roles write their trace logs (docs/trace-format.md).

This module owns what a lockstep run records, one log per honest role in a folder: every
envelope a role is handed and what it answers (the envelopes it returns, or the Refusal a
transport would send back for a ProtocolError), what it sends on its own (a client's
MigrationRequest and commits, a DS's ticks), and its restarts.  A delivery crashed before
its commit leaves only the restart (the role never durably received it); one crashed after
leaves the receive, what the role sent and the restart.  Forks of a run (the tour, the
tamper trials) write nothing: only what the run itself did is in its logs, so a session's
logs are a sample that `validate` must accept.
"""

from __future__ import annotations

from pathlib import Path

from ..client import Client
from ..ds import DeliveryService
from ..envelope import Envelope, Kind, Refusal
from ..errors import ProtocolError
from ..tracelog.record import NetworkTraces, RoleTrace


class LockstepTraces:
    """The logs of one lockstep run's honest parties, keyed by ("ds"|"client", index)."""

    def __init__(self, folder: Path, dss: tuple[DeliveryService, ...],
                 clients: list[Client]) -> None:
        self.net = NetworkTraces(folder, [*dss, *clients])
        self.by_party: dict[tuple[str, int], RoleTrace] = {}
        for i, ds in enumerate(dss):
            self.by_party[("ds", i)] = self.net.logs[ds.name]
        for i, c in enumerate(clients):
            self.by_party[("client", i)] = self.net.logs[c.name]

    @property
    def paths(self) -> list[Path]:
        return self.net.paths

    def delivered(self, party: tuple[str, int], env: Envelope, out: list[Envelope] | None,
                  error: ProtocolError | None, now: float | None = None) -> None:
        log = self.by_party[party]
        log.received(env)
        if error is not None:
            if env.kind != Kind.Refusal:
                log.sent([Refusal.answer(env, error)])
        else:
            log.sent(out or [])
        log.observe(now=now)

    def sent(self, party: tuple[str, int], envelopes: list[Envelope],
             now: float | None = None) -> None:
        log = self.by_party[party]
        log.sent(envelopes)
        log.observe(now=now)

    def restarted(self, party: tuple[str, int], node: DeliveryService | Client,
                  now: float | None = None) -> None:
        self.by_party[party].restarted(node, now=now)

    def close(self) -> None:
        self.net.close()
