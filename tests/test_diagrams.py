"""Figures computed from the model: checked against the model and against their own output.

Role machines are re-derived here from model.checker.explore and model.actions.successors;
the SVGs Graphviz draws are parsed as XML and their nodes and edges compared with the
intermediate form; the ASCII charts must list the trace's messages in order; the committed
figures in docs/figures must be what the model gives now; and the backend must find
graphviz-pure when there is no `dot`.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from diagrams import charts, extract, figures, graphviz_backend, render_ascii, svg_profile
from diagrams.forms import LOCAL, Edge, Graph, Node, SequenceChart
from diagrams.render_dot import (
    HIGHLIGHT_WIDTH,
    START,
    VIOLATED_PERIPHERIES,
    graph_dot,
    point_id,
    sequence_dot,
)
from mimi_portability.cli import main
from mimi_portability.commands import diagrams as commands
from model.actions import ACTIONS_BY_NAME, replay, successors
from model.checker import explore
from model.config import VARIANTS, variant
from model.messages import MESSAGE_TYPES
from model.properties import property_by_id
from model.state import HOST_PHASES, NONCE_PHASES

SVG = "{http://www.w3.org/2000/svg}"
COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "figures"
DRAFT_MESSAGES = [
    "MigrationRequest",
    "MigrationResponse",
    "MigrationInit + Commit",
    "MigrationContent",
    "TargetMigrationComplete",
    "MigrationConfirmation",
]


@pytest.fixture(scope="module")
def built() -> list[figures.Figure]:
    return figures.build()


@pytest.fixture(scope="module")
def renderer() -> graphviz_backend.Renderer:
    found = graphviz_backend.find_renderer()
    if found is None:
        pytest.fail("no Graphviz renderer: graphviz-pure is a dependency, pip install it")
    return found


def by_name(built: list[figures.Figure], name: str) -> figures.Figure:
    return next(f for f in built if f.name == name)


def svg_of(renderer: graphviz_backend.Renderer, figure: figures.Figure) -> ET.Element:
    """The figure's SVG as it is written: drawn, then fitted to the RFC 7996 profile."""
    data, warnings = graphviz_backend.render(renderer, figure.dot, "svg")
    assert warnings == []
    return ET.fromstring(svg_profile.conform(data, figure.name))


def titled(root: ET.Element, kind: str) -> dict[str, ET.Element]:
    """Graphviz SVG: every <g class="node|edge"> by its <title>."""
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == kind:
            title = g.find(f"{SVG}title")
            assert title is not None and title.text is not None
            out[title.text.replace("&#45;", "-")] = g
    return out


def texts(g: ET.Element) -> list[str]:
    return [t.text or "" for t in g.iter(f"{SVG}text")]


# ---------------------------------------------------------------- role machines vs the model


def test_role_machine_nodes_are_the_projected_reachable_states() -> None:
    config = extract.ROLE_CONFIG
    states = explore(config, properties=(), symmetry=False).states
    for role, machine in zip(extract.ROLES, extract.role_machines(), strict=True):
        projected = {role.local(config, s) for s in states}
        assert {n.label for n in machine.nodes} == projected, role.name
        initial = [n for n in machine.nodes if n.initial]
        assert [n.label for n in initial] == [role.local(config, states[0])]


def test_role_machine_edges_are_exactly_the_model_transitions() -> None:
    config = extract.ROLE_CONFIG
    states = explore(config, properties=(), symmetry=False).states
    steps = [(s, a, t) for s in states for a, t in successors(config, s) if t != s]
    for role, machine in zip(extract.ROLES, extract.role_machines(), strict=True):
        label = {n.id: n.label for n in machine.nodes}
        drawn = {(label[e.source], label[e.target], name) for e in machine.edges
                 for name in e.labels}
        changing = {
            (role.local(config, s), role.local(config, t), a.name)
            for s, a, t in steps
            if role.local(config, s) != role.local(config, t)
        }
        model = {(role.local(config, s), role.local(config, t), a.name) for s, a, t in steps}
        assert changing <= drawn, role.name
        assert drawn <= model, role.name
        for source, target, name in drawn - changing:
            assert source == target, (role.name, name)
            assert ACTIONS_BY_NAME[name].role == role.acts_as, (role.name, name)


