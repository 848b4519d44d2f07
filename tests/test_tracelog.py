"""The trace log (docs/trace-format.md) and `validate`: format, our logs, hand-edited logs.

Every positive result here has its negative control beside it: the demo's logs are
accepted and the same logs with one line dropped, two lines swapped or one field tampered
are rejected at the line a reader would point at, with the check id where a rule's
conjunct is what fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from impl import demo
from impl.envelope import Refusal
from impl.tracelog.format import FORMAT, LogError, TraceWriter, read_log, schema
from impl.tracelog.samples import back_and_forth
from mimi_portability.cli import main
from mimi_portability.commands.validate import validate


def _demo(folder: Path, fault: str | None = None) -> list[Path]:
    demo.run_demo(fault=fault, trace=folder)
    return sorted(folder.glob("*.ndjson"))


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def _line_of(path: Path, **fields: str) -> int:
    """The 1-based line of the first event with these fields."""
    for n, text in enumerate(_lines(path), 1):
        obj = json.loads(text)
        if all(obj.get(k) == v for k, v in fields.items()):
            return n
    raise AssertionError(f"{path.name}: no line with {fields}")


def _edit(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines))


def _retouch(path: Path, n: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit the event on line `n` in place (its JSON, then written back)."""
    lines = _lines(path)
    obj = json.loads(lines[n - 1])
    change(obj)
    lines[n - 1] = json.dumps(obj) + "\n"
    _edit(path, lines)


def _drop(path: Path, **fields: str) -> int:
    """Drop the first event with these fields; its line number."""
    n = _line_of(path, **fields)
    lines = _lines(path)
    del lines[n - 1]
    _edit(path, lines)
    return n


# -- the format ----------------------------------------------------------------------------


