"""Each property of model/properties.py on hand-built violating and non-violating states."""

from __future__ import annotations

import dataclasses

import pytest

from model.config import NO_NONCE, NONE
from model.messages import (
    OWN_MEMBERS,
    GroupState,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
)
from model.properties import (
    LIVENESS_ID,
    NEGATIVE_CONTROL,
    PROPERTIES,
    PROPERTY_IDS,
    authorized_migration,
    confirmation_matches,
    export_consent,
    migrations_open,
    no_fanout_before_ack,
    no_group_lost,
    nonce_binding,
    single_owner,
    state_integrity,
    violated,
)
from model.state import (
    ABSENT_HOST,
    ACTIVE,
    Accepted,
    Commit,
    Import,
    Start,
    active,
    initial_state,
    moved,
    record,
    send,
    set_host,
)
from tests.test_model_actions import (
    C0,
    C1,
    CFG,
    CONFIRMATION,
    CONTENT,
    D0,
    D1,
    INIT,
    REQ,
    RESP,
    G,
    R,
    X,
    after,
)


def test_stable_ids_and_statements() -> None:
    assert PROPERTY_IDS == (
        "single_owner", "no_fanout_before_ack", "nonce_binding", "state_integrity",
        "authorized_migration", "export_consent", "confirmation_matches",
        "members_follow_owner", "no_group_lost", LIVENESS_ID,
    )
    for p in PROPERTIES:
        assert p.statement and p.predicate.__doc__


@pytest.mark.parametrize("steps", range(9))
def test_the_happy_path_violates_nothing(steps: int) -> None:
    assert violated(CFG, after(steps)) == []


def test_single_owner() -> None:
    s5 = after(5)
    assert single_owner(CFG, s5)
    fork = record(s5, history=Commit(G, 0, D0, C1, NONE))  # a second commit in epoch 0
    assert not single_owner(CFG, fork)
    other_ds = record(initial_state(CFG), history=Commit(G, 0, D1, C0, NONE))
    assert single_owner(CFG, other_ds)
    assert not single_owner(CFG, record(other_ds, history=Commit(G, 0, D0, C0, NONE)))
    overwrite = record(s5, imports=Import(D1, CONTENT._replace(signer=R), ACTIVE))
    assert not single_owner(CFG, overwrite)


def test_no_group_lost() -> None:
    for steps in range(9):
        assert no_group_lost(CFG, after(steps))
    start = initial_state(CFG)
    gone = set_host(start, D0, G, ABSENT_HOST)  # nobody serves the group
    assert not no_group_lost(CFG, gone)
    handed = set_host(start, D0, G, moved(D1))  # moved to d1, which never imported it
    assert not no_group_lost(CFG, handed)
    assert no_group_lost(CFG, set_host(handed, D1, G, active(1, D0)))
    to_rogue = set_host(start, D0, G, moved(R))  # the rogue DS holds it: not ours to keep
    assert no_group_lost(CFG, to_rogue)
    cycle = set_host(set_host(start, D0, G, moved(D1)), D1, G, moved(D0))
    assert not no_group_lost(CFG, cycle)  # each names the other, nobody serves


def test_no_fanout_before_ack() -> None:
    assert no_fanout_before_ack(CFG, after(6))
    assert not no_fanout_before_ack(CFG, record(after(4), fanned=CONTENT))


def test_nonce_binding() -> None:
    assert nonce_binding(CFG, after(8))
    made_up = MigrationResponse(D1, REQ, (D1, 1))  # a nonce d1 never issued
    content = MigrationContent(D0, made_up, GroupState(G, 1, OWN_MEMBERS))
    assert not nonce_binding(CFG, record(after(4), imports=Import(D1, content, 0)))
    twice = record(after(5), reimports=Import(D1, CONTENT, ACTIVE))
    assert not nonce_binding(CFG, twice)
    other = CONTENT._replace(state=GroupState(G, 1, OWN_MEMBERS), signer=D0)._replace(
        response=RESP._replace(request=REQ._replace(client=C1))
    )
    same_nonce = record(after(5), imports=Import(D1, other, 0))
    assert not nonce_binding(CFG, same_nonce)
    wrong = record(after(6), confirmations=Accepted(C1, G, NO_NONCE, NONE, CONFIRMATION))
    assert not nonce_binding(CFG, wrong)


def test_state_integrity() -> None:
    assert state_integrity(CFG, after(5))
    forged = CONTENT._replace(signer=R)
    assert not state_integrity(CFG, record(after(4), imports=Import(D1, forged, 0)))
    from_rogue = MigrationRequest(X, R, D1, G, 0)
    rogue_content = MigrationContent(R, MigrationResponse(D1, from_rogue, (D1, 0)),
                                     GroupState(G, 1, OWN_MEMBERS))
    assert state_integrity(CFG, record(after(0), imports=Import(D1, rogue_content, 0)))


def test_authorized_migration() -> None:
    assert authorized_migration(CFG, after(4))
    x_response = MigrationResponse(D1, MigrationRequest(X, D0, D1, G, 0), (D1, 0))
    x_start = Start(D0, MigrationInit(X, x_response, 0, D1))
    assert not authorized_migration(CFG, record(after(0), starts=x_start))
    strict = dataclasses.replace(CFG, source_denies=frozenset({C0}))
    assert not authorized_migration(strict, after(4))
    strict = dataclasses.replace(CFG, target_denies=frozenset({C0}))
    assert not authorized_migration(strict, after(4))
    other_signer = Start(D0, INIT._replace(signer=C1))
    assert not authorized_migration(CFG, record(after(0), starts=other_signer))


def test_export_consent() -> None:
    assert export_consent(CFG, after(4))
    forged_response = MigrationResponse(R, REQ, (R, 0))
    shipped = MigrationContent(D0, forged_response, GroupState(G, 1, OWN_MEMBERS))
    assert not export_consent(CFG, send(after(1), shipped))
    by_rogue = MigrationContent(R, forged_response, GroupState(G, 1, OWN_MEMBERS))
    assert export_consent(CFG, send(after(1), by_rogue))  # R's own export is not checked


def test_confirmation_matches() -> None:
    assert confirmation_matches(CFG, after(7))
    for nonce, target in ((NO_NONCE, NONE), ((D1, 1), D1), ((D1, 0), D0)):
        bad = record(after(6), confirmations=Accepted(C1, G, nonce, target, CONFIRMATION))
        assert not confirmation_matches(CFG, bad)


def test_migrations_open() -> None:
    assert not migrations_open(CFG, after(4))
    assert migrations_open(CFG, after(5)) and migrations_open(CFG, after(6))
    assert not migrations_open(CFG, after(7))


def test_negative_control_is_false_on_the_happy_path() -> None:
    assert NEGATIVE_CONTROL.predicate(CFG, after(5))
    assert not NEGATIVE_CONTROL.predicate(CFG, after(6))
