"""Shared pytest helpers, and the two tiers of the suite.

Tiers: the modules in `SLOW_MODULES` (proofs, exhaustive checks, lockstep sessions and the
tour, the golden files, packaging) get the `slow` marker (registered in pyproject.toml, run
with --strict-markers); everything else is the fast tier, run by `make test-fast`
(`pytest -m "not slow"`), while `make test` and CI run both.  A module listed here that does
not exist is a usage error, so a renamed slow module cannot drift into the fast tier unseen;
a new module is fast until it is listed.

`mls_vectors`: the RFC 9420 interoperability test vectors of mlswg/mls-implementations
(folder test-vectors/), read from the folder named by the environment variable
MLS_TEST_VECTORS.  The files are never copied into this project.  Unset: the test skips with a
reason saying where to get them.  Set but the file is missing or unreadable: the test fails
(CI sets the variable, so a lost vector must not turn into a silent skip).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

#: Test modules of the slow tier, each with why.
SLOW_MODULES: dict[str, str] = {
    "test_model_checker": "exhausts the explicit state space of every design",
    "test_lockstep": "lockstep sessions and the transition tour, implementation and model",
    "test_lockstep_bugs": "a lockstep search per planted implementation bug",
    "test_validate_bugs": "a traced lockstep session and a log search per planted bug",
    "test_validate_served": "two server processes per case, with and without a planted bug",
    "test_lockstep_observed": "lockstep sessions against the refusals and fan-outs peers see",
    "test_lockstep_remote": "conform --remote against two real servers, and planted bugs",
    "test_proofs_agreement": "Z3 against the concrete model on small configurations",
    "test_proofs_bmc": "bounded model checking of every variant",
    "test_proofs_cli": "`prove` runs, induction and BMC",
    "test_proofs_diagnosis": "a Z3 counterexample per variant, then its diagnosis",
    "test_proofs_induction": "the unbounded proof and its negative controls",
    "test_golden": "`check --variant all` and `prove` against tests/golden/",
    "test_packaging": "builds a wheel and installs it into a fresh venv",
    "test_design_drops": "an ad-hoc design checked explicitly and by bounded model checking",
    "test_ietf_figures": "svgcheck on every SVG and xml2rfc on a draft of every figure",
    "test_mutate": "the explicit checker on mutants of the rules, and redundancy proofs",
    "test_ci_formats_runs": "--junit and --sarif from check --variant all, prove, verify --quick",
    "test_storage_crashes": "a migration crashed at every step on SQLite, and four planted bugs",
    "test_findings_current": "builds docs/findings.md again: every design checked and proved",
    "test_wire_faults": "two real servers behind fault proxies: every fault mode at every "
                        "step, SIGKILL at every crash point, a soak (about 100 s)",
}

MLS_VECTORS_ENV = "MLS_TEST_VECTORS"
MLS_VECTORS_SKIP_REASON = (
    "MLS_TEST_VECTORS is not set; point it at a checkout of "
    "mlswg/mls-implementations/test-vectors"
)

_cache: dict[Path, list[Any]] = {}


def load_mls_vectors(name: str) -> list[Any]:
    """The parsed JSON list of vector file `name` ("crypto-basics" or "crypto-basics.json").

    A relative MLS_TEST_VECTORS is taken relative to the current directory.
    """
    folder = os.environ.get(MLS_VECTORS_ENV, "")
    if not folder:
        pytest.skip(MLS_VECTORS_SKIP_REASON)
    filename = name if name.endswith(".json") else name + ".json"
    path = (Path(folder) / filename).resolve()
    if path in _cache:
        return _cache[path]
    if not path.is_file():
        pytest.fail(
            f"{MLS_VECTORS_ENV}={folder!r} is set but {path} does not exist; "
            "the folder must hold the files of mlswg/mls-implementations/test-vectors",
            pytrace=False,
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        pytest.fail(f"cannot read MLS test vectors {path}: {exc}", pytrace=False)
    if not isinstance(data, list):
        pytest.fail(f"MLS test vectors {path}: expected a JSON array", pytrace=False)
    _cache[path] = data
    return data


@pytest.fixture
def mls_vectors() -> Callable[[str], list[Any]]:
    """`mls_vectors("crypto-basics")` -> the parsed JSON list (see `load_mls_vectors`)."""
    return load_mls_vectors


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of a `SLOW_MODULES` module `slow`."""
    del config
    here = Path(__file__).resolve().parent
    missing = [name for name in SLOW_MODULES if not (here / f"{name}.py").is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py SLOW_MODULES names no module: {missing}")
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
