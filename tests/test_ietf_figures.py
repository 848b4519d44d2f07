"""Figures an Internet-Draft can take as they are.

Every ASCII chart fits 69 columns (72 in RFC 7994's plain-text format, less the 3 columns
xml2rfc indents a figure by), labels, headers, notes and the trace listing wrapped between
words.  The width check has a negative control that shows it fails: a chart too wide to
fit is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from diagrams import charts, figures, render_ascii
from diagrams.forms import DiagramError, Participant, SequenceChart, Step
from model.config import VARIANTS

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "figures"


@pytest.fixture(scope="module")
def built() -> list[figures.Figure]:
    return figures.build()


def charts_of(built: list[figures.Figure]) -> list[figures.Figure]:
    return [f for f in built if f.ascii is not None]


# ---------------------------------------------------------------- ASCII width


def too_wide(text: str, width: int = render_ascii.WIDTH) -> list[str]:
    return [line for line in text.splitlines() if len(line) > width]


def test_every_ascii_figure_fits_an_internet_draft(built: list[figures.Figure]) -> None:
    assert render_ascii.WIDTH + render_ascii.FIGURE_INDENT == render_ascii.RFC_LINE == 72
    texts = {f.name: f.ascii for f in charts_of(built)}
    assert len(texts) == 1 + len(VARIANTS)  # the happy path and one chart per variant
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
