"""docs/findings.md is what `mimi-portability findings` writes now (its `--check`): the
report is built again from the checkers, the proofs and the figures, and compared byte for
byte.  Building it runs every design and spec mutation (six to ten minutes), so the suite
runs it only with MIMI_FINDINGS_CURRENT=1; `make verify` (CI's main job) checks the same
("findings: docs/findings.md is current")."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from mimi_portability import findings

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "findings.md"


@pytest.mark.skipif(not os.environ.get("MIMI_FINDINGS_CURRENT"),
                    reason="six to ten minutes: set MIMI_FINDINGS_CURRENT=1, or run make verify")
def test_the_committed_report_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    text = findings.build()
    committed = REPORT.read_text(encoding="utf-8")
    if text != committed:
        diff = "\n".join(list(difflib.unified_diff(committed.splitlines(), text.splitlines(),
                                                   "docs/findings.md", "this code",
                                                   lineterm="", n=1))[:60])
        pytest.fail(f"docs/findings.md is not current (run mimi-portability findings):\n"
                    f"{diff}", pytrace=False)