def test_role_machines_show_every_phase() -> None:
    client, source, target = extract.role_machines()
    hosts = " ".join(n.label for n in (*source.nodes, *target.nodes))
    for phase in HOST_PHASES:
        assert phase in hosts
    nonces = " ".join(n.label for n in target.nodes)
    for phase in NONCE_PHASES:
        assert f" {phase}" in nonces
    views = [n.label for n in client.nodes]
    assert any("migrating to d1" in v for v in views)
    assert any(v.startswith("at d1") for v in views)


def test_edges_with_the_same_ends_are_merged() -> None:
    edges = extract.merge_edges(
        [("b", "a", "member_switch"), ("a", "b", "x"), ("b", "a", "client_confirm")]
    )
    assert edges == (
        Edge(source="a", target="b", labels=("x",)),
        Edge(source="b", target="a", labels=("client_confirm", "member_switch")),
    )
    with pytest.raises(ValueError):
        Graph(name="g", title="t", nodes=(Node(id="a", label="a"),),
              edges=(Edge(source="a", target="a", labels=("x",)),) * 2)


# ---------------------------------------------------------------- SVG vs the intermediate form


GRAPHS = ["role-client", "role-source-ds", "role-target-ds", "state-graph",
          f"state-graph-{figures.STATE_GRAPH_VARIANT}"]


@pytest.mark.parametrize("name", GRAPHS)
def test_graph_svg_has_the_forms_nodes_and_edges(
    built: list[figures.Figure], renderer: graphviz_backend.Renderer, name: str
) -> None:
    figure = by_name(built, name)
    graph = figure.form
    assert isinstance(graph, Graph)
    root = svg_of(renderer, figure)
    nodes, edges = titled(root, "node"), titled(root, "edge")
    assert set(nodes) == {n.id for n in graph.nodes} | {START}
    initial = [n.id for n in graph.nodes if n.initial]
    assert set(edges) == {f"{e.source}->{e.target}" for e in graph.edges} | {
        f"{START}->{i}" for i in initial
    }
    for e in graph.edges:
        assert texts(edges[f"{e.source}->{e.target}"]) == list(e.labels)
    for n in graph.nodes:
        shown = " ".join(texts(nodes[n.id]))
        assert n.label.split("\n")[0] in shown
        outlines = len(list(nodes[n.id].iter(f"{SVG}path")))
        assert outlines == (int(VIOLATED_PERIPHERIES) if n.violated else 1), n.id
        if n.violated:
            assert "violates: " + ", ".join(n.violated) in shown


def test_state_graph_of_the_variant_marks_its_violations(built: list[figures.Figure]) -> None:
    design = variant(figures.STATE_GRAPH_VARIANT)
    graph = by_name(built, f"state-graph-{design.name}").form
    assert isinstance(graph, Graph)
    assert any(design.expected in n.violated for n in graph.nodes)
    reference = by_name(built, "state-graph").form
    assert isinstance(reference, Graph)
    assert not any(n.violated for n in reference.nodes)
    states = explore(extract.ROLE_CONFIG, properties=(), symmetry=False).states
    assert len(reference.nodes) == len(states)


def charts_of(built: list[figures.Figure]) -> list[figures.Figure]:
    return [f for f in built if isinstance(f.form, SequenceChart)]


def test_sequence_chart_svgs_have_every_step(
    built: list[figures.Figure], renderer: graphviz_backend.Renderer
) -> None:
    for figure in charts_of(built):
        chart = figure.form
        assert isinstance(chart, SequenceChart)
        root = svg_of(renderer, figure)
        nodes, edges = titled(root, "node"), titled(root, "edge")
        for p in chart.participants:
            assert texts(nodes[f"p_{p.id}"]) == [p.label]
            assert f"p_{p.id}->end_{p.id}" in edges
        for row, step in enumerate(chart.steps, start=1):
            if step.kind == LOCAL:
                g = nodes[f"note{row}_{step.sender}"]
            else:
                g = edges[f"{point_id(row, step.sender)}->{point_id(row, step.receiver)}"]
            assert texts(g) == [chart.text(step)], figure.name
            thick = any(p.get("stroke-width") == HIGHLIGHT_WIDTH for p in g.iter()
                        if p.tag != f"{SVG}text")
            assert thick == step.highlight, (figure.name, row)


# ---------------------------------------------------------------- the charts vs the traces


