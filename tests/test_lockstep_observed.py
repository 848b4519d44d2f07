"""The lockstep misses nothing a peer can observe (issue #19), each with a negative control.

- Nothing skipped silently: a move the model allows that the driver cannot make is a
  divergence with its reason (driver.CannotPerform); only a configuration the driver does
  not cover is skipped, and `conform` reports how many and why.
- Every member observed: each fanned-out commit must reach exactly the group's members
  (abstraction.fanout_divergences); tests/lockstep/planted.py leaves one member out.
- Refusals in the model: every refused delivery's answer is compared with the refusal the
  rules name (model/refusals.py, the `refusal` codes on model/rules.py's checks): its code,
  a redirect's target and commit, wrong_epoch's current epoch; the role's whole state
  (`snapshot()`) must be unchanged.  The planted bugs check after the state change, send a
  redirect with the wrong bytes, swallow a refusal; here, a wrong current epoch.
- One-field tampering: every field of every signed message kind, changed alone in a
  well-formed copy, re-signed by the rogue or not, must be refused unchanged
  (impl/lockstep/tampering.py); the planted bug leaves a field out of a signature.
- Application calls the rules refuse (model/refusals.py refused_calls) are moves: the
  client must raise the local error and change nothing; the planted bug lets a second
  migration replace the first.
- Time jumps (moves.Jump): a DS's time moves past its pending nonces' deadlines with no
  tick, so what arrives next arrives late; the planted bug expires nonces only on a tick.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from impl import messages
from impl.ds import DeliveryService
from impl.envelope import Envelope, Kind
from impl.errors import ERRORS, LocalProtocolError, WrongEpoch
from impl.lockstep.driver import CannotPerform, Divergence, Lockstep
from impl.lockstep.moves import FieldTamper, Misuse, Refuse, moves, perform, session
from impl.lockstep.tampering import FIELDS, PAYLOADS, tamper
from mimi_portability.cli import main
from model import messages as mm
from model.config import Config, Nonce
from model.refusals import IGNORED
from model.rules import CHECKS, RULES
from model.state import EXPIRED
from tests.lockstep.helpers import act
from tests.lockstep.planted import BUGS as PLANTED
from tests.lockstep.planted import plant


def _conform(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["conform", *argv])
    return code, capsys.readouterr().out


def test_conform_reports_nothing_skipped_in_the_default_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _conform(capsys, "--examples", "4", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["divergences"] == 0 and data["skipped"] == 0 and data["skipped_why"] == {}
    code, out = _conform(capsys, "--examples", "2")
    assert code == 0 and "skipped 0" in out and "SKIPPED" not in out


def test_a_configuration_the_driver_does_not_cover_is_skipped_with_why() -> None:
    report = session(3, 0, config=Config(rogue_client=False))
    assert report.divergences == [] and report.steps == 0
    assert sum(report.skipped.values()) == 3
    (why,) = report.skipped
    assert "needs the rogue client X" in why
    assert report.as_json(Config())["skipped"] == 3


def test_conform_takes_the_bounds_and_skips_what_the_driver_does_not_cover(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _conform(capsys, "--examples", "2", "--groups", "2", "--json")
    data = json.loads(out)
    assert code == 0 and data["skipped"] == 0 and data["divergences"] == 0 and data["steps"]
    assert "groups=2" in data["config"] and data["states_total"] == 0  # not enumerated
    assert data["pairs_total_of"].startswith("clients=2 ds=3 groups=1 ")
    code, out = _conform(capsys, "--examples", "2", "--drop", "lock.current_epoch")
    assert "SKIPPED: 2 examples: the lockstep driver runs the reference design only" in out
    code, out = _conform(capsys, "--examples", "6", "--clients", "1", "--json")
    data = json.loads(out)
    assert code == 0 and data["skipped"] == 0 and data["divergences"] == 0 and data["steps"]
    assert data["config"].startswith("clients=1 ")


class _NoForgedContent(Lockstep):
    """A driver that cannot build the rogue's MigrationContent (as if its forging code had
    a gap): every such move the model allows must come out as a divergence."""

    def forge(self, m: Any) -> Envelope:
        if isinstance(m, mm.MigrationContent):
            raise CannotPerform(f"cannot forge {m}")
        return super().forge(m)


def test_a_move_the_driver_cannot_make_is_a_divergence_not_a_skip() -> None:
    report = session(60, 0, factory=lambda: _NoForgedContent(Config()))
    assert report.divergences, "a move the driver cannot make went unreported"
    assert not report.skipped
    assert "the driver cannot make it on the implementation" in report.divergences[0]
    assert "cannot forge MigrationContent" in report.divergences[0]


def test_a_commit_fanned_out_to_a_non_member_diverges() -> None:
    ls = Lockstep(Config())
    act(ls, "commit_at_current_ds", client=0)
    ls.verify("the commit, fanned out to both members")
    sent = next(e for e in ls.table.values() if e.kind == Kind.Fanout)
    rogue = ls.world.rogue_client.identity
    ls._emit([Envelope(sender=sent.sender, recipient=rogue, kind=Kind.Fanout,
                       payload=sent.payload)])
    with pytest.raises(Divergence, match=r"non-members \[2\]"):
        ls.verify("the commit also sent to X")


def test_every_refusal_the_rules_name_is_a_code_of_impl_errors() -> None:
    local = {cls.code for cls in _subclasses(LocalProtocolError)}
    named = {(c.id, code) for c in CHECKS.values() for code in c.refusal}
    named |= {(r.name, code) for r in RULES for code in r.misrouted}
    assert named
    for where, code in named:
        ok = code in ERRORS or code == IGNORED or (
            code.startswith("local:") and code.removeprefix("local:") in local)
        assert ok, (where, code)
    # every check of a delivery the lockstep refuses says what a peer gets
    assert all(c.refusal for c in CHECKS.values()
               if c.id.split(".")[0] in ("lock", "fanout", "unlock", "respond")
               and c.kind == "check" and "max_epoch" not in c.text
               and c.id != "respond.fresh_nonce")


def _subclasses(cls: type[Any]) -> list[type[Any]]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_a_wrong_current_epoch_in_a_refusal_diverges(monkeypatch: pytest.MonkeyPatch) -> None:
    original = DeliveryService._on_commit

    def _on_commit(self: DeliveryService, envelope: Envelope, now: float) -> list[Envelope]:
        try:
            return original(self, envelope, now)
        except WrongEpoch as err:
            raise WrongEpoch(group_id=err.group_id, current=err.current + 1,
                             got=err.got) from None

    monkeypatch.setattr(DeliveryService, "_on_commit", _on_commit)
    monkeypatch.setitem(DeliveryService._HANDLERS, Kind.Commit, _on_commit)
    report = session(60, 0)
    assert report.divergences, "a wrong current epoch went unnoticed"
    assert "wrong_epoch must carry the current epoch" in report.divergences[0]


MIGRATION = [("client_request", {"client": 0}), ("target_respond", {}),
             ("client_init", {"client": 0}), ("source_lock_and_export", {}),
             ("target_import", {}), ("source_fanout_and_confirm", {})]


def test_a_member_behind_a_migration_gets_the_redirect_the_rules_name() -> None:
    """After the source fanned out, c1 (not yet switched) commits at the old DS and an Init
    reaches it: both are refused with group_moved, the target and the migration commit
    compared with the model's (refused_pair: "redirected")."""
    ls = Lockstep(Config())
    for name, match in MIGRATION:
        act(ls, name, **match)
    redirected = [(pair, move) for pair, move in moves(ls) if pair[1] == "redirected"]
    assert {pair for pair, _ in redirected} == {("commit_at_current_ds", "redirected"),
                                                 ("source_lock_and_export", "redirected")}
    for _, move in redirected:
        perform(ls, move)
    assert ls.refusals["group_moved"] == len(redirected)


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            out.update(_leaves(getattr(value, f.name), prefix + f.name + "."))
        return out
    return {prefix.rstrip("."): value}


