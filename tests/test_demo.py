"""`mimi-portability demo`: the whole migration and each fault, as a user runs it."""

from __future__ import annotations

import json

import pytest

from impl import demo
from impl.events import Fanout, Imported
from impl.world import TARGET
from mimi_portability.cli import main

SIX_MESSAGES = [
    "MigrationRequest",
    "MigrationResponse",
    "MigrationInitWithCommit",
    "MigrationContent",
    "TargetMigrationComplete",
]


def test_happy_path_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json", "--members", "4", "--suite", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    kinds = [m["type"] for m in doc["messages"]]
    assert kinds[:5] == SIX_MESSAGES
    assert kinds[5:] == ["Fanout"] * 4 + ["MigrationConfirmation"]
    assert {(m["ds"], m["epoch"]) for m in doc["members"]} == {(TARGET, 8)}
    assert doc["source"] == {"domain": "source.example", "status": "moved", "tombstone": TARGET}
    assert doc["target"]["status"] == "active" and doc["target"]["epoch"] == 8
    assert doc["safety_violations"] == [] and doc["cipher_suite"] == 2
    assert all(m["bytes"] > 0 for m in doc["messages"])


def test_text_output_names_every_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for kind in [*SIX_MESSAGES, "MigrationConfirmation"]:
        assert kind in out
    assert "members at target.example: 5/5" in out and "safety: all properties hold" in out


@pytest.mark.parametrize("fault", demo.FAULTS)
def test_every_fault_keeps_safety_and_completes(fault: str) -> None:
    result = demo.run_demo(members=3, fault=fault)
    assert result.violations == []
    assert result.world.safety_violations() == []
    accepted = [d for d in result.deliveries if d.refusal is None]
    assert [d.envelope.kind for d in accepted].count("MigrationConfirmation") == 1


def test_drop_ack_is_absorbed_by_a_retry() -> None:
    result = demo.run_demo(fault="drop-ack")
    kinds = [d.envelope.kind for d in result.deliveries]
    assert kinds.count("MigrationContent") == 2  # the original and the tick's re-send
    assert kinds.count("TargetMigrationComplete") == 1  # the first one was dropped
    assert len(result.world.network.dropped) == 1
    imported = [e for e in result.world.target.events if isinstance(e, Imported)]
    assert len(imported) == 1  # the retry was re-acknowledged, not imported again


def test_duplicate_content_is_acknowledged_twice_imported_once() -> None:
    result = demo.run_demo(fault="duplicate-content")
    kinds = [d.envelope.kind for d in result.deliveries]
    assert kinds.count("TargetMigrationComplete") == 2
    assert len([e for e in result.world.target.events if isinstance(e, Imported)]) == 1


def test_replay_content_meets_the_tombstone() -> None:
    result = demo.run_demo(fault="replay-content")
    codes = [d.refusal.code for d in result.deliveries if d.refusal]
    assert "group_moved" in codes


def test_concurrent_migration_is_refused_clearly() -> None:
    result = demo.run_demo(fault="concurrent-migrations")
    refused = [d for d in result.deliveries if d.refusal]
    assert refused[0].refusal is not None and refused[0].refusal.code == "group_exists"
    assert refused[0].envelope.sender == "member-1@client.example"


def test_rogue_ds_forgeries_are_all_refused() -> None:
    result = demo.run_demo(fault="rogue-ds")
    codes = [d.refusal.code for d in result.deliveries if d.refusal]
    assert codes == ["bad_signature"] * 3


@pytest.mark.parametrize("suite", range(1, 8))
def test_demo_every_suite(suite: int) -> None:
    assert demo.run_demo(members=2, suite=suite).violations == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--members", "0"], "error: --members must be 1..100000, got 0"),
        (["demo", "--members", "1000001"], "error: --members must be 1..100000"),
    ],
)
def test_demo_bad_arguments(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 1
    assert capsys.readouterr().err.startswith(message)


def test_demo_bad_suite_and_fault_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["demo", "--suite", "9"], ["demo", "--fault", "meteor"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown MLS cipher suite" in err and "invalid choice: 'meteor'" in err


def test_exit_code_reflects_a_safety_violation(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Negative control: a planted bug (the source fans out before the acknowledgment is
    # checked, by forgetting the lock's hash) must turn the demo's exit code non-zero.
    from impl import ds

    original = ds.DeliveryService._on_init

    def fanout_early(self: ds.DeliveryService, envelope: object, now: float) -> list[object]:
        out = original(self, envelope, now)  # type: ignore[arg-type]
        self.events.append(Fanout(self.groups[next(iter(self.groups))].state.group_id, 0, "x"))
        return out  # type: ignore[return-value]

    monkeypatch.setattr(
        ds.DeliveryService,
        "_HANDLERS",
        {**ds.DeliveryService._HANDLERS, "MigrationInitWithCommit": fanout_early},
    )
    assert main(["demo", "--members", "2"]) == 1
    assert "no_fanout_before_ack" in capsys.readouterr().out
