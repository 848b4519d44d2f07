"""Render a sequence chart as ASCII art in the style of the draft's figure, narrow enough for
an Internet-Draft.

This module owns the text form of a sequence chart, drawn the way
draft-kohbrok-mimi-portability's Architecture figure is: participant names left-aligned
over their lifelines, and for each message a blank lifeline row, the label (just right of
the arrow's left end) and an arrow row (`+----->|` from the sender, `|<-----+` towards a
receiver on the left) that runs over the lifelines it crosses.  A step that sends nothing
is a parenthesised note beside its party's lifeline.  The happy path comes out ready to
paste into the Internet-Draft; a counterexample adds its title above, draws the violating
step with `=` instead of `-`, and lists the model trace below.

Every chart fits `WIDTH` columns: RFC 7994 (the plain-text RFC format) allows 72 columns a
line and xml2rfc indents a figure in a section by 3, so the artwork itself gets 69.  Each
lane (the space between two lifelines) starts as wide as its longest header, label or note
and the widest lanes are narrowed one column at a time, wrapping their texts at spaces,
until the chart fits; a word is never broken, so a chart whose words cannot fit is an
error (`DiagramError`), never an over-wide figure.  Title and trace listing wrap too.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from .forms import LOCAL, DiagramError, SequenceChart

RFC_LINE = 72
"""Columns of a line of the plain-text RFC format (RFC 7994, section 4.1)."""
FIGURE_INDENT = 3
"""Where xml2rfc's text output starts a figure that sits in a section."""
WIDTH = RFC_LINE - FIGURE_INDENT
"""Columns of every chart."""

HEADER_PAD = 2
"""A header line, then at least two spaces before the next participant's header."""
LABEL_PAD = 3
"""`| ` before a message label and one space before the next lifeline."""
NOTE_PAD = 5
"""`| (` before a note, `) ` after it before the next lifeline."""
MIN_LANE = 6
LEGEND_INDENT = "     "
"""Where a wrapped line of the model trace listing goes on (under the action's name)."""


def words(text: str) -> list[str]:
    """The pieces `text` is wrapped between: its words, except that a step number ("7:")
    and a lone "+" stay with the word after them while that fits."""
    out: list[str] = []
    glue = False
    for word in text.split(" "):
        if glue:
            out[-1] += " " + word
        else:
            out.append(word)
        glue = word == "+" or (word.endswith(":") and word[:-1].isdigit())
    return out


