"""Test helper: plant one durability bug of tests/storage_planted.py in a server process.

A test that wants a buggy server starts the real `mimi-portability serve` with this folder
first on PYTHONPATH and MIMI_PLANTED_BUG naming a bug of `BUGS`: Python imports this module
at start-up (the `site` module's sitecustomize hook), which replaces the named seam of
impl/storage/driver.py's Durable, as `plant` does with monkeypatch in process.  Without
MIMI_PLANTED_BUG it does nothing.  The wire fault and SIGKILL tests use it for their
negative controls (tests/test_wire_faults.py).
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
