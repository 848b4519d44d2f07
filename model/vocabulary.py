"""The small vocabulary the rules are written in, and its concrete reading.

This module owns what model/rules.py may say and what it means on concrete states.  A rule
reads a state through a `StateView` (a host, a nonce record, a client view; membership in a
set; some member of a set), builds records with `make`, combines truth values with `all`,
`any`, `no`, `implies`, `one_of`, and writes a new state with `with_host`, `with_record`,
`with_view` and `with_sent`, each optionally guarded by `when`.  Records read like the
model's NamedTuples (`m.response.request.target`) in both readings, and `==`, `!=`, `<`,
`+` work on their fields as they are.

There are two readings of that vocabulary:

- `Concrete` (here): truth values are Python bools, records are the model's NamedTuples, a
  `StateView` wraps a model.state.State.  The explicit checker, the lockstep test and the
  diagrams execute the rules in it.
- the symbolic reading (proofs/reading.py): truth values are Z3 terms, records are Z3
  datatype terms, a state is one of proofs/symstate.py's representations.

A `Check` is a named conjunct of a guard (or a named switch of an effect) with its metadata:
what it says, the docs/profile.md clause it implements, the design options that remove it,
and, where it guards no safety property on purpose, why it is kept.  A design is the set of
check ids it drops (`Config.dropped`): a dropped check reads as true, a dropped switch as
off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from .config import NONE, Config, Nonce, source_policy_allows, target_policy_allows
from .messages import NO_CONTENT, NO_REQUEST, MigrationContent, MigrationRequest
from .state import (
    ABSENT_HOST,
    SET_NAMES,
    UNUSED_NONCE,
    ClientView,
    Host,
    NonceRecord,
    State,
    add_to,
    members,
    set_host,
    set_nonce,
    set_view,
)

# ---------------------------------------------------------------- checks and switches


@dataclasses.dataclass(frozen=True)
class Check:
    """A named conjunct of a guard ("check") or a named behaviour of an effect ("switch")."""

    id: str
    text: str
    """What the conjunct says (for a switch: what the reference design does)."""
    kind: str = "check"
    clause: str | None = None
    """The clause of docs/profile.md it implements: its section and the words quoted from
    it ("..." elides; the test suite finds every quoted part in the file)."""
    options: tuple[str, ...] = ()
    """The design options (model/config.py) that remove it."""
    kept: str | None = None
    """Why it is kept although no safety property needs it (spec mutation reports it)."""
    action: str = ""
    """The action whose guard or effect holds it (set by model/rules.py's table; a check
    shared by several actions names the first)."""
    refusal: tuple[str, ...] = ()
    """Data for the lockstep (model/refusals.py), read by no rule: the refusal codes of
    impl/errors.py a peer may get back when this conjunct fails for the message it sent
    ("ignored": the role drops it without an answer; `local:` prefix: the application's
    call is refused with that LocalProtocolError).  Empty: failing it refuses nothing of
    its own (another action takes the message, or it is a bound of the model)."""


CHECKS: dict[str, Check] = {}
"""Every check and switch of the rules, by id, in declaration order."""


def check(cid: str, text: str, clause: str | None = None, options: tuple[str, ...] = (),
          kept: str | None = None, refusal: tuple[str, ...] = ()) -> Check:
    """Declare a guard conjunct."""
    return _declare(Check(cid, text, "check", clause, options, kept, refusal=refusal))


def switch(cid: str, text: str, clause: str | None = None, options: tuple[str, ...] = (),
           kept: str | None = None) -> Check:
    """Declare an effect switch (on in the reference design)."""
    return _declare(Check(cid, text, "switch", clause, options, kept))


def _declare(c: Check) -> Check:
    if c.id in CHECKS:
        raise ValueError(f"check id {c.id!r} declared twice")
    CHECKS[c.id] = c
    return c


def option_checks() -> dict[str, tuple[str, ...]]:
    """Each design option -> the ids of the checks and switches it removes."""
    out: dict[str, list[str]] = {}
    for c in CHECKS.values():
        for option in c.options:
            out.setdefault(option, []).append(c.id)
    return {k: tuple(v) for k, v in out.items()}


_NONE_OF: dict[type[Any], Any] = {MigrationContent: NO_CONTENT, MigrationRequest: NO_REQUEST}

Conjunct = tuple[Check, Any]
"""One labelled conjunct of a guard: (its check, its truth value in the reading)."""

# ---------------------------------------------------------------- the concrete reading


class ConcreteUniverse:
    """The parties of one Config, with the same predicates as proofs/encoding.Universe."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.clients = config.clients
        self.honest_ds = config.honest_ds
        self.groups = config.groups
        self.attempts = config.attempts
        self.max_epoch = config.max_epoch
        self.rogue_client = config.rogue_client
        self.rogue_ds = config.rogue_ds
        self.X = config.clients
        self.R = config.honest_ds
        self.all_clients = config.clients + (1 if config.rogue_client else 0)
        self.all_ds = config.ds
        # the policies of model/config.py (source_policy_allows, target_policy_allows), which
        # give every honest DS the same one
        self._source_denies = frozenset(c for c in range(self.all_clients)
                                        if not source_policy_allows(config, 0, c))
        self._target_denies = frozenset(c for c in range(self.all_clients)
                                        if not target_policy_allows(config, 0, c))

    def honest_client(self, c: int) -> bool:
        return 0 <= c < self.clients

    def honest_ds_(self, d: int) -> bool:
        return 0 <= d < self.honest_ds

    def any_client(self, c: int) -> bool:
        return 0 <= c < self.all_clients

    def any_ds(self, d: int) -> bool:
        return 0 <= d < self.all_ds

    def group(self, g: int) -> bool:
        return 0 <= g < self.groups

    def index(self, i: int) -> bool:
        return 0 <= i < self.attempts

    def request_in_bounds(self, r: Any) -> bool:
        return bool(0 <= r.client < self.all_clients and 0 <= r.source < self.all_ds
                    and 0 <= r.target < self.honest_ds and r.source != r.target
                    and 0 <= r.group < self.groups and 0 <= r.epoch < self.max_epoch)

    def source_allows(self, client: int) -> bool:
        return client not in self._source_denies

    def target_allows(self, client: int) -> bool:
        return client not in self._target_denies

    def every_index(self, upto: int, body: Callable[[int], Any]) -> bool:
        for j in range(min(upto, self.attempts)):  # noqa: SIM110 - no generator: a hot path
            if not body(j):
                return False
        return True

    def some_index(self, body: Callable[[int], bool]) -> bool:
        for j in range(self.attempts):  # noqa: SIM110 - no generator: a hot path
            if body(j):
                return True
        return False

    def some_ds(self, body: Callable[[int], bool]) -> bool:
        """Some honest DS d with body(d)."""
        for d in range(self.honest_ds):  # noqa: SIM110 - no generator: a hot path
            if body(d):
                return True
        return False


