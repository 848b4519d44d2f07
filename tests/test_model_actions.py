"""Every action of model/actions.py: its guard (enabled and disabled cases) and its effect."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from model.actions import (
    ACTIONS,
    ACTIONS_BY_NAME,
    Action,
    ActionNotEnabled,
    replay,
    step,
    successors,
)
from model.config import NO_NONCE, NONE, Config, DesignOptions
from model.messages import (
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
    message_from_json,
    message_to_json,
)
from model.state import (
    ACTIVE,
    CONSUMED,
    EXPIRED,
    LOCKED,
    MOVED,
    PENDING,
    ClientView,
    Commit,
    Import,
    State,
    initial_state,
    sent,
)

CFG = Config()
C0, C1, X = 0, 1, CFG.rogue_client_id
D0, D1, R = 0, 1, CFG.rogue_ds_id
G = 0

REQ = MigrationRequest(C0, D0, D1, G, 0)
RESP = MigrationResponse(D1, REQ, (D1, 0))
INIT = MigrationInit(C0, RESP, 0, D1)
CONTENT = MigrationContent(D0, RESP, GroupState(G, 1, OWN_MEMBERS))
COMPLETE = TargetMigrationComplete(D1, CONTENT)
FANOUT = CommitFanout(D0, G, 0, C0, D1)
CONFIRMATION = MigrationConfirmation(D0, D1, (D1, 0), G)


def act(name: str, **kwargs: Any) -> Action:
    spec = ACTIONS_BY_NAME[name]
    return Action(name, tuple((p, kwargs[p]) for p in spec.params))


HAPPY = [
    act("client_request", client=C0, group=G, target=D1),
    act("target_respond", target=D1, request=REQ),
    act("client_init", client=C0, group=G, response=RESP),
    act("source_lock_and_export", source=D0, init=INIT),
    act("target_import", target=D1, content=CONTENT),
    act("source_fanout_and_confirm", source=D0, complete=COMPLETE),
    act("client_confirm", client=C0, group=G, confirmation=CONFIRMATION),
    act("member_switch", client=C1, group=G, fanout=FANOUT),
]


def after(n: int, config: Config = CFG) -> State:
    """The state after the first n steps of the happy path."""
    return replay(config, HAPPY[:n])[-1]


def enabled(config: Config, state: State, action: Action) -> bool:
    return any(a == action for a, _ in successors(config, state))


def with_options(**options: bool) -> Config:
    return CFG.with_options(DesignOptions(**options))


def test_table_lists_the_required_actions() -> None:
    required = {
        "client_request", "target_respond", "client_init", "source_lock_and_export",
        "target_import", "target_reject", "source_fanout_and_confirm", "source_retry",
        "client_confirm", "member_switch", "commit_at_current_ds", "target_expire_nonce",
        "source_unlock_on_reject", "client_abort", "member_advance", "source_timeout",
        "target_reacknowledge",
    }
    assert required <= set(ACTIONS_BY_NAME)
    assert len(ACTIONS_BY_NAME) == len(ACTIONS)
    for spec in ACTIONS:
        assert spec.doc, spec.name


def test_initial_state() -> None:
    s = initial_state(CFG)
    assert s.hosts[D0][G].phase == ACTIVE and s.hosts[D0][G].epoch == 0
    assert s.hosts[D1][G].phase not in (ACTIVE, LOCKED)
    assert all(row[G] == ClientView(D0, 0, NO_NONCE, NONE) for row in s.clients)
    assert all(not slot for slot in s.network) and all(not g for g in s.ghost)
    assert hash(s) == hash(initial_state(CFG))


def test_happy_path_replays_and_every_step_is_enabled_where_taken() -> None:
    states = replay(CFG, HAPPY)
    for state, action in zip(states, HAPPY, strict=False):
        assert enabled(CFG, state, action)
    final = states[-1]
    assert final.hosts[D0][G].phase == MOVED and final.hosts[D0][G].target == D1
    assert final.hosts[D1][G].phase == ACTIVE and final.hosts[D1][G].epoch == 1
    assert final.clients[C0][G] == ClientView(D1, 1, NO_NONCE, NONE)
    assert final.clients[C1][G] == ClientView(D1, 1, NO_NONCE, NONE)


def test_step_rejects_a_disabled_or_malformed_action() -> None:
    with pytest.raises(ActionNotEnabled):
        step(CFG, initial_state(CFG), HAPPY[1])  # nothing requested yet
    with pytest.raises(ActionNotEnabled):
        step(CFG, initial_state(CFG), Action("no_such_action", ()))
    with pytest.raises(ActionNotEnabled):
        step(CFG, initial_state(CFG), Action("client_request", (("client", 0),)))


def test_action_json_round_trip() -> None:
    for action in HAPPY:
        assert Action.from_json(action.to_json()) == action
    assert len(replay(CFG, [a.to_json() for a in HAPPY])) == len(HAPPY) + 1


def test_a_trace_written_before_group_states_had_member_lists_still_reads() -> None:
    """A GroupState in JSON without `members` (traces written before the field) was the
    group's own state; any other missing field is still an error."""
    old = message_to_json(CONTENT)
    del old["state"]["members"]
    assert message_from_json(old) == CONTENT
    del old["state"]["epoch"]
    with pytest.raises(KeyError, match="epoch"):
        message_from_json(old)


