"""`conform --remote`'s bad input: a bad CONFIG or an unreachable server is one clear line.

No server is started here: the CONFIG's DSs are on ports nothing listens on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.lockstep.remote_config import write_remote
from mimi_portability.cli import main


def _run(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["conform", "--remote", str(config), "--examples", "1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file" in _run(tmp_path / "nope.toml", capsys)


def test_bad_key_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_remote(tmp_path / "w")
    text = config.read_text().replace('url = "http://', 'url = "ftp://', 1)
    config.write_text(text)
    err = _run(config, capsys)
    assert str(config) in err and "ds[0].url" in err


def test_unknown_key_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_remote(tmp_path / "w")
    config.write_text("speed = 3\n" + config.read_text())
    err = _run(config, capsys)
    assert "speed: unknown key" in err


def test_unreachable_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_remote(tmp_path / "w")  # the servers are never started
    err = _run(config, capsys)
    assert "http://127.0.0.1:" in err and "no answer" in err
