"""The on-disk cache of the functions model/compiled.py rewrites, as Python's __pycache__ is
for modules.

Rewriting a rule (parsing its module, transforming the syntax tree, compiling it) costs about
a millisecond per function, which is most of a small check's time when a process starts
cold.  This module owns keeping the compiled code objects between processes: one file per
(function, rewrite) under the cache folder, holding the marshalled code and the helpers it
calls by alias.  An entry's name is a SHA-256 over the Python version, the source of every
module of model/ (the rules, the vocabulary, the rewriter itself) and the function and its
rewrite, so any edit of model/ makes every entry unreachable; an entry that cannot be read
or decoded is ignored and written anew.  The folder is $MIMI_PORTABILITY_CACHE, else
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

_MODEL = Path(__file__).parent
_MODEL_DIR = os.path.dirname(__file__)
_STATE: dict[str, Any] = {}


def folder() -> Path | None:
    """Where entries are kept, or None when the cache is off."""
    chosen = os.environ.get("MIMI_PORTABILITY_CACHE")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "mimi-portability")


def _model_digest() -> str:
    found: str | None = _STATE.get("digest")
    if found is None:
        h = hashlib.sha256(sys.version.encode())
        for path in sorted(_MODEL.glob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
        found = _STATE["digest"] = h.hexdigest()
    return found


def _entries() -> str | None:
    """The folder of the entries as a string, computed once per value of the settings
    (pathlib per look-up was a third of a small check's start)."""
    key = (os.environ.get("MIMI_PORTABILITY_CACHE"), os.environ.get("XDG_CACHE_HOME"))
    found: tuple[Any, str | None] | None = _STATE.get("entries")
    if found is None or found[0] != key:
        where = folder()
        found = _STATE["entries"] = (key, None if where is None else str(where / "compiled"))
    return found[1]


def entry(f: Callable[..., Any], rewrite: str) -> Path | None:
    """The file that holds `f` rewritten as `rewrite`, or None (cache off, or `f` is not a
    function of model/)."""
    where = _entries()
    code = getattr(f, "__code__", None)
    if where is None or code is None or os.path.dirname(code.co_filename) != _MODEL_DIR:
        return None
    h = hashlib.sha256(_model_digest().encode())
    h.update(f"{f.__module__}.{f.__qualname__}:{code.co_firstlineno}|{rewrite}".encode())
    return Path(os.path.join(where, f"{h.hexdigest()}.marshal"))


def load(path: Path) -> tuple[CodeType, Aliases] | None:
    """The code and aliases kept in `path`; None when it is absent or unreadable."""
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not (isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], CodeType)
            and isinstance(data[1], list)
            and all(isinstance(a, tuple) and len(a) == 2 and all(isinstance(n, str) for n in a)
                    for a in data[1])):
        return None
    return data[0], list(data[1])


def store(path: Path, code: CodeType, aliases: Aliases) -> None:
    """Keep `code` in `path` (written whole or not at all; a folder that cannot be written
    leaves the cache empty, never fails the caller)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(marshal.dumps((code, aliases)))
        os.replace(tmp, path)
    except OSError:
        return
