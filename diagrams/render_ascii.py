"""Render a sequence chart as ASCII art in the style of the draft's figure.

This module owns the text form of a sequence chart, drawn the way
draft-kohbrok-mimi-portability's Architecture figure is: participant names left-aligned
over their lifelines, and for each message a blank lifeline row, a label row (the label
just right of the arrow's left end) and an arrow row (`+----->|` from the sender, `|<-----+`
towards a receiver on the left) that runs over the lifelines it crosses.  A step that sends
nothing is a parenthesised note beside its party's lifeline.  The happy path comes out ready
to paste into the Internet-Draft; a counterexample adds its title above, draws the violating
step with `=` instead of `-`, and lists the model trace below.
"""

from __future__ import annotations

from .forms import LOCAL, SequenceChart

MIN_GAP = 8


def columns(chart: SequenceChart) -> list[int]:
    """The character column of every lifeline."""
    n = len(chart.participants)
    gaps = [MIN_GAP] * max(n - 1, 0)
    for i, p in enumerate(chart.participants[:-1]):
        gaps[i] = max(gaps[i], len(p.label) + 3)
    for step in chart.steps:
        text = chart.text(step)
        if step.kind == LOCAL:
            column, width = chart.column(step.sender), len(text) + 6
            if chart.note_side(step) < 0:
                column -= 1
        else:
            column = min(chart.column(step.sender), chart.column(step.receiver))
            width = len(text) + 4
        if column < n - 1:
            gaps[column] = max(gaps[column], width)
    xs = [0]
    for gap in gaps:
        xs.append(xs[-1] + gap)
    return xs


def _put(line: list[str], at: int, text: str) -> None:
    if len(line) < at + len(text):
        line.extend(" " * (at + len(text) - len(line)))
    line[at : at + len(text)] = list(text)


def render(chart: SequenceChart) -> str:
    xs = columns(chart)
    width = xs[-1] + 1

    def lifelines() -> list[str]:
        line = [" "] * width
        for x in xs:
            line[x] = "|"
        return line

    out: list[list[str]] = []
    header: list[str] = []
    for p, x in zip(chart.participants, xs, strict=True):
        _put(header, x, p.label)
    out.append(header)
    for step in chart.steps:
        text = chart.text(step)
        sender = xs[chart.column(step.sender)]
        if step.kind == LOCAL:
            out.append(lifelines())
            note = lifelines()
            start = sender + 2 if chart.note_side(step) > 0 else sender - 3 - len(text)
            _put(note, start, f"({text})")
            out.append(note)
            continue
        receiver = xs[chart.column(step.receiver)]
        left, right = min(sender, receiver), max(sender, receiver)
        label = lifelines()
        _put(label, left + 2, text)
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
        out.extend([lifelines(), label, arrow])
    body = ["".join(line).rstrip() for line in out]
    if not chart.numbered:
        return "\n".join(body) + "\n"
    top = [*chart.title.split("\n"), ""]
    bottom = ["", "== marks the violating step.", "Model trace:", *chart.legend]
    return "\n".join([*top, *body, *bottom]) + "\n"