class StateView:
    """A model State read and written through the rules' vocabulary.  Entries outside the
    Config's tables read as the initial defaults (absent host, unused nonce), as in the
    symbolic reading."""

    __slots__ = ("st",)

    def __init__(self, state: State) -> None:
        self.st = state

    def host(self, ds: int, group: int) -> Host:
        hosts = self.st.hosts
        if 0 <= ds < len(hosts):
            row = hosts[ds]
            if 0 <= group < len(row):
                return row[group]
        return ABSENT_HOST

    def record(self, ds: int, index: int) -> NonceRecord:
        pools = self.st.nonces
        if 0 <= ds < len(pools):
            pool = pools[ds]
            if 0 <= index < len(pool):
                return pool[index]
        return UNUSED_NONCE

    def view(self, client: int, group: int) -> ClientView:
        return self.st.clients[client][group]

    def has(self, name: str, element: Any) -> bool:
        return element in members(self.st, name)

    def some(self, name: str, pred: Callable[[Any], bool], witness: Any = None) -> bool:
        return any(pred(e) for e in members(self.st, name))

    def with_host(self, ds: int, group: int, value: Host, when: bool | None = None
                  ) -> StateView:
        if when is False:
            return self
        return StateView(set_host(self.st, ds, group, value))

    def with_record(self, ds: int, index: int, value: NonceRecord, when: bool | None = None
                    ) -> StateView:
        if when is False:
            return self
        return StateView(set_nonce(self.st, ds, index, value))

    def with_view(self, client: int, group: int, value: ClientView, when: bool | None = None
                  ) -> StateView:
        if when is False:
            return self
        return StateView(set_view(self.st, client, group, value))

    def with_sent(self, name: str, element: Any, when: bool | None = None) -> StateView:
        if when is False:
            return self
        return StateView(add_to(self.st, name, element))


