"""The lockstep driver: one model action applied to the model and to the implementation.

`Lockstep` holds the configuration, the model state, the implementation world, one clock
per honest DS, and the envelopes honest parties sent.  `apply(action)` steps the model with
model.actions.step and performs the corresponding implementation operation, then checks
`abstract(world) == model state` (no symmetry reduction: the comparison is exact) and raises
`Divergence` otherwise.  `refuse(...)` delivers a message the model says nobody may accept
(a network message whose guard fails, a misdelivery, a tampered copy) and checks the
implementation refuses it and stays unchanged (its whole `snapshot()`), and that the
refusal is the one the rules name (model/refusals.py: code, a redirect's target and
migration commit, wrong_epoch's current epoch).  Every honest party's fan-out is checked
per member (abstraction.fanout_divergences).

Time (choice for target_expire_nonce): each honest DS has its own integer clock.  Issuing
the n-th nonce at a DS advances its clock by 2**(attempts-n) first, and an expiry of nonce k
ticks that DS at exactly issued_at(k) + LIFETIME, allowed only when k is the oldest pending
nonce of that DS (tick expires every nonce at least that old).  Since the increments
shrink geometrically, no later nonce ever reaches its own deadline before it is expired
explicitly.  A jump (`jump`) moves a DS's time an arbitrary amount past the deadlines of
every nonce it has pending, with no tick: a message that arrives next arrives late, and the
DS must treat those nonces as expired on its own (the model: target_expire_nonce of each).
The retry interval is 0, so `source_retry` is a tick at the current time that
re-sends the lock's content (a model stutter: the same MigrationContent).

Over 500 lines on purpose: `Lockstep` is one class whose every kind of step (apply,
refuse, jump, restart, crash, misuse, tamper) reads and writes the same paired state
(model state, world, clocks, sent log), and split into mixins each would reach into the
others' fields.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import shutil
import tempfile
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from model import messages as mm
from model import state as ms
from model.actions import ACTIONS_BY_NAME, Action, step
from model.config import Config
from model.properties import violated
from model.refusals import Expected, refused_commit
from model.routing import deliveries

from ..adversary import RogueClient, RogueDS
from ..client import Client
from ..ds import DeliveryService, NonceStatus
from ..envelope import Envelope, Kind
from ..errors import LocalProtocolError, ProtocolError
from ..group import next_epoch
from ..group_state import GroupState
from ..members import Member
from ..messages import MigrationRequest, MigrationResponse
from ..storage import Crash, CrashPoint, DurableClient, DurableDS
from ..world import World, build_world
from .abstraction import (
    Decoder,
    ModelNonces,
    Observed,
    abstract,
    explain,
    fanout_divergences,
    nonce_bytes,
)
from .answers import Divergence as Divergence
from .answers import compare_refusal
from .tracing import LockstepTraces

LIFETIME = 1 << 40

_FILES = itertools.count()


class Unsupported(Exception):
    """A configuration or design this driver does not cover (raised when a run is built,
    before any move): a session counts such examples as skipped, with the reason."""


class CannotPerform(Divergence):
    """A move the model allows that the driver cannot make on the implementation (no
    implementation bytes for a model message, a message it cannot forge): a divergence with
    its reason, never a silent skip."""


def check_config(config: Config) -> None:
    """Raise Unsupported, with the reason, for a configuration the driver does not run: any
    number of honest DSs, groups, clients, attempts and epochs is run, with R and X."""
    if not config.rogue_ds or not config.rogue_client:
        missing = [n for n, on in (("the rogue DS R", config.rogue_ds),
                                   ("the rogue client X", config.rogue_client)) if not on]
        raise Unsupported(f"the lockstep driver needs {' and '.join(missing)}: the forged "
                          "and misdelivered moves are built by them")
    if config.options.enabled() or config.drop:
        raise Unsupported("the lockstep driver runs the reference design only (design "
                          f"{config.design_name()})")
    if config.source_denies or config.target_denies:
        raise Unsupported("the lockstep driver runs the default policies only (no policy "
                          "denials)")


def _copy_ds(ds: DeliveryService) -> DeliveryService:
    new = copy.copy(ds)
    new.groups = {g: dataclasses.replace(h, lock=copy.copy(h.lock)) for g, h in ds.groups.items()}
    new.tombstones = dict(ds.tombstones)
    new.nonces = {n: copy.copy(r) for n, r in ds.nonces.items()}
    new.events = list(ds.events)
    new.random = copy.copy(ds.random)
    return new


def _fresh_ds(ds: DeliveryService) -> DeliveryService:
    """The DS as its configuration alone builds it: keys, trust store, policies, times and
    its nonce source, no protocol state (a restart restores that from its file)."""
    new = copy.copy(ds)
    new.groups, new.tombstones, new.nonces, new.events = {}, {}, {}, []
    return new


def _fresh_client(client: Client) -> Client:
    new = copy.copy(client)
    new.groups, new.events = {}, []
    return new


def _reopen_ds(ds: DeliveryService, index: int, path: str,
               send: Callable[[list[Envelope]], None]) -> DeliveryService:
    """DS `index` as a restart brings it back: a fresh role (`_fresh_ds`) restored from
    its SQLite file at `path`, whose outbox it then resends through `send`.  It draws fresh
    randomness: a draw the crash lost (a nonce made for a change never committed) is not in
    its file, so the model's k-th nonce of this DS is the next draw (ModelNonces continues
    after the nonces the file holds)."""
    fresh = _fresh_ds(ds)
    driver = DurableDS.open_sqlite(fresh, path, send)
    source = ModelNonces(index)
    source.drawn = len(fresh.nonces)
    fresh.random = source
    driver.resume()
    driver.close()
    return fresh


def _refused(action: Action, err: ProtocolError | LocalProtocolError) -> Divergence:
    """The divergence of a move the model takes and the implementation refuses."""
    return Divergence(f"{action.name}{dict(action.args)}: model accepts, implementation "
                      f"refuses: {type(err).__name__}: {err}")


def _nowhere(envelopes: object) -> None:
    """The transport of a driver that only writes or reads a file (the lockstep sends)."""


def _copy_client(client: Client) -> Client:
    new = copy.copy(client)
    new.groups = {
        g: dataclasses.replace(m, pending=copy.copy(m.pending)) for g, m in client.groups.items()
    }
    new.events = list(client.events)
    return new


def restart_actions(config: Config, party: tuple[str, int]) -> list[Action]:
    """The model's actions of one restart of `party`: a restart is taken one record at a
    time (model/rules.py, "crashes and restarts")."""
    role, i = party
    if role == "ds":
        return [*(Action("ds_restart", (("source", i), ("group", g)))
                  for g in range(config.groups)),
                *(Action("ds_restart_nonce", (("target", i), ("index", j)))
                  for j in range(config.attempts))]
    return [Action("client_restart", (("client", i), ("group", g)))
            for g in range(config.groups)]


class Lockstep:
    drives_time = True
    """Whether the driver sets the DSs' time (expiries, retries, jumps): not over the wire."""
    drives_processes = True
    """Whether the driver can crash and re-open a DS (restarts, crash moves)."""

    def __init__(self, config: Config | None = None, *, check: bool = True,
                 trace: Path | None = None) -> None:
        self.config = config = config or Config()
        check_config(config)
        self.world: World = build_world(
            members=config.clients, nonce_lifetime=float(LIFETIME), retry_interval=0.0,
            honest_ds=config.honest_ds, groups=config.groups,
        )
        self.dss: tuple[DeliveryService, ...] = tuple(self.world.dss)
        for i, ds in enumerate(self.dss):
            ds.random = ModelNonces(i)
        self.dec = Decoder(config, self.world)
        self.initial_groups: tuple[GroupState, ...] = tuple(
            self.world.source.groups[gid].state for gid in self.world.group_ids)
        self.dec.know_groups(self.initial_groups)
        self._start_records(config, check, trace)

    def _start_records(self, config: Config, check: bool, trace: Path | None = None) -> None:
        """What a run keeps beside its parties, as it is before the first step (the remote
        driver, impl/lockstep/remote.py, starts its runs with it too)."""
        self.config, self.check = config, check
        self.clock = [0] * config.honest_ds
        self.obs = Observed()
        self.state = ms.initial_state(config)
        self.actions: list[Action] = []
        """The model actions this run took, in order (`conform --itf`)."""
        self.sent: list[Any] = []
        self.table: dict[Any, Envelope] = {}
        self.reached: dict[Any, frozenset[int]] = {}
        """Model CommitFanout -> the client ids the implementation fanned it out to."""
        self.fanned: dict[tuple[Any, int], Envelope] = {}
        """(model CommitFanout, client id) -> the Fanout envelope sent to that member."""
        self.tampered_fields: Counter[tuple[Kind, str, bool]] = Counter()
        """(envelope kind, field, re-signed) -> one-field tamper moves made."""
        self.refusals: Counter[str] = Counter()
        """Refusal codes the implementation answered refused moves with ("ignored": none)."""
        self.steps = 0
        self.restarts = 0
        self._files: Path | None = None
        self._crash: CrashPoint | None = None
        """While set, a delivery to a DS goes through its durable driver, which crashes
        there (`apply_crashing`)."""
        self.traces = None if trace is None else LockstepTraces(
            trace, self.dss, self.world.clients)
        """When set, the honest roles' logs (impl/lockstep/tracing.py)."""

    # -- copying (the transition tour forks a run at every state) ----------------------------

    def fork(self) -> Lockstep:
        """An independent copy of this run.  Copies exactly the mutable parts (DS and client
        protocol state, logs, clocks); shares what is immutable (keys, trust store, group
        states, messages, envelopes, the model state)."""
        new = copy.copy(self)
        w = copy.copy(self.world)
        # a DS the driver reaches over the wire (impl/lockstep/remote.py) is shared, not copied
        dss = tuple(_copy_ds(ds) if isinstance(ds, DeliveryService) else ds for ds in self.dss)
        w.dss = list(dss)
        w.clients = [_copy_client(c) for c in self.world.clients]
        new.world, new.dss = w, dss
        new.clock = list(self.clock)
        new.sent = list(self.sent)
        new.actions = list(self.actions)
        new.table = dict(self.table)
        new.reached = dict(self.reached)
        new.fanned = dict(self.fanned)
        new.obs = Observed(dict(self.obs.replaced), dict(self.obs.inits), list(self.obs.accepted))
        new.dec = copy.copy(self.dec)
        new.dec.world = w
        new.dec.contents = dict(self.dec.contents)
        new._files = None  # its own folder: this run's is removed with this run
        new.traces = None  # a fork's trials are not what this run did
        return new

    # -- names ---------------------------------------------------------------------------------

    def node(self, party: tuple[str, int]) -> DeliveryService | Client:
        role, i = party
        return self.dss[i] if role == "ds" else self.world.clients[i]

    def receiver(self, name: str, args: tuple[Any, ...]) -> tuple[str, int]:
        role = ACTIONS_BY_NAME[name].role
        return ("client", args[0]) if role == "client" else ("ds", args[0])

    # -- logging what honest parties send ------------------------------------------------------

    def _emit(self, envelopes: list[Envelope]) -> None:
        for env in envelopes:
            if env.kind in (Kind.Refusal, Kind.Commit):
                continue
            m = self.dec.message(env)
            self.sent.append(m)
            if m is not None and m not in self.table:
                self.table[m] = env
            if env.kind == Kind.Fanout:
                member = self.dec.client_id.get(env.recipient, -2)
                self.reached[m] = self.reached.get(m, frozenset()) | {member}
                self.fanned.setdefault((m, member), env)

    # -- envelopes for model messages --------------------------------------------------------

    def envelope(self, m: Any, recipient: tuple[str, int]) -> Envelope:
        """The impl envelope of model message `m`, addressed to `recipient`: the one an honest
        party sent, or one the rogue builds and signs with its own key."""
        node = self.node(recipient)
        env = self.table.get(m)
        if isinstance(m, mm.CommitFanout) and recipient[0] == "client":
            # a member gets the envelope sent to it, if any (`fanout_divergences`)
            env = self.fanned.get((m, recipient[1]), env)
        if env is None:
            env = self.forge(m)
            if env.kind == Kind.MigrationContent:  # the target may import it: know its hash
                self.dec.content(env.payload, env.sender)
        if env.recipient != node.name:
            env = Envelope(
                sender=env.sender,
                recipient=node.name,
                kind=env.kind,
                payload=env.payload,
                cipher_suite=env.cipher_suite,
            )
        return env

    def _impl_request(self, r: mm.MigrationRequest) -> MigrationRequest:
        return MigrationRequest(
            source_domain_name=self.dec.domain(r.source).encode(),
            target_domain_name=self.dec.domain(r.target).encode(),
            group_id=self._group_id(r.group),
            epoch=r.epoch,
        )

    def _impl_response(self, resp: mm.MigrationResponse) -> MigrationResponse:
        env = self.table.get(resp)
        if env is not None:
            return MigrationResponse.decode(env.payload)
        for m, e in self.table.items():  # a response carried inside another message
            if isinstance(m, mm.MigrationInit) and m.response == resp:
                from ..envelope import MigrationInitWithCommit

                return MigrationInitWithCommit.decode(e.payload).migration_init.migration_response
            if isinstance(m, mm.MigrationContent) and m.response == resp:
                from ..messages import MigrationContent

                return MigrationContent.decode(e.payload).migration_response
        if resp.signer == self.config.rogue_ds_id:
            env = self.world.rogue_ds.response(
                self._impl_request(resp.request), self.dec.nonce_bytes(*resp.nonce), "x"
            )
            return MigrationResponse.decode(env.payload)
        raise CannotPerform(f"no implementation bytes for {resp}")

    def _group_id(self, group: int) -> bytes:
        """The id of model group `group` (a forged message may name no group of the world:
        the bytes of group 0's id then)."""
        ids = self.world.group_ids
        return ids[group] if 0 <= group < len(ids) else ids[0]

    @property
    def initial_group(self) -> GroupState:
        """Group 0 as the world created it."""
        return self.initial_groups[0]

    def _group_state(self, epoch: int, group: int = 0) -> GroupState:
        state = self.initial_groups[group if 0 <= group < len(self.initial_groups) else 0]
        while state.epoch < epoch:
            state = next_epoch(state)
        return state

    def _forged_state(self, s: mm.GroupState) -> GroupState:
        """The implementation's state for R's model state `s`: the group at that epoch with
        its own member list, or with the rogue client X added to it (another list)."""
        state = self._group_state(s.epoch, s.group)
        if s.members == mm.OWN_MEMBERS:
            return state
        x = self.world.rogue_client
        leaf = max((m.leaf_index for m in state.members), default=-1) + 1
        return dataclasses.replace(state, members=(*state.members, Member(
            leaf_index=leaf, identity=x.identity.encode(),
            signature_key=x.key.public_bytes())))

    def forge(self, m: Any) -> Envelope:
        rogue: RogueDS = self.world.rogue_ds
        x: RogueClient = self.world.rogue_client
        if isinstance(m, mm.MigrationRequest) and m.client == self.config.rogue_client_id:
            return x.request(self._impl_request(m), int(self.world.suite))
        if isinstance(m, mm.MigrationContent) and m.signer == self.config.rogue_ds_id:
            return rogue.content(
                self._impl_response(m.response),
                self._forged_state(m.state),
                self.dec.domain(m.response.request.target),
            )
        to = "unaddressed"  # `envelope` addresses it
        if m.signer != self.config.rogue_ds_id:
            raise CannotPerform(f"cannot forge {m}")
        if isinstance(m, mm.MigrationResponse):
            return rogue.response(self._impl_request(m.request), self.dec.nonce_bytes(*m.nonce),
                                  to)
        if isinstance(m, mm.TargetMigrationComplete):
            return rogue.complete(self._content_hash(m.content), to)
        if isinstance(m, mm.TargetMigrationRejected):
            from .. import signing
            from ..messages import RejectionReason, TargetMigrationRejected

            msg = signing.sign(
                TargetMigrationRejected(
                    migration_content_hash=self._content_hash(m.content),
                    reason=RejectionReason.UNKNOWN_NONCE,
                    signature=b"",
                ),
                rogue.key,
            )
            return Envelope(
                sender=rogue.domain,
                recipient=to,
                kind=Kind.TargetMigrationRejected,
                payload=msg.encode(),
            )
        if isinstance(m, mm.MigrationConfirmation):
            return rogue.confirmation(
                self.dec.domain(m.target), self.dec.nonce_bytes(*m.nonce),
                self._group_id(m.group), to
            )
        raise CannotPerform(f"cannot forge {m}")

    def _content_hash(self, content: mm.MigrationContent) -> bytes:
        for h, c in self.dec.contents.items():
            if c == content:
                return h
        raise CannotPerform(f"no implementation bytes for {content}")

    def refuse_commit(self, client: int, group: int = 0) -> None:
        """commit_at_current_ds where the model's guard fails: the DS must refuse it."""
        c = self.world.clients[client]
        env = self._sent(("client", client), [c.commit(self.world.group_ids[group])])[0]
        self.refuse(
            ("ds", self.dec.ds_id[env.recipient]), env,
            f"refused commit_at_current_ds({client}, {group})",
            expected=refused_commit(self.config, self.state, client, group),
        )

    # -- the implementation side of each action ----------------------------------------------

    def _deliver(self, party: tuple[str, int], env: Envelope) -> list[Envelope]:
        node = self.node(party)
        now = float(self.clock[party[1]]) if party[0] == "ds" else 0.0
        if self._crash is not None and isinstance(node, DeliveryService):
            out = self._deliver_crashing(party, node, env, now, self._crash)
            if self.traces is not None:
                if self._crash != CrashPoint.BEFORE_COMMIT:
                    self.traces.delivered(party, env, out, None, now)
                self.traces.restarted(party, self.node(party), now)
            return out
        if self.traces is None:
            return node.receive(env, now)
        try:
            out = node.receive(env, now)
        except ProtocolError as err:
            self.traces.delivered(party, env, None, err, now)
            raise
        self.traces.delivered(party, env, out, None, now)
        return out

    def _sent(self, party: tuple[str, int], envelopes: list[Envelope]) -> list[Envelope]:
        """What `party` sends on its own (not as an answer), written to its log."""
        if self.traces is not None:
            now = float(self.clock[party[1]]) if party[0] == "ds" else None
            self.traces.sent(party, envelopes, now)
        return envelopes

    def _deliver_crashing(self, party: tuple[str, int], node: DeliveryService, env: Envelope,
                          now: float, point: CrashPoint) -> list[Envelope]:
        """`env` handled by the DS behind its SQLite driver, which crashes at `point`; the DS
        is re-opened from the file (a fresh role restored, its outbox resent) and takes the
        old one's place.  Returns what left the DS, before the crash or resent, once each."""
        path = self._file(node.name)
        out: list[Envelope] = []

        def crash_at(reached: CrashPoint, name: str) -> None:
            if reached == point:
                raise Crash(f"{name} at {point}")

        driver = DurableDS.create_sqlite(node, path, out.extend)
        driver.crash_hook = crash_at
        with contextlib.suppress(Crash):
            driver.receive(env, now)
        driver.store.abandon()
        self._install(party, _reopen_ds(node, party[1], path, out.extend))
        # A crash between two sends resends the first: one copy here (re-deliveries of a
        # message are the refusal moves' business, not this step's).
        return list({(e.recipient, e.kind, e.payload): e for e in out}.values())

    def _impl(self, action: Action, before: ms.State) -> None:
        name = action.name
        args = tuple(v for _, v in action.args)
        w = self.world
        if name == "client_request":
            client, group, target = args
            self._emit(self._sent(("client", client), [
                w.clients[client].start_migration(w.group_ids[group],
                                                  self.dec.domain(target))]))
            return
        if name == "commit_at_current_ds":
            client = w.clients[args[0]]
            env = self._sent(("client", args[0]), [client.commit(w.group_ids[args[1]])])[0]
            ds = self.dec.ds_id[env.recipient]
            out = self._deliver(("ds", ds), env)
            self._emit(out)
            own = [e for e in out if e.recipient == client.identity]
            for e in own:  # the committer applies its own commit (model: same step)
                self._deliver(("client", args[0]), e)
            return
        if name == "target_expire_nonce":
            target, index = args
            issuer = self.dss[target]
            rec = issuer.nonces[nonce_bytes(target, index)]
            self.clock[target] = max(self.clock[target], int(rec.issued_at) + LIFETIME)
            self._emit(self._sent(("ds", target), issuer.tick(float(self.clock[target]))))
            return
        if name == "source_retry":
            source = args[0]
            self._emit(self._sent(("ds", source), self.dss[source].tick(
                float(self.clock[source]))))
            return
        spec = ACTIONS_BY_NAME[name]
        if spec.receives is None:
            raise CannotPerform(f"{name}: the driver has no implementation operation for it")
        m = args[-1]
        party = self.receiver(name, args)
        env = self.envelope(m, party)
        if name == "target_respond":
            self._issuing(party[1])
        node = self.node(party)
        if name == "target_import":
            h = self._hash(env)
            self.obs.replaced[(party[1], h)] = self._phase(party[1], m.state.group)
        confirm_view = None
        if name == "client_confirm" and isinstance(node, Client):
            confirm_view = before.clients[party[1]][args[1]]
        out = self._deliver(party, env)
        if name == "source_lock_and_export":
            for e in out:
                if e.kind == Kind.MigrationContent:
                    self.obs.inits[self._hash(e)] = m
        if confirm_view is not None:
            self.obs.accepted.append(
                ms.Accepted(party[1], args[1], confirm_view.nonce, confirm_view.target, m)
            )
        self._emit(out)

    def _issuing(self, target: int) -> None:
        """Before DS `target` issues a nonce: its clock advances (the module docstring)."""
        issued = len(self.dss[target].nonces)
        self.clock[target] += 1 << max(0, self.config.attempts - issued)

    def _hash(self, env: Envelope) -> bytes:
        from ..crypto import CipherSuite
        from ..signing import migration_content_hash

        return migration_content_hash(CipherSuite(int(self.world.suite)), env.payload)

    def _phase(self, ds: int, group: int) -> int:
        status = self.dss[ds].status(self._group_id(group))
        return {"absent": ms.ABSENT, "active": ms.ACTIVE, "locked": ms.LOCKED, "moved": ms.MOVED}[
            status
        ]

    # -- public --------------------------------------------------------------------------------

    def abstract(self) -> ms.State:
        return abstract(self.dec, self.sent, self.obs, self.clock)

    def verify(self, context: str) -> None:
        actual = self.abstract()
        if actual != self.state:
            raise Divergence(f"after {context}:\n{explain(self.state, actual)}")
        unreached = fanout_divergences(self.config, self.state.network, self.reached)
        if unreached:
            raise Divergence(f"after {context}: fan-out per member:\n" + "\n".join(unreached))
        bad = violated(self.config, self.state)
        if bad:
            raise Divergence(f"after {context}: model violates {bad}")
        impl_bad = self.world.safety_violations()
        if impl_bad:
            raise Divergence(f"after {context}: implementation violates {impl_bad}")

    def apply(self, action: Action) -> None:
        """One model action on both sides; Divergence if the implementation refuses or ends
        in a state that does not abstract to the model's."""
        before = self.state
        self.state = step(self.config, before, action)
        self.actions.append(action)
        try:
            self._impl(action, before)
        except (ProtocolError, LocalProtocolError) as err:
            raise _refused(action, err) from err
        self.steps += 1
        if self.check:
            self.verify(f"{action.name}{dict(action.args)}")

    def jump_actions(self, target: int) -> list[Action]:
        """The model's target_expire_nonce of every nonce DS `target` has pending, oldest
        first: what a jump of its time past all their deadlines takes (`jump`)."""
        ds = self.dss[target]
        pending = sorted((ds.nonces[nonce_bytes(target, k)].issued_at, k)
                         for k, rec in enumerate(self.state.nonces[target])
                         if rec.phase == ms.PENDING and nonce_bytes(target, k) in ds.nonces)
        return [Action("target_expire_nonce", (("target", target), ("index", k)))
                for _, k in pending]

    def jump(self, target: int, late: int) -> None:
        """Time at DS `target` jumps `late` past the deadline of every nonce it has pending,
        with no tick in between: the DS meets the expiry only when the next message arrives
        (the abstraction reads a pending nonce past its lifetime as expired).  The model
        takes target_expire_nonce for each of them."""
        actions = self.jump_actions(target)
        if not actions:
            raise CannotPerform(f"a jump at d{target}: no pending nonce")
        ds = self.dss[target]
        for action in actions:
            self.state = step(self.config, self.state, action)
            self.actions.append(action)
        last = max(ds.nonces[nonce_bytes(target, a.arg("index"))].issued_at for a in actions)
        self.clock[target] = max(self.clock[target], int(last) + LIFETIME + late)
        self.steps += 1
        if self.check:
            self.verify(f"time at d{target} jumped {late} past {len(actions)} deadlines")

    def restart(self, party: tuple[str, int]) -> None:
        """Crash `party` and re-open it from an SQLite file (impl/storage): its state is
        written as its driver keeps it, the role object is dropped, a fresh one built from
        its configuration is restored from the file, and it takes the old one's place.  The
        model takes the restart's actions (`ds_restart` per group and `ds_restart_nonce`
        per nonce for a DS, `client_restart` per group for a client): the reference keeps
        everything, so both sides must come back exactly as they were (the role's whole
        protocol state is compared, not only its abstraction)."""
        node = self.node(party)
        before = node.snapshot()
        path = self._file(node.name)
        fresh: DeliveryService | Client
        if isinstance(node, DeliveryService):
            DurableDS.create_sqlite(node, path, _nowhere).close()
            fresh = _reopen_ds(node, party[1], path, _nowhere)
        else:
            DurableClient.create_sqlite(node, path, _nowhere).close()
            fresh = _fresh_client(node)
            DurableClient.open_sqlite(fresh, path, _nowhere).close()
        if fresh.snapshot() != before:
            raise Divergence(f"restart of {node.name}: the state re-opened from its file "
                             "differs from the state before the crash")
        self._install(party, fresh)
        if self.traces is not None:
            now = float(self.clock[party[1]]) if party[0] == "ds" else None
            self.traces.restarted(party, fresh, now)
        for action in restart_actions(self.config, party):
            self.state = step(self.config, self.state, action)
            self.actions.append(action)
        self.steps += 1
        if self.check:
            self.verify(f"restart of {node.name}")

    def apply_crashing(self, action: Action, point: CrashPoint) -> None:
        """`action` with the receiving DS crashing at `point` of handling its message and
        re-opened from its file.  Before the commit the message was never received: the
        model takes nothing and the DS must be exactly as it was.  After it, the change is
        durable and the outbox is resent on re-opening: the model takes the action."""
        if point == CrashPoint.BEFORE_COMMIT:
            spec = ACTIONS_BY_NAME[action.name]
            args = tuple(v for _, v in action.args)
            party = self.receiver(action.name, args) if spec.receives else ("ds", -1)
            if party[0] != "ds" or spec.receives is None:
                raise CannotPerform(f"{action.name}: no DS receives a message in it")
            node = self.dss[party[1]]
            before = node.snapshot()
            self._crash = point
            try:  # whatever left the DS before the crash is on the network now
                self._emit(self._deliver(party, self.envelope(args[-1], party)))
            except (ProtocolError, LocalProtocolError) as err:
                raise _refused(action, err) from err
            finally:
                self._crash = None
            if self.dss[party[1]].snapshot() != before:
                raise Divergence(f"{action.name}{dict(action.args)} crashed before its "
                                 "commit: the re-opened DS is not as it was before")
            self.steps += 1
            if self.check:
                self.verify(f"{action.name}{dict(action.args)}, crashed {point}")
            return
        self._crash = point
        try:
            self.apply(action)
        finally:
            self._crash = None

    def _install(self, party: tuple[str, int], node: DeliveryService | Client) -> None:
        i = party[1]
        if isinstance(node, DeliveryService):
            dss = list(self.dss)
            dss[i] = node
            self.dss = tuple(dss)
            self.world.dss = dss
        else:
            self.world.clients = [node if j == i else c for j, c in enumerate(self.world.clients)]
        self.dec.world = self.world

    def _file(self, name: str) -> str:
        """A new SQLite file name for party `name` (forks of a run share the folder)."""
        self.restarts += 1
        return str(self._folder() / f"{name}-{next(_FILES)}.sqlite")

    def _folder(self) -> Path:
        """A folder of this run's SQLite files, removed when the run is garbage: in memory
        (/dev/shm) where the machine has it, since what a restart checks is what the file
        holds, not how fast the disk syncs it."""
        if self._files is None:
            shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
            self._files = Path(tempfile.mkdtemp(prefix="mimi-lockstep-", dir=shm))
            weakref.finalize(self, shutil.rmtree, self._files, True)
        return self._files

    def expire_allowed(self, target: int, index: int) -> bool:
        """Only the oldest pending nonce of a DS can be expired alone (see the module doc)."""
        ds = self.dss[target]
        rec = ds.nonces.get(nonce_bytes(target, index))
        if rec is None:
            return False
        return all(
            r.issued_at >= rec.issued_at
            for r in ds.nonces.values()
            if r.status is NonceStatus.PENDING
        )

    def refuse(
        self, party: tuple[str, int], env: Envelope, what: str, *, forged: bool = False,
        expected: Expected | None = None,
    ) -> None:
        """Deliver `env` to `party`, which the model says nobody may accept: the
        implementation must refuse it (ProtocolError) or ignore it (no output), unchanged.
        A `forged` message may be answered to the rogue parties only (model: what honest
        parties answer to a forged message moves no honest party: target_reject and
        target_reacknowledge take network messages only).  With `expected` (what the rules
        say the peer gets, model/refusals.py), a refusal or a silence is compared with it
        (`_compare_refusal`)."""
        node = self.node(party)
        snap = node.snapshot()
        error: ProtocolError | None = None
        try:
            out = self._deliver(party, env)
        except ProtocolError as err:
            out, error = [], err
        self.steps += 1
        replayed = bool(out) and self._replayed(party, env, out)
        if replayed:
            out = []
        answered = bool(out)
        if forged:
            rogues = (self.world.rogue_ds.domain, self.world.rogue_client.identity)
            out = [e for e in out if e.recipient not in rogues]
        if out:
            raise Divergence(
                f"{what}: model refuses, implementation accepts and sends "
                f"{[e.describe() for e in out]}"
            )
        if node.snapshot() != snap:
            raise Divergence(f"{what}: model refuses, implementation changed state "
                             f"(and answered {error or 'nothing'})")
        if expected is not None and replayed:
            self.refusals["replayed"] += 1
        elif expected is not None and not answered:
            self.refusals[self._compare(what, expected, error)] += 1

    def _replayed(self, party: tuple[str, int], env: Envelope, out: list[Envelope]) -> bool:
        """Whether `out` is the recorded answer to an earlier copy of the same bytes (a
        binding's idempotency, docs/wire.md); never for the in-process roles."""
        return False

    def _compare(self, what: str, expected: Expected, error: ProtocolError | None) -> str:
        """The refusal code `error` answered with, held to `expected` (answers.py)."""
        return compare_refusal(self.dec, what, expected, error)

    def misuse(self, client: int, call: str, code: str, group: int = 0) -> None:
        """The application's `call` on honest `client`, which the rules refuse: the role
        must raise the LocalProtocolError `code`, send nothing and change nothing."""
        node = self.world.clients[client]
        snap = node.snapshot()
        what = f"{call} by c{client} of group {group}"
        gid = self.world.group_ids[group]
        try:
            if call == "start_migration":
                mine = self.dec.ds_id[node.groups[gid].ds]
                target = self.dec.domain((mine + 1) % self.config.honest_ds)
                sent = self._sent(("client", client), [node.start_migration(gid, target)])
            elif call == "abandon_migration":
                node.abandon_migration(gid)
                sent = []
            else:
                raise CannotPerform(f"no application call {call}")
        except (LocalProtocolError, ProtocolError) as err:  # a ProtocolError: never here
            if err.code != code or not isinstance(err, LocalProtocolError):
                raise Divergence(f"{what}: the rules refuse it with the local error {code}; "
                                 f"the client raises {type(err).__name__} {err}") from err
        else:
            raise Divergence(f"{what}: the rules refuse the call ({code}); the client "
                             f"accepts it and sends {[e.describe() for e in sent]}")
        finally:
            self.steps += 1
        if node.snapshot() != snap:
            raise Divergence(f"{what}: refused with {code}, but the client changed state")
        self.refusals[f"local:{code}"] += 1

    def tampered(self, party: tuple[str, int], env: Envelope, original: Any, what: str) -> None:
        """A tampered copy of `original`: refused and unchanged, or, if its bytes still mean
        `original` (a flipped bit the protocol does not read) and the model accepts `original`
        there, exactly that accepted step."""
        trial = self.fork()
        try:
            trial.refuse(party, env, what)
        except Divergence:
            pass
        else:
            self.steps += 1
            return
        accepted = [
            (name, args)
            for name, args, ok in deliveries(self.config, self.state)
            if ok and args[-1] == original and self.receiver(name, args) == party
        ]
        if self.dec.message(env) != original or not accepted:
            self.refuse(party, env, what)  # raises: the implementation accepted it
            return
        name, args = accepted[0]
        spec = ACTIONS_BY_NAME[name]
        saved = self.table[original]
        self.table[original] = env
        try:
            self.apply(Action(name, tuple(zip(spec.params, args, strict=True))))
        finally:
            self.table[original] = saved

    def deliveries(self) -> Iterator[tuple[str, tuple[Any, ...], bool]]:
        """Every (action, args, accepted) for network messages and their parties."""
        return deliveries(self.config, self.state)
