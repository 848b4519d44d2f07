"""Each model/implementation disagreement the lockstep check found, reproduced directly.

F1: impl.world.check_safety flagged a reachable, model-safe state (target imports R's content);
fixed, kept as a regression test.
F2/F3: a member kept its pending migration past a regular commit (fixed in impl/client.py).
F4: a MigrationResponse does not name the requesting client.
F5: the model let a client use a fresh response to a request made before an abort; fixed (the
model's client view records the outstanding request), kept as a regression test.
F6: a forwarded rejection does not say which attempt it ends.
"""

from __future__ import annotations

import pytest

from impl.lockstep.driver import Divergence, Lockstep
from impl.lockstep.moves import Misdeliver, Refuse, perform
from model import messages as mm
from model.actions import Action
from model.config import Config
from model.properties import violated
from tests.lockstep.helpers import act

REQ0 = mm.MigrationRequest(0, 0, 1, 0, 0)
REQ1 = mm.MigrationRequest(1, 0, 1, 0, 0)


def test_f1_rogue_import_is_another_group_for_the_safety_check() -> None:
    # Regression test: impl.world.check_safety counted the target's import of R's content
    # (a different group with the same id) against the honest group.
    ls = Lockstep(Config())
    x, rogue = ls.config.rogue_client_id, ls.config.rogue_ds_id
    x_request = mm.MigrationRequest(x, rogue, 1, 0, 0)  # X asks d1 to take g0 from R
    act(ls, "target_respond", request=x_request)
    act(ls, "target_import", target=1)
    assert violated(ls.config, ls.state) == []
    assert ls.world.safety_violations() == []


def _f2(ls: Lockstep) -> None:
    act(ls, "client_request", client=0, target=1)
    act(ls, "target_respond", request=REQ0)
    act(ls, "client_init", client=0)
    act(ls, "commit_at_current_ds", client=0)


def test_f2_pending_cleared_past_own_commit() -> None:
    # Regression test: the implementation kept the pending migration (fixed in Client._apply).
    _f2(Lockstep(Config()))


def _f3(ls: Lockstep) -> None:
    act(ls, "client_request", client=0, target=1)
    act(ls, "commit_at_current_ds", client=1)
    act(ls, "member_advance", client=0)
    act(ls, "target_respond", request=REQ0)
    response = next(iter(ls.state.network.responses))
    perform(ls, Refuse("client_init", (0, 0, response)))


def test_f3_stale_response_refused_after_advance() -> None:
    # Regression test: the implementation accepted it (fixed in Client._apply).
    _f3(Lockstep(Config()))


def test_f4_response_does_not_name_the_client() -> None:
    ls = Lockstep(Config())
    act(ls, "client_request", client=0, target=1)
    act(ls, "client_request", client=1, target=1)
    act(ls, "target_respond", request=REQ0)
    response = next(iter(ls.state.network.responses))
    with pytest.raises(Divergence, match="model refuses, implementation accepts"):
        perform(ls, Misdeliver("MigrationResponse", ("client", 1), response))


def _aborted_attempt(ls: Lockstep) -> None:
    act(ls, "client_request", client=0, target=1)
    act(ls, "target_respond", request=REQ0)
    act(ls, "client_init", client=0)
    act(ls, "source_lock_and_export", source=0)
    act(ls, "target_expire_nonce", target=1, index=0)
    act(ls, "target_reject", target=1)
    act(ls, "source_unlock_on_reject", source=0)
    act(ls, "client_abort", client=0)


def test_f5_response_to_a_request_made_before_an_abort_refused() -> None:
    # Regression test: the model accepted it; both sides now refuse it, and a new request
    # (the same struct again) lets the client use a fresh response.
    ls = Lockstep(Config())
    _aborted_attempt(ls)
    act(ls, "target_respond", request=REQ0)
    fresh = max(ls.state.network.responses, key=lambda r: r.nonce)
    assert fresh.nonce == (1, 1)
    perform(ls, Refuse("client_init", (0, 0, fresh)))
    act(ls, "client_request", client=0, target=1)
    ls.apply(Action("client_init", (("client", 0), ("group", 0), ("response", fresh))))
    assert ls.state.clients[0][0].nonce == (1, 1)


def test_f6_rejection_does_not_name_the_attempt() -> None:
    ls = Lockstep(Config())
    _aborted_attempt(ls)
    act(ls, "client_request", client=1, target=1)
    act(ls, "target_respond", request=REQ1)
    act(ls, "client_init", client=1)
    aborted = next(iter(ls.state.network.aborts))
    with pytest.raises(Divergence, match="implementation changed state"):
        perform(ls, Refuse("client_abort", (1, 0, aborted)))
