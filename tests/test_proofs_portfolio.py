"""Bounded search by engine (proofs/portfolio.py): the explicit search and the portfolio give
Z3's verdicts and lengths, name the engine that answered, and replay every trace; a search
that cannot finish leaves the answer to Z3; a wrong explicit trace is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.checker import trace_to
from model.config import VARIANTS, Config
from proofs import bmc, portfolio
from proofs.properties import property_by_id

ROOT = Path(__file__).resolve().parent.parent
FAST = [v for v in VARIANTS if v.name in ("fanout_before_ack", "no_epoch_check")]


@pytest.mark.parametrize("design", FAST, ids=lambda v: v.name)
def test_every_engine_gives_z3s_verdict_and_length(design: object) -> None:
    config = Config().with_options(design.options)  # type: ignore[attr-defined]
    prop = property_by_id(design.expected)  # type: ignore[attr-defined]
    (z3,) = portfolio.run(config, [prop], 10, engine="z3")
    assert z3.verdict == bmc.VIOLATED and z3.engine == "z3"
    for engine in ("explicit", "portfolio"):
        (r,) = portfolio.run(config, [prop], 10, engine=engine)
        assert (r.verdict, r.depth) == (z3.verdict, z3.depth), engine
        assert r.engine in ("z3", "explicit") and r.trace is not None
        bmc.confirm(config, prop, r.trace)
    (short,) = portfolio.run(config, [prop], z3.depth - 1, engine="explicit")
    assert short.verdict == bmc.CLEAN and short.depth == z3.depth - 1  # as Z3 would say


def test_a_search_stopped_early_is_unknown_and_the_portfolio_keeps_z3s_answer() -> None:
    design = FAST[0]
    config = Config().with_options(design.options)
    prop = property_by_id(design.expected)
    (stopped,) = portfolio.explicit(config, [prop], 10, max_states=3)
    assert stopped.verdict == bmc.UNKNOWN and stopped.engine == "explicit"
    (r,) = portfolio.run(config, [prop], 10, engine="portfolio", max_states=3)
    assert r.engine == "z3" and r.verdict == bmc.VIOLATED


def test_a_wrong_explicit_trace_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    design = FAST[0]
    config = Config().with_options(design.options)

    def truncated(ex: object, at: int) -> list[object]:
        return trace_to(ex, at)[:-1]  # type: ignore[arg-type]

    monkeypatch.setattr(portfolio, "trace_to", truncated)
    with pytest.raises(bmc.ReplayMismatch):
        portfolio.explicit(config, [property_by_id(design.expected)], 10)


def test_an_unknown_engine_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        portfolio.run(Config(), [], 1, engine="tlc")


def test_prove_names_the_engine_in_its_output() -> None:
    design = FAST[0]
    out = subprocess.run(
        [sys.executable, "-m", "mimi_portability", "prove", "--variant", design.name,
         "--no-induction", "--engine", "explicit", "--json", "--quiet"],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    rows = [r for r in json.loads(out.stdout)["results"] if r["variant"] == design.name]
    assert {r["engine"] for r in rows} == {"explicit"}
    hit = next(r for r in rows if r["property"] == design.expected)
    assert hit["verdict"] == "violated" and "explicit search" in hit["detail"]
