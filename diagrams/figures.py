"""The figure set: which figures exist, their files, writing them and checking them.

This module owns the list of figures (`build`), their file names (docs/figures/<name>.<ext>:
role-client, role-source-ds, role-target-ds, happy-path, counterexample-<variant>,
counterexample-drop_<ids>__<property> for the ad-hoc designs of FINDING_DROPS,
finding-<f>-bug and finding-<f>-fix for the findings report's bugs and fixes, state-graph,
state-graph-<variant>; the xml2rfc snippet is <name>.artset.xml), writing a
folder of them (`write`: only files whose bytes change are touched, and figure files of
ours that are no longer generated are removed) and telling whether a folder is current
(`problems`).  DOT and TXT depend only on the model; SVG, PNG and the artset snippet (which
holds the SVG) also on the renderer, so a folder is compared on those only when the
renderer and version the folder's README.md names is the one at hand.  Every SVG goes
through diagrams/svg_profile.py, so what is written is in the RFC 7996 profile.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from model.checker import VIOLATED, check
from model.config import REFERENCE, Config, Variant, variant

from . import artset, charts, extract, render_ascii, svg_profile
from .forms import DiagramError, Graph, SequenceChart
from .graphviz_backend import Renderer, render
from .render_dot import Dot, graph_dot, sequence_dot

FORMATS = ("svg", "png", "dot", "txt", "artset")
TEXT_FORMATS = ("dot", "txt")
RENDERED = ("svg", "png", "artset")
"""The formats whose bytes depend on the Graphviz renderer."""
EXTENSIONS = {"artset": "artset.xml"}
"""File name endings that are not the format's name."""
STATE_GRAPH_VARIANT = "fanout_before_ack"
"""The variant whose state graph is drawn with its violating states marked."""
INDEX = "README.md"
FINDING_DROPS: tuple[frozenset[str], ...] = (frozenset({"respond.tombstone_kept"}),)
"""Ad-hoc designs docs/findings.md reports whose counterexamples are committed figures too
(the tombstone rule: docs/profile.md §5)."""
OURS = re.compile(r"^(role-[a-z-]+|happy-path|counterexample-[a-z_]+|finding-[a-z0-9-]+|"
                  r"state-graph(-[a-z_]+)?)"
                  r"\.(svg|png|dot|txt|artset\.xml)$")


def file_name(name: str, fmt: str) -> str:
    return f"{name}.{EXTENSIONS.get(fmt, fmt)}"


def format_of(file: str) -> str | None:
    """The format of one of our figure files (None for any other file)."""
    match = OURS.match(file)
    if match is None:
        return None
    ending = match.group(3)
    return next((f for f, e in EXTENSIONS.items() if e == ending), ending)


@dataclass(frozen=True)
class Figure:
    name: str
    form: Graph | SequenceChart
    dot: Dot
    ascii: str | None = None
    """The ASCII art of a sequence chart (None for graphs)."""

    def formats(self) -> tuple[str, ...]:
        return FORMATS if self.ascii is not None else ("svg", "png", "dot")

    def rendered(self) -> tuple[str, ...]:
        return tuple(f for f in self.formats() if f in RENDERED)


def build() -> list[Figure]:
    """Every figure, computed from the model."""
    out: list[Figure] = []
    for machine in extract.role_machines():
        out.append(Figure(machine.name, machine, graph_dot(machine)))
    chart = charts.happy_path_chart()
    out.append(Figure(chart.name, chart, sequence_dot(chart), render_ascii.render(chart)))
    for cx in charts.counterexamples():
        chart = charts.counterexample_chart(cx)
        out.append(Figure(chart.name, chart, sequence_dot(chart), render_ascii.render(chart)))
    for drop in FINDING_DROPS:
        out += build_design(drop, text_optional=True)
    for finding in charts.finding_traces():
        chart = charts.finding_chart(finding)
        out.append(Figure(chart.name, chart, sequence_dot(chart), render_ascii.render(chart)))
    reference = extract.explicit_graph(extract.ROLE_CONFIG)
    graph = extract.state_graph(reference, name="state-graph", design="reference")
    out.append(Figure(graph.name, graph, graph_dot(graph, left_justify=True)))
    design = variant(STATE_GRAPH_VARIANT)
    explored = extract.explicit_graph(extract.ROLE_CONFIG.with_options(design.options))
    graph = extract.state_graph(explored, name=f"state-graph-{design.name}", design=design.name)
    if not any(n.violated for n in graph.nodes):
        raise DiagramError(f"{design.name} violates nothing in {extract.ROLE_CONFIG.summary()}")
    out.append(Figure(graph.name, graph, graph_dot(graph, left_justify=True)))
    return out


