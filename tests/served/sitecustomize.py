"""Plants a bug of tests/lockstep/planted.py into a server process the tests start.

A test puts this folder first on the child's PYTHONPATH and names the bug in
MIMI_TEST_PLANT; Python imports this module at start-up (the `site` module's
sitecustomize hook), before `mimi-portability serve` builds its DS, so the shipped server
has no option for it: the harness patches the role's method, as in the in-process tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_NAME = os.environ.get("MIMI_TEST_PLANT")
if _NAME:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import pytest

    from tests.lockstep.planted import BUGS, plant

    plant(next(b for b in BUGS if b.name == _NAME), pytest.MonkeyPatch())
