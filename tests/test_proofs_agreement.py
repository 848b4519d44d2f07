"""The Z3 reading of the actions agrees with the model, both directions, in every
representation; and the agreement check does catch a wrong encoding (negative controls).

On small configurations, for each state: every action instance the model enables is one
Z3 enables, every one Z3 enables is one the model enables, and the successors are equal
(proofs/agreement.py).
"""

from __future__ import annotations

import random
from functools import cache

import pytest
import z3

from model import state as ms
from model.checker import explore
from model.config import ALL_DESIGNS, Config, variant
from proofs.agreement import Checker, check_states
from proofs.symstate import Abstraction
from tests.planted_encoding import add_guard, drop_guard, wrong_effect

SMALL = Config(clients=1, attempts=1)
"""One client, d0 and d1 with R and X, one group, one nonce per target: 52 reference states."""


@cache
def _states(design: str, config: Config = SMALL) -> list[ms.State]:
    return explore(config.with_options(variant(design).options), symmetry=False,
                   max_states=5_000).states


def _sample(design: str, n: int, config: Config = SMALL) -> list[ms.State]:
    states = _states(design, config)
    return random.Random(design).sample(states, min(n, len(states)))


@pytest.mark.parametrize("representation", ["array", "expanded", "function"])
def test_every_reference_state_agrees(representation: str) -> None:
    assert check_states(SMALL, _states("reference"), representation) == []


@pytest.mark.parametrize("design", [d.name for d in ALL_DESIGNS[1:]])
def test_variants_agree(design: str) -> None:
    config = SMALL.with_options(variant(design).options)
    assert check_states(config, _sample(design, 25), "array") == []
    assert check_states(config, _sample(design, 6), "function") == []


def test_default_configuration_agrees() -> None:
    """Two clients (the default bounds): a sample of the reference design's states."""
    assert check_states(Config(), _sample("reference", 25, Config()), "array") == []


def test_abstraction_round_trips() -> None:
    ab = Abstraction(Config())
    for state in _sample("reference", 40, Config()):
        model = z3.Solver()
        assert model.check() == z3.sat
        assert ab.concretize(model.model(), ab.abstract(state)) == state
        assert ab.concretize(model.model(), ab.expand(state)) == state


# ---------------------------------------------------------------- negative controls


@pytest.mark.parametrize("representation", ["array", "function"])
def test_a_missing_guard_is_caught(monkeypatch: pytest.MonkeyPatch,
                                   representation: str) -> None:
    drop_guard(monkeypatch, "client_request", "request.other_ds")
    problems = Checker(SMALL, representation).check_state(ms.initial_state(SMALL))
    assert any("Z3 enables client_request" in p for p in problems), problems


@pytest.mark.parametrize("representation", ["array", "function"])
def test_an_extra_guard_is_caught(monkeypatch: pytest.MonkeyPatch,
                                  representation: str) -> None:
    add_guard(monkeypatch, "client_request")
    problems = Checker(SMALL, representation).check_state(ms.initial_state(SMALL))
    assert any("the model enables client_request" in p for p in problems), problems


@pytest.mark.parametrize("representation", ["array", "expanded", "function"])
def test_a_wrong_effect_is_caught(monkeypatch: pytest.MonkeyPatch,
                                  representation: str) -> None:
    wrong_effect(monkeypatch, "client_request")
    problems = Checker(SMALL, representation).check_state(ms.initial_state(SMALL))
    assert any("client_request" in p and "differs" in p for p in problems), problems