def design_slug(drop: frozenset[str]) -> str:
    """The file-name form of an ad-hoc design: drop_lock_current_epoch."""
    return "drop_" + "__".join(c.replace(".", "_") for c in sorted(drop))


def build_design(drop: frozenset[str], *, text_optional: bool = False) -> list[Figure]:
    """The figures of an ad-hoc design (the reference with the checks `drop` names dropped):
    for every property it violates, the shortest counterexample as a sequence chart.
    `text_optional`: a chart whose ASCII art cannot fit an Internet-Draft is drawn as SVG,
    PNG and DOT only (else that is an error)."""
    config = Config(drop=drop)
    name = config.design_name()
    report = check(config, liveness=True)
    out: list[Figure] = []
    for result in report.results:
        if result.verdict != VIOLATED:
            continue
        design = Variant(name, REFERENCE.options, result.property, "ad-hoc design",
                         exploratory=True)
        cx = charts.counterexample(design, drop)
        chart = charts.counterexample_chart(cx)
        chart = dataclasses.replace(
            chart, name=f"counterexample-{design_slug(drop)}__{result.property}")
        try:
            text: str | None = render_ascii.render(chart)
        except DiagramError:
            if not text_optional:
                raise
            text = None
        out.append(Figure(chart.name, chart, sequence_dot(chart), text))
    if not out:
        raise DiagramError(f"{name} violates no property in {config.summary()}: nothing to "
                           "draw")
    return out


DRAWN_BY = "SVG and PNG drawn by: "


def index(figures: Sequence[Figure], formats: Iterable[str], drawn_by: str | None) -> str:
    """docs/figures/README.md: what each figure is, its files, and which renderer drew the
    SVGs and PNGs (their bytes depend on it)."""
    wanted = set(formats)
    lines = [
        "# Figures computed from the model",
        "",
        "Generated by `mimi-portability diagrams` (diagrams/) from model/; do not edit.",
        "`make verify` regenerates them and tests/test_diagrams.py checks they are current.",
        "",
    ]
    if drawn_by is not None:
        lines += [f"{DRAWN_BY}{drawn_by}", ""]
    for f in figures:
        title = f.form.title.split("\n")[0]
        files = [f"[{fmt}]({file_name(f.name, fmt)})" for fmt in f.formats() if fmt in wanted]
        lines.append(f"- **{f.name}**: {title} ({', '.join(files)})")
    return "\n".join(lines) + "\n"


def drawn_by(folder: Path) -> str | None:
    """The renderer a folder's index says drew its SVGs and PNGs (Renderer.version)."""
    path = folder / INDEX
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(DRAWN_BY):
            return line[len(DRAWN_BY):]
    return None


@dataclass
class Outcome:
    renderer: Renderer | None
    figures: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        drawn = f", drawn by {self.renderer.describe()}" if self.renderer else ""
        files = len(self.written) + len(self.unchanged)
        text = f"{self.figures} figures, {files} files ({len(self.written)} changed"
        if self.removed:
            text += f", {len(self.removed)} removed"
        return text + ")" + drawn


