"""The on-disk cache of rewritten rules (model/codecache.py): a second process reads what the
first wrote and gets the same functions; a damaged pack is ignored and written anew; old
packs are pruned; off means nothing is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model import codecache
from model.rules import RULES

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """
import builtins, json, sys
from model import compiled
from model.checker import explore
from model.config import Config
from model.rules import RULES
seen = []
real = builtins.compile
def counting(*args, **kw):
    seen.append(args[1])
    return real(*args, **kw)
compiled.compile = counting
ex = explore(Config(clients=2, attempts=1))
codes = {r.name: compiled.compiled_guard(r.guard, frozenset()).__code__.co_code.hex()
         for r in RULES}
print(json.dumps({"states": len(ex.states), "violations": sorted(ex.violations),
                  "compiled": len(seen), "codes": codes}))
"""


def run(folder: str) -> dict[str, object]:
    env = {**os.environ, "MIMI_PORTABILITY_CACHE": folder, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROGRAM], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=300)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_a_second_process_reads_the_cache_and_gets_the_same_functions(tmp_path: Path) -> None:
    cold = run(str(tmp_path))
    packs = list((tmp_path / "compiled").glob("*.marshal"))
    assert cold["compiled"] and len(packs) == 1
    warm = run(str(tmp_path))
    assert warm["compiled"] == 0  # nothing rewritten: every function came from the cache
    assert (warm["states"], warm["violations"], warm["codes"]) == (
        cold["states"], cold["violations"], cold["codes"])


@pytest.mark.parametrize("damage", [b"not marshal", b"\xfb\x00", None])
def test_a_damaged_pack_is_ignored_and_written_anew(tmp_path: Path,
                                                    damage: bytes | None) -> None:
    cold = run(str(tmp_path))
    (pack,) = (tmp_path / "compiled").glob("*.marshal")
    pack.write_bytes(pack.read_bytes()[:40] if damage is None else damage)
    again = run(str(tmp_path))
    assert again["compiled"] == cold["compiled"]  # nothing trusted from the damaged pack
    assert (again["states"], again["codes"]) == (cold["states"], cold["codes"])
    assert run(str(tmp_path))["compiled"] == 0  # and the pack written anew serves


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMI_PORTABILITY_CACHE", "off")
    assert codecache.folder() is None
    assert codecache.entry(RULES[0].guard, "guard []") is None
    assert not list(tmp_path.iterdir())


def test_the_entry_name_follows_the_rewrite_and_the_function(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMI_PORTABILITY_CACHE", str(tmp_path))
    a, b = RULES[0].guard, RULES[1].guard
    names = {codecache.entry(a, "guard []"), codecache.entry(a, "guard ['x']"),
             codecache.entry(b, "guard []")}
    assert len(names) == 3 and None not in names
    assert codecache.entry(json.dumps, "guard []") is None  # not a function of model/
    assert codecache.load((tmp_path / "absent.marshal", "k")) is None


def test_old_packs_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMI_PORTABILITY_CACHE", str(tmp_path))
    where = tmp_path / "compiled"
    where.mkdir()
    for i in range(12):
        old = where / f"{i:064x}.marshal"
        old.write_bytes(b"")
        os.utime(old, (i, i))
    found = codecache.entry(RULES[0].guard, "guard []")
    assert found is not None
    codecache.store(found, compile("0", "<t>", "eval"), [])
    left = sorted(p.name for p in where.glob("*.marshal"))
    assert len(left) == codecache.KEEP and found[0].name in left
    assert f"{11:064x}.marshal" in left and f"{0:064x}.marshal" not in left