# ---------------------------------------------------------------- client_request


def test_client_request() -> None:
    s0 = initial_state(CFG)
    a = act("client_request", client=C0, group=G, target=D1)
    s1 = step(CFG, s0, a)
    assert s1.network.requests == {REQ}
    assert not enabled(CFG, s1, a)  # already sent: no stutter step
    assert not enabled(CFG, s0, act("client_request", client=C0, group=G, target=D0))
    assert not enabled(CFG, s0, act("client_request", client=C0, group=G, target=R))
    assert not enabled(CFG, after(3), act("client_request", client=C0, group=G, target=D1))
    top = dataclasses.replace(CFG, max_epoch=1)
    assert not enabled(top, after(8, top), act("client_request", client=C0, group=G, target=D0))


# ---------------------------------------------------------------- target_respond


def test_target_respond_issues_a_fresh_nonce_bound_to_the_request() -> None:
    s2 = after(2)
    assert s2.nonces[D1][0].phase == PENDING and s2.nonces[D1][0].request == REQ
    assert s2.network.responses == {RESP}
    # the same request again: uniqueness (the group is pending at d1) refuses it
    assert not enabled(CFG, s2, act("target_respond", target=D1, request=REQ))
    loose = with_options(no_group_id_uniqueness=True)
    s = step(loose, after(2, loose), act("target_respond", target=D1, request=REQ))
    assert s.nonces[D1][1].phase == PENDING
    assert sent(s, MigrationResponse(D1, REQ, (D1, 1)))
    # the pool is exhausted after `attempts` nonces
    assert not enabled(loose, s, act("target_respond", target=D1, request=REQ))


def test_target_respond_refuses_a_group_it_hosts_and_denied_clients() -> None:
    s0 = initial_state(CFG)
    squat = MigrationRequest(X, R, D0, G, 0)  # X asks d0 to import g0 from R: d0 hosts g0
    assert not enabled(CFG, s0, act("target_respond", target=D0, request=squat))
    assert enabled(with_options(no_group_id_uniqueness=True), s0,
                   act("target_respond", target=D0, request=squat))
    ok = MigrationRequest(X, R, D1, G, 0)  # forged by X: allowed by the default policy
    assert enabled(CFG, s0, act("target_respond", target=D1, request=ok))
    strict = dataclasses.replace(CFG, target_denies=frozenset({X}))
    assert not enabled(strict, s0, act("target_respond", target=D1, request=ok))


# ---------------------------------------------------------------- client_init


def test_client_init() -> None:
    s3 = after(3)
    assert s3.clients[C0][G] == ClientView(D0, 0, (D1, 0), D1)
    assert s3.network.inits == {INIT}
    forged = MigrationResponse(R, REQ, (R, 0))
    s1 = after(1)
    assert not enabled(CFG, s1, act("client_init", client=C0, group=G, response=forged))
    unsigned = with_options(unsigned_response=True)
    assert enabled(unsigned, after(1, unsigned),
                   act("client_init", client=C0, group=G, response=forged))
    # another client's response, and a response once pending, are refused
    assert not enabled(CFG, after(2), act("client_init", client=C1, group=G, response=RESP))
    assert not enabled(CFG, s3, act("client_init", client=C0, group=G, response=RESP))


