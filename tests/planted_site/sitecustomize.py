"""Test helper: plant one durability bug of tests/storage_planted.py, or one role bug of
tests/lockstep/planted.py, in a server process.

A test that wants a buggy server starts the real `mimi-portability serve` with this folder
first on PYTHONPATH and MIMI_PLANTED_BUG naming a bug of `BUGS`: Python imports this module
at start-up (the `site` module's sitecustomize hook), which replaces the named seam of
impl/storage/driver.py's Durable, as `plant` does with monkeypatch in process.  Without
MIMI_PLANTED_BUG it does nothing.  The wire fault and SIGKILL tests use it for their
negative controls (tests/test_wire_faults.py).  MIMI_LOCKSTEP_BUG names a role bug instead
(below): `conform --remote`'s negative controls (tests/test_lockstep_remote.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_BUG = os.environ.get("MIMI_PLANTED_BUG")
if _BUG:
    _ROOT = str(Path(__file__).resolve().parent.parent.parent)
    if _ROOT not in sys.path:
        sys.path.insert(0, _ROOT)
    from impl.storage.driver import Durable
    from tests.storage_planted import BUGS

    _seam, _replacement = BUGS[_BUG]
    assert hasattr(Durable, _seam), _seam
    setattr(Durable, _seam, _replacement)

# MIMI_LOCKSTEP_BUG: one role bug of tests/lockstep/planted.py (`BUGS`, by name), planted in
# the server as `plant` does in process: the class attribute and the role's handler table.
# `conform --remote`'s negative controls use it (tests/test_lockstep_remote.py).
_ROLE_BUG = os.environ.get("MIMI_LOCKSTEP_BUG")
if _ROLE_BUG:
    _ROOT = str(Path(__file__).resolve().parent.parent.parent)
    if _ROOT not in sys.path:
        sys.path.insert(0, _ROOT)
    from tests.lockstep.planted import BUGS as _ROLE_BUGS

    _bug = next(b for b in _ROLE_BUGS if b.name == _ROLE_BUG)
    _original = getattr(_bug.cls, _bug.method)
    _broken = _bug.make(_original)
    setattr(_bug.cls, _bug.method, _broken)
    _handlers = getattr(_bug.cls, "_HANDLERS", {})
    for _kind, _handler in list(_handlers.items()):
        if _handler is _original:
            _handlers[_kind] = _broken
