"""Figures an Internet-Draft can take as they are.

Every ASCII chart fits 69 columns (72 in RFC 7994's plain-text format, less the 3 columns
xml2rfc indents a figure by), every SVG passes the IETF's `svgcheck` (RFC 7996's SVG
profile), and a small xml2rfc v3 draft holding every `<artset>` snippet renders to text and
HTML with no error and no warning.  Each check has a negative control that shows it fails:
a chart too wide to fit, an SVG with a colour or an element the profile lacks, a snippet
whose art is too wide for xml2rfc.  xml2rfc and svgcheck run with --no-network, and the
test draft has no references, so nothing is fetched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from diagrams import artset, charts, figures, graphviz_backend, render_ascii, svg_profile
from diagrams.forms import DiagramError, Participant, SequenceChart, Step
from model.config import VARIANTS

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "figures"
TIMEOUT = 300.0


def tool(name: str) -> str:
    """A console script of the dev extra: beside the interpreter (a venv), else on PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not installed: pip install -e '.[dev]'")
    return found


@pytest.fixture(scope="module")
def built() -> list[figures.Figure]:
    return figures.build()


@pytest.fixture(scope="module")
def drawn(built: list[figures.Figure], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh generation of the SVGs and artset snippets, by the renderer at hand."""
    renderer = graphviz_backend.find_renderer()
    if renderer is None:
        pytest.fail("no Graphviz renderer: graphviz-pure is a dependency, pip install it")
    folder = tmp_path_factory.mktemp("figures")
    outcome = figures.write(folder, ["svg", "artset"], renderer, built)
    assert outcome.warnings == []
    return folder


def charts_of(built: list[figures.Figure]) -> list[figures.Figure]:
    return [f for f in built if f.ascii is not None]


# ---------------------------------------------------------------- ASCII width


def too_wide(text: str, width: int = render_ascii.WIDTH) -> list[str]:
    return [line for line in text.splitlines() if len(line) > width]


def test_every_ascii_figure_fits_an_internet_draft(built: list[figures.Figure]) -> None:
    assert render_ascii.WIDTH + render_ascii.FIGURE_INDENT == render_ascii.RFC_LINE == 72
    texts = {f.name: f.ascii for f in charts_of(built)}
    # the happy path, one chart per variant, and the findings' bugs and fixes (the
    # tombstone drop's chart has no ASCII art: charts_of leaves it out)
    findings = [f for f in built if f.name.startswith("finding-")]
    assert len(findings) == 3
    assert len(texts) == 1 + len(VARIANTS) + len(findings)
    for name, text in texts.items():
        assert text is not None and too_wide(text) == [], name
        committed = (COMMITTED / f"{name}.txt").read_text(encoding="utf-8")
        assert too_wide(committed) == [], name
    widest = max(render_ascii.widest(t or "") for t in texts.values())
    assert widest <= render_ascii.WIDTH


def test_the_width_check_catches_a_wide_line() -> None:
    """Negative control of the check above: one column too many is caught."""
    assert too_wide("|" + "-" * render_ascii.WIDTH + "|\n") != []
    assert too_wide("|" + "-" * (render_ascii.WIDTH - 2) + "|\n") == []


def wide_chart(lanes: int, label: str = "MigrationConfirmation") -> SequenceChart:
    parties = tuple(Participant(id=f"c{i}", label=f"Participant c{i}") for i in range(lanes))
    steps = tuple(Step(sender=f"c{i}", receiver=f"c{i + 1}", label=label, trace_index=i + 1)
                  for i in range(lanes - 1))
    return SequenceChart(name="wide", title="too wide", participants=parties, steps=steps)


def test_a_chart_that_cannot_fit_is_refused_not_drawn_wide() -> None:
    """Negative control: three lanes of an unbreakable 21-letter label fit; four (three
    lanes of 24 columns, 72 in all) do not."""
    three = render_ascii.render(wide_chart(3))
    assert render_ascii.widest(three) <= render_ascii.WIDTH
    with pytest.raises(DiagramError, match=r"4 lanes need 83 columns .* more than 69"):
        render_ascii.render(wide_chart(4))
    with pytest.raises(DiagramError, match=r"happy-path: 4 lanes need 66 columns .* than 40"):
        render_ascii.render(charts.happy_path_chart(), width=40)


def test_labels_headers_and_notes_wrap_between_words() -> None:
    assert render_ascii.wrap("MigrationInit + Commit", 16) == ["MigrationInit", "+ Commit"]
    assert render_ascii.wrap("7: MigrationConfirmation (meant for c0)", 24) == [
        "7: MigrationConfirmation", "(meant for c0)"]
    # a step number stays with its label while that fits, and goes alone when not
    assert render_ascii.wrap("5: TargetMigrationComplete", 23) == [
        "5:", "TargetMigrationComplete"]
    assert render_ascii.wrap("Source Delivery Service", 8) == ["Source", "Delivery", "Service"]
    happy = render_ascii.render(charts.happy_path_chart())
    assert "Target Delivery Service" not in happy.replace("\n", " ")  # wrapped to fit...
    assert render_ascii.widest(happy) <= render_ascii.WIDTH


def test_the_trace_listing_wraps_and_keeps_every_action(built: list[figures.Figure]) -> None:
    for figure in charts_of(built):
        chart = figure.form
        assert isinstance(chart, SequenceChart) and figure.ascii is not None
        listing = figure.ascii.split("Model trace:\n", 1)[-1] if chart.legend else ""
        joined = " ".join(listing.split())
        for entry in chart.legend:
            assert " ".join(entry.split()) in joined, (figure.name, entry)


# ---------------------------------------------------------------- the SVG profile


def svgcheck(path: Path) -> tuple[bool, str]:
    done = subprocess.run([tool("svgcheck"), "--no-network", str(path)], capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    out = done.stdout + done.stderr
    return done.returncode == 0 and "File conforms to SVG requirements" in out, out


def test_every_svg_passes_svgcheck(drawn: Path) -> None:
    fresh = sorted(drawn.glob("*.svg"))
    committed = sorted(COMMITTED.glob("*.svg"))
    # 3 role machines, 2 state graphs, the happy path, one counterexample per variant, the
    # tombstone drop's, and the findings' 3
    assert len(fresh) == len(committed) == 3 + 2 + 1 + len(VARIANTS) + 1 + 3
    for path in [*fresh, *committed]:
        ok, out = svgcheck(path)
        assert ok, f"{path.name}: {out}"


SQUARE = ('<svg xmlns="http://www.w3.org/2000/svg" width="20pt" height="20pt" '
          'viewBox="0 0 20 20"><g id="g0" class="graph">{}</g></svg>')


@pytest.mark.parametrize("inner, complaint", [
    ('<path fill="#c00000" stroke="black" d="M0,0L10,10"/>', "colour"),
    ('<foreignObject width="5" height="5"/>', "foreignObject"),
    ('<image width="5" height="5"/>', "image"),
])
def test_svgcheck_and_conform_refuse_what_the_profile_lacks(
    tmp_path: Path, inner: str, complaint: str
) -> None:
    """Negative controls: a colour and two elements outside RFC 7996 fail svgcheck, and
    our own post-processing refuses them rather than writing them."""
    bad = tmp_path / "bad.svg"
    bad.write_text(SQUARE.format(inner))
    ok, out = svgcheck(bad)
    assert not ok, out
    with pytest.raises(DiagramError, match=complaint):
        svg_profile.conform(bad.read_bytes(), "bad")
    good = tmp_path / "good.svg"
    good.write_text(SQUARE.format('<path fill="none" stroke="black" d="M0,0L10,10"/>'))
    assert svgcheck(good)[0]


def test_conform_fixes_what_graphviz_writes() -> None:
    raw = (b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
           b' "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<!-- a comment -->\n'
           + SQUARE.format('<polygon fill="white" stroke="none" points="0,0 1,1"/>'
                           '<text xml:space="preserve" font-family="Helvetica,sans-Serif">a'
                           '</text><text font-family="Courier,monospace">b</text>').encode())
    fixed = svg_profile.conform(raw, "fig").decode()
    assert "DOCTYPE" not in fixed and "comment" not in fixed and 'stroke="none"' not in fixed
    root = ET.fromstring(fixed)
    fonts = [t.get("font-family") for t in root.iter(f"{{{svg_profile.SVG_NS}}}text")]
    assert fonts == ["sans-serif", "monospace"]
    group = root.find(f"{{{svg_profile.SVG_NS}}}g")
    assert group is not None and group.get("id") == "fig-g0"
    assert svg_profile.conform(fixed.encode(), "fig").decode().count("fig-fig-") == 1
    with pytest.raises(DiagramError, match="generic family"):
        svg_profile.conform(SQUARE.format('<text font-family="Comic Sans">x</text>').encode(),
                            "fig")


# ---------------------------------------------------------------- artset snippets, xml2rfc


def test_every_chart_has_an_artset_of_its_svg_and_its_ascii_art(
    built: list[figures.Figure], drawn: Path
) -> None:
    names = {f.name for f in charts_of(built)}
    assert {p.name.removesuffix(".artset.xml") for p in drawn.glob("*.artset.xml")} == names
    for figure in charts_of(built):
        for folder in (drawn, COMMITTED):
            art, svg = artset.parts(
                (folder / f"{figure.name}.artset.xml").read_text(encoding="utf-8"))
            assert art == figure.ascii, figure.name
            alone = ET.fromstring((folder / f"{figure.name}.svg").read_bytes())
            svg.tail = None
            assert ET.tostring(svg) == ET.tostring(alone), figure.name


def draft(snippets: dict[str, str]) -> str:
    """A minimal xml2rfc v3 Internet-Draft with each snippet in a figure of one section:
    no references, so nothing to fetch; an empty <date/> is the day it is rendered."""
    body = []
    for name, text in snippets.items():
        art = text.split("?>", 1)[1] if text.startswith("<?xml") else text
        body.append(f'<figure anchor="fig-{name}"><name>{name}</name>{art}</figure>')
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rfc xmlns:xi="http://www.w3.org/2001/XInclude" version="3" category="info"',
        '     docName="draft-mimi-portability-figures-00" ipr="trust200902"',
        '     submissionType="IETF" consensus="true">',
        "<front><title>MIMI Portability figures</title>",
        '<author fullname="A. Author" initials="A." surname="Author">',
        "<organization>mimi-portability</organization></author>",
        "<date/><abstract><t>Every figure of diagrams/.</t></abstract></front>",
        "<middle><section><name>Figures</name><t>Computed from the model.</t>",
        *body,
        "</section></middle></rfc>",
        "",
    ])


def xml2rfc(folder: Path, source: str) -> tuple[int, list[str], Path]:
    """Render `source` to text and HTML in `folder`: (exit code, the warnings and errors
    xml2rfc printed, the folder)."""
    path = folder / "draft.xml"
    path.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [tool("xml2rfc"), "--no-network", "--skip-config-files", "--cache", str(folder),
         "--no-pagination", "--text", "--html", "--path", str(folder), str(path)],
        capture_output=True, text=True, timeout=TIMEOUT, check=False, cwd=folder)
    said = (done.stdout + done.stderr).splitlines()
    complaints = [line for line in said if "Warning" in line or "Error" in line]
    return done.returncode, complaints, folder


def test_xml2rfc_renders_a_draft_of_every_snippet_without_a_warning(
    built: list[figures.Figure], drawn: Path, tmp_path: Path
) -> None:
    snippets = {f.name: (COMMITTED / f"{f.name}.artset.xml").read_text(encoding="utf-8")
                for f in charts_of(built)}
    code, complaints, out = xml2rfc(tmp_path, draft(snippets))
    assert code == 0 and complaints == [], complaints
    text = (out / "draft.txt").read_text(encoding="utf-8")
    assert max(len(line) for line in text.splitlines()) <= render_ascii.RFC_LINE
    for figure in charts_of(built):
        assert figure.ascii is not None
        indented = "\n".join(" " * render_ascii.FIGURE_INDENT + line if line else ""
                             for line in figure.ascii.splitlines())
        assert indented in text, figure.name
    html = (out / "draft.html").read_text(encoding="utf-8")
    assert html.count("<svg") == len(snippets)
    assert "Artwork only available" not in text


def test_xml2rfc_warns_about_art_too_wide_for_a_figure(tmp_path: Path) -> None:
    """Negative control of the test above: 70 columns of art draw a warning."""
    svg = SQUARE.format('<path fill="none" stroke="black" d="M0,0L10,10"/>').encode()
    wide = "+" + "-" * (render_ascii.WIDTH - 1) + ">|\n"
    code, complaints, _ = xml2rfc(tmp_path, draft({"wide": artset.snippet("wide", "t", wide,
                                                                           svg)}))
    assert any("too wide" in c.lower() or "too long" in c.lower() for c in complaints), complaints
    narrow = "+" + "-" * (render_ascii.WIDTH - 3) + ">|\n"
    code, complaints, _ = xml2rfc(tmp_path, draft({"narrow": artset.snippet("narrow", "t",
                                                                            narrow, svg)}))
    assert code == 0 and complaints == [], complaints


def test_artset_files_are_ours_and_stale_ones_are_removed(
    built: list[figures.Figure], tmp_path: Path
) -> None:
    assert figures.format_of("happy-path.artset.xml") == "artset"
    assert figures.format_of("happy-path.svg") == "svg"
    assert figures.format_of("happy-path.xml") is None
    assert figures.format_of("notes.artset.xml") is None
    stale = tmp_path / "counterexample-gone.artset.xml"
    stale.write_text("<artset/>")
    kept = tmp_path / "counterexample-gone.svg"
    kept.write_text("<svg/>")
    renderer = graphviz_backend.find_renderer()
    assert renderer is not None
    outcome = figures.write(tmp_path, ["artset"], renderer, built)
    assert outcome.removed == [stale.name] and kept.is_file()
    assert sorted(p.name for p in tmp_path.glob("*.artset.xml")) == sorted(
        f"{f.name}.artset.xml" for f in charts_of(built))
