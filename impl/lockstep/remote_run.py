"""One `conform --remote` run: the recorder up, the servers checked, the sessions, the report.

This module owns putting impl/lockstep/remote.py's driver to work: `run_remote` reads the
CONFIG (remote_config.py), starts the Recorder on the address CONFIG names, checks that each
DS answers and holds the keys CONFIG names, runs impl/lockstep/moves.py's `session` with a
factory making one RemoteLockstep (one new group) per example, and returns a `RemoteResult`:
the session's Report, the coverage against the pairs the remote setting can drive (the
pairs of the states the model reaches with no timed action, less `UNDRIVABLE`), and for a
divergence its trace (every step of the example up to it), the rules' check ids the step
was held to, and the model actions (for an ITF file).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path
from typing import Any

from model.actions import Action
from model.config import Config

from ..http.recorder import Recorder
from .moves import Pair, Report, pairs_total, reachable_pairs, session
from .remote import UNDRIVABLE, RemoteError, RemoteLockstep, Wire
from .remote_config import load_remote


@dataclasses.dataclass
class RemoteResult:
    report: Report
    config: Config
    posts: int = 0
    trace: list[str] = dataclasses.field(default_factory=list)
    checks: tuple[str, ...] = ()
    actions: list[Action] = dataclasses.field(default_factory=list)
    example: int = 0

    def as_json(self) -> dict[str, Any]:
        r = self.report
        total = remote_pairs(self.config)
        timed_only = pairs_total(self.config) - total - set(UNDRIVABLE)
        actions_total = {n for n, o in total if o == "accepted"}
        covered = r.covered & total
        return {
            "steps": r.steps, "examples": r.examples, "seconds": round(r.seconds, 3),
            "steps_per_second": round(r.steps / r.seconds, 1) if r.seconds else 0.0,
            "http_requests": self.posts,
            "actions_covered": len({n for n, o in covered if o == "accepted"}),
            "actions_total": len(actions_total),
            "pairs_covered": len(covered), "pairs_total": len(total),
            "pairs_missed": sorted(f"{n}/{o}" for n, o in total - covered),
            "undrivable": {**{f"{n}/{o}": why for (n, o), why in sorted(UNDRIVABLE.items())},
                           **{f"{n}/{o}": "reachable only after a nonce expired"
                              for n, o in sorted(timed_only)}},
            "divergences": len(r.divergences),
            "divergence": ({"example": self.example, "check": list(self.checks),
                            "steps": len(self.trace), "trace": self.trace,
                            "message": r.divergences[0]} if r.divergences else None),
            "refusals": dict(sorted(r.refusals.items())),
            "fields_tampered": len(r.tampered_fields),
            "states_visited": r.states_visited, "states_total": r.states_total,
        }


@functools.cache
def remote_pairs(config: Config) -> frozenset[Pair]:
    """The (action, outcome) pairs the remote setting can reach: those of the states the
    model reaches with no timed action (moves.reachable_pairs), less `UNDRIVABLE`."""
    return frozenset(reachable_pairs(config, timed=False) - set(UNDRIVABLE))


def run_remote(path: Path, examples: int, seed: int, *, config: Config | None = None,
               max_steps: int = 60) -> RemoteResult:
    """See the module docstring; RemoteError (or ConfigError) with one line for people."""
    rc = load_remote(path)
    config = config or Config()
    host, port = rc.recorder
    try:
        recorder = Recorder(host, port)
    except OSError as err:
        raise RemoteError(f"{path}: recorder: cannot listen on {host}:{port} "
                          f"({err.strerror or err})") from None
    with recorder:
        net = Wire(rc, recorder)
        try:
            net.check_servers()
            made: list[RemoteLockstep] = []

            def factory() -> RemoteLockstep:
                made.append(RemoteLockstep(config, net, len(made)))
                return made[-1]

            start = time.perf_counter()
            report = session(examples, seed, config=config, max_steps=max_steps,
                             factory=factory)
            report.seconds = time.perf_counter() - start
        finally:
            net.close()
    result = RemoteResult(report, config, net.posts)
    if report.divergences and made:
        last = made[-1]
        result.trace, result.checks = last.log, last.checks
        result.actions, result.example = last.actions, len(made) - 1
    return result


__all__ = ["RemoteError", "RemoteResult", "run_remote"]
