"""The lockstep in configurations larger than the default (issue 19, item 5): three honest
DSs, two groups, two epochs (migrating back), each run by random sessions with no
divergence and nothing skipped, each shown to reach what only it has (a third DS taking a
group, the second group moving, a commit after a migration); and a group moved back to d0
and another on to a third DS, step by step in lockstep; and a planted bug that only the
second group shows, caught."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from impl.lockstep.driver import Divergence, Lockstep
from impl.lockstep.moves import session
from impl.storage import CrashPoint
from model import state as ms
from model.actions import successors
from model.config import Config
from tests.lockstep.planted import BUGS, plant

EXAMPLES = 16


def _third_ds_took_a_group(runs: list[Lockstep]) -> bool:
    return any(i.target == 2 for ls in runs for i in ls.state.ghost.imports)


def _second_group_moved(runs: list[Lockstep]) -> bool:
    return any(i.content.state.group == 1 for ls in runs for i in ls.state.ghost.imports)


def _committed_in_epoch_1(runs: list[Lockstep]) -> bool:
    return any(c.epoch == 1 for ls in runs for c in ls.state.ghost.history)


CONFIGS: list[tuple[str, Config, Callable[[list[Lockstep]], bool]]] = [
    ("ds4", Config(ds=4), _third_ds_took_a_group),
    ("groups2", Config(groups=2), _second_group_moved),
    ("epochs2", Config(max_epoch=2), _committed_in_epoch_1),
]


@pytest.mark.parametrize(("config", "reached"), [c[1:] for c in CONFIGS],
                         ids=[c[0] for c in CONFIGS])
def test_a_larger_configuration_runs_with_no_divergence(
    config: Config, reached: Callable[[list[Lockstep]], bool]
) -> None:
    runs: list[Lockstep] = []

    def factory() -> Lockstep:
        runs.append(Lockstep(config))
        return runs[-1]

    report = session(EXAMPLES, 3, config=config, factory=factory)
    assert report.divergences == [], report.divergences[0]
    assert not report.skipped and report.steps == EXAMPLES * 60
    assert reached(runs), f"{config.summary()}: no run reached what only it has"
    data = report.as_json(config)
    assert data["states_total"] == 0 and data["states_visited"] > 100  # not enumerated
    assert data["pairs_total_of"] == Config().summary()


def test_the_abstraction_maps_every_ds_and_group() -> None:
    config = Config(ds=4, groups=2, max_epoch=2)
    ls = Lockstep(config)
    assert ls.abstract() == ms.initial_state(config)
    assert [d.domain for d in ls.world.dss] == [ls.dec.domain(i) for i in range(3)]
    assert len(set(ls.world.group_ids)) == 2


def _take(ls: Lockstep, name: str, **args: int) -> None:
    """Apply the first enabled `name` whose arguments include `args` (both sides)."""
    for action, _ in successors(ls.config, ls.state):
        if action.name == name and all(action.arg(k) == v for k, v in args.items()):
            ls.apply(action)
            return
    raise AssertionError(f"{name}{args} is not enabled")


def _migrate(ls: Lockstep, group: int, source: int, target: int) -> None:
    """Client 0 moves `group` from `source` to `target`, every member following."""
    _take(ls, "client_request", client=0, group=group, target=target)
    _take(ls, "target_respond", target=target)
    _take(ls, "client_init", client=0, group=group)
    _take(ls, "source_lock_and_export", source=source)
    _take(ls, "target_import", target=target)
    _take(ls, "source_fanout_and_confirm", source=source)
    _take(ls, "client_confirm", client=0, group=group)
    for client in range(1, ls.config.clients):
        _take(ls, "member_switch", client=client, group=group)


def test_a_group_migrates_back_and_on_in_lockstep() -> None:
    """d0 -> d1 -> d0 for group 0 and d0 -> d2 for group 1, the abstraction checked
    after every step (Lockstep.apply)."""
    ls = Lockstep(Config(ds=4, groups=2, max_epoch=2))
    _migrate(ls, 0, 0, 1)
    _migrate(ls, 0, 1, 0)
    _migrate(ls, 1, 0, 2)
    hosts = ls.state.hosts
    assert hosts[0][0] == ms.active(2, origin=1) and hosts[1][0].phase == ms.MOVED
    assert hosts[2][1] == ms.active(1, origin=0) and hosts[0][1] == ms.moved(2)
    assert ls.world.target.status(ls.world.group_id) == "moved"
    assert ls.world.more_dss[0].status(ls.world.group_ids[1]) == "active"


@pytest.mark.parametrize("point", [None, CrashPoint.BEFORE_COMMIT, CrashPoint.AFTER_COMMIT])
def test_a_bug_only_a_second_group_shows_diverges_in_lockstep(
        point: CrashPoint | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/lockstep/planted.py's `any_group_taken`: the first group moves to d1 as the
    model says; the second, following it, is refused where the model accepts, and that is a
    divergence whether or not the target crashes while it handles the request (a refusal
    inside a crashing move used to escape the session as an error)."""
    plant(next(b for b in BUGS if b.name == "any_group_taken"), monkeypatch)
    ls = Lockstep(Config(groups=2))
    _migrate(ls, 0, 0, 1)
    _take(ls, "client_request", client=0, group=1, target=1)
    respond = next(a for a, _ in successors(ls.config, ls.state)
                   if a.name == "target_respond" and a.arg("request").group == 1)
    with pytest.raises(Divergence, match="model accepts, implementation refuses: GroupExists"):
        if point is None:
            ls.apply(respond)
        else:
            ls.apply_crashing(respond, point)
