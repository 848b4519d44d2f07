"""JUnit XML from verdict records (`--junit FILE`), in the dialect of the Jenkins junit-10.xsd.

This module owns how mimi_portability.verdicts.Record maps onto JUnit: one <testsuite> per
design (the reference design, each variant, each drop:ID design; for `verify`, each part), in
the order the command reports them; one <testcase> per property, named by its stable id, with
`design/property` as its classname (its identity in GitLab's and Jenkins' reports).  A record
whose outcome is "fail" or "open" is a <failure> whose text says what was expected, what the
engine said and the counterexample step by step; "skipped" is <skipped>; a passing record with
a counterexample (a variant caught) carries it in <system-out>.  junitparser builds the tree.

The schema (junit-10.xsd, the one pytest's own tests validate against) has no `skipped`
attribute on <testsuites>, which junitparser writes: it is taken off the root, and stays on
each <testsuite>, where the schema has it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

from .verdicts import Record


def failure_text(r: Record) -> str:
    """What a failing testcase says: the verdict, the expectation, the counterexample."""
    lines = [f"{r.identity}: {r.verdict}"
             + (f" (expected: {r.expected})" if r.expected is not None else ""),
             r.detail, f"property: {r.text}"]
    if r.clause:
        lines.append(f"clause: {r.clause}")
    lines.extend(trace_lines(r))
    return "\n".join(lines) + "\n"


def trace_lines(r: Record) -> list[str]:
    if not r.trace:
        return []
    out = [f"counterexample, {len(r.trace)} steps:"]
    out += [f"  {i:2}. {s.text}    ({s.where.path}:{s.where.line})"
            for i, s in enumerate(r.trace, 1)]
    return out


def testcase(r: Record) -> TestCase:
    case = TestCase(r.property, classname=r.identity, time=round(r.seconds, 3))
    if r.failing:
        case.result = [Failure(f"{r.verdict}: {r.detail}", type_=r.outcome)]
        case.result[0].text = failure_text(r)
    elif r.outcome == "skipped":
        case.result = [Skipped(r.detail, type_="skipped")]
    elif r.trace:
        case.system_out = "\n".join([r.detail, *trace_lines(r)]) + "\n"
    return case


def document(records: Sequence[Record], name: str) -> JUnitXml:
    """The <testsuites> of `records`, one suite per design in order of appearance."""
    root = JUnitXml(name)
    suites: dict[str, TestSuite] = {}
    for r in records:
        suite = suites.get(r.design)
        if suite is None:
            suite = suites[r.design] = TestSuite(r.design)
            suite.add_property("tool", r.tool)
        suite.add_testcase(testcase(r))
    for suite in suites.values():
        root.add_testsuite(suite)
    root.update_statistics()  # type: ignore[no-untyped-call]
    root._elem.attrib.pop("skipped", None)  # not an attribute of <testsuites> in junit-10.xsd
    return root


def render(records: Sequence[Record], name: str) -> bytes:
    """The JUnit XML document, UTF-8 with its declaration."""
    buffer = io.BytesIO()
    document(records, name).write(buffer, pretty=True)
    return buffer.getvalue()
