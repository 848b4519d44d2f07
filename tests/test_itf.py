"""ITF traces (model/itf.py, `--itf DIR`, `replay`): every counterexample of `check --variant
all` written, read back by our typed reader and by an independent one (itf-py), and replayed
through the model to the same violation; hand-edited traces (a state dropped, two swapped, a
field tampered, the design changed) stop at the right state with the right check id; bad
files are refused with the place named, never a traceback."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import itf_py
import pytest

from model.actions import Action
from model.config import Config, variant
from model.itf import (
    ACTION_TAKEN,
    NONDET_PICKS,
    VARS,
    ItfError,
    config_from_meta,
    config_meta,
    decode,
    encode,
    read_itf,
    replay,
    trace_to_itf,
)
from model.state import State

GOLDEN = Path(__file__).parent / "golden" / "check-all.json"


def _counterexamples() -> list[tuple[str, str, list[Action]]]:
    """Every counterexample of `check --variant all --json` (its golden file, which
    tests/test_golden.py keeps equal to what the command prints)."""
    doc = json.loads(GOLDEN.read_text())
    return [(r["variant"], r["property"], [Action.from_json(a) for a in r["trace"]])
            for r in doc["results"] if r["trace"]]


def _doc(name: str, prop: str, actions: list[Action]) -> dict[str, Any]:
    config = Config().with_options(variant(name).options)
    return trace_to_itf(config, actions, source="test", description=f"{name} {prop}",
                        verdict={"property": prop, "verdict": "violated"})


def _plain_ours(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return ("rec", tuple((f, _plain_ours(v)) for f, v in zip(value._fields, value,
                                                                 strict=True)))
    if isinstance(value, tuple):
        return ("tup", tuple(_plain_ours(v) for v in value))
    if isinstance(value, frozenset):
        return frozenset(_plain_ours(v) for v in value)
    return value


def _plain_theirs(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # itf-py's records
        return ("rec", tuple((f, _plain_theirs(getattr(value, f))) for f in value._fields))
    if isinstance(value, tuple):
        return ("tup", tuple(_plain_theirs(v) for v in value))
    if isinstance(value, frozenset):
        return frozenset(_plain_theirs(v) for v in value)
    return value


def test_there_are_counterexamples_to_read() -> None:
    assert len(_counterexamples()) >= 40


@pytest.mark.parametrize("name,prop,actions", _counterexamples(),
                         ids=[f"{n}-{p}" for n, p, _ in _counterexamples()])
def test_every_counterexample_round_trips_and_replays_to_its_violation(
        name: str, prop: str, actions: list[Action]) -> None:
    doc = _doc(name, prop, actions)
    text = json.dumps(doc)
    trace = read_itf(json.loads(text))
    assert trace.config == Config().with_options(variant(name).options)
    assert list(trace.actions) == actions
    r = replay(trace)
    assert r.complete, r.stop
    assert prop in r.violates
    # the independent reader sees the same states, value for value.  itf-py 0.5 cannot read
    # an Option of an integer ({"tag": "Some", "value": {"#bigint": ...}}, as Quint writes
    # nondet picks: it takes the value for a record with a field "#bigint"), so it reads
    # the variables and the actions taken, without the picks our reader checked above.
    plain = json.loads(text)
    for s in plain["states"]:
        del s[NONDET_PICKS]
    theirs = itf_py.trace_from_json(plain)
    assert len(theirs.states) == len(actions) + 1
    for ours, their in zip(trace.states, theirs.states, strict=True):
        for var, part in zip(VARS, ours, strict=True):
            assert _plain_theirs(their.values[var]) == _plain_ours(part), var
    assert [s.values[ACTION_TAKEN] for s in theirs.states] == ["init", *(a.name for a in actions)]


def test_the_same_trace_writes_the_same_bytes() -> None:
    name, prop, actions = _counterexamples()[0]
    assert json.dumps(_doc(name, prop, actions)) == json.dumps(_doc(name, prop, actions))


def _nonce_binding() -> dict[str, Any]:
    for name, prop, actions in _counterexamples():
        if (name, prop) == ("no_nonce_check", "nonce_binding"):
            return _doc(name, prop, actions)
    raise AssertionError("no_nonce_check has no nonce_binding counterexample")


def test_under_the_reference_design_the_trace_stops_at_the_check_it_drops() -> None:
    doc = _nonce_binding()
    doc["#meta"]["mimi-portability"]["config"]["options"] = []
    r = replay(read_itf(doc))
    assert not r.complete and r.stop is not None
    assert r.stop.startswith("state 3: target_import(target, content) is not enabled: check ")
    dropped = Config().with_options(variant("no_nonce_check").options).dropped
    assert any(f"check {c} is false" in r.stop for c in dropped), r.stop
    assert "docs/profile.md" in r.stop
    assert r.matched == 3


def test_a_dropped_state_is_found_where_it_was() -> None:
    doc = _nonce_binding()
    del doc["states"][1]
    r = replay(read_itf(doc))
    assert r.matched == 1 and r.stop is not None and r.stop.startswith("state 1:")


def test_two_swapped_states_are_found_at_the_first() -> None:
    doc = _nonce_binding()
    doc["states"][1], doc["states"][2] = doc["states"][2], doc["states"][1]
    r = replay(read_itf(doc))
    assert r.matched == 1 and r.stop is not None and r.stop.startswith("state 1:")


def test_a_tampered_field_is_found_in_the_state_that_holds_it() -> None:
    doc = _nonce_binding()
    doc["states"][2]["hosts"]["#tup"][0]["#tup"][0]["epoch"] = {"#bigint": "7"}
    r = replay(read_itf(doc))
    assert r.matched == 2 and r.stop is not None
    assert "leads elsewhere (differs in hosts)" in r.stop


def test_a_state_without_its_action_may_follow_by_any_action() -> None:
    doc = _nonce_binding()
    for s in doc["states"]:
        del s[ACTION_TAKEN], s[NONDET_PICKS]
    r = replay(read_itf(doc))
    assert r.complete and "nonce_binding" in r.violates


def test_the_initial_state_must_be_the_configurations() -> None:
    doc = _nonce_binding()
    doc["#meta"]["mimi-portability"]["config"]["groups"] = 2
    r = replay(read_itf(doc))
    assert r.matched == 0 and r.stop is not None and "not the initial state" in r.stop


@pytest.mark.parametrize("edit,where", [
    (lambda d: d["states"][1]["hosts"].update({"#tup": "x"}), "$.states[1].hosts"),
    (lambda d: d["states"][1]["clients"]["#tup"][0]["#tup"][0].pop("epoch"),
     "$.states[1].clients[0][0]: a ClientView has the fields"),
    (lambda d: d["states"][1]["nonces"]["#tup"][0]["#tup"][0].update({"phase": "1"}),
     "$.states[1].nonces[0][0].phase: expected an integer"),
    (lambda d: d["states"][2].update({ACTION_TAKEN: "fly"}), "unknown action \"fly\""),
    (lambda d: d["states"][2][NONDET_PICKS].pop("target"), "target_import takes target"),
    (lambda d: d["#meta"].pop("mimi-portability"), "does not say its configuration"),
    (lambda d: d["#meta"]["mimi-portability"]["config"].update({"options": ["fast"]}),
     "unknown design option fast"),
    (lambda d: d["#meta"]["mimi-portability"]["config"].update({"drop": ["no.such"]}),
     "unknown check id no.such"),
    (lambda d: d["states"].clear(), "an empty trace"),
    (lambda d: d["states"][0]["network"]["requests"].update(
        {"#set": [{"#bigint": "1"}]}), "$.states[0].network.requests{0}"),
])
def test_a_file_that_is_not_a_trace_of_the_model_is_refused_naming_the_place(
        edit: Any, where: str) -> None:
    doc = copy.deepcopy(_nonce_binding())
    edit(doc)
    with pytest.raises(ItfError, match=None) as err:
        read_itf(doc)
    assert where in str(err.value), str(err.value)


def test_values_and_configurations_round_trip() -> None:
    config = Config(clients=3, groups=2, source_denies=frozenset({1}),
                    target_denies=frozenset({0, 3}), drop=frozenset({"lock.current_epoch"}))
    assert config_from_meta(json.loads(json.dumps(config_meta(config)))) == config
    assert decode(encode(frozenset({(1, 2), (3, 4)})), frozenset[tuple[int, int]]) == \
        frozenset({(1, 2), (3, 4)})
    assert decode(5, int) == 5  # a plain JSON number is an ITF integer too
    with pytest.raises(ItfError):
        decode({"#set": [{"#bigint": "1"}, {"#bigint": "1"}]}, frozenset[int])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mimi_portability", *args],
                          capture_output=True, text=True, check=False, timeout=300)


def test_check_itf_writes_what_replay_accepts(tmp_path: Path) -> None:
    out = tmp_path / "itf"
    done = _cli("check", "--variant", "no_nonce_check", "--no-liveness", "--quiet",
                "--itf", str(out))
    assert done.returncode == 0, done.stderr
    files = sorted(out.glob("*.itf.json"))
    assert [f.name for f in files] == [
        "check-no_nonce_check-members_follow_owner.itf.json",
        "check-no_nonce_check-nonce_binding.itf.json",
        "check-no_nonce_check-single_owner.itf.json"]
    done = _cli("replay", "--json", *map(str, files))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(done.stdout)["traces"]
    assert all(r["behaviour"] and r["confirmed"] for r in rows)
    # a tampered file: exit 1, the state named
    doc = json.loads(files[1].read_text())
    doc["states"][2]["hosts"]["#tup"][0]["#tup"][0]["epoch"] = {"#bigint": "7"}
    files[1].write_text(json.dumps(doc))
    done = _cli("replay", str(files[1]))
    assert done.returncode == 1
    assert "a model behaviour up to state 1; state 2:" in done.stdout


@pytest.mark.parametrize("content,message", [
    ("{", "not JSON (line 1"),
    ("[]", "an ITF trace is an object"),
    ('{"states": [{}]}', "does not say its configuration"),
])
def test_replay_refuses_a_bad_file_in_one_line(tmp_path: Path, content: str,
                                                message: str) -> None:
    path = tmp_path / "bad.itf.json"
    path.write_text(content)
    done = _cli("replay", str(path))
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_replay_refuses_a_missing_file(tmp_path: Path) -> None:
    done = _cli("replay", str(tmp_path / "none.itf.json"))
    assert done.returncode == 1 and "No such file" in done.stderr


def test_a_state_from_elsewhere_decodes_to_the_model_type() -> None:
    state = read_itf(_nonce_binding()).states[-1]
    assert isinstance(state, State) and isinstance(state.network.requests, frozenset)


def test_prove_itf_writes_z3_counterexamples_that_replay(tmp_path: Path) -> None:
    out = tmp_path / "itf"
    done = _cli("prove", "--variant", "no_group_id_uniqueness", "--no-induction", "--depth",
                "2", "--quiet", "--itf", str(out))
    assert done.returncode == 0, done.stderr
    files = sorted(out.glob("prove-*.itf.json"))
    assert "prove-no_group_id_uniqueness-single_owner.itf.json" in [f.name for f in files]
    done = _cli("replay", *map(str, files))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(as the file claims: single_owner)" in done.stdout


def test_mutate_itf_writes_the_killing_counterexamples(tmp_path: Path) -> None:
    out = tmp_path / "itf"
    done = _cli("mutate", "--only", "lock.current_epoch", "--no-proofs", "--quiet", "--itf",
                str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted(out.glob("mutate-*.itf.json"))
    assert files, "no counterexample written"
    done = _cli("replay", "--json", *map(str, files))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(done.stdout)["traces"]
    assert {r["design"] for r in rows} == {"drop:lock.current_epoch"}
    assert all(r["confirmed"] for r in rows)
