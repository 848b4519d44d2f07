"""Symmetry reduction: one canonical representative per class of interchangeable states.

Honest clients with the same policy standing are interchangeable (every one is a member of
every group), so are the honest DSs other than d0 (the bystanders, any of which may be a
target), and so are the groups (all start at d0 in epoch 0).  The rogue client, the rogue
DS and d0 are fixed points.  This module owns renaming a state under a permutation of those
ids and choosing the canonical one: the renaming whose (client views, hosts, nonces,
network, ghost) is least.  Client rows name no client, so for each DS/group renaming only
the client orders that sort the rows can win; the full comparison runs only on ties.

Every property is invariant under these renamings, so checking canonical states suffices;
traces are rebuilt on concrete states (model/checker.py), so they replay as they are.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from .config import Config, Nonce
from .messages import (
    NO_CONTENT,
    NO_REQUEST,
    CommitFanout,
    GroupState,
    MigrationAborted,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    TargetMigrationComplete,
    TargetMigrationRejected,
)
from .state import (
    Accepted,
    ClientView,
    Commit,
    Ghost,
    Host,
    Import,
    Network,
    NonceRecord,
    Start,
    State,
)

Map = list[int]
"""Old id -> new id; the last entry is -1 so that NONE (-1) maps to itself."""


class Renaming:
    """A permutation of client, DS and group ids, applied to every part of a state.

    States share most of their parts (messages, whole network slots, ghost sets), so the
    renamed parts are cached by identity of value: renaming a state is mostly dict look-ups.
    One cache per message kind and per slot: NamedTuples of equal fields compare equal
    across kinds (TargetMigrationComplete and TargetMigrationRejected have one layout)."""

    def __init__(self, cm: Map, dm: Map, gm: Map) -> None:
        self.cm, self.dm, self.gm = cm, dm, gm
        self.identity = (
            all(v == i for i, v in enumerate(cm[:-1]))
            and all(v == i for i, v in enumerate(dm[:-1]))
            and all(v == i for i, v in enumerate(gm[:-1]))
        )
        self._requests: dict[Any, Any] = {}
        self._responses: dict[Any, Any] = {}
        self._contents: dict[Any, Any] = {}
        self._views: dict[Any, Any] = {}
        self._hosts: dict[Any, Any] = {}
        self._records: dict[Any, Any] = {}
        self._slots: list[dict[Any, Any]] = [{} for _ in range(9)]
        self._ghost: list[dict[Any, Any]] = [{} for _ in range(6)]
        self._host_tables: dict[Any, Any] = {}
        self._nonce_tables: dict[Any, Any] = {}
        self._nets: dict[Any, Any] = {}
        """Whole networks and ghosts (a Network's hash is its sets' cached hashes)."""
        self._ghosts: dict[Any, Any] = {}

    def clear(self) -> None:
        for cache in (self._requests, self._responses, self._contents, self._views,
                      self._hosts, self._records, self._host_tables, self._nonce_tables,
                      self._nets, self._ghosts,
                      *self._slots, *self._ghost):
            cache.clear()

    def nonce(self, n: Nonce) -> Nonce:
        return Nonce(self.dm[n[0]], n[1])

    def request(self, r: MigrationRequest) -> MigrationRequest:
        out = self._requests.get(r)
        if out is None:
            d = self.dm
            out = MigrationRequest(self.cm[r.client], d[r.source], d[r.target],
                                   self.gm[r.group], r.epoch)
            self._requests[r] = out
        return out

    def response(self, m: MigrationResponse) -> MigrationResponse:
        out = self._responses.get(m)
        if out is None:
            out = MigrationResponse(self.dm[m.signer], self.request(m.request),
                                    Nonce(self.dm[m.nonce[0]], m.nonce[1]))
            self._responses[m] = out
        return out

    def init(self, m: MigrationInit) -> MigrationInit:
        return MigrationInit(self.cm[m.signer], self.response(m.response), m.commit_epoch,
                             self.dm[m.aad_target])

    def content(self, m: MigrationContent) -> MigrationContent:
        out = self._contents.get(m)
        if out is None:
            out = MigrationContent(self.dm[m.signer], self.response(m.response),
                                   GroupState(self.gm[m.state.group], m.state.epoch,
                                              m.state.members))
            self._contents[m] = out
        return out

    def complete(self, m: TargetMigrationComplete) -> TargetMigrationComplete:
        return TargetMigrationComplete(self.dm[m.signer], self.content(m.content))

    def rejection(self, m: TargetMigrationRejected) -> TargetMigrationRejected:
        return TargetMigrationRejected(self.dm[m.signer], self.content(m.content))

    def confirmation(self, m: MigrationConfirmation) -> MigrationConfirmation:
        return MigrationConfirmation(self.dm[m.signer], self.dm[m.target], self.nonce(m.nonce),
                                     self.gm[m.group])

    def aborted(self, m: MigrationAborted) -> MigrationAborted:
        return MigrationAborted(self.dm[m.signer], self.gm[m.group], self.nonce(m.nonce))

    def fanout(self, m: CommitFanout) -> CommitFanout:
        return CommitFanout(self.dm[m.ds], self.gm[m.group], m.epoch, self.cm[m.committer],
                            self.dm[m.aad_target])

    def view(self, v: ClientView) -> ClientView:
        out = self._views.get(v)
        if out is None:
            out = ClientView(self.dm[v.ds], v.epoch, self.nonce(v.nonce), self.dm[v.target])
            self._views[v] = out
        return out

    def host(self, h: Host) -> Host:
        out = self._hosts.get(h)
        if out is None:
            lock = self.content(h.lock) if h.lock != NO_CONTENT else NO_CONTENT
            out = Host(h.phase, h.epoch, self.dm[h.target], lock, self.dm[h.origin])
            self._hosts[h] = out
        return out

    def nonce_record(self, r: NonceRecord) -> NonceRecord:
        out = self._records.get(r)
        if out is None:
            request = self.request(r.request) if r.request != NO_REQUEST else NO_REQUEST
            content = self.content(r.content) if r.content != NO_CONTENT else NO_CONTENT
            out = NonceRecord(r.phase, request, content)
            self._records[r] = out
        return out

    def accepted(self, a: Accepted) -> Accepted:
        return Accepted(self.cm[a.client], self.gm[a.group], self.nonce(a.nonce),
                        self.dm[a.target], self.confirmation(a.confirmation))

    def commit(self, c: Commit) -> Commit:
        return Commit(self.gm[c.group], c.epoch, self.dm[c.ds], self.cm[c.committer],
                      self.dm[c.aad_target])

    def import_(self, i: Import) -> Import:
        return Import(self.dm[i.target], self.content(i.content), i.replaced)

    def start(self, s: Start) -> Start:
        return Start(self.dm[s.source], self.init(s.init))

    def rows(self, state: State) -> list[tuple[ClientView, ...]]:
        """Each client's renamed row, in old client order."""
        gm, view = self.gm, self.view
        out = []
        for row in state.clients:
            new: list[Any] = [None] * len(row)
            for g, v in enumerate(row):
                new[gm[g]] = view(v)
            out.append(tuple(new))
        return out

    def hosts(self, state: State) -> tuple[tuple[Host, ...], ...]:
        table = state.hosts
        found: tuple[tuple[Host, ...], ...] | None = self._host_tables.get(table)
        if found is None:
            dm, gm, host = self.dm, self.gm, self.host
            out: list[list[Any]] = [[None] * len(row) for row in table]
            for d, row in enumerate(table):
                for g, h in enumerate(row):
                    out[dm[d]][gm[g]] = host(h)
            found = self._host_tables[table] = tuple(tuple(r) for r in out)
        return found

    def nonces(self, state: State) -> tuple[tuple[NonceRecord, ...], ...]:
        table = state.nonces
        found: tuple[tuple[NonceRecord, ...], ...] | None = self._nonce_tables.get(table)
        if found is None:
            dm, rec = self.dm, self.nonce_record
            out: list[Any] = [None] * len(table)
            for d, pool in enumerate(table):
                out[dm[d]] = tuple(rec(r) for r in pool)
            found = self._nonce_tables[table] = tuple(out)
        return found

    def _sets(self, sets: tuple[frozenset[Any], ...], caches: list[dict[Any, Any]],
              fns: tuple[Any, ...]) -> list[frozenset[Any]]:
        out = []
        for fs, cache, fn in zip(sets, caches, fns, strict=True):
            renamed = cache.get(fs)
            if renamed is None:
                renamed = frozenset(map(fn, fs))
                cache[fs] = renamed
            out.append(renamed)
        return out

    def network(self, net: Network) -> Network:
        found: Network | None = self._nets.get(net)
        if found is None:
            fns = (self.request, self.response, self.init, self.content, self.complete,
                   self.rejection, self.confirmation, self.aborted, self.fanout)
            found = self._nets[net] = Network(*self._sets(tuple(net), self._slots, fns))
        return found

    def ghost(self, g: Ghost) -> Ghost:
        found: Ghost | None = self._ghosts.get(g)
        if found is None:
            fns = (self.commit, self.import_, self.import_, self.start, self.content,
                   self.accepted)
            found = self._ghosts[g] = Ghost(*self._sets(tuple(g), self._ghost, fns))
        return found

    def parts(self, state: State) -> tuple[Any, Any, Any]:
        """The renamed (clients, hosts, nonces): small, and decisive in most comparisons."""
        if self.identity:
            return state.clients, state.hosts, state.nonces
        rows = self.rows(state)
        clients: list[Any] = [None] * len(rows)
        for c, row in enumerate(rows):
            clients[self.cm[c]] = row
        return tuple(clients), self.hosts(state), self.nonces(state)

    def state(self, state: State, parts: tuple[Any, Any, Any] | None = None) -> State:
        if self.identity:
            return state
        clients, hosts, nonces = parts if parts is not None else self.parts(state)
        return State(hosts, nonces, clients, self.network(state.network),
                     self.ghost(state.ghost))


