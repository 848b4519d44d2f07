"""Test helper: a server process with one durability bug of tests/storage_planted.py planted.

    python tests/planted_server.py BUG serve --config FILE

replaces the named seam of impl/storage/driver.py's Durable (as `plant` does with
monkeypatch in process), then runs the command line as `mimi-portability` would.  The fault
and SIGKILL tests start it in place of the real server for their negative controls.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from impl.storage.driver import Durable  # noqa: E402
from mimi_portability.cli import main  # noqa: E402
from tests.storage_planted import BUGS  # noqa: E402


def run(argv: list[str]) -> int:
    bug, *rest = argv
    seam, replacement = BUGS[bug]
    assert hasattr(Durable, seam), seam
    setattr(Durable, seam, replacement)
    return main(rest)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
