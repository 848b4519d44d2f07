"""`validate`: is what the logs record a behaviour of the model? A search that says where not.

This module owns the search (in the manner of TLA+ trace validation): a node is a position
in every log and a model state; the search starts at the model's initial state with every
log at its first event and looks, depth first, for a path that consumes every event.  A
log's next events advance it by one *logged step*:

- a receive, with the sends that follow it, is one rule of model/rules.py taken by that
  role: one rule receiving that message there must accept it, and what its effect sends is
  exactly what the role logged sending (the per-member Fanout envelopes are one model
  CommitFanout; a send already in the set network adds nothing);
- a receive answered by a Refusal is a refusal: no rule takes the message there and the
  code is one the rules name for the failing check (model/refusals.py), or the message
  stands for no model message at all (bytes that do not decode strictly, a signature no
  known key verifies);
- sends with no receive before them are the rules a role takes on its own: a client's
  MigrationRequest, a source's re-send or timeout;
- an observation must agree with the model state; a restart is every restart rule of that
  role that applies.

Where no logged step fits, the search tries *silent* steps, at most `silent` in a row:
actions of the parties that wrote no log (the adversary's included, through the receiving
rules' forged messages) and the steps of a logged party that send nothing and that logs do
not record (a nonce expiring).  Independent steps of different logs are interleaved in
every order the model allows; the logs' timestamps only decide which order is tried first.

The verdict is `accepted` (a model behaviour explains every event) or `rejected` with the
longest matched prefix: the event where the deepest path stopped, the actions the model had
enabled there, and for the candidate rules of that event the first false conjunct, its
check id and its docs/profile.md clause.  `inconclusive` when the node budget ran out.

Over 500 lines on purpose: a rejection's explanation (`_explain`, `_candidates`) re-runs the
same step matching the search does, on the same private helpers, so that what it reports is
exactly why the search could not go on; apart, each would restate the other's cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from model import state as ms
from model.actions import ACTIONS_BY_NAME, ActionSpec, live, successors
from model.config import NO_NONCE, Config
from model.expander import PART_ORDER, part_ids, part_key
from model.footprint import reads
from model.messages import CommitFanout, MigrationContent, MigrationRequest
from model.refusals import IGNORED, failing, refused_commit, refused_delivery
from model.routing import PARTY, RECEIVERS, refused_by_bounds
from model.rules import RULES, can_forge

from ..envelope import Kind
from .format import GroupSeen, Log, Message, NonceSeen, Restart
from .logview import Candidate, LogView, Path, Trail, Verdict, delta, in_network, unwind
from .names import Answer, Bad, Cast, Commit

_SELF_ACTING = {"ds": ("source_retry", "source_timeout"), "client": ("client_request",)}
_RESTARTS = {"ds": ("ds_restart", "ds_restart_nonce"), "client": ("client_restart",)}
_ACTOR_IS_DS = ("commit_at_current_ds", "commit_sent_before_durable")
_ANSWERS = (Kind.TargetMigrationComplete, Kind.TargetMigrationRejected)


class _Node:
    """A seen-set key: log positions and a model state, with its hash computed once."""

    __slots__ = ("hash", "pos", "state")

    def __init__(self, pos: tuple[int, ...], state: ms.State, h: int) -> None:
        self.pos, self.state, self.hash = pos, state, h

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, _Node) and self.pos == other.pos
                and self.state == other.state)


class _Seen:
    """The search's seen set of (positions, state).  A state's nonce pools grow with the
    log (a target's every nonce keeps its slot) and Python hashes a tuple afresh each time,
    so hashing each node's state whole costs time linear in the log.  Here a state's hash is
    built from memoised hashes of its parts, each part object hashed once (the memo keeps
    it, so its id stays its own): a step that changes one nonce record costs a lookup per
    record of that pool, not a hash of every record of every pool.  Equality is the states'
    own, so no two different nodes are ever taken for one."""

    def __init__(self) -> None:
        self._nodes: set[_Node] = set()
        self._memo: dict[int, tuple[object, int]] = {}

    def _part(self, obj: object) -> int:
        found = self._memo.get(id(obj))
        if found is None:
            found = self._memo[id(obj)] = (obj, hash(obj))
        return found[1]

    def _pool(self, pool: tuple[Any, ...]) -> int:
        found = self._memo.get(id(pool))
        if found is None:
            h = hash(tuple(self._part(r) for r in pool))
            found = self._memo[id(pool)] = (pool, h)
        return found[1]

    def add(self, pos: tuple[int, ...], state: ms.State) -> bool:
        """Add the node; False if it was there."""
        h = hash((pos, self._part(state.hosts), tuple(self._pool(p) for p in state.nonces),
                  self._part(state.clients), hash(state.network), hash(state.ghost)))
        node = _Node(pos, state, h)
        if node in self._nodes:
            return False
        self._nodes.add(node)
        return True


class Search:
    def __init__(self, logs: list[Log], cast: Cast, *, silent: int = 3,
                 max_nodes: int = 2_000_000) -> None:
        self.l = LogView(logs, cast)
        self.config: Config = cast.config
        self.silent_bound = silent
        self.max_nodes = max_nodes
        self._forge_keys: dict[type[Any], Callable[[tuple[int, ...]], Any]] = {}
        self._forgeable: dict[tuple[Any, Any], bool] = {}

    # -- one logged step -----------------------------------------------------------------

    def _consume(self, i: int, sends: list[int], old: ms.State, new: ms.State,
                 kinds: tuple[type[Any], ...]) -> int | None:
        """How many of the logged sends the effect old -> new accounts for (None: they do
        not agree: the effect sends something the log does not show, or vice versa)."""
        added = delta(old, new)
        taken: set[Any] = set()
        k = 0
        for p in sends:
            m = self.l.model(i, p)
            if isinstance(m, Bad | Answer | Commit) or type(m) not in kinds \
                    or not in_network(new, m):
                break
            taken.add(m)
            k += 1
        if not added <= taken:
            return None
        if any(isinstance(m, CommitFanout) for m in added) and \
                self._fanned_to(i, sends[:k]) != set(self.l.cast.clients):
            return None  # a fan-out reaches every member, and no one else
        return k

    def _fanned_to(self, i: int, sends: list[int]) -> set[str]:
        events = self.l.logs[i].events
        return {events[p].peer for p in sends  # type: ignore[union-attr]
                if isinstance(self.l.model(i, p), CommitFanout)}

    def _accepting(self, i: int, m: Any, state: ms.State) -> Iterator[tuple[str, tuple[Any, ...]]]:
        role, pid = self.l.party[i]
        for rule in RECEIVERS.get(type(m), ()):
            if PARTY[rule.role] != role or not live(self.config, rule):
                continue
            spec = ACTIONS_BY_NAME[rule.name]
            for args in spec.parties(self.config, state, m):
                if args[0] == pid and self._delivered(spec, m, state) and \
                        spec.accepts(self.config, state, *args):
                    yield rule.name, args

    def _delivered(self, spec: ActionSpec, m: Any, state: ms.State) -> bool:
        """`spec.delivered`, remembered per message and per the parts of the state the
        adversary's power reads for its kind (model/footprint.py): a log's receive is tried
        at every node until its sender's log gets there, and can_forge scans the network.
        Keys are part ids, sound while the states are alive (the search keeps them all)."""
        if in_network(state, m):
            return True
        if not spec.rule.forged:
            return False
        kind = type(m)
        key_of = self._forge_keys.get(kind)
        if key_of is None:
            parts = reads(can_forge, 1, ("kind", kind))
            key_of = part_key(PART_ORDER if parts is None else parts)
            self._forge_keys[kind] = key_of
        key = (m, key_of(part_ids(state)))
        found = self._forgeable.get(key)
        if found is None:
            found = self._forgeable[key] = spec.delivered(self.config, state, m)
        return found

    def _refusal_ok(self, i: int, m: Any, answer: Any, state: ms.State) -> str | None:
        """None when the rules refuse `m` at log i's role with `answer`; else why not."""
        if isinstance(m, Bad):
            return None  # stands for no model message: any refusal is right
        if not isinstance(answer, Answer):
            return "the answer is not a Refusal that decodes"
        if isinstance(m, Commit):
            expected = refused_commit(self.config, state, m.client, m.group)
            accepted = not expected.checks
        else:
            if not isinstance(m, tuple) or type(m) not in RECEIVERS:
                return f"{type(m).__name__} is no message a role receives"
            if list(self._accepting(i, m, state)):
                return "the rules accept this message here; the role refused it"
            args = self._party_args(i, m, state)
            if args is None:
                return None  # no rule of this role receives it here: a misrouted message
            names = [r.name for r in RECEIVERS[type(m)] if PARTY[r.role] == self.l.party[i][0]
                     and args in ACTIONS_BY_NAME[r.name].parties(self.config, state, m)]
            if refused_by_bounds(self.config, state, names, args):
                return None  # refused only by the model's bounds: nothing to compare
            expected = refused_delivery(self.config, state, m, args)
            accepted = False
        if accepted:
            return "the rules accept this commit here; the DS refused it"
        if answer.code not in expected.codes:
            return (f"refusal {answer.code}, the rules allow "
                    f"{', '.join(sorted(expected.codes)) or 'none'} "
                    f"({', '.join(expected.checks)})")
        if answer.code == "group_moved" and answer.moved_to != expected.moved_to:
            return "the group_moved redirect names another target than the tombstone's"
        if answer.code == "group_moved" and answer.commit != expected.commit:
            return ("the group_moved redirect does not carry the migration commit the DS "
                    "fanned out")
        return None

    def _party_args(self, i: int, m: Any, state: ms.State) -> tuple[Any, ...] | None:
        role, pid = self.l.party[i]
        for rule in RECEIVERS.get(type(m), ()):
            if PARTY[rule.role] == role:
                for args in ACTIONS_BY_NAME[rule.name].parties(self.config, state, m):
                    if args[0] == pid:
                        return args
        return None

    def logged_steps(self, i: int, p: int, state: ms.State
                     ) -> Iterator[tuple[int, ms.State, str]]:
        """(events consumed, next state, step name) for every logged step of log i at p."""
        events = self.l.logs[i].events
        role, pid = self.l.party[i]
        e = events[p]
        if isinstance(e, GroupSeen | NonceSeen):
            if self._agrees(i, e, state):
                yield 1, state, "observe"
            return
        if isinstance(e, Restart):
            yield 1, self._restart(i, state), "restart"
            return
        assert isinstance(e, Message)
        if e.sent:
            yield from self._self_acting(i, p, state)
            return
        m = self.l.model(i, p)
        sends = self.l.sends_after(i, p + 1)
        answer = self.l.model(i, sends[0]) if sends else None
        refused = isinstance(answer, Answer) and events[sends[0]].peer == e.peer  # type: ignore[union-attr]
        if isinstance(m, Answer):  # a peer refused what this role sent
            if role == "client" and m.commit is not None:
                yield from self._deliver(i, m.commit, sends, state)
            yield 1, state, "refusal received"
            return
        if refused:
            if self._refusal_ok(i, m, answer, state) is None:
                yield 2, state, f"refused {answer.code}"  # type: ignore[union-attr]
            return
        if isinstance(m, Bad):
            if not sends:
                yield 1, state, "ignored"  # stands for no model message: dropped unanswered
            return
        if isinstance(m, Commit):
            yield from self._commit(i, m, sends, state)
            return
        accepted = False
        for step in self._deliver(i, m, sends, state):
            accepted = True
            yield step
        if not accepted and not in_network(state, m) and isinstance(m, MigrationContent):
            k = self._to_rogues(i, sends)
            if k:  # honest answers to a forged message move no honest party
                yield 1 + k, state, "forged message answered to the rogue"
        if role == "client" and isinstance(m, CommitFanout) and self._own_commit(pid, m, state):
            yield 1, state, "own commit applied"
        if not sends or isinstance(self.l.model(i, sends[0]), Answer):
            args = self._party_args(i, m, state)
            if args is not None and not list(self._accepting(i, m, state)):
                exp = refused_delivery(self.config, state, m, args)
                if IGNORED in exp.codes:
                    yield 1, state, "ignored"

    def _to_rogues(self, i: int, sends: list[int]) -> int:
        """How many of the sends are a target's answers (TargetMigrationComplete or
        Rejected) to parties the model does not have as honest."""
        cast = self.l.cast
        k = 0
        for p in sends:
            e = self.l.logs[i].events[p]
            assert isinstance(e, Message)
            if e.peer in cast.clients or e.peer in cast.ds or e.kind not in _ANSWERS:
                break
            k += 1
        return k

    def _own_commit(self, client: int, m: CommitFanout, state: ms.State) -> bool:
        """The committer gets its own regular commit back: the model's commit_at_current_ds
        already moved it to the next epoch in the same step."""
        if m.committer != client or m.aad_target != -1 or not in_network(state, m) or \
                not 0 <= m.group < self.config.groups:
            return False
        view = state.clients[client][m.group]
        return view.ds == m.ds and view.epoch == m.epoch + 1

    def _deliver(self, i: int, m: Any, sends: list[int], state: ms.State
                 ) -> Iterator[tuple[int, ms.State, str]]:
        for name, args in self._accepting(i, m, state):
            spec = ACTIONS_BY_NAME[name]
            new = spec.effect(self.config, state, *args)
            k = self._consume(i, sends, state, new, spec.rule.sends)
            if k is not None:
                yield 1 + k, new, name

    def _commit(self, i: int, m: Commit, sends: list[int], state: ms.State
                ) -> Iterator[tuple[int, ms.State, str]]:
        if not 0 <= m.client < self.config.clients or m.group < 0:
            return
        spec = ACTIONS_BY_NAME["commit_at_current_ds"]
        args = (m.client, m.group)
        if state.clients[m.client][m.group].ds == self.l.party[i][1] and \
                spec.guard(self.config, state, *args):
            new = spec.effect(self.config, state, *args)
            k = self._consume(i, sends, state, new, spec.rule.sends)
            if k is not None:
                yield 1 + k, new, "commit_at_current_ds"

    def _self_acting(self, i: int, p: int, state: ms.State
                     ) -> Iterator[tuple[int, ms.State, str]]:
        role, pid = self.l.party[i]
        m = self.l.model(i, p)
        if role == "client" and isinstance(m, Commit):
            yield 1, state, "commit sent"  # the DS's acceptance is the model's step
            return
        sends = self.l.sends_after(i, p)
        for name in _SELF_ACTING[role]:
            spec = ACTIONS_BY_NAME[name]
            if not live(self.config, spec.rule):
                continue
            if name == "client_request":
                if not isinstance(m, MigrationRequest) or m.client != pid:
                    continue
                tuples: list[tuple[Any, ...]] = [(pid, m.group, m.target)]
            else:
                tuples = [(pid, g) for g in range(self.config.groups)]
            for args in tuples:
                if spec.guard(self.config, state, *args):
                    new = spec.effect(self.config, state, *args)
                    k = self._consume(i, sends, state, new, spec.rule.sends)
                    if k:
                        yield k, new, name

    def _agrees(self, i: int, e: GroupSeen | NonceSeen, state: ms.State) -> bool:
        role, pid = self.l.party[i]
        cast = self.l.cast
        if isinstance(e, NonceSeen):
            n = cast.nonces.get(e.nonce)
            if n is None or n.ds != pid or n.number >= self.config.attempts:
                return False
            return ms.NONCE_PHASES[state.nonces[pid][n.number].phase] == e.status
        g = cast.group(e.group_id)
        if g < 0:
            return False
        if role == "client":
            if pid >= self.config.clients:
                return True
            view = state.clients[pid][g]
            return (e.ds is None or cast.ds_id(e.ds) == view.ds) and (
                e.epoch is None or cast.epoch(g, e.epoch) == view.epoch) and (
                e.pending is None or self._same_pending(e.pending, view))
        host = state.hosts[pid][g]
        if e.phase is not None and ms.HOST_PHASES[host.phase] != e.phase:
            return False
        return e.epoch is None or host.phase == ms.MOVED or \
            cast.epoch(g, e.epoch) == host.epoch

    def _same_pending(self, seen: Any, view: ms.ClientView) -> bool:
        """The nonce of the migration the client acted on, if any, is the model's.  The
        outstanding request alone is not compared: a target's refusal of it ends the
        attempt at our client, while the model, whose refusals are no messages, keeps the
        client waiting (docs/trace-format.md, "Limits")."""
        nonce = self.l.cast.nonce(bytes.fromhex(seen["nonce"])) if "nonce" in seen \
            else NO_NONCE
        return view.nonce == nonce

    def _restart(self, i: int, state: ms.State) -> ms.State:
        role, pid = self.l.party[i]
        for name in _RESTARTS[role]:
            spec = ACTIONS_BY_NAME[name]
            if not live(self.config, spec.rule):
                continue
            domain = range(self.config.attempts) if spec.rule.domains[1] == "indices" \
                else range(self.config.groups)
            for k in domain:
                if spec.guard(self.config, state, pid, k):
                    state = spec.effect(self.config, state, pid, k)
        return state

    # -- silent steps ----------------------------------------------------------------------

    def silent_steps(self, state: ms.State, pos: tuple[int, ...], *,
                     internal_only: bool = False) -> Iterator[tuple[ms.State, str]]:
        """Steps no log shows: a logged party's steps that send nothing (time passing), and
        unless `internal_only`, every step of a party that wrote no log.  A logged DS's
        nonce expires silently only where its log next observes that nonce as expired
        (or never observes it): a log writes what changed, so no line is no change."""
        if internal_only:
            yield from self._expiries(state, pos)
            return
        for action, new in successors(self.config, state):
            rule = ACTIONS_BY_NAME[action.name].rule
            actor = action.args[0][1]
            party = PARTY[rule.role]
            if action.name in _ACTOR_IS_DS:
                party, actor = "ds", state.clients[actor][action.args[1][1]].ds
            logged = (party, actor) in self.l.logged
            if logged and (rule.sends or action.name in _RESTARTS[party]
                           or rule.receives is not None):
                continue
            if internal_only and not logged:
                continue
            if logged and action.name == "target_expire_nonce" and \
                    not self.l.may_expire(actor, action.args[1][1], pos):
                continue
            yield new, f"{action.name}{tuple(v for _, v in action.args)} (silent)"

    def _expiries(self, state: ms.State, pos: tuple[int, ...]
                  ) -> Iterator[tuple[ms.State, str]]:
        """The silent steps of logged parties alone (the only one: a nonce expiring),
        without enumerating every action of the model."""
        spec = ACTIONS_BY_NAME["target_expire_nonce"]
        for role, ds in self.l.party:
            if role != "ds" or not 0 <= ds < self.config.honest_ds:
                continue
            for k, record in enumerate(state.nonces[ds]):
                if record.phase == ms.PENDING and self.l.may_expire(ds, k, pos) and \
                        spec.guard(self.config, state, ds, k):
                    yield (spec.effect(self.config, state, ds, k),
                           f"target_expire_nonce({ds}, {k}) (silent)")

    # -- the search ------------------------------------------------------------------------

    def run(self) -> Verdict:
        logs = self.l.logs
        total = sum(len(log.events) for log in logs)
        start = (tuple(0 for _ in logs), ms.initial_state(self.config))
        stack: list[tuple[tuple[int, ...], ms.State, int, Trail]] = [(*start, 0, None)]
        seen = _Seen()
        seen.add(*start)
        best: tuple[int, tuple[int, ...], ms.State, Trail] = (-1, start[0], start[1], None)
        nodes = 0
        while stack:
            pos, state, silent, path = stack.pop()
            nodes += 1
            done = sum(pos)
            if done > best[0]:
                best = (done, pos, state, path)
            if done == total:
                return self._verdict("accepted", total, pos, unwind(path), nodes)
            if nodes >= self.max_nodes:
                return self._verdict("inconclusive", total, best[1], unwind(best[3]), nodes,
                                     reason=f"the search budget of {self.max_nodes} nodes "
                                     "ran out before a path explained every event")
            found: list[tuple[tuple[int, ...], ms.State, int, Trail]] = []
            for i in self._order(pos):
                for k, new, name in self.logged_steps(i, pos[i], state):
                    if new is not state and not self.l.shows_changes(i, pos[i] + k, state, new):
                        continue
                    nxt = (*pos[:i], pos[i] + k, *pos[i + 1:])
                    found.append((nxt, new, 0,
                                  (path, (f"{logs[i].header.name}: {name}", new))))
            if silent < self.silent_bound:
                for new, name in self.silent_steps(state, pos, internal_only=bool(found)):
                    found.append((pos, new, silent + 1, (path, (name, new))))
            for node in reversed(found):
                if seen.add(node[0], node[1]):
                    stack.append(node)
        return self._rejected(total, best, nodes)

    def _order(self, pos: tuple[int, ...]) -> list[int]:
        live_logs = [i for i, p in enumerate(pos) if p < len(self.l.logs[i].events)]

        def when(i: int) -> tuple[float, int]:
            t = self.l.logs[i].events[pos[i]].where.t
            return (t if t is not None else float("inf"), i)

        return sorted(live_logs, key=when)

    def _verdict(self, verdict: str, total: int, pos: tuple[int, ...], path: Path,
                 nodes: int, reason: str | None = None) -> Verdict:
        silent = sum(1 for s, _ in path if s.endswith("(silent)"))
        return Verdict(verdict, total, sum(pos), len(path) - silent, silent, nodes,
                       reason=reason, path=[s for s, _ in path], states=[t for _, t in path],
                       prefix={log.path: p for log, p in zip(self.l.logs, pos, strict=True)})

    def _rejected(self, total: int, best: tuple[int, tuple[int, ...], ms.State, Trail],
                  nodes: int) -> Verdict:
        _, pos, state, trail = best
        out = self._verdict("rejected", total, pos, unwind(trail), nodes)
        # every unfinished log is stuck here; blame the first whose event fails on its own
        # account, not one that waits for a message no log shows sent
        stuck = [(i, *self._explain(i, pos[i], state)) for i in self._order(pos)]
        i, out.reason, out.candidates = next(
            (s for s in stuck if not _waiting(s[2])), stuck[0])
        e = self.l.logs[i].events[pos[i]]
        out.at = str(e.where)
        out.event = _describe(e)
        names: dict[str, int] = {}
        for action, _ in successors(self.config, state):
            names[action.name] = names.get(action.name, 0) + 1
        out.enabled = [f"{n} x{c}" if c > 1 else n for n, c in names.items()]
        return out

    def _explain(self, i: int, p: int, state: ms.State) -> tuple[str, list[Candidate]]:
        """Why no logged step of log i fits at p, and the candidate rules' false conjuncts."""
        e = self.l.logs[i].events[p]
        role, _pid = self.l.party[i]
        if isinstance(e, GroupSeen | NonceSeen):
            return "the observation disagrees with every model state the logs reach", []
        if not isinstance(e, Message):
            return "no restart of this role fits here", []
        m = self.l.model(i, p)
        if isinstance(m, Bad):
            return f"{m.reason}, and the role did not refuse it", []
        sends = self.l.sends_after(i, p + 1)
        if not e.sent and sends and isinstance(self.l.model(i, sends[0]), Answer):
            why = self._refusal_ok(i, m, self.l.model(i, sends[0]), state)
            if why is not None:
                return why, self._candidates(i, p, m, state)
        if not e.sent and not (sends and isinstance(self.l.model(i, sends[0]), Answer)) and \
                isinstance(m, tuple) and not list(self._accepting(i, m, state)):
            args = self._party_args(i, m, state)
            if args is not None:
                codes = refused_delivery(self.config, state, m, args).codes
                if codes and IGNORED not in codes:
                    answered = "with other messages" if sends else "nothing"
                    return (f"the rules refuse it here ({', '.join(sorted(codes))}); the role "
                            f"answered {answered}", self._candidates(i, p, m, state))
        events = self.l.logs[i].events
        for k, new, name in self.logged_steps(i, p, state):
            more = p + k < len(events) and isinstance(events[p + k], Message) and \
                events[p + k].sent  # type: ignore[union-attr]
            if new is not state and not more:  # (more sends: the sends are the story)
                change = self.l.unshown_change(i, p + k, state, new)
                if change is not None:
                    return (f"{name} accepts it, but the role's log does not show the change it "
                            f"makes: {change}", self._candidates(i, p, m, state))
        names: list[str]
        if e.sent:
            names = [n for n in _SELF_ACTING[role]
                     if type(m) in ACTIONS_BY_NAME[n].rule.sends]
        elif isinstance(m, Commit):
            names = ["commit_at_current_ds"]
        else:
            names = [r.name for r in RECEIVERS.get(type(m), ()) if PARTY[r.role] == role]
        cands = self._candidates(i, p, m, state, names)
        if cands and all(c.check is None for c in cands):
            return ("a rule accepts it, but what it sends is not what the log shows next",
                    cands)
        if e.sent:
            return f"no rule this role takes on its own sends a {e.kind}", cands
        return "no rule of this role accepts this message here", cands

    def _candidates(self, i: int, p: int, m: Any, state: ms.State,
                    names: list[str] | None = None) -> list[Candidate]:
        role, _pid = self.l.party[i]
        if names is None:
            names = [r.name for r in RECEIVERS.get(type(m), ()) if PARTY[r.role] == role]
        out: list[Candidate] = []
        for name in names:
            rule = next(r for r in RULES if r.name == name)
            for args in self._candidate_args(i, m, state, name):
                if rule.receives is not None and not ACTIONS_BY_NAME[name].delivered(
                        self.config, state, args[-1]):
                    out.append(Candidate(name, None, NOT_SENT, None))
                    continue
                fails = failing(self.config, state, name, args)
                if fails:
                    c = fails[0]
                    out.append(Candidate(name, c.id, c.text, c.clause))
                elif not out or out[-1].action != name:
                    out.append(Candidate(name, None, self._sends_differ(i, p, state, name,
                                                                        args), None))
        return out

    def _sends_differ(self, i: int, p: int, state: ms.State, name: str,
                      args: tuple[Any, ...]) -> str:
        """What the accepting rule sends, against what the log shows after event p (a
        receive: the sends that follow it; a send: the sends from it on)."""
        new = ACTIONS_BY_NAME[name].effect(self.config, state, *args)
        wanted = sorted(type(x).__name__ for x in delta(state, new))
        events = self.l.logs[i].events
        first = events[p]
        start = p + 1 if isinstance(first, Message) and not first.sent else p
        logged = self.l.sends_after(i, start)
        shown = [events[q].kind for q in logged]  # type: ignore[union-attr]
        out = (f"accepts, and sends {', '.join(wanted) or 'nothing new'}; the log shows "
               f"{', '.join(shown) or 'no send'}")
        if "CommitFanout" in wanted:
            missing = set(self.l.cast.clients) - self._fanned_to(i, logged)
            extra = self._fanned_to(i, logged) - set(self.l.cast.clients)
            if missing:
                out += f"; the fan-out misses {', '.join(sorted(missing))}"
            if extra:
                out += f"; the fan-out reaches non-members {', '.join(sorted(extra))}"
        return out

    def _candidate_args(self, i: int, m: Any, state: ms.State, name: str
                        ) -> list[tuple[Any, ...]]:
        _role, pid = self.l.party[i]
        spec = ACTIONS_BY_NAME[name]
        if isinstance(m, Commit):
            return [(m.client, m.group)] if 0 <= m.client < self.config.clients else []
        if spec.rule.receives is None:
            if name == "client_request" and isinstance(m, MigrationRequest):
                return [(pid, m.group, m.target)]
            return [(pid, g) for g in range(self.config.groups)]
        if not isinstance(m, tuple) or type(m) is not spec.rule.receives:
            return []
        return [a for a in spec.parties(self.config, state, m) if a[0] == pid]


NOT_SENT = "the message is not in the network and the adversary cannot make it"


def _waiting(candidates: list[Candidate]) -> bool:
    return bool(candidates) and all(c.text == NOT_SENT for c in candidates)


def _describe(e: Any) -> dict[str, Any]:
    if isinstance(e, Message):
        return {"event": "send" if e.sent else "receive", "peer": e.peer, "kind": e.kind}
    if isinstance(e, Restart):
        return {"event": "restart"}
    return {"event": "observe"}

