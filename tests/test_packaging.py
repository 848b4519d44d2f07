"""Packaging: the wheel installs exactly the import names README.md promises, and runs alone.

The distribution is an application, meant for an environment of its own: it installs the
top-level packages `diagrams`, `impl`, `mimi_portability`, `model` and `proofs` (generic names
that would clash with others in a shared environment) and the `mimi-portability` command.
These tests build a wheel from a copy of the sources with `pip wheel` (build dependencies
from the package index pip is configured with, nothing else), pin its top-level names
against `TOP_LEVEL` and against the sentence in README.md that lists them, check the package
data is inside, and install it into a fresh venv, where `mimi-portability --help` and
`mimi-portability check --variant reference` must work from a folder outside the checkout
(so nothing is imported from the sources).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: The top-level import names the wheel installs (README.md, "Installing").
TOP_LEVEL = frozenset({"diagrams", "impl", "mimi_portability", "model", "proofs"})
#: Files besides modules that must be in the wheel.
PACKAGE_DATA = frozenset(
    {"diagrams/py.typed", "impl/py.typed", "mimi_portability/py.typed", "model/py.typed",
     "proofs/py.typed", "proofs/hints.json"}
)
TIMEOUT = 900


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)
    assert proc.returncode == 0, f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the sources (so no build/ or egg-info lands in the tree)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for package in TOP_LEVEL:
        shutil.copytree(REPO / package, src / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(out)],
         cwd=src)
    (built,) = out.glob("mimi_portability-*.whl")
    return built


def test_wheel_installs_the_pinned_top_level_names(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        info = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        declared = set(z.read(info).decode().split())
    tops = {n.split("/", 1)[0] for n in names if ".dist-info/" not in n}
    assert tops == TOP_LEVEL
    assert declared == TOP_LEVEL
    assert set(names) >= PACKAGE_DATA
    assert "impl/mls/framing.py" in names and "impl/vectors/check.py" in names


def test_readme_names_the_same_top_level_packages() -> None:
    readme = (REPO / "README.md").read_text()
    assert "top-level import names:" in readme
    sentence = readme.split("top-level import names:", 1)[1].split(".", 1)[0]
    assert set(re.findall(r"`(\w+)`", sentence)) == TOP_LEVEL


def test_fresh_venv_runs_the_command(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path)
    where = _run([str(python), "-c", "import impl; print(impl.__file__)"], cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv)
    exe = str(venv / "bin" / "mimi-portability")
    assert _run([exe, "--help"], cwd=tmp_path).stdout.startswith("usage: mimi-portability")
    checked = _run([exe, "check", "--variant", "reference", "--quiet"], cwd=tmp_path)
    assert "ok: the reference design holds every property" in checked.stdout