def test_client_init_refuses_a_stale_response() -> None:
    s = step(CFG, after(2), act("commit_at_current_ds", client=C0, group=G))
    assert not enabled(CFG, s, act("client_init", client=C0, group=G, response=RESP))


# ---------------------------------------------------------------- source_lock_and_export


def test_source_lock_and_export() -> None:
    s4 = after(4)
    host = s4.hosts[D0][G]
    assert host.phase == LOCKED and host.epoch == 0 and host.lock == CONTENT
    assert s4.network.contents == {CONTENT}
    assert len(s4.ghost.starts) == 1 and not s4.ghost.history
    assert not enabled(CFG, s4, act("source_lock_and_export", source=D0, init=INIT))


def test_source_lock_refuses_a_non_member_and_bad_commits() -> None:
    x_request = MigrationRequest(X, D0, D1, G, 0)
    x_response = MigrationResponse(D1, x_request, (D1, 0))
    s = step(CFG, initial_state(CFG), act("target_respond", target=D1, request=x_request))
    x_init = MigrationInit(X, x_response, 0, D1)
    assert not enabled(CFG, s, act("source_lock_and_export", source=D0, init=x_init))
    assert enabled(with_options(unsigned_init=True), s,
                   act("source_lock_and_export", source=D0, init=x_init))
    s3 = after(3)
    wrong_aad = MigrationInit(C0, RESP, 0, D0)
    wrong_epoch = MigrationInit(C0, RESP, 1, D1)
    assert enabled(CFG, s3, HAPPY[3])  # the right one works
    for init in (wrong_aad, wrong_epoch):
        s_bad = s3._replace(network=s3.network._replace(inits=frozenset({init})))
        assert not enabled(CFG, s_bad, act("source_lock_and_export", source=D0, init=init))


def test_source_lock_refuses_a_stale_init_unless_epochs_go_unchecked() -> None:
    s = step(CFG, after(3), act("commit_at_current_ds", client=C1, group=G))
    assert s.hosts[D0][G].epoch == 1
    assert not enabled(CFG, s, HAPPY[3])
    loose = with_options(no_epoch_check=True)
    s = step(loose, after(3, loose), act("commit_at_current_ds", client=C1, group=G))
    assert enabled(loose, s, HAPPY[3])


def test_source_policy_denial() -> None:
    strict = dataclasses.replace(CFG, source_denies=frozenset({C0}))
    assert not enabled(strict, after(3, strict), HAPPY[3])


def test_fanout_before_ack_fans_out_at_lock() -> None:
    early = with_options(fanout_before_ack=True)
    s4 = after(4, early)
    assert sent(s4, FANOUT) and CONTENT in s4.ghost.fanned
    assert not sent(after(4), FANOUT)


# ---------------------------------------------------------------- target_import and co


def test_target_import() -> None:
    s5 = after(5)
    assert s5.nonces[D1][0].phase == CONSUMED and s5.nonces[D1][0].content == CONTENT
    assert s5.hosts[D1][G].phase == ACTIVE and s5.hosts[D1][G].epoch == 1
    assert sent(s5, COMPLETE)
    assert s5.ghost.imports == {Import(D1, CONTENT, 0)}
    assert s5.ghost.history == {Commit(G, 0, D0, C0, D1)}
    assert not enabled(CFG, s5, act("target_import", target=D1, content=CONTENT))
    reuse = with_options(nonce_reuse=True)
    assert enabled(reuse, after(5, reuse), act("target_import", target=D1, content=CONTENT))


def test_target_import_checks_signer_and_nonce() -> None:
    s4 = after(4)
    forged = MigrationContent(R, RESP, GroupState(G, 1, OWN_MEMBERS))
    assert not enabled(CFG, s4, act("target_import", target=D1, content=forged))
    unsigned = with_options(unsigned_content=True)
    assert enabled(unsigned, after(4, unsigned),
                   act("target_import", target=D1, content=forged))
    expired = step(CFG, s4, act("target_expire_nonce", target=D1, index=0))
    assert not enabled(CFG, expired, act("target_import", target=D1, content=CONTENT))
    loose = with_options(no_nonce_check=True)
    expired_loose = step(loose, after(4, loose), act("target_expire_nonce", target=D1, index=0))
    assert enabled(loose, expired_loose, act("target_import", target=D1, content=CONTENT))


