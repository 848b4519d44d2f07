"""Our roles write the trace log (docs/trace-format.md) about themselves.

This module owns turning what a role does into log lines: `RoleTrace` writes one role's
log (its header with its keys and, for a DS, the DS keys it trusts; each envelope it sends
or receives; what it holds after each step; its restarts), and `NetworkTraces` attaches
a `RoleTrace` to every party of an in-memory `impl.network.Network` that should log, so
the demo, the lockstep driver and the tests leave one log per role.  The HTTP server
(impl/http/server.py) writes its DS's log with the same `RoleTrace`.  Observations are
written only when they changed, so a log stays proportional to what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from ..client import Client
from ..ds import DeliveryService, NonceStatus
from ..envelope import Envelope, TrustStore
from .format import TraceWriter

_SEEN_NONCE = {NonceStatus.PENDING: "pending", NonceStatus.CONSUMED: "consumed",
               NonceStatus.EXPIRED: "expired"}


def _trusted(trust: TrustStore) -> dict[str, dict[int, bytes]]:
    out: dict[str, dict[int, bytes]] = {}
    for (domain, suite), key in trust.items():
        out.setdefault(domain, {})[suite] = key
    return out


class _Held:
    """A group state in an observation, equal to another only if it is the same object: the
    member list is written when the state changed, not read at every step (a DS observes
    after each message, and a group may have 160,000 members)."""

    __slots__ = ("state",)

    def __init__(self, state: Any) -> None:
        self.state = state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Held) and other.state is self.state

    __hash__ = None  # type: ignore[assignment]


class RoleTrace:
    """The log of one role (a DeliveryService or a Client) on `stream`."""

    def __init__(self, role: DeliveryService | Client, stream: IO[str], *,
                 clock: Callable[[], float] | None = None, header: bool = True) -> None:
        self.role = role
        self._seen: dict[Any, Any] = {}
        if not header:  # the log goes on after a restart
            self.writer = TraceWriter(stream, "", "", clock=clock, header=False)
            self.restarted(role)
            return
        if isinstance(role, DeliveryService):
            keys = {int(s): k.public_bytes() for s, k in role.keys.items()}
            self.writer = TraceWriter(stream, "ds", role.domain, keys=keys,
                                      trust=_trusted(role.trust), clock=clock)
        else:
            keys = {int(role.key.suite): role.key.public_bytes()}
            self.writer = TraceWriter(stream, "client", role.identity, keys=keys,
                                      trust=_trusted(role.trust), clock=clock)
        self.observe()

    @classmethod
    def to_file(cls, role: DeliveryService | Client, path: Path | str, **kw: Any) -> RoleTrace:
        return cls(role, open(path, "w", encoding="utf-8"), **kw)

    @classmethod
    def resume_file(cls, role: DeliveryService | Client, path: Path | str,
                    **kw: Any) -> RoleTrace:
        """The log at `path`, a new one or, if the file has lines, the one a previous run
        of this role wrote: it goes on with a restart."""
        p = Path(path)
        fresh = not p.exists() or p.stat().st_size == 0
        return cls(role, open(p, "a", encoding="utf-8"), header=fresh, **kw)

    def sent(self, envelopes: Iterable[Envelope], t: float | None = None) -> None:
        for e in envelopes:
            self.writer.message(True, e.recipient, e.kind, e.payload, e.cipher_suite, t)

    def received(self, envelope: Envelope, t: float | None = None) -> None:
        e = envelope
        self.writer.message(False, e.sender, e.kind, e.payload, e.cipher_suite, t)

    def restarted(self, role: DeliveryService | Client, t: float | None = None,
                  now: float | None = None) -> None:
        """The role came back (a new object over its durable state)."""
        self.role = role
        self.writer.restart(t)
        self._seen.clear()
        self.observe(t, now)

    def observe(self, t: float | None = None, now: float | None = None) -> None:
        """Write what changed in the role's state since the last observation.  `now`: the
        DS's time, so that a pending nonce past its lifetime reads expired (as the DS treats
        it) whether or not a tick has marked it yet."""
        state = dict(self._state(now))
        for key in self._seen:
            if key[0] == "group" and key not in state:  # it no longer holds the group
                state[key] = (("phase", "absent"),) if isinstance(self.role,
                                                               DeliveryService) else ()
        for key, fields in state.items():
            if self._seen.get(key) != fields:
                self._seen[key] = fields
                if key[0] == "nonce":
                    self.writer.nonce(key[1], fields, t)
                elif fields or isinstance(self.role, DeliveryService):
                    values = dict(fields)
                    held = values.get("members")
                    if isinstance(held, _Held):
                        values["members"] = [m.identity.decode("utf-8", "replace")
                                             for m in held.state.members]
                    self.writer.group(key[1], t=t, **values)

    def _state(self, now: float | None) -> Iterable[tuple[tuple[str, bytes], Any]]:
        role = self.role
        if isinstance(role, Client):
            for gid, m in role.groups.items():
                p = m.pending
                pending = None if p is None else {
                    "target": p.request.target_domain_name.decode("utf-8", "replace"),
                    **({"nonce": p.nonce.hex()} if p.nonce is not None else {})}
                yield ("group", gid), (("ds", m.ds), ("epoch", m.state.epoch),
                                       ("pending", pending or {}))
            return
        for gid, hosted in role.groups.items():
            yield ("group", gid), (("phase", str(hosted.phase)),
                                   ("epoch", hosted.state.epoch), ("members", _Held(hosted.state)))
        for gid in role.tombstones:
            if gid not in role.groups:
                yield ("group", gid), (("phase", "moved"),)
        for raw, record in role.nonces.items():
            status = _SEEN_NONCE.get(record.status)
            if status == "pending" and now is not None and \
                    now - record.issued_at >= role.nonce_lifetime:
                status = "expired"
            if status is not None:
                yield ("nonce", raw), status

    def close(self) -> None:
        self.writer.close()


class NetworkTraces:
    """Per-party logs of an in-memory Network: what each traced party sent and received,
    and what it holds after each delivery.  Install with `network.trace = traces`."""

    def __init__(self, folder: Path | str, roles: Iterable[DeliveryService | Client], *,
                 clock: Callable[[], float] | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.logs: dict[str, RoleTrace] = {}
        self._handling: str | None = None
        """The party handling a delivery now: its sends are its answer, observed after."""
        for role in roles:
            self.logs[role.name] = RoleTrace.to_file(
                role, self.folder / f"{_file_name(role.name)}.ndjson", clock=clock)

    @property
    def paths(self) -> list[Path]:
        return [self.folder / f"{_file_name(n)}.ndjson" for n in self.logs]

    def on_send(self, envelope: Envelope) -> None:
        log = self.logs.get(envelope.sender)
        if log is not None:
            log.sent((envelope,))
            if self._handling is None:  # sent on its own (an application call): it may
                log.observe()  # have changed what it holds, say so now

    def on_receive(self, envelope: Envelope) -> None:
        self._handling = envelope.recipient
        log = self.logs.get(envelope.recipient)
        if log is not None:
            log.received(envelope)

    def after(self, name: str) -> None:
        self._handling = None
        log = self.logs.get(name)
        if log is not None:
            log.observe()

    def close(self) -> None:
        for log in self.logs.values():
            log.close()


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in name)
