"""docs/findings.md is what `mimi-portability findings` writes now (its `--check`): the
report is built again from the checkers, the proofs and the figures, and compared byte for
byte (in the slow tier: building it runs every design, a few minutes)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from mimi_portability import findings

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "findings.md"


def test_the_committed_report_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    text = findings.build()
    committed = REPORT.read_text(encoding="utf-8")
    if text != committed:
        diff = "\n".join(list(difflib.unified_diff(committed.splitlines(), text.splitlines(),
                                                   "docs/findings.md", "this code",
                                                   lineterm="", n=1))[:60])
        pytest.fail(f"docs/findings.md is not current (run mimi-portability findings):\n"
                    f"{diff}", pytrace=False)