def test_target_reacknowledge_is_a_stutter() -> None:
    s5 = after(5)
    a = act("target_reacknowledge", target=D1, content=CONTENT)
    assert enabled(CFG, s5, a) and step(CFG, s5, a) == s5
    assert not enabled(CFG, after(4), a)
    forget = with_options(forget_consumed_nonces=True)
    assert not enabled(forget, after(5, forget), a)


def test_target_reject() -> None:
    a = act("target_reject", target=D1, content=CONTENT)
    assert not enabled(CFG, after(4), a)  # pending for exactly this request
    expired = step(CFG, after(4), act("target_expire_nonce", target=D1, index=0))
    s = step(CFG, expired, a)
    assert sent(s, TargetMigrationRejected(D1, CONTENT)) and s.hosts == expired.hosts
    assert not enabled(CFG, after(5), a)  # consumed by this content: re-acknowledged instead
    forget = with_options(forget_consumed_nonces=True)
    assert enabled(forget, after(5, forget), a)


def test_target_expire_nonce() -> None:
    a = act("target_expire_nonce", target=D1, index=0)
    s = step(CFG, after(2), a)
    assert s.nonces[D1][0].phase == EXPIRED and s.nonces[D1][0].request == REQ
    assert not enabled(CFG, s, a) and not enabled(CFG, after(5), a)


# ---------------------------------------------------------------- the source after export


def test_source_fanout_and_confirm() -> None:
    s6 = after(6)
    assert s6.hosts[D0][G].phase == MOVED
    assert sent(s6, FANOUT) and sent(s6, CONFIRMATION) and CONTENT in s6.ghost.fanned
    forged = TargetMigrationComplete(R, CONTENT)
    assert not enabled(CFG, after(5), act("source_fanout_and_confirm", source=D0,
                                          complete=forged))
    assert not enabled(CFG, s6, HAPPY[5])


def test_source_retry_is_a_stutter_while_locked() -> None:
    a = act("source_retry", source=D0, group=G)
    assert enabled(CFG, after(4), a) and step(CFG, after(4), a) == after(4)
    assert not enabled(CFG, after(3), a) and not enabled(CFG, after(6), a)


def test_source_unlock_on_reject_and_client_abort() -> None:
    expired = step(CFG, after(4), act("target_expire_nonce", target=D1, index=0))
    rejected = step(CFG, expired, act("target_reject", target=D1, content=CONTENT))
    rejection = TargetMigrationRejected(D1, CONTENT)
    s = step(CFG, rejected, act("source_unlock_on_reject", source=D0, rejection=rejection))
    assert s.hosts[D0][G].phase == ACTIVE and s.hosts[D0][G].epoch == 0
    aborted = MigrationAborted(D0, G, (D1, 0))
    assert sent(s, aborted)
    s = step(CFG, s, act("client_abort", client=C0, group=G, aborted=aborted))
    assert s.clients[C0][G] == ClientView(D0, 0, NO_NONCE, NONE)
    assert not enabled(CFG, s, act("client_abort", client=C0, group=G, aborted=aborted))


def test_source_timeout_only_in_its_variant() -> None:
    a = act("source_timeout", source=D0, group=G)
    assert not enabled(CFG, after(4), a)
    timeout = with_options(unlock_on_timeout=True)
    s = step(timeout, after(4, timeout), a)
    assert s.hosts[D0][G].phase == ACTIVE


# ---------------------------------------------------------------- clients after export


def test_client_confirm() -> None:
    s7 = after(7)
    assert s7.clients[C0][G] == ClientView(D1, 1, NO_NONCE, NONE)
    assert len(s7.ghost.confirmations) == 1
    # c1 has no pending migration: it may not take c0's confirmation
    assert not enabled(CFG, after(6), act("client_confirm", client=C1, group=G,
                                          confirmation=CONFIRMATION))
    loose = with_options(confirmation_without_nonce_check=True)
    assert enabled(loose, after(6, loose), act("client_confirm", client=C1, group=G,
                                               confirmation=CONFIRMATION))


