"""Test helper: run one part's subcommands on a fresh argparse parser, the way
mimi_portability/cli.py mounts them (`register(subparsers)`), and capture what they print."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest


def run_subcommand(register: Callable[[Any], None], capsys: pytest.CaptureFixture[str],
                   *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `argv` on a parser carrying `register`'s commands."""
    parser = argparse.ArgumentParser(prog="test")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(list(argv))
    code: int = args.handler(args)
    out, err = capsys.readouterr()
    return code, out, err