def test_every_field_of_every_signed_kind_is_tampered_alone() -> None:
    signed = {cls for cls in vars(messages).values()
              if isinstance(cls, type) and issubclass(cls, messages.SignedStruct)
              and cls is not messages.SignedStruct}
    carried = set(PAYLOADS.values()) | {messages.MigrationInit}  # the Init rides in a bundle
    assert signed <= carried, signed - carried
    ls = Lockstep(Config())
    for name, match in MIGRATION:
        act(ls, name, **match)
    seen = {env.kind: env for env in ls.table.values() if env.kind in PAYLOADS}
    assert set(seen) == set(PAYLOADS) - {Kind.TargetMigrationRejected}
    for kind, env in seen.items():
        before = _leaves(PAYLOADS[kind].decode(env.payload))
        assert set(before) == set(FIELDS[kind])
        for path in FIELDS[kind]:
            for key in (None, ls.world.rogue_ds.key):
                after = _leaves(PAYLOADS[kind].decode(tamper(env, path, key).payload))
                changed = {p for p in before if before[p] != after[p]}
                resigned = {p for p in changed if p.endswith("signature")}
                assert path in changed and changed - resigned <= {path}, (kind, path, changed)


def test_the_default_run_compares_refusals_and_tampers_every_field() -> None:
    report = session(100, 0)
    data = report.as_json(Config())
    assert not report.divergences
    assert {"wrong_epoch", "bad_signature", "group_exists", "group_moved"} <= set(
        report.refusals), report.refusals
    assert data["fields_tampered"] == data["fields_total"] == 62