def contents(figure: Figure, fmt: str, renderer: Renderer | None,
             warnings: list[str], svg: dict[str, bytes] | None = None) -> bytes:
    """The bytes of `figure` in `fmt`; `svg` caches drawn SVGs by figure name (the artset
    snippet holds the same SVG as the .svg file)."""
    if fmt == "dot":
        return figure.dot.text.encode()
    if fmt == "txt":
        if figure.ascii is None:
            raise DiagramError(f"{figure.name} has no text form")
        return figure.ascii.encode()
    if renderer is None:
        raise DiagramError(f"{figure.name}.{fmt} needs a Graphviz renderer")
    if fmt == "png":
        data, messages = render(renderer, figure.dot, fmt)
        warnings.extend(f"{figure.name}.{fmt}: {m}" for m in messages)
        return data
    cache = {} if svg is None else svg
    if figure.name not in cache:
        data, messages = render(renderer, figure.dot, "svg")
        warnings.extend(f"{figure.name}.svg: {m}" for m in messages)
        cache[figure.name] = svg_profile.conform(data, figure.name)
    if fmt == "svg":
        return cache[figure.name]
    if fmt == "artset":
        if figure.ascii is None:
            raise DiagramError(f"{figure.name} has no text form for an artset")
        return artset.snippet(figure.name, figure.form.title, figure.ascii,
                              cache[figure.name]).encode()
    raise DiagramError(f"unknown format {fmt!r}")


def write(folder: Path, formats: Sequence[str], renderer: Renderer | None,
          figures: Sequence[Figure] | None = None) -> Outcome:
    """Write every figure in `formats` into `folder` (created if missing)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise DiagramError(f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    figures = build() if figures is None else figures
    outcome = Outcome(renderer, figures=len(figures))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        drawn = renderer.version if renderer and set(RENDERED) & set(formats) else None
        expected: dict[str, bytes] = {INDEX: index(figures, formats, drawn).encode()}
        svg: dict[str, bytes] = {}
        for figure in figures:
            for fmt in figure.formats():
                if fmt in formats:
                    expected[file_name(figure.name, fmt)] = contents(
                        figure, fmt, renderer, outcome.warnings, svg
                    )
        for name, data in sorted(expected.items()):
            path = folder / name
            if path.is_file() and path.read_bytes() == data:
                outcome.unchanged.append(name)
            else:
                path.write_bytes(data)
                outcome.written.append(name)
        for path in sorted(folder.iterdir()):
            if (format_of(path.name) in formats and path.name not in expected
                    and path.is_file()):
                path.unlink()
                outcome.removed.append(path.name)
    except OSError as err:
        raise DiagramError(f"{folder}: {err.strerror or err}") from None
    return outcome


def problems(folder: Path, renderer: Renderer | None,
             figures: Sequence[Figure] | None = None) -> tuple[list[str], list[str]]:
    """(what in `folder` differs from a fresh generation, what could not be compared)."""
    figures = build() if figures is None else figures
    committed_by = drawn_by(folder)
    out: list[str] = []
    skipped: list[str] = []
    expected: dict[str, bytes] = {INDEX: index(figures, FORMATS, committed_by).encode()}
    for figure in figures:
        for fmt in TEXT_FORMATS:
            if fmt in figure.formats():
                expected[file_name(figure.name, fmt)] = contents(figure, fmt, None, [])
    if renderer is not None and renderer.version == committed_by:
        svg: dict[str, bytes] = {}
        for figure in figures:
            for fmt in figure.rendered():
                expected[file_name(figure.name, fmt)] = contents(figure, fmt, renderer, [], svg)
    else:
        skipped.append(f"{', '.join(RENDERED)} drawn by {committed_by}, not compared with "
                       f"{renderer.version if renderer else 'no renderer'}")
        out += [f"{file_name(f.name, fmt)}: missing" for f in figures for fmt in f.rendered()
                if not (folder / file_name(f.name, fmt)).is_file()]
    for name, data in sorted(expected.items()):
        path = folder / name
        if not path.is_file():
            out.append(f"{name}: missing")
        elif path.read_bytes() != data:
            out.append(f"{name}: differs from a fresh generation")
    known = {file_name(f.name, fmt) for f in figures for fmt in f.formats()}
    if folder.is_dir():
        out += [f"{p.name}: no longer generated" for p in sorted(folder.iterdir())
                if OURS.match(p.name) and p.name not in known]
    return out, skipped
