"""`--junit FILE` and `--sarif FILE`: the options, and writing both files from verdict records.

This module owns the two options every verdict-giving command has (`check`, `prove`,
`mutate`, `verify`: `add_report_options`), how a path is checked when the command line is
read (`output_path`: a usage error, exit 2, if it names a folder or a folder that does not
exist or cannot be written), and `write_reports`, which renders the records
(mimi_portability.junit, mimi_portability.sarif) and writes each file whole (a temporary file
beside it, then renamed), or raises `ReportError` (printed as one `error: ...` line, exit 2)
when the file system refuses.  The files are written whatever the verdicts: a failing run is
exactly the one CI needs them for.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import junit, sarif
from .verdicts import Record


class ReportError(Exception):
    """A report file could not be written: printed as `error: ...`, exit 2."""


def output_path(text: str) -> Path:
    """An argparse type: a file that can be written (its folder exists and is writable)."""
    if not text:
        raise argparse.ArgumentTypeError("empty file name")
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text}: no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists()
                                                     and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {text}: permission denied")
    return path


def add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--junit", type=output_path, metavar="FILE",
                   help="also write the verdicts as JUnit XML (one testsuite per design, one "
                   "testcase per property) to FILE")
    p.add_argument("--sarif", type=output_path, metavar="FILE",
                   help="also write the verdicts as SARIF 2.1.0 (one rule per property, one "
                   "result per verdict, counterexamples as code flows) to FILE")


def command_line(argv: Sequence[str] | None = None) -> str:
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["mimi-portability", *args])


def write_reports(args: argparse.Namespace, records: Sequence[Record], exit_code: int,
                  *, name: str) -> None:
    """Write `--junit` and `--sarif` (those given) from `records`; `name` names the run."""
    junit_path: Path | None = getattr(args, "junit", None)
    sarif_path: Path | None = getattr(args, "sarif", None)
    if junit_path is not None:
        _write(junit_path, junit.render(records, f"mimi-portability {name}"))
    if sarif_path is not None:
        doc = sarif.document(records, command_line(getattr(args, "argv", None)), exit_code)
        _write(sarif_path, (json.dumps(doc, indent=2) + "\n").encode())


def _write(path: Path, data: bytes) -> None:
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o644)  # what a plain open() would give, not mkstemp's 0600
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise ReportError(f"cannot write {path}: {err.strerror or err}") from None