def test_member_switch_and_advance() -> None:
    assert after(8).clients[C1][G] == ClientView(D1, 1, NO_NONCE, NONE)
    assert not enabled(CFG, after(5), HAPPY[7])  # not fanned out yet
    regular = CommitFanout(D0, G, 0, C0, NONE)
    s = step(CFG, initial_state(CFG), act("commit_at_current_ds", client=C0, group=G))
    assert sent(s, regular)
    advance = act("member_advance", client=C1, group=G, fanout=regular)
    assert not enabled(CFG, s, act("member_switch", client=C1, group=G, fanout=regular))
    s = step(CFG, s, advance)
    assert s.clients[C1][G] == ClientView(D0, 1, NO_NONCE, NONE)
    assert not enabled(CFG, s, advance)


def test_commit_at_current_ds() -> None:
    a = act("commit_at_current_ds", client=C1, group=G)
    s = step(CFG, initial_state(CFG), a)
    assert s.hosts[D0][G].epoch == 1 and s.clients[C1][G].epoch == 1
    assert s.ghost.history == {Commit(G, 0, D0, C1, NONE)}
    assert not enabled(CFG, s, a)  # the bound: epoch 1 is the last
    assert not enabled(CFG, after(4), a)  # locked
    loose = with_options(no_epoch_check=True)
    assert enabled(loose, after(4, loose), a)
    assert not enabled(CFG, after(8), act("commit_at_current_ds", client=C0, group=G))


# ---------------------------------------------------------------- the adversary


def test_forged_messages_are_received_not_stored() -> None:
    unsigned = with_options(unsigned_response=True)
    s1 = after(1, unsigned)
    forged = MigrationResponse(R, REQ, (R, 0))
    a = act("client_init", client=C0, group=G, response=forged)
    assert enabled(unsigned, s1, a)
    s2 = step(unsigned, s1, a)
    assert forged not in s2.network.responses and s2.clients[C0][G].nonce == (R, 0)
    # R cannot use a nonce it never saw or made
    unseen = MigrationResponse(R, REQ, (D1, 0))
    assert not enabled(unsigned, s1, act("client_init", client=C0, group=G, response=unseen))
    predictable = with_options(unsigned_response=True, predictable_nonces=True)
    assert enabled(predictable, after(1, predictable),
                   act("client_init", client=C0, group=G, response=unseen))


def test_rogue_client_request_is_answered() -> None:
    x_request = MigrationRequest(X, R, D1, G, 0)
    s = step(CFG, initial_state(CFG), act("target_respond", target=D1, request=x_request))
    assert s.nonces[D1][0].request == x_request
    rogue_content = MigrationContent(R, MigrationResponse(D1, x_request, (D1, 0)),
                                     GroupState(G, 1, OWN_MEMBERS))
    s = step(CFG, s, act("target_import", target=D1, content=rogue_content))
    assert s.hosts[D1][G].phase == ACTIVE
    assert not s.ghost.history  # a rogue source's group is not the members' group
    # a request naming an honest client can only be sent by that client
    no = MigrationRequest(C0, R, D1, G, 0)
    assert not enabled(CFG, initial_state(CFG), act("target_respond", target=D1, request=no))


def test_a_tombstone_keeps_the_group_id() -> None:
    """Found by the checker at epoch 2: d0 moved g0 to d1, then imported a forged g0 from R
    under the same id, and a member that had not yet processed the migration commit
    committed on it at d0 (a fork).  A tombstone now yields only to the DS it names."""
    two = dataclasses.replace(CFG, max_epoch=2)
    s6 = after(6, two)
    assert s6.hosts[D0][G].phase == MOVED
    squat = MigrationRequest(X, R, D0, G, 0)
    assert not enabled(two, s6, act("target_respond", target=D0, request=squat))
    loose = dataclasses.replace(two, options=DesignOptions(no_group_id_uniqueness=True))
    assert enabled(loose, after(6, loose), act("target_respond", target=D0, request=squat))
    # the group may still come back the way it went
    s7 = after(7, two)
    back = MigrationRequest(C0, D1, D0, G, 1)
    s8 = step(two, s7, act("client_request", client=C0, group=G, target=D0))
    assert sent(s8, back)
    assert enabled(two, s8, act("target_respond", target=D0, request=back))
