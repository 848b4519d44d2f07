"""The `diagrams` subcommand and the checks `mimi-portability verify` runs for the figures.

This module owns the command line of the figures: `register(subparsers)` adds
`diagrams [--out DIR] [--format svg,png,dot,txt,artset] [--renderer auto|dot|graphviz-pure]`
to an argparse front (mimi_portability/cli.py), and `verify_checks()` gives the (name,
check) pairs the umbrella verify runs.  Errors become one `error: ...` line on stderr
and exit code 1; the renderer that drew the figures is always printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diagrams import figures
from diagrams.forms import DiagramError
from diagrams.graphviz_backend import (
    CHOICES,
    DOT,
    PURE,
    Renderer,
    find_renderer,
    require_renderer,
)

from ..args import Check, Subparsers, check_ids

DEFAULT_OUT = Path("docs/figures")
#: The checkout (or, installed, the site-packages folder: no pyproject.toml there).
REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "docs" / "figures"


def parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    if not formats:
        raise DiagramError("--format needs at least one of " + ",".join(figures.FORMATS))
    for f in formats:
        if f not in figures.FORMATS:
            raise DiagramError(
                f"unknown format {f!r}; choose from {','.join(figures.FORMATS)}"
            )
    return sorted(set(formats), key=figures.FORMATS.index)


def cmd_diagrams(args: argparse.Namespace) -> int:
    try:
        formats = parse_formats(args.format)
        try:
            drop = check_ids(args.drop)
        except ValueError as err:
            raise DiagramError(str(err)) from None
        drawn = set(figures.RENDERED) & set(formats)
        if drop:
            if args.out is None:
                args.out = f"figures-{figures.design_slug(drop)}"
        elif args.out is None:
            args.out = str(DEFAULT_OUT)
        renderer = require_renderer(args.renderer) if drawn else None
        chosen = figures.build_design(drop) if drop else None
        outcome = figures.write(Path(args.out), formats, renderer, chosen)
    except DiagramError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for name in outcome.written:
        print(f"wrote {Path(args.out) / name}")
    for name in outcome.removed:
        print(f"removed {Path(args.out) / name} (no longer generated)")
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(outcome.summary())
    return 0


def register(subparsers: Subparsers) -> None:
    """Add the `diagrams` subcommand; its handler (args.handler) returns an exit code."""
    p = subparsers.add_parser(
        "diagrams",
        help="draw the figures computed from the model (role machines, sequence charts)",
        description="Compute every figure from the model and write it to DIR: role state "
        "machines, the happy path, one counterexample per variant, the state graph.  "
        "ASCII charts fit an Internet-Draft (69 columns, 72 with xml2rfc's indentation), "
        "SVGs keep to the RFC 7996 profile.",
    )
    p.add_argument("--out", metavar="DIR", default=None,
                   help=f"output folder (default {DEFAULT_OUT}; with --drop, "
                   "figures-drop_<ids>)")
    p.add_argument("--drop", action="append", metavar="ID[,ID...]",
                   help="draw an ad-hoc design instead: the reference with these checks "
                   "dropped (see 'checks'), one counterexample chart per property it "
                   "violates")
    p.add_argument("--format", metavar="LIST", default=",".join(figures.FORMATS),
                   help="comma-separated subset of svg,png,dot,txt,artset (default: all); "
                   "artset is the xml2rfc v3 <artset> snippet (SVG and ASCII art) of each "
                   "sequence chart, <name>.artset.xml")
    p.add_argument("--renderer", choices=CHOICES, default="auto",
                   help="auto (default): system dot if on PATH, else graphviz-pure")
    p.set_defaults(handler=cmd_diagrams)


def committed_renderer() -> Renderer:
    """The kind of renderer that drew the committed figures if this machine has it (so a
    developer with a system `dot` does not redraw every SVG), else the usual choice."""
    version = figures.drawn_by(COMMITTED) or ""
    kind = PURE if version.startswith(PURE) else DOT if version.startswith(DOT) else "auto"
    return find_renderer(kind) or require_renderer()


def check_regenerate() -> tuple[str, str]:
    """Regenerate docs/figures (what `make verify` does) and say what changed and who drew."""
    if not (REPO / "pyproject.toml").is_file():
        return "skipped", "not a source checkout: no docs/figures to regenerate"
    try:
        renderer = committed_renderer()
        outcome = figures.write(COMMITTED, figures.FORMATS, renderer)
    except DiagramError as err:
        return "fail", str(err)
    detail = outcome.summary()
    if outcome.written or outcome.removed:
        detail += "; commit docs/figures"
    if outcome.warnings:
        return "fail", f"{detail}; {len(outcome.warnings)} renderer warnings: {outcome.warnings[0]}"
    return "pass", detail


def check_current() -> tuple[str, str]:
    """Whether the committed figures are what the model gives now (writes nothing)."""
    try:
        found, skipped = figures.problems(COMMITTED, find_renderer())
    except DiagramError as err:
        return "fail", str(err)
    if found:
        return "fail", f"{len(found)} stale, first: {found[0]} (run mimi-portability diagrams)"
    return "pass", "committed figures are current" + (f" ({skipped[0]})" if skipped else "")


def verify_checks(*, quick: bool = False) -> list[tuple[str, Check]]:
    """(name, check) pairs for `mimi-portability verify`; a check returns (status, detail)
    with status "pass" or "fail" ("skipped" outside a source checkout).  Quick: whether the
    committed figures are current, writing nothing."""
    if quick:
        return [("diagrams: committed figures are current", check_current)]
    return [("diagrams: figures regenerated into docs/figures", check_regenerate)]
