"""The on-disk cache of rewritten rules (model/codecache.py): a second process reads what the
first wrote and gets the same functions; a damaged pack or bundle is ignored and written
anew; old packs and their bundles are pruned; off means nothing is written."""

from __future__ import annotations

import json
import marshal
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
made = len(seen)
codes = {r.name: compiled.compiled_guard(r.guard, frozenset()).__code__.co_code.hex()
         for r in RULES}
print(json.dumps({"states": len(ex.states), "violations": sorted(ex.violations),
                  "compiled": len(seen), "by_explore": made, "codes": codes}))
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


def damage(path: Path, how: bytes | None) -> None:
    path.write_bytes(path.read_bytes()[:40] if how is None else how)


@pytest.mark.parametrize("how", [b"not marshal", b"\xfb\x00", None])
def test_a_damaged_pack_is_ignored_and_written_anew(tmp_path: Path,
                                                    how: bytes | None) -> None:
    cold = run(str(tmp_path))
    for kept in (tmp_path / "compiled").iterdir():
        damage(kept, how)
    again = run(str(tmp_path))
    assert again["compiled"] == cold["compiled"]  # nothing trusted from the damaged pack
    assert (again["states"], again["codes"]) == (cold["states"], cold["codes"])
    assert run(str(tmp_path))["compiled"] == 0  # and the pack written anew serves


@pytest.mark.parametrize("how", [b"not marshal", marshal.dumps(([("guard", 1)], {})), None])
def test_a_damaged_bundle_is_ignored_the_pack_serves_and_the_bundle_is_written_anew(
        tmp_path: Path, how: bytes | None) -> None:
    cold = run(str(tmp_path))
    (bundle,) = (tmp_path / "compiled").glob("*.bundle")
    records, values = marshal.loads(bundle.read_bytes())
    assert records and values  # the functions the run made and the footprints it read
    damage(bundle, how)
    again = run(str(tmp_path))
    assert again["compiled"] == 0  # every function from the pack, one at a time
    assert (again["states"], again["codes"]) == (cold["states"], cold["codes"])
    records, values = marshal.loads(bundle.read_bytes())  # written anew, from what was used
    assert records and values
    assert run(str(tmp_path))["codes"] == cold["codes"]


def test_the_bundle_alone_serves_a_run_of_its_design(tmp_path: Path) -> None:
    cold = run(str(tmp_path))
    (pack,) = (tmp_path / "compiled").glob("*.marshal")
    pack.unlink()
    alone = run(str(tmp_path))
    assert cold["by_explore"] and alone["by_explore"] == 0  # explore rewrote nothing
    assert (alone["states"], alone["violations"], alone["codes"]) == (
        cold["states"], cold["violations"], cold["codes"])


def test_a_bundle_record_that_no_longer_matches_its_rule_is_passed_over(
        tmp_path: Path) -> None:
    cold = run(str(tmp_path))
    (bundle,) = (tmp_path / "compiled").glob("*.bundle")
    records, values = marshal.loads(bundle.read_bytes())
    kind, module, name, line, code, aliases = records[0]
    moved = [(kind, module, name, line + 1, code, aliases), *records[1:]]
    bundle.write_bytes(marshal.dumps((moved, values)))
    again = run(str(tmp_path))
    assert again["compiled"] == 0 and again["codes"] == cold["codes"]


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


def old_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundles: bool) -> Path:
    """12 packs of earlier versions of model/, oldest first (each with a bundle if asked)."""
    monkeypatch.setenv("MIMI_PORTABILITY_CACHE", str(tmp_path))
    where = tmp_path / "compiled"
    where.mkdir()
    for i in range(12):
        old = where / f"{i:064x}.marshal"
        old.write_bytes(b"")
        os.utime(old, (i, i))
        if bundles:
            (where / f"{i:064x}.{i:016x}.bundle").write_bytes(b"")
    return where


def test_old_packs_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = old_packs(tmp_path, monkeypatch, bundles=False)
    found = codecache.entry(RULES[0].guard, "guard []")
    assert found is not None
    codecache.store(found, compile("0", "<t>", "eval"), [])
    left = sorted(p.name for p in where.glob("*.marshal"))
    assert len(left) == codecache.KEEP and found[0].name in left
    assert f"{11:064x}.marshal" in left and f"{0:064x}.marshal" not in left


def test_the_bundles_of_a_pruned_pack_go_with_it(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    where = old_packs(tmp_path, monkeypatch, bundles=True)
    mine = codecache.bundle(frozenset({"lock.current_epoch"}))
    assert mine is not None and mine.parent == where
    codecache.write_bundle(mine, [], new_code=True)
    bundles = sorted(p.name.split(".")[0] for p in where.glob("*.bundle"))
    packs = sorted(p.stem for p in where.glob("*.marshal"))
    assert mine.name in {p.name for p in where.glob("*.bundle")}
    assert set(bundles) - {mine.name.split(".")[0]} == set(packs)
    assert f"{0:064x}" not in bundles
