"""What the rogue client X and the rogue DS R can send: the adversary's power, in one place.

The two collude and read the whole network.  X is a client that is not a member: it sends
MigrationRequests naming itself and signs MigrationInits.  R is a compromised DS: it signs
anything with its own key.  Neither can sign as anybody else, and a MigrationRequest naming
a client other than X only travels inside a signed message (it cannot be sent as X's own).

Nonces are unpredictable: the adversary uses only nonces it has seen in the network and the
one R makes, (R, 0).  Design option predictable_nonces drops that assumption: the adversary
knows the nonce each target will issue next, as it would with a counter.

The adversary acts through the receiving actions (model/actions.py), Dolev-Yao style: a
receiver may take any message of the network (replay) or any message the adversary can
produce now (`can_forge`, the definition of its power).  Forged messages are not stored:
the adversary can always produce them again, so storing them would only multiply states.
Two generators list candidates for the receivers: `exhaustive` lists everything
`can_forge` allows within the configuration's bounds; `useful` lists, much faster, a superset
of the forged messages some honest receiver can accept in the current design.
tests/test_model_checker.py checks on small configurations, for every design, that both give
exactly the same reachable states.  `GENERATOR` picks the one the receivers use.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from . import state as st
from .config import NONE, Config, Nonce
from .messages import (
    OTHER_MEMBERS,
    OWN_MEMBERS,
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
from .vocabulary import StateView

GENERATOR = "useful"
"""Which candidate generator receivers use: "useful" (fast) or "exhaustive" (reference)."""


def adversary_nonces(config: Config, state: st.State) -> list[Nonce]:
    """Nonces the adversary may use: seen in the network, made by R, or (predictable
    nonces) the next one each target will issue.  Sorted, for a deterministic order."""
    nonces = set(st.known_nonces(state))
    if config.rogue_ds:
        nonces.add(Nonce(config.rogue_ds_id, 0))
    if _predictable(config):
        nonces.update(next_nonces(config, state))
    return sorted(nonces)


def next_nonces(config: Config, state: st.State) -> list[Nonce]:
    """The nonce each target will issue next (predictable nonces: a counter, say)."""
    out = []
    for target, pool in enumerate(state.nonces):
        for k, rec in enumerate(pool):
            if rec.phase == st.UNUSED:
                out.append(Nonce(target, k))
                break
    return out


def _all_ds(config: Config) -> range:
    return range(config.ds)


@cache
def x_requests(config: Config) -> tuple[MigrationRequest, ...]:
    """Every MigrationRequest X can send (to an honest target)."""
    if not config.rogue_client:
        return ()
    x = config.rogue_client_id
    return tuple(
        MigrationRequest(x, source, target, group, epoch)
        for source in _all_ds(config)
        for target in range(config.honest_ds)
        if source != target
        for group in range(config.groups)
        for epoch in range(config.max_epoch)
    )


def _request_structs(config: Config) -> Iterator[MigrationRequest]:
    """Every request struct within bounds, naming any client (R may put any in a response)."""
    clients = config.clients + (1 if config.rogue_client else 0)
    for client in range(clients):
        for source in _all_ds(config):
            for target in range(config.honest_ds):
                if source != target:
                    for group in range(config.groups):
                        for epoch in range(config.max_epoch):
                            yield MigrationRequest(client, source, target, group, epoch)


def _network_responses(state: st.State) -> set[MigrationResponse]:
    net = state.network
    out = set(net.responses)
    out.update(i.response for i in net.inits)
    out.update(c.response for c in net.contents)
    return out


def knows_response(config: Config, state: st.State, m: MigrationResponse) -> bool:
    """Seen in the network (alone or inside a message), or signed by R itself."""
    if m in _network_responses(state):
        return True
    return (
        config.rogue_ds
        and m.signer == config.rogue_ds_id
        and _in_bounds(config, m.request)
        and m.nonce in adversary_nonces(config, state)
    )


def _in_bounds(config: Config, r: MigrationRequest) -> bool:
    clients = config.clients + (1 if config.rogue_client else 0)
    return (
        0 <= r.client < clients
        and 0 <= r.source < config.ds
        and 0 <= r.target < config.honest_ds
        and r.source != r.target
        and 0 <= r.group < config.groups
        and 0 <= r.epoch < config.max_epoch
    )


def forged_states(state: st.State, resp: MigrationResponse) -> tuple[GroupState, ...]:
    """The group states R signs into a MigrationContent carrying `resp`: its request's group
    after the commit or before it (a state at the wrong epoch), with the group's own member
    list; and after the commit with another list where a target consumed `resp`'s nonce.

    Which list R's content carries is R's to choose and no target can check it, so the
    first content under a nonce is, up to renaming the two lists, the own one: another list
    makes a difference only as a second content for a nonce already consumed (refused).
    Offering it before would double every import of R's without a behaviour more."""
    r = resp.request
    consumed = StateView(state).record(*resp.nonce).phase == st.CONSUMED
    return (GroupState(r.group, r.epoch + 1, OWN_MEMBERS),
            GroupState(r.group, r.epoch, OWN_MEMBERS),
            *((GroupState(r.group, r.epoch + 1, OTHER_MEMBERS),) if consumed else ()))