def test_a_signed_field_left_out_of_the_signature_is_caught_by_field_tampering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bug = next(b for b in PLANTED if b.name == "content_signature_skips_group_state")
    plant(bug, monkeypatch)
    ls = Lockstep(Config())
    for name, match in MIGRATION[:4]:
        act(ls, name, **match)
    content = next(iter(ls.state.network.contents))
    with pytest.raises(Divergence, match="group_state changed"):
        perform(ls, FieldTamper("MigrationContent", ("ds", 1), content, "group_state", False))


def test_application_calls_the_rules_refuse_are_refused_locally() -> None:
    ls = Lockstep(Config())
    offered = {move.call: move for _, move in moves(ls) if isinstance(move, Misuse)}
    assert set(offered) == {"abandon_migration"}  # nothing to abandon yet
    perform(ls, offered["abandon_migration"])
    act(ls, "client_request", client=0)
    offered = {(move.call, move.client): move for _, move in moves(ls)
               if isinstance(move, Misuse)}
    assert ("start_migration", 0) in offered and ("abandon_migration", 0) not in offered
    perform(ls, offered[("start_migration", 0)])
    assert ls.refusals == {"local:no_migration_to_abandon": 1, "local:migration_in_progress": 1}


def test_a_misuse_call_accepted_diverges(monkeypatch: pytest.MonkeyPatch) -> None:
    plant(next(b for b in PLANTED if b.name == "second_migration_replaces_first"), monkeypatch)
    ls = Lockstep(Config())
    act(ls, "client_request", client=0)
    with pytest.raises(Divergence, match="the client accepts it"):
        perform(ls, Misuse("start_migration", 0, "migration_in_progress"))


def test_a_request_after_a_jump_past_the_pending_nonce_is_answered() -> None:
    """Found by the jump moves: a target refused a new request for a group while its only
    nonce for it was past its lifetime, because no tick had marked it expired yet."""
    ls = Lockstep(Config())
    act(ls, "client_request", client=0)
    act(ls, "target_respond")
    ls.jump(1, 12345)
    assert ls.state.nonces[1][0].phase == EXPIRED
    act(ls, "client_request", client=1)
    act(ls, "target_respond")  # the impl refused it with group_exists before the fix


def test_content_arriving_late_is_rejected_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    ls = Lockstep(Config())
    for name, match in MIGRATION[:4]:
        act(ls, name, **match)
    late = ls.fork()
    late.jump(1, 1 << 20)
    act(late, "target_reject")  # the model: the nonce expired; the target rejects
    plant(next(b for b in PLANTED if b.name == "expiry_only_on_tick"), monkeypatch)
    ls.jump(1, 1 << 20)
    with pytest.raises(Divergence):
        act(ls, "target_reject")


