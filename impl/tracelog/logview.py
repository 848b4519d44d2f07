"""The search's data: its verdict, and the logs as it reads them (for impl/tracelog/search.py).

This module owns `Verdict` and `Candidate` (what `validate` reports), and `LogView`: each
event's model message, computed once; the consecutive sends after an event; and the
observation rules: a logged step must be followed by an observation of every item it
changed (`unshown_change`: no line means no change), and a logged DS's nonce expires
unseen only where its log next observes it expired (`may_expire`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from model import state as ms
from model.actions import Action, successors
from model.config import Config

from .format import GroupSeen, Log, Message, NonceSeen
from .names import Cast

Path = tuple[tuple[str, ms.State], ...]
"""Each step of a path: its description and the model state after it."""

Trail = tuple["Trail", tuple[str, ms.State]] | None
"""A path as the search grows it: (the path before, its last step), None when empty.  A
step shares the path before it instead of copying it, so a node costs the same at any
depth (a log of n events no longer costs n^2 copies); `unwind` gives the Path."""


def unwind(trail: Trail) -> Path:
    """The steps of `trail`, first to last."""
    steps = []
    while trail is not None:
        trail, step = trail
        steps.append(step)
    return tuple(reversed(steps))


@dataclasses.dataclass(frozen=True)
class Candidate:
    """Why one rule did not explain an event."""

    action: str
    check: str | None
    text: str
    clause: str | None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Verdict:
    verdict: str
    events: int
    matched: int
    steps: int
    silent: int
    nodes: int
    at: str | None = None
    event: dict[str, Any] | None = None
    reason: str | None = None
    enabled: list[str] = dataclasses.field(default_factory=list)
    candidates: list[Candidate] = dataclasses.field(default_factory=list)
    prefix: dict[str, int] = dataclasses.field(default_factory=dict)
    """Per log, how many of its events the longest path matched."""
    path: list[str] = dataclasses.field(default_factory=list)
    """The model steps of the accepted (or longest) path."""
    states: list[ms.State] = dataclasses.field(default_factory=list)
    """The model state after each step of `path` (not in the JSON)."""

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name != "states"}
        out["candidates"] = [c.to_json() for c in self.candidates]
        return out

    def actions(self, config: Config) -> list[Action]:
        """The model actions of the path, the steps that change no state left out: what an
        ITF trace of the behaviour found shows (model/itf.py)."""
        out: list[Action] = []
        state = ms.initial_state(config)
        for nxt in self.states:
            if nxt != state:
                action = next((a for a, s in successors(config, state) if s == nxt), None)
                if action is None:
                    raise RuntimeError(f"step {len(out) + 1} of the path is no successor")
                out.append(action)
            state = nxt
        return out


class LogView:
    """The logs as the search reads them: each event's model message, computed once."""

    def __init__(self, logs: list[Log], cast: Cast) -> None:
        self.logs = logs
        self.cast = cast
        self.party: list[tuple[str, int]] = []
        for log in logs:
            h = log.header
            pid = cast.ds_id(h.name) if h.role == "ds" else cast.client_id(h.name)
            self.party.append((h.role, pid))
        self.logged = set(self.party)
        self._model: dict[tuple[int, int], Any] = {}
        self._seen_nonce: dict[tuple[int, int], list[tuple[int, str]]] = {}
        """(DS id, nonce number) -> (event index, status) of its DS log's observations."""
        for i, log in enumerate(logs):
            role, pid = self.party[i]
            for p, e in enumerate(log.events):
                if role == "ds" and isinstance(e, NonceSeen) and e.nonce in cast.nonces:
                    n = cast.nonces[e.nonce]
                    if n.ds == pid:
                        self._seen_nonce.setdefault((pid, n.number), []).append((p, e.status))
        self._log_of = {party: i for i, party in enumerate(self.party)}
        self._observes: list[set[str]] = [
            {"nonce" if isinstance(e, NonceSeen) else "group" for e in log.events
             if isinstance(e, GroupSeen | NonceSeen)} for log in logs]
        """Per log, what it observes at all ("group", "nonce"): only those are held to it."""
        self._nonce_bytes = {(n.ds, n.number): raw for raw, n in cast.nonces.items()}
        self._group_ids = {g: gid for gid, g in cast.groups.items()}

    def shows_changes(self, i: int, q: int, old: ms.State, new: ms.State) -> bool:
        return self.unshown_change(i, q, old, new) is None

    def unshown_change(self, i: int, q: int, old: ms.State, new: ms.State) -> str | None:
        """None when log i, if it observes its state, writes right after its step (from
        event q on) an observation of each of its items the step changed in the model (no
        line means no change: a role that keeps a nonce pending the model consumed is
        caught); else what changed unobserved."""
        role, pid = self.party[i]
        kinds = self._observes[i]
        if not kinds:
            return None
        window = self._window(i, q)
        groups = self._group_ids
        if role == "client":
            if not 0 <= pid < len(new.clients) or "group" not in kinds or \
                    old.clients[pid] is new.clients[pid]:
                return None
            for g, (v, w) in enumerate(zip(old.clients[pid], new.clients[pid], strict=True)):
                if (v.ds, v.epoch, v.nonce) != (w.ds, w.epoch, w.nonce) and \
                        ("group", groups.get(g)) not in window:
                    return f"the client's view of group {g} becomes {w}"
            return None
        if not 0 <= pid < len(new.hosts):
            return None
        if "group" in kinds and old.hosts[pid] is not new.hosts[pid]:
            for g, (h, j) in enumerate(zip(old.hosts[pid], new.hosts[pid], strict=True)):
                if (h.phase, h.epoch) != (j.phase, j.epoch) and \
                        ("group", groups.get(g)) not in window:
                    return f"group {g} becomes {ms.HOST_PHASES[j.phase]} at epoch {j.epoch}"
        if "nonce" in kinds and old.nonces[pid] is not new.nonces[pid]:
            for k, (r, t) in enumerate(zip(old.nonces[pid], new.nonces[pid], strict=True)):
                raw = self._nonce_bytes.get((pid, k))
                if r.phase != t.phase and raw is not None and ("nonce", raw) not in window:
                    return f"nonce {k} becomes {ms.NONCE_PHASES[t.phase]}"
        return None

    def _window(self, i: int, q: int) -> set[tuple[str, bytes]]:
        """The items log i observes in the run of observations from event q on."""
        out: set[tuple[str, bytes]] = set()
        events = self.logs[i].events
        while q < len(events):
            e = events[q]
            if isinstance(e, NonceSeen):
                out.add(("nonce", e.nonce))
            elif isinstance(e, GroupSeen):
                out.add(("group", e.group_id))
            else:
                break
            q += 1
        return out

    def may_expire(self, ds: int, number: int, pos: tuple[int, ...]) -> bool:
        """Whether DS `ds`'s log lets nonce `number` expire now, unseen."""
        seen = self._seen_nonce.get((ds, number))
        if not seen:
            return True
        p = pos[self._log_of[("ds", ds)]]
        nxt = next((status for q, status in seen if q >= p), None)
        return nxt == "expired"

    def model(self, i: int, p: int) -> Any:
        key = (i, p)
        if key not in self._model:
            e = self.logs[i].events[p]
            assert isinstance(e, Message)
            log = self.logs[i]
            self._model[key] = self.cast.message(e, log.header.name, log.header.role)
        return self._model[key]

    def sends_after(self, i: int, p: int) -> list[int]:
        """The indices of the consecutive send events from p on."""
        events = self.logs[i].events
        out = []
        while p < len(events):
            e = events[p]
            if not isinstance(e, Message) or not e.sent:
                break
            out.append(p)
            p += 1
        return out


def delta(old: ms.State, new: ms.State) -> set[Any]:
    out: set[Any] = set()
    for a, b in zip(old.network, new.network, strict=True):
        if a is not b:
            out |= b - a
    return out


def in_network(state: ms.State, m: Any) -> bool:
    slot = ms.SLOT.get(type(m))
    return slot is not None and m in state.network[slot]