def _ordered(state: State) -> tuple[Any, ...]:
    """A totally ordered key of the sets of a state (frozensets are not totally ordered)."""
    return (*(tuple(sorted(s)) for s in state.network),
            *(tuple(sorted(s)) for s in state.ghost))


class Symmetry:
    """The symmetry group of a configuration, and canonicalisation under it."""

    CACHE_LIMIT = 2_000_000
    """Renaming caches are dropped when their look-ups outnumber this (bounds memory)."""

    def __init__(self, config: Config) -> None:
        n, h = config.clients, config.honest_ds
        client_ids = n + (1 if config.rogue_client else 0)
        ds_ids = h + (1 if config.rogue_ds else 0)
        classes: dict[tuple[bool, bool], list[int]] = {}
        for c in range(n):
            key = (c in config.source_denies, c in config.target_denies)
            classes.setdefault(key, []).append(c)
        self.classes = [tuple(ids) for ids in classes.values()]
        self._identity_c = [*range(client_ids), -1]
        self._dg: list[tuple[Map, Map]] = []
        for dp in itertools.permutations(range(1, h)):
            dm = [0, *dp, *range(h, ds_ids), -1]
            for gp in itertools.permutations(range(config.groups)):
                self._dg.append((dm, [*gp, -1]))
        self._renamings: dict[tuple[tuple[int, ...], int], Renaming] = {}
        self._by_clients: dict[Any, tuple[Any, list[Renaming]]] = {}
        """Client table -> (least renamed client table, the renamings giving it)."""
        self._probes = [Renaming(self._identity_c, dm, gm) for dm, gm in self._dg]
        self.trivial = len(self._dg) == 1 and all(len(c) == 1 for c in self.classes)
        self._simple = len(self._dg) == 1 and len(self.classes) == 1
        self._calls = 0

    def renaming(self, cm: Map, dg: int) -> Renaming:
        key = (tuple(cm), dg)
        ren = self._renamings.get(key)
        if ren is None:
            dm, gm = self._dg[dg]
            ren = Renaming(list(cm), dm, gm)
            self._renamings[key] = ren
        return ren

    def _client_maps(self, rows: Sequence[tuple[ClientView, ...]]) -> Iterator[Map]:
        """Client renamings that put each class's rows in sorted order (all orders of ties)."""
        per_class: list[list[list[tuple[int, int]]]] = []
        for ids in self.classes:
            ordered = sorted(ids, key=rows.__getitem__)
            groups: list[list[int]] = []
            for c in ordered:
                if groups and rows[groups[-1][0]] == rows[c]:
                    groups[-1].append(c)
                else:
                    groups.append([c])
            options: list[list[tuple[int, int]]] = []
            for arrangement in itertools.product(*(itertools.permutations(g) for g in groups)):
                flat = [c for part in arrangement for c in part]
                options.append(list(zip(flat, ids, strict=True)))
            per_class.append(options)
        for choice in itertools.product(*per_class):
            cm = list(self._identity_c)
            for pairs in choice:
                for old, new in pairs:
                    cm[old] = new
            yield cm

    def canonical(self, state: State) -> State:
        """The least renaming of `state` (the state itself when nothing can be swapped)."""
        if self.trivial:
            return state
        self._calls += 1
        if self._calls > self.CACHE_LIMIT:
            self._calls = 0
            for ren in (*self._renamings.values(), *self._probes):
                ren.clear()
            self._by_clients.clear()
        if self._simple:
            rows = state.clients
            if all(rows[i] < rows[i + 1] for i in range(len(rows) - 1)):
                return state  # strictly sorted: only the identity sorts them
            ordered = sorted(range(len(rows)), key=rows.__getitem__)
            if all(rows[a] != rows[b] for a, b in itertools.pairwise(ordered)):
                cm = list(self._identity_c)
                for new, old in enumerate(ordered):
                    cm[old] = new
                return self.renaming(cm, 0).state(state)
        # The key is compared part by part, cheapest first: the client rows (one look-up:
        # states share their client table), hosts and nonce pools only for the renamings
        # still least, the network and ghost only for renamings that tie on all three.
        found = self._by_clients.get(state.clients)
        if found is None:
            found = self._by_clients[state.clients] = self._least_clients(state)
        least_clients, rens = found
        if len(rens) > 1:
            hosts = [ren.hosts(state) for ren in rens]
            least_hosts = min(hosts)
            rens = [ren for h, ren in zip(hosts, rens, strict=True) if h == least_hosts]
        if len(rens) > 1:
            pools = [ren.nonces(state) for ren in rens]
            least_pools = min(pools)
            rens = [ren for p, ren in zip(pools, rens, strict=True) if p == least_pools]
        if len(rens) == 1:
            ren = rens[0]
            if ren.identity:
                return state
            return ren.state(state, (least_clients, ren.hosts(state), ren.nonces(state)))
        return self._least_sets(state, least_clients, rens)

    def _least_sets(self, state: State, least_clients: Any, rens: list[Renaming]) -> State:
        """Among renamings that tie on the tables, the one whose network and ghost are least
        under `_ordered`: compared set by set, each sorted only while the candidates still
        tie (most differ in the first set that differs at all), and a state built for the
        winner alone.  The same choice as min(renamed states, key=_ordered)."""
        candidates: list[tuple[Renaming, tuple[frozenset[Any], ...]]] = []
        for ren in rens:
            sets = (*ren.network(state.network), *ren.ghost(state.ghost))
            if not any(sets == other for _, other in candidates):
                candidates.append((ren, sets))
        for k in range(len(candidates[0][1])):
            if len(candidates) == 1:
                break
            first = candidates[0][1][k]
            if all(sets[k] == first for _, sets in candidates):
                continue
            keys = [tuple(sorted(sets[k])) for _, sets in candidates]
            least = min(keys)
            candidates = [c for c, key in zip(candidates, keys, strict=True) if key == least]
        ren = candidates[0][0]
        if ren.identity:
            return state
        return ren.state(state, (least_clients, ren.hosts(state), ren.nonces(state)))

    def _least_clients(self, state: State) -> tuple[Any, list[Renaming]]:
        """The least renamed client table of `state` and every renaming that gives it."""
        candidates: list[tuple[tuple[Any, ...], Renaming]] = []
        for dg, probe in enumerate(self._probes):
            rows = probe.rows(state)
            for cm in self._client_maps(rows):
                clients: list[Any] = [None] * len(rows)
                for c, row in enumerate(rows):
                    clients[cm[c]] = row
                candidates.append((tuple(clients), self.renaming(cm, dg)))
        least = min(key for key, _ in candidates)
        return least, [ren for key, ren in candidates if key == least]

    def count(self) -> int:
        """Size of the symmetry group (how many renamings there are)."""
        total = len(self._dg)
        for ids in self.classes:
            total *= len(list(itertools.permutations(ids)))
        return total