def test_happy_path_is_the_drafts_six_messages_with_the_fanout_before_the_confirmation(
) -> None:
    trace = charts.happy_path_trace()
    states = replay(charts.HAPPY_CONFIG, trace)
    assert charts.migrated(charts.HAPPY_CONFIG, states[-1])
    assert not any(charts.migrated(charts.HAPPY_CONFIG, s) for s in states[:-1])
    chart = charts.happy_path_chart()
    messages = [s.label for s in chart.steps if s.kind != LOCAL]
    # the model sends the fan-out and the confirmation in one step; drawn in the draft's order
    assert messages == [*DRAFT_MESSAGES[:5], "Commit fan-out", DRAFT_MESSAGES[5]]
    both = [s.trace_index for s in chart.steps if s.label in messages[5:]]
    assert len(set(both)) == 1
    assert trace[both[0] - 1].name == "source_fanout_and_confirm"
    assert [p.label for p in chart.participants[:3]] == [
        "Client", "Source Delivery Service", "Target Delivery Service"]
    assert not any(s.highlight or s.note for s in chart.steps)


def test_draft_order_ranks_every_message_kind() -> None:
    assert sorted(t.__name__ for t in charts.DRAFT_ORDER) == sorted(
        t.__name__ for t in MESSAGE_TYPES)
    assert len(set(charts.DRAFT_ORDER)) == len(charts.DRAFT_ORDER)


def tokens(lines: list[str]) -> list[str]:
    """The words of ASCII art read row by row, lifelines and arrows left out."""
    return [w for line in lines for w in line.replace("|", " ").split()
            if not re.fullmatch(r"[+<>=-]{2,}", w)]


def contains_run(haystack: list[str], needle: list[str], start: int = 0) -> int:
    """The index after the first run of `needle` in `haystack` from `start`, or -1."""
    for i in range(start, len(haystack) - len(needle) + 1):
        if haystack[i : i + len(needle)] == needle:
            return i + len(needle)
    return -1


def test_ascii_charts_show_every_message_in_order(built: list[figures.Figure]) -> None:
    """Every label (wrapped or not) is there, word for word, in the order of the steps.
    (Only a chart of figures.FINDING_DROPS may have no ASCII art: too wide for a draft.)"""
    drops = tuple(f"counterexample-{figures.design_slug(d)}__" for d in figures.FINDING_DROPS)
    for figure in charts_of(built):
        chart = figure.form
        if figure.ascii is None:
            assert figure.name.startswith(drops), figure.name
            continue
        assert isinstance(chart, SequenceChart)
        words = tokens(render_ascii.chart_body(chart))
        at = 0
        for step in chart.steps:
            text = chart.text(step)
            shown = text if step.kind != LOCAL else f"({text})"
            found = contains_run(words, shown.split(), at)
            assert found >= 0, (figure.name, shown)
            at = found


def test_happy_path_ascii_is_in_the_drafts_style() -> None:
    chart = charts.happy_path_chart()
    lines = render_ascii.render(chart).splitlines()
    xs = render_ascii.columns(chart)
    lifelines = "".join("|" if i in xs else " " for i in range(xs[-1] + 1))
    h = lines.index(lifelines)
    assert h >= 1 and lines[0].startswith("Client ")
    for p, x in zip(chart.participants, xs, strict=True):
        assert lines[0][x:].startswith(p.label.split()[0]), p.label
        assert x == 0 or lines[0][x - 1] == " "
    # headers may wrap: their words are all there, above the lifelines
    assert sorted(tokens(lines[:h])) == sorted(w for p in chart.participants
                                               for w in p.label.split())
    # the draft's first message: label under the client, then an arrow over the source's
    # lifeline into the target's
    assert lines[h + 1].startswith("| MigrationRequest ")
    target = xs[2]
    assert lines[h + 2][: target + 1] == "+" + "-" * (target - 2) + ">|"
    assert lines[h + 5][: target + 1] == "|<" + "-" * (target - 2) + "+"
    for line in lines[h:]:
        assert re.fullmatch(r"[|+<>\- ]*(\(?[\w +:,.()-]*)?[|+<>\- ]*", line), line


def test_counterexamples_highlight_the_violating_step() -> None:
    for cx in charts.counterexamples():
        states = replay(cx.config, cx.trace)
        prop = property_by_id(cx.property)
        assert not prop.predicate(cx.config, states[-1]), cx.variant.name
        assert all(prop.predicate(cx.config, s) for s in states[:-1]), cx.variant.name
        chart = charts.counterexample_chart(cx)
        assert cx.variant.name in chart.title and cx.property in chart.title
        lit = [s for s in chart.steps if s.highlight]
        assert lit and all(s.trace_index == len(cx.trace) for s in lit)
        assert all(s.trace_index == len(cx.trace) for s in chart.steps if s.highlight)
        assert len(chart.legend) == len(cx.trace)
        text = render_ascii.render(chart)
        assert "==>" in text or "<==" in text or any(s.kind == LOCAL for s in lit)


