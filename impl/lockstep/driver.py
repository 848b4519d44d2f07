"""The lockstep driver: one model action applied to the model and to the implementation.

`Lockstep` holds the configuration, the model state, the implementation world, one clock
per honest DS, and the envelopes honest parties sent.  `apply(action)` steps the model with
model.actions.step and performs the corresponding implementation operation, then checks
`abstract(world) == model state` (no symmetry reduction: the comparison is exact) and raises
`Divergence` otherwise.  `refuse(...)` delivers a message the model says nobody may accept
(a network message whose guard fails, a misdelivery, a tampered copy) and checks the
implementation refuses it and stays unchanged.

Time (choice for target_expire_nonce): each honest DS has its own integer clock.  Issuing
the n-th nonce at a DS advances its clock by 2**(attempts-n) first, and an expiry of nonce k
ticks that DS at exactly issued_at(k) + LIFETIME, allowed only when k is the oldest pending
nonce of that DS (tick expires every nonce at least that old).  Since the increments
shrink geometrically, no later nonce ever reaches its own deadline before it is expired
explicitly.  The retry interval is 0, so `source_retry` is a tick at the current time that
re-sends the lock's content (a model stutter: the same MigrationContent).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

from model import messages as mm
from model import state as ms
from model.actions import ACTIONS_BY_NAME, Action, step
from model.config import Config
from model.properties import violated
from model.routing import deliveries

from ..adversary import RogueClient, RogueDS
from ..client import Client
from ..ds import DeliveryService, NonceStatus
from ..envelope import Envelope, Kind
from ..errors import LocalProtocolError, ProtocolError
from ..group import next_epoch
from ..group_state import GroupState
from ..messages import MigrationRequest, MigrationResponse
from ..world import World, build_world
from .abstraction import Decoder, ModelNonces, Observed, abstract, explain, nonce_bytes

LIFETIME = 1 << 40


class Divergence(AssertionError):
    """The implementation and the model disagree."""


class Unsupported(Exception):
    """An action this driver cannot reproduce on the implementation (design variants)."""


def check_config(config: Config) -> None:
    if (
        config.honest_ds != 2
        or config.groups != 1
        or not config.rogue_ds
        or not (config.rogue_client)
    ):
        raise Unsupported("the lockstep driver needs 2 honest DSs, R, X and one group")
    if config.options.enabled() or config.source_denies or config.target_denies:
        raise Unsupported("the lockstep driver runs the reference design only")


def _copy_ds(ds: DeliveryService) -> DeliveryService:
    new = copy.copy(ds)
    new.groups = {g: dataclasses.replace(h, lock=copy.copy(h.lock)) for g, h in ds.groups.items()}
    new.tombstones = dict(ds.tombstones)
    new.nonces = {n: copy.copy(r) for n, r in ds.nonces.items()}
    new.events = list(ds.events)
    new.random = copy.copy(ds.random)
    return new


def _copy_client(client: Client) -> Client:
    new = copy.copy(client)
    new.groups = {
        g: dataclasses.replace(m, pending=copy.copy(m.pending)) for g, m in client.groups.items()
    }
    new.events = list(client.events)
    return new


class Lockstep:
    def __init__(self, config: Config | None = None, *, check: bool = True) -> None:
        self.config = config = config or Config()
        check_config(config)
        self.world: World = build_world(
            members=config.clients, nonce_lifetime=float(LIFETIME), retry_interval=0.0
        )
        self.dss: tuple[DeliveryService, DeliveryService] = (self.world.source, self.world.target)
        for i, ds in enumerate(self.dss):
            ds.random = ModelNonces(i)
        self.clock = [0, 0]
        self.dec = Decoder(config, self.world)
        self.obs = Observed()
        self.state = ms.initial_state(config)
        self.sent: list[Any] = []
        self.table: dict[Any, Envelope] = {}
        self.check = check
        self.steps = 0
        self.initial_group: GroupState = self.world.source.groups[self.world.group_id].state

    # -- copying (the transition tour forks a run at every state) ----------------------------

    def fork(self) -> Lockstep:
        """An independent copy of this run.  Copies exactly the mutable parts (DS and client
        protocol state, logs, clocks); shares what is immutable (keys, trust store, group
        states, messages, envelopes, the model state)."""
        new = copy.copy(self)
        w = copy.copy(self.world)
        dss = tuple(_copy_ds(ds) for ds in self.dss)
        w.source, w.target = dss
        w.clients = [_copy_client(c) for c in self.world.clients]
        new.world, new.dss = w, (dss[0], dss[1])
        new.clock = list(self.clock)
        new.sent = list(self.sent)
        new.table = dict(self.table)
        new.obs = Observed(dict(self.obs.replaced), dict(self.obs.inits), list(self.obs.accepted))
        new.dec = copy.copy(self.dec)
        new.dec.world = w
        new.dec.contents = dict(self.dec.contents)
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

    # -- envelopes for model messages --------------------------------------------------------

    def envelope(self, m: Any, recipient: tuple[str, int]) -> Envelope:
        """The impl envelope of model message `m`, addressed to `recipient`: the one an honest
        party sent, or one the rogue builds and signs with its own key."""
        node = self.node(recipient)
        env = self.table.get(m)
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
            group_id=self.world.group_id,
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
                self._impl_request(resp.request), nonce_bytes(*resp.nonce), "x"
            )
            return MigrationResponse.decode(env.payload)
        raise Unsupported(f"no implementation bytes for {resp}")

    def _group_state(self, epoch: int) -> GroupState:
        state = self.initial_group
        while state.epoch < epoch:
            state = next_epoch(state)
        return state

    def forge(self, m: Any) -> Envelope:
        rogue: RogueDS = self.world.rogue_ds
        x: RogueClient = self.world.rogue_client
        if isinstance(m, mm.MigrationRequest) and m.client == self.config.rogue_client_id:
            return x.request(self._impl_request(m), int(self.world.suite))
        if isinstance(m, mm.MigrationContent) and m.signer == self.config.rogue_ds_id:
            return rogue.content(
                self._impl_response(m.response),
                self._group_state(m.state.epoch),
                self.dec.domain(m.response.request.target),
            )
        to = "unaddressed"  # `envelope` addresses it
        if m.signer != self.config.rogue_ds_id:
            raise Unsupported(f"cannot forge {m}")
        if isinstance(m, mm.MigrationResponse):
            return rogue.response(self._impl_request(m.request), nonce_bytes(*m.nonce), to)
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
                self.dec.domain(m.target), nonce_bytes(*m.nonce), self.world.group_id, to
            )
        raise Unsupported(f"cannot forge {m}")

    def _content_hash(self, content: mm.MigrationContent) -> bytes:
        for h, c in self.dec.contents.items():
            if c == content:
                return h
        raise Unsupported(f"no implementation bytes for {content}")

    def refuse_commit(self, client: int) -> None:
        """commit_at_current_ds where the model's guard fails: the DS must refuse it."""
        c = self.world.clients[client]
        env = c.commit(self.world.group_id)
        self.refuse(
            ("ds", self.dec.ds_id[env.recipient]), env, f"refused commit_at_current_ds({client})"
        )

    # -- the implementation side of each action ----------------------------------------------

    def _deliver(self, party: tuple[str, int], env: Envelope) -> list[Envelope]:
        node = self.node(party)
        now = float(self.clock[party[1]]) if party[0] == "ds" else 0.0
        return node.receive(env, now)

    def _impl(self, action: Action, before: ms.State) -> None:
        name = action.name
        args = tuple(v for _, v in action.args)
        w = self.world
        if name == "client_request":
            client, _, target = args
            self._emit([w.clients[client].start_migration(w.group_id, self.dec.domain(target))])
            return
        if name == "commit_at_current_ds":
            client = w.clients[args[0]]
            env = client.commit(w.group_id)
            ds = self.dec.ds_id[env.recipient]
            out = self._deliver(("ds", ds), env)
            self._emit(out)
            own = [e for e in out if e.recipient == client.identity]
            for e in own:  # the committer applies its own commit (model: same step)
                client.receive(e, 0.0)
            return
        if name == "target_expire_nonce":
            target, index = args
            issuer = self.dss[target]
            rec = issuer.nonces[nonce_bytes(target, index)]
            self.clock[target] = max(self.clock[target], int(rec.issued_at) + LIFETIME)
            self._emit(issuer.tick(float(self.clock[target])))
            return
        if name == "source_retry":
            source = args[0]
            self._emit(self.dss[source].tick(float(self.clock[source])))
            return
        spec = ACTIONS_BY_NAME[name]
        if spec.receives is None:
            raise Unsupported(name)
        m = args[-1]
        party = self.receiver(name, args)
        env = self.envelope(m, party)
        if name == "target_respond":
            issued = len(self.dss[party[1]].nonces)
            self.clock[party[1]] += 1 << max(0, self.config.attempts - issued)
        node = self.node(party)
        if name == "target_import":
            h = self._hash(env)
            self.obs.replaced[(party[1], h)] = self._phase(party[1])
        confirm_view = None
        if name == "client_confirm" and isinstance(node, Client):
            confirm_view = before.clients[party[1]][0]
        out = self._deliver(party, env)
        if name == "source_lock_and_export":
            for e in out:
                if e.kind == Kind.MigrationContent:
                    self.obs.inits[self._hash(e)] = m
        if confirm_view is not None:
            self.obs.accepted.append(
                ms.Accepted(party[1], 0, confirm_view.nonce, confirm_view.target, m)
            )
        self._emit(out)

    def _hash(self, env: Envelope) -> bytes:
        from ..crypto import CipherSuite
        from ..signing import migration_content_hash

        return migration_content_hash(CipherSuite(int(self.world.suite)), env.payload)

    def _phase(self, ds: int) -> int:
        status = self.dss[ds].status(self.world.group_id)
        return {"absent": ms.ABSENT, "active": ms.ACTIVE, "locked": ms.LOCKED, "moved": ms.MOVED}[
            status
        ]

    # -- public --------------------------------------------------------------------------------

    def abstract(self) -> ms.State:
        return abstract(self.dec, self.sent, self.obs)

    def verify(self, context: str) -> None:
        actual = self.abstract()
        if actual != self.state:
            raise Divergence(f"after {context}:\n{explain(self.state, actual)}")
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
        try:
            self._impl(action, before)
        except (ProtocolError, LocalProtocolError) as err:
            raise Divergence(
                f"{action.name}{dict(action.args)}: model accepts, implementation refuses: "
                f"{type(err).__name__}: {err}"
            ) from err
        self.steps += 1
        if self.check:
            self.verify(f"{action.name}{dict(action.args)}")

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
        self, party: tuple[str, int], env: Envelope, what: str, *, forged: bool = False
    ) -> None:
        """Deliver `env` to `party`, which the model says nobody may accept: the
        implementation must refuse it (ProtocolError) or ignore it (no output), unchanged.
        A `forged` message may be answered to the rogue parties only (model: what honest
        parties answer to a forged message moves no honest party: target_reject and
        target_reacknowledge take network messages only)."""
        node = self.node(party)
        snap = node.snapshot()
        try:
            out = self._deliver(party, env)
        except ProtocolError:
            out = []
        self.steps += 1
        if forged:
            rogues = (self.world.rogue_ds.domain, self.world.rogue_client.identity)
            out = [e for e in out if e.recipient not in rogues]
        if out:
            raise Divergence(
                f"{what}: model refuses, implementation accepts and sends "
                f"{[e.describe() for e in out]}"
            )
        if node.snapshot() != snap:
            raise Divergence(f"{what}: model refuses, implementation changed state")

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