def can_forge(config: Config, state: st.State, m: Any) -> bool:
    """Whether X or R can produce `m` now: the definition of the adversary's power."""
    x, rogue = config.rogue_client_id, config.rogue_ds_id
    if isinstance(m, MigrationRequest):
        return m in x_requests(config)
    if isinstance(m, MigrationInit):
        return config.rogue_client and m.signer == x and knows_response(config, state, m.response)
    if not config.rogue_ds:
        return False
    if isinstance(m, MigrationResponse):
        return m.signer == rogue and knows_response(config, state, m)
    if isinstance(m, MigrationContent):
        return (
            m.signer == rogue
            and knows_response(config, state, m.response)
            and m.state in forged_states(state, m.response)
        )
    if isinstance(m, TargetMigrationComplete | TargetMigrationRejected):
        return m.signer == rogue and m.content in state.network.contents
    if isinstance(m, MigrationConfirmation | MigrationAborted):
        return m.signer == rogue and m.nonce in adversary_nonces(config, state)
    if isinstance(m, CommitFanout):
        return m.ds == rogue
    return False


# ---------------------------------------------------------------- exhaustive generator


def _forged_responses(config: Config, state: st.State) -> list[MigrationResponse]:
    if not config.rogue_ds:
        return []
    nonces = adversary_nonces(config, state)
    return [
        MigrationResponse(config.rogue_ds_id, r, n)
        for r in _request_structs(config)
        for n in nonces
    ]


def exhaustive(config: Config, state: st.State, kind: type[Any]) -> Iterator[Any]:
    """Every message of `kind` the adversary can produce now, within the bounds (the
    well-formed ones: a malformed message is refused by every receiver)."""
    x, rogue = config.rogue_client_id, config.rogue_ds_id
    if kind is MigrationRequest:
        yield from x_requests(config)
        return
    known = sorted(_network_responses(state) | set(_forged_responses(config, state)))
    if kind is MigrationInit:
        if config.rogue_client:
            for resp in known:
                yield MigrationInit(x, resp, resp.request.epoch, resp.request.target)
        return
    if not config.rogue_ds:
        return
    if kind is MigrationResponse:
        yield from _forged_responses(config, state)
    elif kind is MigrationContent:
        for resp in known:
            for group_state in forged_states(state, resp):
                yield MigrationContent(rogue, resp, group_state)
    elif kind is TargetMigrationComplete:
        for content in sorted(state.network.contents):
            yield TargetMigrationComplete(rogue, content)
    elif kind is TargetMigrationRejected:
        for content in sorted(state.network.contents):
            yield TargetMigrationRejected(rogue, content)
    elif kind is MigrationConfirmation:
        for n in adversary_nonces(config, state):
            for target in range(config.honest_ds):
                for group in range(config.groups):
                    yield MigrationConfirmation(rogue, target, n, group)
    elif kind is MigrationAborted:
        for n in adversary_nonces(config, state):
            for group in range(config.groups):
                yield MigrationAborted(rogue, group, n)
    elif kind is CommitFanout:
        committers = config.clients + (1 if config.rogue_client else 0)
        for group in range(config.groups):
            for epoch in range(config.max_epoch):
                for committer in range(committers):
                    for aad in (NONE, *range(config.honest_ds)):
                        yield CommitFanout(rogue, group, epoch, committer, aad)