def test_every_line_our_roles_write_is_valid_under_the_published_schema(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    for path in _demo(tmp_path, "rogue-ds"):
        for text in _lines(path):
            validator.validate(json.loads(text))


def test_the_writer_and_the_reader_agree(tmp_path: Path) -> None:
    path = tmp_path / "log.ndjson"
    with path.open("w") as stream:
        w = TraceWriter(stream, "ds", "a.example", keys={1: b"\x01\x02"},
                        trust={"b.example": {1: b"\x03"}})
        w.message(False, "alice", "MigrationRequest", b"\x00\x01", 1, t=2.5)
        w.message(True, "alice", "Refusal", b"\xff")
        w.group(b"g", phase="locked", epoch=3, members=["alice"])
        w.nonce(b"\x07" * 32, "consumed")
        w.restart()
    log = read_log(path)
    assert log.header.name == "a.example" and log.header.keys == {1: b"\x01\x02"}
    assert log.header.trust == {"b.example": {1: b"\x03"}}
    first = log.events[0]
    assert first.where.line == 2 and first.where.t == 2.5  # type: ignore[union-attr]
    assert [type(e).__name__ for e in log.events] == [
        "Message", "Message", "GroupSeen", "NonceSeen", "Restart"]


HEADER = json.dumps({"format": FORMAT, "version": 1, "role": "ds", "name": "a.example"})


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("", 1, "empty or no header"),
    ("{not json\n", 1, "not JSON"),
    ('{"format": "other"}\n', 1, "not a trace log"),
    (json.dumps({"format": FORMAT, "version": 2, "role": "ds", "name": "a"}) + "\n", 1,
     "version 2"),
    (json.dumps({"format": FORMAT, "version": 1, "role": "dns", "name": "a"}) + "\n", 1,
     "role"),
    (HEADER + '\n{"event": "teleport"}\n', 2, "unknown event 'teleport'"),
    (HEADER + '\n{"event": "send", "peer": "b", "kind": "MigrationRequest"}\n', 2,
     "'bytes' is a required property"),
    (HEADER + '\n{"event": "send", "peer": "b", "kind": "Hello", "bytes": ""}\n', 2, "kind"),
    (HEADER + '\n{"event": "receive", "peer": "b", "kind": "Commit", "bytes": "0g"}\n', 2,
     "bytes"),
    (HEADER + '\n\n{"event": "restart", "extra": 1}\n', 3, "extra"),
    (HEADER + '\n{"event": "observe", "nonce": "00", "status": "stolen"}\n', 2, "status"),
    (HEADER + '\n[1, 2]\n', 2, "a JSON object"),
    (HEADER + '\n{"event": "observe", "group": "00", "ds": "b.example"}\n', 2,
     "a DS observes"),
])
def test_a_bad_log_is_refused_at_its_line_with_the_reason(
        tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text(text)
    with pytest.raises(LogError) as err:
        read_log(path)
    assert err.value.line == line and reason in err.value.reason, err.value


def test_validate_on_a_bad_log_says_where_and_why_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = _demo(tmp_path)
    target = tmp_path / "target.example.ndjson"
    lines = _lines(target)
    lines[2] = lines[2].replace('"event":"send"', '"event":"sent"')
    _edit(target, lines)
    assert main(["validate", *map(str, logs), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "rejected" and out["at"] == f"{target}:3"
    assert out["reason"] == "unknown event 'sent' (send, receive, observe, restart)"
    assert main(["validate", str(tmp_path / "missing.ndjson")]) == 1
    assert "no such file" in capsys.readouterr().out


def test_two_logs_of_one_role_are_refused(tmp_path: Path) -> None:
    logs = _demo(tmp_path)
    v = validate([logs[0], logs[0]])
    assert v.verdict == "rejected" and "two logs name the same role" in (v.reason or "")


# -- our own logs are accepted --------------------------------------------------------------


@pytest.mark.parametrize("fault", [None, *demo.FAULTS])
def test_the_demo_s_logs_are_a_model_behaviour(tmp_path: Path, fault: str | None) -> None:
    v = validate(_demo(tmp_path, fault))
    assert v.verdict == "accepted", (v.at, v.reason, v.candidates)
    assert v.matched == v.events > 30 and v.steps > 20


def test_partial_logs_are_accepted_with_the_unlogged_steps_filled_in(tmp_path: Path) -> None:
    logs = _demo(tmp_path, "concurrent-migrations")
    dss = [p for p in logs if p.name.startswith(("source", "target"))]
    v = validate(dss)  # no client logged: their steps are silent
    assert v.verdict == "accepted" and v.silent > 0
    one_client = [p for p in logs if p.name.startswith("member-0")]
    v = validate(one_client, extra_ds=["source.example", "target.example"])
    assert v.verdict == "accepted" and v.silent > 0
    # without saying which unlogged DS is honest the model has no target: a clear refusal
    v = validate([*one_client, tmp_path / "source.example.ndjson"])
    assert v.verdict == "rejected" and v.at is None
    assert v.reason is not None and "name an honest DS that wrote no log with --ds" in v.reason


def test_the_lockstep_s_logs_are_model_behaviours(tmp_path: Path) -> None:
    from mimi_portability.commands.lockstep import conform

    report = conform(12, 3, trace=tmp_path)
    assert not report.divergences
    examples = sorted(tmp_path.glob("example-*"))
    assert len(examples) == 12
    for folder in examples:
        v = validate(sorted(folder.glob("*.ndjson")))
        assert v.verdict == "accepted", (folder.name, v.at, v.reason)


def test_a_long_log_set_is_accepted_and_the_search_stays_on_one_path(tmp_path: Path) -> None:
    paths = back_and_forth(tmp_path, 30)
    v = validate(paths)
    assert v.verdict == "accepted" and v.matched == v.events > 30 * 16
    assert v.nodes < 2 * v.events  # no backtracking on a log our roles wrote in order


# -- hand-edited logs are rejected at the right line --------------------------------------


def test_a_dropped_line_is_rejected_where_the_role_stops_making_sense(tmp_path: Path) -> None:
    logs = _demo(tmp_path)
    target = tmp_path / "target.example.ndjson"
    sent = _drop(target, event="send", kind="MigrationResponse")
    v = validate(logs)
    assert v.verdict == "rejected" and v.at == f"{target}:{sent - 1}"
    assert v.reason == "a rule accepts it, but what it sends is not what the log shows next"
    assert [c.action for c in v.candidates] == ["target_respond"]
    assert "sends MigrationResponse; the log shows no send" in v.candidates[0].text


def test_a_dropped_refusal_is_rejected_with_the_check_that_refuses(tmp_path: Path) -> None:
    logs = _demo(tmp_path, "concurrent-migrations")
    target = tmp_path / "target.example.ndjson"
    refusal = _drop(target, event="send", kind="Refusal")
    v = validate(logs)
    assert v.verdict == "rejected" and v.at == f"{target}:{refusal - 1}"
    assert v.reason == "the rules refuse it here (group_exists); the role answered nothing"
    checks = [c.check for c in v.candidates if c.check]
    assert checks == ["respond.group_id_unique"]
    assert any(c.clause for c in v.candidates)


def test_two_swapped_lines_are_rejected_at_the_first_of_them(tmp_path: Path) -> None:
    logs = _demo(tmp_path)
    source = tmp_path / "source.example.ndjson"
    init = _line_of(source, event="receive", kind="MigrationInitWithCommit")
    lines = _lines(source)
    lines[init - 1], lines[init] = lines[init], lines[init - 1]  # the content sent first
    _edit(source, lines)
    v = validate(logs)
    assert v.verdict == "rejected" and v.at == f"{source}:{init}"
    assert v.reason == "no rule this role takes on its own sends a MigrationContent"
    assert [c.check for c in v.candidates] == ["retry.locked"]


def test_a_tampered_refusal_code_is_rejected_with_the_codes_the_rules_allow(
        tmp_path: Path) -> None:
    logs = _demo(tmp_path, "concurrent-migrations")
    target = tmp_path / "target.example.ndjson"
    n = _line_of(target, event="send", kind="Refusal")
    refusal = Refusal(code=b"not_authorized", details=b"{}").encode().hex()
    _retouch(target, n, lambda obj: obj.update(bytes=refusal))
    v = validate(logs)
    assert v.verdict == "rejected" and v.at == f"{target}:{n - 1}"
    assert v.reason is not None and v.reason.startswith(
        "refusal not_authorized, the rules allow group_exists (target_respond:"
        "respond.group_id_unique)")


def test_tampered_message_bytes_are_rejected_at_the_receive(tmp_path: Path) -> None:
    logs = _demo(tmp_path)
    client = tmp_path / "member-0_client.example.ndjson"
    n = _line_of(client, event="receive", kind="MigrationResponse")

    def flip_last_byte(obj: dict[str, Any]) -> None:  # the signature's last byte
        raw = bytearray.fromhex(obj["bytes"])
        raw[-1] ^= 1
        obj["bytes"] = raw.hex()

    _retouch(client, n, flip_last_byte)
    v = validate(logs)
    assert v.verdict == "rejected" and v.at == f"{client}:{n}"
    assert v.reason == ("MigrationResponse: the signature verifies under no known DS key, "
                        "and the role did not refuse it")


def test_a_tampered_observation_is_rejected_at_it(tmp_path: Path) -> None:
    logs = _demo(tmp_path)
    source = tmp_path / "source.example.ndjson"
    n = _line_of(source, event="observe", phase="locked")
    _retouch(source, n, lambda obj: obj.update(phase="active"))
    v = validate(logs)
    assert v.verdict == "rejected" and v.at == f"{source}:{n}"
    assert v.reason == "the observation disagrees with every model state the logs reach"


def test_the_text_report_names_the_line_the_prefix_and_the_false_conjunct(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = _demo(tmp_path, "concurrent-migrations")
    target = tmp_path / "target.example.ndjson"
    refusal = _drop(target, event="send", kind="Refusal")
    assert main(["validate", *map(str, logs)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"validate: rejected at {target}:{refusal - 1}: ")
    assert "matched per log: " in out and "enabled in the model there: " in out
    assert "target_respond: respond.group_id_unique is false: " in out
    assert "docs/profile.md " in out
    assert main(["validate", *map(str, _demo(tmp_path / "again"))]) == 0


# -- the runs as ITF (docs/traces.md) -----------------------------------------------------


def _replays(path: Path) -> int:
    from model.itf import NONDET_PICKS, read_itf, replay

    doc = json.loads(path.read_text())
    r = replay(read_itf(doc))
    assert r.complete and not r.violates, (path.name, r.stop)
    import itf_py  # the independent reader (without the picks it cannot read, test_itf.py)

    for s in doc["states"]:
        del s[NONDET_PICKS]
    return len(itf_py.trace_from_json(doc).states)


def test_demo_runs_are_written_as_itf_and_replay(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fault in (None, "drop-ack", "rogue-ds"):
        assert main(["demo", *(["--fault", fault] if fault else []), "--itf",
                     str(tmp_path)]) == 0
    capsys.readouterr()
    files = sorted(tmp_path.glob("*.itf.json"))
    assert [f.name for f in files] == ["demo-drop-ack-accepted.itf.json",
                                       "demo-none-accepted.itf.json",
                                       "demo-rogue-ds-accepted.itf.json"]
    assert all(_replays(f) > 10 for f in files)


def test_lockstep_runs_are_written_as_itf_and_replay(tmp_path: Path) -> None:
    from mimi_portability.commands.lockstep import conform

    report = conform(6, 5, itf=tmp_path)
    assert not report.divergences
    files = sorted(tmp_path.glob("conform-example-*.itf.json"))
    assert len(files) == 6
    assert sum(_replays(f) for f in files) > 6


def test_validate_writes_the_behaviour_it_found_and_the_prefix_of_a_rejection(
        tmp_path: Path) -> None:
    logs = _demo(tmp_path / "logs")
    out = tmp_path / "itf"
    assert validate(logs, itf=out).verdict == "accepted"
    _drop(tmp_path / "logs" / "target.example.ndjson", event="send", kind="MigrationResponse")
    assert validate(logs, itf=out).verdict == "rejected"
    accepted, rejected = (out / "validate-accepted.itf.json", out / "validate-rejected.itf.json")
    assert _replays(accepted) > _replays(rejected) >= 1


def test_the_search_s_seen_set_takes_equal_states_for_one_and_tells_others_apart() -> None:
    """impl/tracelog/search.py `_Seen` hashes a state from memoised hashes of its parts:
    an equal state built of other objects is the same node, and a state with one nonce
    record changed, or the same state at other log positions, is another."""
    import copy

    from impl.tracelog.search import _Seen
    from model.actions import successors
    from model.config import Config
    from model.state import initial_state

    config = Config(attempts=3)
    start = initial_state(config)
    seen = _Seen()
    assert seen.add((0, 0), start)
    assert not seen.add((0, 0), copy.deepcopy(start))
    assert seen.add((0, 1), start)
    state = start
    while state.nonces == start.nonces:  # walk until a target issues a nonce
        state = next(after for action, after in successors(config, state)
                     if action.name in ("client_request", "target_respond"))
    assert state.nonces[1] != start.nonces[1]
    assert seen.add((0, 0), state)
    assert not seen.add((0, 0), copy.deepcopy(state))