class Concrete:
    """The rules' vocabulary over Python values, for one Config (its design included)."""

    true = True
    false = False

    def __init__(self, config: Config) -> None:
        self.config = config
        self.u = ConcreteUniverse(config)
        self.dropped = config.dropped

    # logic
    @staticmethod
    def all(*xs: Any) -> bool:
        return all(xs)

    @staticmethod
    def any(*xs: Any) -> bool:
        return any(xs)

    @staticmethod
    def no(x: Any) -> bool:
        return not x

    @staticmethod
    def implies(a: Any, b: Any) -> bool:
        return (not a) or bool(b)

    @staticmethod
    def one_of(value: Any, *options: Any) -> bool:
        return value in options

    # records
    @staticmethod
    def make(cls: type[Any], *fields: Any) -> Any:
        return cls(*fields)

    @staticmethod
    def nonce(ds: int, index: int) -> Nonce:
        return Nonce(ds, index)

    # the design
    def enforces(self, c: Check) -> bool:
        """Whether the design keeps check or switch `c` (a static truth value)."""
        return c.id not in self.dropped

    def check(self, c: Check, value: Any) -> Any:
        """A check nested inside a conjunct: `value`, or true where the design drops it."""
        return True if c.id in self.dropped else value

    @staticmethod
    def none(cls: type[Any]) -> Any:
        """The value of an empty record field of type `cls` (every integer NONE)."""
        return _NONE_OF[cls]

    @staticmethod
    def witness(tag: str, name: str) -> None:
        """The symbolic reading names a witness of `some`; the concrete one needs none."""
        return None

    def first(self, name: str, domain: str, pred: Callable[[int], bool]) -> tuple[int, bool]:
        """(the least value of the integer `domain` with `pred`, whether there is one); the
        symbolic reading gives a constant the guard pins down to that value."""
        for j in range_values(self.config, domain):
            if pred(j):
                return j, True
        return NONE, False


# ---------------------------------------------------------------- parameter domains

HONEST_CLIENTS = "honest_clients"
HONEST_DS = "honest_ds"
GROUPS = "groups"
INDICES = "indices"
INTS = "ints"
RANGES = (HONEST_DS, GROUPS, INDICES, HONEST_CLIENTS, INTS)
"""Integer domains a parameter or a property's variable may range over; any other domain
names a set of the state (model/state.SET_NAMES)."""


def in_range(u: Any, domain: str, value: Any) -> Any:
    """`value` lies in the integer domain `domain` (either reading's universe)."""
    if domain == HONEST_CLIENTS:
        return u.honest_client(value)
    if domain == HONEST_DS:
        return u.honest_ds_(value)
    if domain == GROUPS:
        return u.group(value)
    if domain == INDICES:
        return u.index(value)
    raise ValueError(domain)


def range_values(config: Config, domain: str) -> range:
    """The values of the integer `domain` in `config` (cached on the Config object)."""
    ranges: dict[str, range] | None = config.__dict__.get("_ranges")
    if ranges is None:
        ranges = config.__dict__["_ranges"] = {
            HONEST_DS: range(config.honest_ds), GROUPS: range(config.groups),
            INDICES: range(config.attempts), HONEST_CLIENTS: range(config.clients)}
    return ranges[domain]


def concrete_domain(config: Config, state: State, domain: str) -> Iterable[Any]:
    """The values a variable over `domain` takes on a concrete state."""
    if domain in SET_NAMES:
        return members(state, domain)
    return range_values(config, domain)