# ---------------------------------------------------------------- useful generator


def _client_requests_now(config: Config, state: st.State) -> Iterator[MigrationRequest]:
    """The requests honest clients would accept a response to now: the outstanding ones."""
    for client, row in enumerate(state.clients):
        for group, v in enumerate(row):
            if v.requested:
                yield MigrationRequest(client, v.ds, v.target, group, v.epoch)


def useful(config: Config, state: st.State, kind: type[Any]) -> Iterator[Any]:
    """A superset of the forged messages of `kind` that an honest receiver can accept now.

    Why each omission is safe: an honest client accepts only responses signed by its target
    (always honest) unless responses are unsigned; a source accepts an Init only from a
    member unless inits are unsigned; a target imports R's content only for a request with
    source R (unless contents are unsigned) and a pending nonce it issued for exactly that
    request, whose response it signed (any nonce it issued for it under no_nonce_check);
    and nobody honest expects R's signature on any other kind."""
    x, rogue = config.rogue_client_id, config.rogue_ds_id
    if kind is MigrationRequest:
        yield from x_requests(config)
        return
    if kind is MigrationResponse:
        if config.rogue_ds and _unsigned_response(config):
            for r in _client_requests_now(config, state):
                for n in _distinct_forged_nonces(config, state, r.target):
                    yield MigrationResponse(rogue, r, n)
        return
    if kind is MigrationInit:
        if config.rogue_client and "lock.member_signature" in config.dropped:
            for resp in sorted(_x_embeddable(config, state)):
                r = resp.request
                if r.client == x:
                    yield MigrationInit(x, resp, r.epoch, r.target)
        return
    if kind is MigrationContent and config.rogue_ds:
        for resp in sorted(_r_embeddable(config, state)):
            r = resp.request
            if "import.content_signed" in config.dropped or r.source == rogue:
                for group_state in forged_states(state, resp):
                    yield MigrationContent(rogue, resp, group_state)


def _distinct_forged_nonces(config: Config, state: st.State, target: int) -> list[Nonce]:
    """The nonces whose use in a forged response to a request for `target` can make a
    difference.

    A target imports a content only under a nonce it issued for exactly its request, and
    otherwise rejects it, whichever other nonce it carries; so a nonce issued for another
    request acts like R's own nonce, and a nonce issued for this request acts like the
    genuine response.  What is left: R's own nonce and, when nonces are predictable, the
    nonce `target` will issue next.  `useful` is smaller than `exhaustive` there, with
    the same verdicts (tests/test_model_checker.py)."""
    nonces = [Nonce(config.rogue_ds_id, 0)]
    if _predictable(config):
        nonces.extend(n for n in next_nonces(config, state) if n[0] == target)
    return nonces


def _x_embeddable(config: Config, state: st.State) -> set[MigrationResponse]:
    """Responses to X's requests a source may accept inside X's MigrationInit."""
    out = {r for r in _network_responses(state) if r.request.client == config.rogue_client_id}
    if config.rogue_ds and _unsigned_response(config):
        out.update(
            MigrationResponse(config.rogue_ds_id, r, n)
            for r in x_requests(config)
            for n in _distinct_forged_nonces(config, state, r.target)
        )
    return out


