"""The on-disk cache of the functions model/compiled.py rewrites, as Python's __pycache__ is
for modules.

Rewriting a rule (parsing its module, transforming the syntax tree, compiling it) costs about
a millisecond per function, which is most of a small check's time when a process starts
cold.  This module owns keeping the compiled code objects between processes: one pack file
per version of model/, holding per (function, rewrite) the marshalled code and the helpers
it calls by alias.  The pack's name is a SHA-256 over the Python version and the name,
size and modification time of every module of model/ (the rules, the vocabulary, the
rewriter itself), which is how Python's __pycache__ tells a changed source, so any edit of
model/ makes a new pack; a pack that cannot be read or decoded is ignored and written anew,
and one written by two processes at once keeps one of them (the other's functions are
rewritten again next time).  Each function's code is kept marshalled on its own inside
the pack and decoded only when asked for: a run of one design reads the few dozen functions
it uses, not the whole pack (decoding every design's functions was most of a small check's
time).  Beside the pack, one bundle per design (`bundle`, `read_bundle`, `write_bundle`)
keeps every function a run of that design made, in the order made, and every value it read
or kept (the footprints), as one marshalled file: a process checking one design reads one
file and decodes its functions in one call instead of looking each up in the pack
(model/compiled.py's `preload`; a third of a small check's start), and the pack
stays the source for anything a bundle lacks.  The folder is $MIMI_PORTABILITY_CACHE, else
$XDG_CACHE_HOME/mimi-portability (~/.cache/mimi-portability); MIMI_PORTABILITY_CACHE=off
turns the cache off.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

Aliases = list[tuple[str, str]]
"""(name in the compiled code's namespace, name of the same-module helper it stands for)."""

Entry = tuple[Path, str]
"""(the pack file, the key of one function's rewrite in it)."""

_MODEL_DIR = os.path.dirname(__file__)
_STATE: dict[str, Any] = {}
_PACKS: dict[Path, dict[str, Any]] = {}
"""Pack -> its entries as read: key -> (marshalled code, aliases), not yet checked."""
_DECODED: dict[tuple[Path, str], tuple[CodeType, Aliases] | None] = {}
_SEEN: dict[Path, dict[str, Any]] = {}
"""Per pack, every value read or kept in this process (what a bundle written now holds)."""
_BUNDLED: dict[Path, dict[str, Any]] = {}
"""Per pack, the values the bundles read in this process hold."""
_HELD: dict[Path, set[str]] = {}
"""Per bundle read or written: the keys of the values it holds."""
_BUNDLES: dict[tuple[Path, frozenset[str]], Path] = {}


def folder() -> Path | None:
    """Where packs are kept, or None when the cache is off."""
    chosen = os.environ.get("MIMI_PORTABILITY_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "mimi-portability")


def _model_digest() -> str:
    """A SHA-256 over the Python version and the name, size and modification time of every
    module of model/: what Python's own __pycache__ checks a module's source by (reading
    and hashing the sources themselves was a fifth of a small check's time)."""
    found: str | None = _STATE.get("digest")
    if found is None:
        h = hashlib.sha256(sys.version.encode())
        with os.scandir(_MODEL_DIR) as listing:
            for item in sorted((e for e in listing if e.name.endswith(".py")),
                               key=lambda e: e.name):
                info = item.stat()
                h.update(f"{item.name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
        found = _STATE["digest"] = h.hexdigest()
    return found


def _pack() -> Path | None:
    """The pack of this version of model/ under the current settings (computed once per
    value of the settings)."""
    key = (os.environ.get("MIMI_PORTABILITY_CACHE"), os.environ.get("XDG_CACHE_HOME"))
    found: tuple[Any, Path | None] | None = _STATE.get("pack")
    if found is None or found[0] != key:
        where = folder()
        pack = None if where is None else where / "compiled" / f"{_model_digest()}.marshal"
        found = _STATE["pack"] = (key, pack)
    return found[1]


_IN_MODEL: dict[str, bool] = {}


def in_model(filename: str) -> bool:
    """Whether `filename` (a code object's) is a module of model/ (answered once per file)."""
    found = _IN_MODEL.get(filename)
    if found is None:
        found = _IN_MODEL[filename] = os.path.dirname(filename) == _MODEL_DIR
    return found


def entry(f: Callable[..., Any], rewrite: str) -> Entry | None:
    """Where `f` rewritten as `rewrite` is kept, or None (cache off, or `f` is not a
    function of model/)."""
    pack = _pack()
    code = getattr(f, "__code__", None)
    if pack is None or code is None or not in_model(code.co_filename):
        return None
    return pack, f"{f.__module__}.{f.__qualname__}:{code.co_firstlineno}|{rewrite}"


def _read(pack: Path) -> dict[str, Any]:
    found = _PACKS.get(pack)
    if found is None:
        try:
            data = marshal.loads(pack.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            data = None
        found = data if isinstance(data, dict) else {}
        _PACKS[pack] = found
    return found


def aliases_ok(aliases: Any) -> bool:
    """Whether `aliases`, as read from a file, is a sequence of (alias, helper) names."""
    return all(isinstance(a, tuple) and len(a) == 2 and all(isinstance(n, str) for n in a)
               for a in aliases)


def _decoded(value: Any) -> tuple[CodeType, Aliases] | None:
    """One entry of a pack as (code, aliases), or None if it is malformed."""
    if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bytes)
            and isinstance(value[1], list | tuple) and aliases_ok(value[1])):
        return None
    try:
        code = marshal.loads(value[0])
    except (EOFError, ValueError, TypeError):
        return None
    return (code, list(value[1])) if isinstance(code, CodeType) else None


def load(where: Entry) -> tuple[CodeType, Aliases] | None:
    """The code and aliases kept for `where`; None when they are absent or unreadable."""
    if where in _DECODED:
        return _DECODED[where]
    pack, key = where
    raw = _read(pack).get(key) if isinstance(key, str) else None
    found = None if raw is None else _decoded(raw)
    _DECODED[where] = found
    return found


def load_value(where: Entry) -> tuple[bool, Any]:
    """(whether a value is kept for `where`, the value): data derived from the source of
    model/, such as the guards' footprints (model/footprint.py), kept like the code."""
    pack, key = where
    bundled = _BUNDLED.get(pack)
    if bundled is not None and key in bundled:
        _SEEN.setdefault(pack, {})[key] = bundled[key]
        return True, bundled[key]
    raw = _read(pack).get(key)
    if isinstance(raw, tuple) and len(raw) == 2 and raw[0] == "value":
        _SEEN.setdefault(pack, {})[key] = raw[1]
        return True, raw[1]
    return False, None


def store_value(where: Entry, value: Any) -> None:
    """Keep a marshallable `value` for `where` (as `store` keeps code)."""
    pack, key = where
    _read(pack)[key] = ("value", value)
    _SEEN.setdefault(pack, {})[key] = value
    _write(pack)


def store(where: Entry, code: CodeType, aliases: Aliases) -> None:
    """Keep `code` for `where` (the pack is written whole or not at all; a folder that cannot
    be written leaves the cache as it was, never fails the caller)."""
    pack, key = where
    entries = _read(pack)
    entries[key] = (marshal.dumps(code), list(aliases))
    _DECODED[where] = (code, list(aliases))
    _write(pack)


def _write(pack: Path) -> None:
    entries = _read(pack)
    try:
        pack.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=pack.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(marshal.dumps(entries))
        os.replace(tmp, pack)
        _prune(pack)
    except OSError:
        return


KEEP = 8
"""Packs kept: those of the most recent versions of model/ (a checkout switching branches
finds its own again); older ones are removed when a pack is written."""


def _prune(current: Path) -> None:
    packs = sorted((p for p in current.parent.glob("*.marshal") if p != current),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    for old in packs[KEEP - 1:]:
        old.unlink(missing_ok=True)
    kept = {current.stem, *(p.stem for p in packs[:KEEP - 1])}
    for bundled in current.parent.glob("*.bundle"):
        if bundled.name.split(".", 1)[0] not in kept:
            bundled.unlink(missing_ok=True)


def bundle(design: frozenset[str]) -> Path | None:
    """The file of the bundle of `design` (the checks it drops) for this version of model/,
    or None when the cache is off."""
    pack = _pack()
    if pack is None:
        return None
    found = _BUNDLES.get((pack, design))
    if found is None:
        name = hashlib.sha256(repr(sorted(design)).encode()).hexdigest()[:16]
        found = _BUNDLES[(pack, design)] = pack.with_name(f"{pack.stem}.{name}.bundle")
    return found


def read_bundle(where: Path) -> list[Any]:
    """The code records kept in a bundle, as written (the caller checks each; [] when the
    bundle is absent or cannot be decoded); its values are served by `load_value` from now
    on."""
    try:
        data = marshal.loads(where.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        data = None
    if not (isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], list)
            and isinstance(data[1], dict)):
        _HELD[where] = set()
        return []
    records: list[Any] = data[0]
    values: dict[Any, Any] = data[1]
    pack = _pack_of(where)
    kept = {key: value for key, value in values.items() if isinstance(key, str)}
    _BUNDLED.setdefault(pack, {}).update(kept)
    _HELD[where] = set(kept)
    return records


def _pack_of(bundled: Path) -> Path:
    """The pack a bundle file belongs to (the same version of model/)."""
    return bundled.with_name(bundled.name.split(".", 1)[0] + ".marshal")


def unbundled(where: Path) -> bool:
    """Whether this process read or kept a value the bundle at `where` does not hold."""
    pack = _pack_of(where)
    return not _HELD.get(where, set()).issuperset(_SEEN.get(pack, {}))


def write_bundle(where: Path, records: list[Any], *, new_code: bool) -> None:
    """Keep `records` (marshallable) and the values seen in this process as the bundle at
    `where`, whole or not at all, when there is code or a value it does not hold yet; a
    folder that cannot be written leaves the cache as it was."""
    pack = _pack_of(where)
    values = _SEEN.get(pack, {})
    held = _HELD.setdefault(where, set())
    if not new_code and held.issuperset(values):
        return
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(marshal.dumps((records, values)))
        os.replace(tmp, where)
        held.update(values)
        _prune(_pack_of(where))
    except (OSError, ValueError):
        return