def narrowest(text: str) -> int:
    """The narrowest `wrap` can make `text`: its longest word."""
    return max(len(w) for w in text.split(" "))


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns, broken only between words and between
    the `words` pieces while they fit (a word longer than `width` gets a line of its
    own)."""
    lines: list[str] = []
    for piece in words(text):
        for word in [piece] if len(piece) <= width else piece.split(" "):
            if lines and len(lines[-1]) + 1 + len(word) <= width:
                lines[-1] += " " + word
            else:
                lines.append(word)
    return lines


@dataclass(frozen=True)
class _Text:
    """A text that must fit in lane `lane` (the last lane is right of the last lifeline)
    with `pad` columns of framing."""

    lane: int
    text: str
    pad: int

    @property
    def natural(self) -> int:
        return len(self.text) + self.pad

    @property
    def narrowest(self) -> int:
        return narrowest(self.text) + self.pad


def _note_lane(chart: SequenceChart, column: int, side: int) -> int:
    return column if side > 0 else column - 1


def _texts(chart: SequenceChart) -> list[_Text]:
    last = len(chart.participants) - 1
    out = [_Text(i, p.label, HEADER_PAD if i < last else 0)
           for i, p in enumerate(chart.participants)]
    for step in chart.steps:
        text = chart.text(step)
        if step.kind == LOCAL:
            column = chart.column(step.sender)
            lane = _note_lane(chart, column, chart.note_side(step))
            out.append(_Text(lane, text, NOTE_PAD if lane < last else NOTE_PAD - 1))
        else:
            lane = min(chart.column(step.sender), chart.column(step.receiver))
            out.append(_Text(lane, text, LABEL_PAD))
    return out


def _total(lanes: list[int]) -> int:
    return sum(lanes[:-1]) + max(lanes[-1], 1)


def _lines(texts: list[_Text], lane: int, size: int) -> int:
    return sum(len(wrap(t.text, size - t.pad)) for t in texts if t.lane == lane)


def lanes(chart: SequenceChart, width: int = WIDTH) -> list[int]:
    """The width of every lane, the last one being what is right of the last lifeline.
    Each starts as wide as its texts want; while the chart is wider than `width`, the lane
    that one column less costs the fewest extra wrapped lines (the widest of those) loses
    a column."""
    n = len(chart.participants)
    texts = _texts(chart)
    sizes = [max(t.natural for t in texts if t.lane == i) for i in range(n)]
    floor = [max(t.narrowest for t in texts if t.lane == i) for i in range(n)]
    for i in range(n - 1):
        sizes[i], floor[i] = max(sizes[i], MIN_LANE), max(floor[i], MIN_LANE)
    while _total(sizes) > width:
        shrinkable = [i for i in range(n) if sizes[i] > floor[i]]
        if not shrinkable:
            raise DiagramError(
                f"{chart.name}: {n} lanes need {_total(floor)} columns even with every "
                f"label wrapped, more than {width}"
            )

        def cost(i: int) -> tuple[int, int, int]:
            extra = _lines(texts, i, sizes[i] - 1) - _lines(texts, i, sizes[i])
            return extra, -sizes[i], -i

        sizes[min(shrinkable, key=cost)] -= 1
    return sizes


def columns(chart: SequenceChart, width: int = WIDTH) -> list[int]:
    """The character column of every lifeline."""
    xs = [0]
    for size in lanes(chart, width)[:-1]:
        xs.append(xs[-1] + size)
    return xs


def _put(line: list[str], at: int, text: str) -> None:
    if len(line) < at + len(text):
        line.extend(" " * (at + len(text) - len(line)))
    line[at : at + len(text)] = list(text)


def _parenthesised(lines: list[str]) -> list[str]:
    out = ["(" + lines[0], *(" " + line for line in lines[1:])]
    out[-1] += ")"
    return out


def chart_body(chart: SequenceChart, width: int = WIDTH) -> list[str]:
    """The headers, lifelines and arrows of `chart`, each line at most `width` columns."""
    sizes = lanes(chart, width)
    xs = columns(chart, width)
    last = len(xs) - 1

    def lifelines() -> list[str]:
        line = [" "] * (xs[-1] + 1)
        for x in xs:
            line[x] = "|"
        return line

    out: list[list[str]] = []
    headers = [wrap(p.label, sizes[i] - (HEADER_PAD if i < last else 0))
               for i, p in enumerate(chart.participants)]
    for row in range(max(len(h) for h in headers)):
        header: list[str] = []
        for lines, x in zip(headers, xs, strict=True):
            if row < len(lines):
                _put(header, x, lines[row])
        out.append(header)
    for step in chart.steps:
        text = chart.text(step)
        sender = xs[chart.column(step.sender)]
        out.append(lifelines())
        if step.kind == LOCAL:
            side = chart.note_side(step)
            lane = _note_lane(chart, chart.column(step.sender), side)
            pad = NOTE_PAD if lane < last else NOTE_PAD - 1
            block = _parenthesised(wrap(text, sizes[lane] - pad))
            start = sender + 2 if side > 0 else sender - 1 - max(len(b) for b in block)
            for line in block:
                note = lifelines()
                _put(note, start, line)
                out.append(note)
            continue
        receiver = xs[chart.column(step.receiver)]
        left, right = min(sender, receiver), max(sender, receiver)
        lane = min(chart.column(step.sender), chart.column(step.receiver))
        for line in wrap(text, sizes[lane] - LABEL_PAD):
            label = lifelines()
            _put(label, left + 2, line)
            out.append(label)
        arrow = lifelines()
        dash = "=" if step.highlight else "-"
        _put(arrow, left, "+" if sender == left else "|")
        _put(arrow, left + 1, dash * (right - left - 1))
        if receiver == right:
            _put(arrow, right - 1, ">")
            _put(arrow, right, "|")
        else:
            _put(arrow, left + 1, "<")
            _put(arrow, right, "+")
        out.append(arrow)
    return ["".join(line).rstrip() for line in out]


def _fill(text: str, width: int, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [""]


def render(chart: SequenceChart, width: int = WIDTH) -> str:
    """The chart as ASCII art, every line at most `width` columns (DiagramError if that
    cannot be done without breaking a word)."""
    body = chart_body(chart, width)
    if chart.numbered:
        top = [line for part in chart.title.split("\n") for line in _fill(part, width)]
        legend = [line for entry in chart.legend for line in _fill(entry, width, LEGEND_INDENT)]
        marked = ["== marks the violating step."] * any(s.highlight for s in chart.steps)
        bottom = ["", *marked, "Model trace:", *legend]
        body = [*top, "", *body, *bottom]
    too_wide = [(i, line) for i, line in enumerate(body, start=1) if len(line) > width]
    if too_wide:
        i, line = too_wide[0]
        raise DiagramError(f"{chart.name}: line {i} is {len(line)} columns, more than {width}: "
                           f"{line.strip()!r}")
    return "\n".join(body) + "\n"


def widest(text: str) -> int:
    """The number of columns of the longest line of `text`."""
    return max((len(line) for line in text.splitlines()), default=0)