def test_every_variant_has_a_counterexample_chart(built: list[figures.Figure]) -> None:
    names = {f.name for f in built}
    for v in VARIANTS:
        assert f"counterexample-{v.name}" in names


def test_rogues_act_as_participants() -> None:
    cx = charts.counterexample(variant("unsigned_init"))
    chart = charts.counterexample_chart(cx)
    rogue = [p for p in chart.participants if p.rogue]
    assert [p.id for p in rogue] == ["X"]
    assert any(s.sender == "X" and s.highlight for s in chart.steps)


# ---------------------------------------------------------------- determinism and currency


def test_generation_is_deterministic(
    built: list[figures.Figure], renderer: graphviz_backend.Renderer
) -> None:
    again = figures.build()
    assert [(f.name, f.dot, f.ascii) for f in built] == [(f.name, f.dot, f.ascii) for f in again]
    first = by_name(built, "happy-path")
    assert (graphviz_backend.render(renderer, first.dot, "svg")
            == graphviz_backend.render(renderer, first.dot, "svg"))
    for figure in built:
        assert "/work" not in figure.dot.text and str(Path.home()) not in figure.dot.text


def test_committed_figures_are_current(
    built: list[figures.Figure], renderer: graphviz_backend.Renderer, tmp_path: Path
) -> None:
    """DOT and TXT always; SVG and PNG too when docs/figures was drawn by this renderer."""
    figures.write(tmp_path, ["dot", "txt"], None, built)
    fresh = sorted(p for p in tmp_path.iterdir() if p.suffix in (".dot", ".txt"))
    assert fresh
    for path in fresh:
        committed = COMMITTED / path.name
        assert committed.is_file(), f"{committed} missing: run mimi-portability diagrams"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} is stale: run mimi-portability diagrams"
        )
    found, _ = figures.problems(COMMITTED, renderer, built)
    assert found == []


def test_gray_cases_of_the_dot_text() -> None:
    graph = Graph(name="g", title='say "hi"\\', nodes=(Node(id="a", label="x\ny", initial=True),),
                  edges=())
    text = graph_dot(graph).text
    assert '"say \\"hi\\"\\\\"' in text and '"x\\ny"' in text
    chart = charts.happy_path_chart()
    assert sequence_dot(chart).no_layout


# ---------------------------------------------------------------- the backend and the command


def test_backend_uses_graphviz_pure_when_there_is_no_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which

    def which(name: str, *args: object, **kwargs: object) -> str | None:
        return None if name == "dot" else real(name)

    monkeypatch.setattr(shutil, "which", which)
    found = graphviz_backend.find_renderer()
    assert found is not None and found.name == "graphviz-pure"
    assert "graphviz-pure" in found.version
    assert graphviz_backend.find_renderer("dot") is None


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for dot")
def test_backend_prefers_a_system_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\necho "dot - graphviz version 2.43.0 (0)" >&2\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    found = graphviz_backend.find_renderer()
    assert found is not None and found.name == "dot" and found.path == str(fake)
    assert found.version == "dot - graphviz version 2.43.0 (0)"
    pure = graphviz_backend.find_renderer("graphviz-pure")
    assert pure is not None and pure.name == "graphviz-pure"


def test_command_writes_figures(
    built: list[figures.Figure], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["diagrams", "--out", str(tmp_path), "--format", "dot,txt"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert (tmp_path / "happy-path.txt").is_file() and (tmp_path / "role-client.dot").is_file()
    assert not list(tmp_path.glob("*.svg"))
    assert out.splitlines()[-1].startswith(f"{len(built)} figures")


def test_command_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert main(["diagrams", "--out", str(tmp_path), "--format", "svg,gif"]) == 1
    assert capsys.readouterr().err == (
        "error: unknown format 'gif'; choose from svg,png,dot,txt,artset\n")
    monkeypatch.setattr(graphviz_backend, "find_renderer", lambda choice="auto": None)
    assert main(["diagrams", "--out", str(tmp_path), "--format", "svg"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no Graphviz found") and err.count("\n") == 1


def test_verify_checks_are_named_callables() -> None:
    checks = commands.verify_checks()
    assert checks and all(isinstance(n, str) and callable(f) for n, f in checks)
    assert commands.COMMITTED == COMMITTED
    assert [n for n, _ in commands.verify_checks(quick=True)] == [
        "diagrams: committed figures are current"]
