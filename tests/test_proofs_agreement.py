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
from model.actions import successors
from model.checker import explore
from model.config import ALL_DESIGNS, EXPLORED, Config, variant
from model.state import initial_state
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


@pytest.mark.parametrize("design", [d.name for d in (*ALL_DESIGNS[1:], *EXPLORED)])
def test_variants_agree(design: str) -> None:
    config = SMALL.with_options(variant(design).options)
    assert check_states(config, _sample(design, 25), "array") == []
    assert check_states(config, _sample(design, 6), "function") == []


def test_default_configuration_agrees() -> None:
    """Two clients (the default bounds): a sample of the reference design's states."""
    assert check_states(Config(), _sample("reference", 25, Config()), "array") == []


WIDE: tuple[Config, ...] = (
    Config(clients=1, attempts=1, groups=2),
    Config(clients=1, attempts=1, max_epoch=2),
    Config(clients=1, attempts=1, ds=4),
)
"""Wider than SMALL in one direction each: a second group, epochs past 1 (a commit after a
migration, migrating back), a third honest DS."""


def _walk(config: Config, n: int, seed: str, length: int = 30) -> list[ms.State]:
    """`n` states met on random runs from the initial state (deep ones included, which a
    breadth-first prefix of a wide configuration never reaches)."""
    rng = random.Random(seed)
    found: list[ms.State] = [initial_state(config)]
    while len(found) < n:
        state = initial_state(config)
        for _ in range(rng.randrange(1, length)):
            nexts = [s for _, s in successors(config, state)]
            if not nexts:
                break
            state = rng.choice(nexts)
        found.append(state)
    return found


@pytest.mark.parametrize("config", WIDE, ids=lambda c: c.summary().replace(" ", ","))
@pytest.mark.parametrize("design", [d.name for d in ALL_DESIGNS])
def test_wider_configurations_agree(design: str, config: Config) -> None:
    """Both readings of the one statement agree beyond SMALL: sampled states of a second
    group, of epoch 2 and of a third honest DS, for the reference and every variant."""
    wide = config.with_options(variant(design).options)
    n = 6 if design == "reference" else 2
    assert check_states(wide, _walk(wide, n, f"{design}/{config.summary()}"), "array") == []


@pytest.mark.parametrize("config", WIDE, ids=lambda c: c.summary().replace(" ", ","))
def test_wider_configurations_catch_a_planted_bug(config: Config,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control of the test above: the same samples catch a missing guard."""
    drop_guard(monkeypatch, "client_request", "request.other_ds")
    assert check_states(config, _walk(config, 6, f"reference/{config.summary()}"), "array")


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
