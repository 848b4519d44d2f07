"""The findings report (docs/findings.md) as committed: every variant, explored design and
finding in it with its chart, the charts the committed figures; the F4 and F6 fixes checked
with their negative controls; the new design options listed like the others.

The report's being current (what `mimi-portability findings --check` says) is the slow
tier's: tests/test_findings_current.py builds it again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mimi_portability import findings
from mimi_portability.cli import main
from mimi_portability.commands import model as model_commands
from mimi_portability.decisions import DECISIONS
from mimi_portability.findings import design_config
from model import witness
from model.checker import HOLDS, VIOLATED, check
from model.config import EXPLORED, OPTION_NAMES, REFERENCE, VARIANTS, Config, variant
from model.rules import option_checks
from tests.subcommands import run_subcommand

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "findings.md"
FIGURES = ROOT / "docs" / "figures"
CHART = re.compile(r"Figure `([a-z0-9_-]+)` \((.*?)\):\n\n```\n(.*?)```\n", re.S)


def _text() -> str:
    return REPORT.read_text(encoding="utf-8")


def _charts() -> dict[str, str]:
    return {m.group(1): m.group(3) for m in CHART.finditer(_text())}


def test_every_chart_is_the_committed_figure_and_its_links_exist() -> None:
    charts = _charts()
    assert charts
    links = {m.group(1): m.group(2) for m in CHART.finditer(_text())}
    for name, art in charts.items():
        assert (FIGURES / f"{name}.svg").is_file(), name
        if "[txt]" not in links[name]:  # too wide for ASCII art: the trace is listed
            assert "wider than 69 columns" in links[name], name
            assert not (FIGURES / f"{name}.txt").exists(), name
            continue
        assert (FIGURES / f"{name}.txt").read_text(encoding="utf-8") == art, name
        assert max(len(line) for line in art.splitlines()) <= 69, name
    for link in re.findall(r"\]\((figures/[^)]+)\)", _text()):
        assert (REPORT.parent / link).is_file(), link


def test_every_variant_and_finding_is_in_the_report_with_its_chart() -> None:
    text, charts = _text(), _charts()
    for v in VARIANTS:
        assert f"**Without it: `{v.name}`**" in text, v.name
        assert f"counterexample-{v.name}" in charts, v.name
    for v in EXPLORED:
        assert f"**Without it: `{v.name}`**" in text, v.name
    assert "counterexample-drop_respond_tombstone_kept__members_follow_owner" in charts
    for name in ("finding-f4-fix", "finding-f6-bug", "finding-f6-fix"):
        assert name in charts, name
    for key in ("F4", "F6", "Q1", "Q2", "Q3"):
        assert f"### {key}. " in text, key
    for d in DECISIONS:
        assert f"**{d.key}. {d.title}** (" in text, d.key


def test_every_decision_is_tied_to_the_checks_its_designs_drop() -> None:
    text = _text()
    normative = text[text.index("## Proposed normative text"):]
    for d in DECISIONS:
        ids: set[str] = set()
        for name in d.designs:
            config, design = design_config(name)
            ids |= config.with_options(design.options).dropped
        para = next(p for p in normative.split("\n\n") if p.startswith(f"**{d.key}. "))
        assert ids and all(f"`{i}`" in para for i in ids), d.key
        assert "MUST" in para, d.key


def test_f4_the_fix_removes_the_bug_and_the_unfixed_design_shows_it() -> None:
    prop = "authorized_migration"
    unfixed = check(Config(), design=variant("response_names_no_client"), liveness=False,
                    stop_at=frozenset({prop}))
    assert unfixed.result(prop).verdict == VIOLATED
    trace = unfixed.result(prop).trace
    assert trace is not None and any(
        a.name == "client_init" and a.arg("response").request.client != a.arg("client")
        for a in trace)
    config = Config(clients=1)
    assert witness.step_witness(config, witness.response_of_another_client).trace is None
    bug = config.with_options(variant("response_names_no_client").options)
    assert witness.step_witness(bug, witness.response_of_another_client).trace is not None


def test_f4_fix_is_the_reference_design_which_holds() -> None:
    report = check(Config(), design=REFERENCE, liveness=False)
    assert report.result("authorized_migration").verdict == HOLDS
    assert "`response_names_no_client` | violates authorized_migration (4 steps)" in _text()


def test_f6_the_fix_removes_the_bug_and_the_unfixed_design_shows_it() -> None:
    config = Config(clients=1)
    found = witness.step_witness(config.with_options(variant("abort_names_no_nonce").options),
                                 witness.abort_of_another_attempt)
    assert found.trace is not None and found.trace[-1].name == "client_abort"
    fixed = witness.step_witness(config, witness.abort_of_another_attempt)
    assert fixed.trace is None and fixed.states > 0
    assert f"shortest trace {len(found.trace)} steps" in _text()
    assert "no such step in any reachable state" in _text()


def test_the_new_options_are_listed_like_the_others(capsys: pytest.CaptureFixture[str]) -> None:
    by_option = option_checks()
    assert set(by_option["response_names_no_client"]) == {"init.own_request",
                                                          "lock.signed_by_requester"}
    assert set(by_option["abort_names_no_nonce"]) == {"abort.own_nonce"}
    assert set(by_option["commit_beside_init"]) == {"lock.commit_for_request"}
    assert {"response_names_no_client", "abort_names_no_nonce",
            "commit_beside_init"} <= set(OPTION_NAMES)
    code, out, _ = run_subcommand(model_commands.register, capsys, "variants")
    assert code == 0
    assert "response_names_no_client" in out and "breaks authorized_migration" in out
    for v in EXPLORED:
        assert re.search(rf"^{v.name}\s+explored\s", out, re.M), v.name
    code, out, _ = run_subcommand(model_commands.register, capsys, "checks")
    for option in ("response_names_no_client", "abort_names_no_nonce", "commit_beside_init"):
        assert f"options: {option}" in out, option


def test_an_explored_design_is_checked_with_nothing_expected(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_subcommand(model_commands.register, capsys, "check", "--variant",
                                  "commit_beside_init", "--quiet", "--no-liveness")
    assert code == 0 and "commit_beside_init" in out and "holds every property" in out
    assert "nothing is expected of it" in out


def test_check_fails_on_a_stale_report(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(findings, "build", lambda progress=None: "# the report\n")
    stale = tmp_path / "findings.md"
    stale.write_text("# an older report\n", encoding="utf-8")
    assert main(["findings", "--output", str(stale), "--check", "--quiet"]) == 1
    assert "is not current" in capsys.readouterr().err
    assert main(["findings", "--output", str(stale), "--quiet"]) == 0
    assert stale.read_text(encoding="utf-8") == "# the report\n"
    assert main(["findings", "--output", str(stale), "--check", "--quiet"]) == 0
