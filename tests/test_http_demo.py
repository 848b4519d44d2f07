"""`demo --http`: the demo's story over two real servers, for every ciphersuite.

Each run starts two `mimi-portability serve` processes on free loopback ports (HTTPS) and
stops them; the result must have the in-memory demo's JSON shape, the same messages (as a
multiset: over HTTP the fan-outs and the confirmation interleave by timing), every member at
the target one epoch on, the source holding a tombstone and no safety violation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from impl.demo import run_demo
from impl.http.demo import format_text, run_http_demo

REPO = Path(__file__).resolve().parents[1]


def _messages(doc: dict[str, Any]) -> Counter[tuple[str, str, str]]:
    return Counter((m["type"], m["from"], m["to"]) for m in doc["messages"])


@pytest.mark.parametrize("suite", range(1, 8))
def test_demo_over_http_every_suite(tmp_path: Path, suite: int) -> None:
    result = run_http_demo(members=3, suite=suite, folder=tmp_path / "world")
    doc = result.to_json()
    memory = run_demo(members=3, suite=suite).to_json()
    assert set(doc) == set(memory)
    assert doc["safety_violations"] == []
    assert doc["members"] == memory["members"]  # all at target.example, epoch 8
    assert {m["ds"] for m in doc["members"]} == {"target.example"}
    assert doc["source"] == memory["source"] and doc["target"] == memory["target"]
    assert _messages(doc) == _messages(memory)
    assert all(m["bytes"] > 0 for m in doc["messages"])
    text = format_text(result)  # what `demo --http` prints without --json
    assert text.count(" B  ") == len(doc["messages"]) and "all properties hold" in text


def test_demo_http_command_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mimi_portability", "demo", "--http",
                           "--json", "--members", "2"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [m["ds"] for m in doc["members"]] == ["target.example"] * 2
    refused = subprocess.run([sys.executable, "-m", "mimi_portability", "demo", "--http",
                              "--fault", "drop-ack"], cwd=REPO, capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("error: --fault runs over the in-memory network only "
                                      "(not with --http)")
