"""`validate` on the logs of real servers (serve --trace): ours accepted, planted bugs caught.

Two DS processes on loopback ports run the demo's story over HTTPS, each writing its
trace log; the clients write none (their steps are the search's silent steps).  Then the
same with a bug planted into one server process by the test harness
(tests/planted_site/sitecustomize.py, a bug of tests/lockstep/planted.py, one per DS role):
`validate` must reject the logs, in the log of the server with the bug.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from impl.http.demo import run_http_demo
from impl.world import SOURCE, TARGET
from mimi_portability.commands.validate import validate

ROOT = Path(__file__).resolve().parent.parent


def test_our_servers_logs_are_a_model_behaviour(tmp_path: Path) -> None:
    result = run_http_demo(members=3, folder=tmp_path / "world", trace=tmp_path / "logs")
    assert not result.violations
    logs = sorted((tmp_path / "logs").glob("*.ndjson"))
    assert [p.name for p in logs] == [f"{SOURCE}.ndjson", f"{TARGET}.ndjson"]
    v = validate(logs)
    assert v.verdict == "accepted", (v.at, v.reason)
    assert v.silent > 0 and v.events > 10


@pytest.mark.parametrize(("bug", "domain"), [
    ("fanout_before_ack", SOURCE),
    ("migration_fanout_leaves_member_out", SOURCE),
    ("tombstone_missing", SOURCE),
    ("nonce_not_consumed", TARGET),
])
def test_a_server_with_a_planted_bug_is_caught_on_its_log(
        tmp_path: Path, bug: str, domain: str) -> None:
    env = {domain: {"MIMI_LOCKSTEP_BUG": bug, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "tests" / "planted_site"), str(ROOT)])}}
    run_http_demo(members=3, folder=tmp_path / "world", trace=tmp_path / "logs", env=env,
                  timeout=8.0)
    v = validate(sorted((tmp_path / "logs").glob("*.ndjson")))
    assert v.verdict == "rejected"
    assert v.at is not None and Path(v.at.rsplit(":", 1)[0]).name == f"{domain}.ndjson", v.at