def test_late_forged_content_is_rejected_with_no_change_of_state() -> None:
    """Found by `conform --epochs 2` (issue #19): the rogue client asks d1 for a nonce
    naming the rogue DS as source, time jumps past it, and the rogue DS sends content under
    it.  The model refuses the import (the nonce expired) and changes nothing; the target
    answered the rogue with a rejection, which is allowed, but also wrote EXPIRED into the
    nonce record, a change of state on a refusal.  Expiry is written by a tick only
    (target_expire_nonce); a message arriving late reads it from the lifetime."""
    ls = Lockstep(Config())
    rogue = mm.MigrationRequest(client=2, source=2, target=1, group=0, epoch=0)
    act(ls, "target_respond", request=rogue)
    ls.jump(1, 7)
    forged = [move for pair, move in moves(ls) if pair == ("forge", "MigrationContent")
              and isinstance(move, Refuse) and move.args[-1].response.request == rogue]
    assert forged
    for move in forged:
        perform(ls, move)  # refused unchanged: raised Divergence before the fix


ROGUE_REQUEST = mm.MigrationRequest(client=2, source=2, target=1, group=0, epoch=0)
"""The rogue client's request to d1 naming the rogue DS as the group's source."""


def _rogue_content(ls: Lockstep, label: str) -> list[Refuse]:
    """The refused forgeries of R's content for ROGUE_REQUEST labelled `label`."""
    return [move for pair, move in moves(ls) if pair == ("forge", f"MigrationContent {label}")
            and isinstance(move, Refuse) and move.args[-1].response.request == ROGUE_REQUEST]


def _rogue_state(members: int, epoch: int = 1) -> mm.MigrationContent:
    response = mm.MigrationResponse(1, ROGUE_REQUEST, Nonce(1, 0))
    return mm.MigrationContent(2, response, mm.GroupState(0, epoch, members))


def test_a_state_at_the_wrong_epoch_is_rejected_with_no_change_of_state(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the rogue DS's forged states (issue #19, item 6): the target answered a
    state before the commit with a signed rejection, and also marked the nonce rejected, a
    change of state on bad input the model refuses.  The nonce stays pending now: R's state
    after the commit still imports.  Negative control: a target that does not check the
    state's epoch imports it."""
    ls = Lockstep(Config())
    act(ls, "target_respond", request=ROGUE_REQUEST)
    stale = _rogue_content(ls, "at another epoch")
    assert [m.args[-1] for m in stale] == [_rogue_state(mm.OWN_MEMBERS, epoch=0)]
    perform(ls, stale[0])  # raised Divergence before the fix
    act(ls, "target_import", content=_rogue_state(mm.OWN_MEMBERS))

    plant(next(b for b in PLANTED if b.name == "state_epoch_not_checked"), monkeypatch)
    buggy = Lockstep(Config())
    act(buggy, "target_respond", request=ROGUE_REQUEST)
    with pytest.raises(Divergence, match="implementation changed state"):
        perform(buggy, _rogue_content(buggy, "at another epoch")[0])


def test_another_member_list_under_a_consumed_nonce_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two contents under one nonce that differ in the member list only: the target that
    imported one refuses the other (nonce_consumed) and keeps what it imported.  Negative
    control: a target that takes it for a retry imports it over the first."""
    ls = Lockstep(Config())
    act(ls, "target_respond", request=ROGUE_REQUEST)
    act(ls, "target_import", content=_rogue_state(mm.OWN_MEMBERS))
    again = _rogue_content(ls, "again for a consumed nonce")
    assert [m.args[-1] for m in again] == [_rogue_state(mm.OWN_MEMBERS, epoch=0),
                                           _rogue_state(mm.OTHER_MEMBERS)]
    for move in again:
        perform(ls, move)
    assert ls.refusals["nonce_consumed"] == 2

    plant(next(b for b in PLANTED if b.name == "reimports_other_content"), monkeypatch)
    buggy = Lockstep(Config())
    act(buggy, "target_respond", request=ROGUE_REQUEST)
    act(buggy, "target_import", content=_rogue_state(mm.OWN_MEMBERS))
    with pytest.raises(Divergence, match="implementation changed state"):
        perform(buggy, _rogue_content(buggy, "again for a consumed nonce")[-1])