def _r_embeddable(config: Config, state: st.State) -> set[MigrationResponse]:
    """Responses a target may accept inside R's MigrationContent."""
    rogue = config.rogue_ds_id
    unsigned = _unsigned_response(config)
    out = set()
    if "import.nonce_pending" in config.dropped:
        # any response the target signed, whatever became of its nonce
        for target, pool in enumerate(state.nonces):
            for index, rec in enumerate(pool):
                if rec.phase != st.UNUSED:
                    out.add(MigrationResponse(target, rec.request, Nonce(target, index)))
                    if unsigned:
                        out.add(MigrationResponse(rogue, rec.request, Nonce(target, index)))
        return out
    for target, pool in enumerate(state.nonces):
        for index, rec in enumerate(pool):
            if rec.phase == st.PENDING:
                out.add(MigrationResponse(target, rec.request, Nonce(target, index)))
                if unsigned:
                    out.add(MigrationResponse(rogue, rec.request, Nonce(target, index)))
    return out


def _unsigned_response(config: Config) -> bool:
    """Whether some honest receiver does not check the signature on a response."""
    return bool(config.dropped & _RESPONSE_SIGNATURES)


def _predictable(config: Config) -> bool:
    return "forge.nonce_known" in config.dropped


_RESPONSE_SIGNATURES = frozenset({"init.response_signed", "lock.response_signed",
                                  "import.response_signed"})


USEFUL_RELIES_ON = frozenset({
    "init.outstanding_request", "init.matches_request", "lock.signed_by_requester",
    "import.own_nonce", "import.issued_for_request", "confirm.signed_by_own_ds",
    "abort.signed_by_own_ds", "advance.from_own_ds", "switch.from_own_ds",
    "fanout.signed_by_target", "unlock.signed_by_target",
})
"""The checks `useful`'s argument assumes in force and does not follow when dropped (the
signature and nonce checks it does follow are read from `config.dropped` above)."""


def useful_reads(config: Config, kind: type[Any]) -> frozenset[str] | None:
    """The parts of a state (tables and network slots, as model/footprint.py names them)
    that `useful` reads for `kind` in the design of `config`; None where it gives no
    candidate of that kind at all.  Equal parts, equal candidates: model/expander.py Expander
    relies on it and tests/test_model_incremental.py checks it on every state of an
    exploration of every design `useful` covers."""
    if kind is MigrationRequest:
        return frozenset() if config.rogue_client else None
    if kind is MigrationResponse:
        if config.rogue_ds and _unsigned_response(config):
            return frozenset({"clients", "nonces"})
        return None
    if kind is MigrationInit:
        if config.rogue_client and "lock.member_signature" in config.dropped:
            return frozenset({"responses", "inits", "contents", "nonces"})
        return None
    if kind is MigrationContent and config.rogue_ds:
        return frozenset({"nonces"})
    return None


def useful_applies(config: Config) -> bool:
    """Whether `useful` covers this design: its argument above holds unless the design
    drops a check it relies on; such a design is given `exhaustive`."""
    return not config.dropped & USEFUL_RELIES_ON


def candidates(config: Config, state: st.State, kind: type[Any]) -> Iterator[Any]:
    """Forged candidates of `kind` for receivers, from the generator `GENERATOR` names
    (`exhaustive` for a design `useful` does not cover)."""
    if GENERATOR == "exhaustive" or not _useful_applies(config):
        return exhaustive(config, state, kind)
    return useful(config, state, kind)


def _useful_applies(config: Config) -> bool:
    """`useful_applies`, once per Config object (hashing a Config per call costs more)."""
    found: bool | None = config.__dict__.get("_useful")
    if found is None:
        found = config.__dict__["_useful"] = useful_applies(config)
    return found
