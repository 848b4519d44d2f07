"""The in-memory network (impl.network) and adversarial runs of whole migrations over it.

First the network's own promises: in-order delivery and its record, the adversary's controls
(drop, duplicate, reorder by index, replay from the log, misdeliver, tamper, inject), refusals
answered with a Refusal envelope to an attached sender and to no one else, never a refusal of
a refusal, and anything but a ProtocolError propagating.  Then migrations under attack: every
message duplicated, replayed (during and after the migration), tampered with (one byte flipped
at several offsets); each run either completes or is refused cleanly, and profile.md's safety
properties hold at the end.  Last, Hypothesis interleaves deliveries in any order with
duplicates, replays, drops, time passing, regular commits and new migrations (back and forth),
checking the safety properties after every step.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.envelope import Envelope, Refusal
from impl.errors import Malformed, UnknownGroup, WrongEpoch, WrongRecipient
from impl.network import Network
from impl.world import ROGUE, SOURCE, TARGET, World, build_world

MEMBERS = 3
EPOCH = 2
#: The deliveries of a clean migration with MEMBERS members: the five protocol messages up
#: to the acknowledgment, one Fanout per member, the MigrationConfirmation.
HONEST = 5 + MEMBERS + 1


def world(**kwargs: float) -> World:
    return build_world(members=MEMBERS, epoch=EPOCH, **kwargs)  # type: ignore[arg-type]


def start(w: World, destination: str = TARGET) -> None:
    w.network.send([w.initiator.start_migration(w.group_id, destination)])


def snapshots(w: World) -> list[tuple[object, ...]]:
    return [w.source.snapshot(), w.target.snapshot(), *(c.snapshot() for c in w.clients)]


def views(w: World) -> set[tuple[str, int]]:
    gid = w.group_id
    return {(c.groups[gid].ds, c.groups[gid].state.epoch) for c in w.clients}


def completed(w: World) -> bool:
    return (
        views(w) == {(TARGET, EPOCH + 1)}
        and w.source.status(w.group_id) == "moved"
        and w.target.status(w.group_id) == "active"
    )


def aborted(w: World) -> bool:
    """Refused cleanly: the group stays at the source, unlocked, no member moved."""
    return (
        views(w) == {(SOURCE, EPOCH)}
        and w.source.status(w.group_id) == "active"
        and w.target.status(w.group_id) == "absent"
    )


class Recorder:
    """A node that records what it gets and answers with `answer` (or raises `error`)."""

    def __init__(self, name: str, answer: list[Envelope] | None = None) -> None:
        self._name = name
        self.answer = answer or []
        self.error: Exception | None = None
        self.got: list[Envelope] = []

    @property
    def name(self) -> str:
        return self._name

    def receive(self, envelope: Envelope, now: float) -> list[Envelope]:
        self.got.append(envelope)
        if self.error is not None:
            raise self.error
        return list(self.answer)


def note(sender: str, recipient: str, text: bytes = b"x") -> Envelope:
    return Envelope(sender=sender, recipient=recipient, kind="Note", payload=text)


# -- the network's own promises --------------------------------------------------------------------


def test_delivery_in_order_is_recorded() -> None:
    net = Network()
    reply = note("b", "a", b"reply")
    a, b = Recorder("a"), Recorder("b", [reply])
    net.attach(a)
    net.attach(b)
    first, second = note("a", "b", b"1"), note("a", "b", b"2")
    net.send([first, second])
    delivery = net.deliver(0.0)
    assert (delivery.envelope, delivery.sent, delivery.refusal) == (first, (reply,), None)
    assert net.in_flight == [second, reply]
    assert net.log == [first, second, reply]
    b.answer = []
    assert net.run(0.0) == 2
    assert b.got == [first, second]
    assert a.got == [reply]
    assert [d.envelope for d in net.deliveries] == [first, second, reply]
    assert net.in_flight == []


def test_run_stops_after_max_steps() -> None:
    net = Network()
    loop = Recorder("a")
    loop.answer = [note("a", "a")]  # answers itself forever
    net.attach(loop)
    net.send([note("a", "a")])
    assert net.run(0.0, max_steps=7) == 7
    assert len(net.in_flight) == 1


def test_deliver_by_index_reorders() -> None:
    w = world()
    net = w.network
    first, second = w.clients[1].commit(w.group_id), w.clients[2].commit(w.group_id)
    net.send([first, second])
    delivery = net.deliver(0.0, index=1)  # member-2's commit overtakes member-1's
    assert delivery.envelope == second
    assert delivery.refusal is None
    refused = net.deliver(0.0, index=0)
    assert refused.envelope == first
    assert isinstance(refused.refusal, WrongEpoch)
    assert refused.refusal.current == EPOCH + 1
    w.run()
    assert views(w) == {(SOURCE, EPOCH + 1)}
    assert w.safety_violations() == []


def test_drop_removes_the_envelope_for_good() -> None:
    w = world()
    start(w)
    net = w.network
    request = net.drop(0)
    assert request.kind == "MigrationRequest"
    assert net.in_flight == [] and net.dropped == [request]
    assert net.run(0.0) == 0
    assert net.deliveries == []
    assert w.target.nonces == {}


def test_duplicate_puts_a_copy_right_behind() -> None:
    net = Network()
    one, two = note("a", "b", b"1"), note("a", "b", b"2")
    net.send([one, two])
    net.duplicate(0)
    assert net.in_flight == [one, one, two]
    assert net.log == [one, two]  # a copy made by the adversary is not a new send


def test_replay_puts_any_logged_envelope_back() -> None:
    w = world()
    start(w)
    w.run()
    net = w.network
    assert net.in_flight == []
    net.replay(0)
    assert net.in_flight == [net.log[0]]
    assert net.in_flight[0].kind == "MigrationRequest"


def test_misdeliver_reaches_the_wrong_role_which_refuses() -> None:
    w = world()
    start(w)
    net = w.network
    net.misdeliver(0, SOURCE)
    assert net.in_flight[0].recipient == SOURCE
    delivery = net.deliver(0.0)
    assert isinstance(delivery.refusal, WrongRecipient)
    assert (delivery.refusal.expected, delivery.refusal.named) == (SOURCE, TARGET)
    (answer,) = delivery.sent
    assert (answer.kind, answer.sender, answer.recipient) == (
        "Refusal",
        SOURCE,
        w.initiator.identity,
    )
    assert Refusal.decode(answer.payload).code == b"wrong_recipient"
    assert Refusal.decode(answer.payload).fields()["expected"] == SOURCE


@pytest.mark.parametrize(
    ("offset", "mask", "position", "flipped"),
    [(0, 0x01, 0, 0x01), (3, 0x80, 3, 0x80), (-1, 0x01, 9, 0x01), (21, 0x00, 1, 0x01)],
)
def test_tamper_flips_bits_of_one_byte(offset: int, mask: int, position: int, flipped: int) -> None:
    net = Network()
    net.send([note("a", "b", bytes(10))])
    net.tamper(0, offset, mask)
    expected = bytearray(10)
    expected[position] = flipped
    assert net.in_flight[0].payload == bytes(expected)
    assert net.log[0].payload == bytes(10)  # the record keeps what was sent


def test_tamper_leaves_an_empty_payload_alone() -> None:
    net = Network()
    net.send([note("a", "b", b"")])
    net.tamper(0, 5)
    assert net.in_flight[0].payload == b""


def test_inject_sends_for_an_unattached_party_who_gets_no_refusal() -> None:
    w = world()
    net = w.network
    forged = dataclasses.replace(w.clients[1].commit(w.group_id), sender=ROGUE, recipient=TARGET)
    net.inject(forged)
    assert net.in_flight == [forged] and net.log == [forged]
    delivery = net.deliver(0.0)
    assert isinstance(delivery.refusal, UnknownGroup)
    assert delivery.sent == ()  # the rogue is not attached: nobody to answer
    assert net.in_flight == []


def test_refusals_go_back_to_attached_senders() -> None:
    w = world()
    net = w.network
    net.send([dataclasses.replace(w.clients[1].commit(w.group_id), recipient=TARGET)])
    delivery = net.deliver(0.0)
    assert isinstance(delivery.refusal, UnknownGroup)
    (answer,) = delivery.sent
    assert (answer.kind, answer.recipient) == ("Refusal", w.clients[1].identity)
    assert net.in_flight == [answer]
    assert net.deliver(0.0).refusal is None  # the client takes note, changes nothing


def test_a_refused_refusal_is_not_answered() -> None:
    w = world()
    net = w.network
    net.send([Envelope(sender=SOURCE, recipient=w.initiator.identity, kind="Refusal", payload=b"")])
    delivery = net.deliver(0.0)
    assert isinstance(delivery.refusal, Malformed)
    assert delivery.sent == () and net.in_flight == []


def test_envelope_for_an_unattached_recipient_is_dropped() -> None:
    net = Network()
    lost = note("a", "nobody")
    net.send([lost])
    delivery = net.deliver(0.0)
    assert (delivery.sent, delivery.refusal) == ((), None)
    assert net.dropped == [lost] and net.deliveries == [delivery]


def test_other_exceptions_propagate() -> None:
    net = Network()
    broken = Recorder("b")
    broken.error = RuntimeError("a bug, not a refusal")
    net.attach(broken)
    net.send([note("a", "b")])
    with pytest.raises(RuntimeError):
        net.deliver(0.0)


def test_tick_lets_the_source_resend_its_content() -> None:
    w = world(retry_interval=5.0)
    start(w)
    net = w.network
    for _ in range(3):
        net.deliver(0.0)
    (content,) = net.in_flight
    net.tick(4.0)
    assert net.in_flight == [content]  # not due yet
    net.tick(5.0)
    assert net.in_flight == [content, content]  # the same bytes again
    w.run(5.0)
    assert completed(w)
    assert w.safety_violations() == []


# -- migrations under attack -----------------------------------------------------------------------


def run_with(w: World, step: int, act: object) -> None:
    """Deliver in order; before the `step`-th delivery, call `act(network)`."""
    net = w.network
    delivered = 0
    while net.in_flight:
        if delivered == step:
            act(net)  # type: ignore[operator]
        net.deliver(0.0)
        delivered += 1


def heal(w: World, now: float) -> None:
    """Fair delivery afterwards: the source retries, members left behind follow redirects."""
    w.run(now)
    w.network.tick(now + w.source.retry_interval)
    w.run(now + w.source.retry_interval)
    if w.source.status(w.group_id) == "moved":
        for client in w.clients:
            if client.groups[w.group_id].ds == SOURCE:
                w.network.send([client.commit(w.group_id)])
                w.run(now + w.source.retry_interval)


@pytest.mark.parametrize("step", range(HONEST))
def test_duplicating_any_message_still_completes(step: int) -> None:
    w = world()
    start(w)
    run_with(w, step, lambda net: net.duplicate(0))
    assert completed(w)
    assert w.safety_violations() == []


@pytest.mark.parametrize("step", range(HONEST))
def test_replaying_any_message_during_the_migration_still_completes(step: int) -> None:
    w = world()
    start(w)
    # Before delivery `step`, replay the envelope just delivered (or the request at step 0).
    run_with(w, step, lambda net: net.replay(len(net.log) - 1 if step else 0))
    assert completed(w)
    assert w.safety_violations() == []


@pytest.mark.parametrize("index", range(HONEST))
def test_replaying_any_message_afterwards_changes_nothing(index: int) -> None:
    w = world()
    start(w)
    w.run()
    assert completed(w)
    before = snapshots(w)
    w.network.replay(index)
    w.run(1.0)
    assert snapshots(w) == before
    assert w.safety_violations() == []


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("step", range(HONEST))
def test_tampering_with_any_message_completes_or_is_refused_cleanly(step: int, where: str) -> None:
    w = world()
    start(w)

    def flip(net: Network) -> None:
        size = len(net.in_flight[0].payload)
        net.tamper(0, {"first": 0, "middle": size // 2, "last": size - 1}[where])

    run_with(w, step, flip)
    heal(w, 1.0)
    assert completed(w) or aborted(w), (views(w), w.source.status(w.group_id))
    assert w.safety_violations() == []
    if step >= 3:  # the source had locked: from there on the migration must finish
        assert completed(w)


def test_misdelivering_each_message_is_refused_cleanly() -> None:
    for step in range(HONEST):
        w = world()
        start(w)
        bystander = w.clients[2].identity
        run_with(w, step, lambda net, to=bystander: net.misdeliver(0, to))
        heal(w, 1.0)
        assert completed(w) or aborted(w), step
        assert w.safety_violations() == []


# -- random interleavings --------------------------------------------------------------------------

#: Delivering the oldest envelope ("fifo") moves a migration on; "deliver" picks any envelope
#: in flight (reordering).  Weighted so that runs reach imports, moves back and forth, expiries.
ACTIONS = (
    *("fifo",) * 6,
    *("deliver",) * 4,
    "duplicate",
    "replay",
    "drop",
    "tick",
    "commit",
    "migrate",
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 1 << 16)), max_size=100),
    st.booleans(),
)
def test_random_interleavings_stay_safe(actions: list[tuple[str, int]], drain: bool) -> None:
    w = world(nonce_lifetime=12.0, retry_interval=5.0)
    net, gid, now = w.network, w.group_id, 0.0
    start(w)
    for action, n in actions:
        if action == "fifo" and net.in_flight:
            net.deliver(now)
        elif action == "deliver" and net.in_flight:
            net.deliver(now, n % len(net.in_flight))
        elif action == "duplicate" and net.in_flight:
            net.duplicate(n % len(net.in_flight))
        elif action == "replay" and net.log:
            net.replay(n % len(net.log))
        elif action == "drop" and net.in_flight:
            net.drop(n % len(net.in_flight))
        elif action == "tick":
            now += 1 + n % 8
            net.tick(now)
        elif action == "commit":
            net.send([w.clients[n % MEMBERS].commit(gid)])
        elif action == "migrate":
            client = w.clients[n % MEMBERS]
            view = client.groups[gid]
            if view.pending is None:
                net.send([client.start_migration(gid, TARGET if view.ds == SOURCE else SOURCE)])
        assert w.safety_violations() == [], action
    if drain:
        heal(w, now)
        assert w.safety_violations() == []
    serving = [ds for ds in (w.source, w.target) if ds.status(gid) in ("active", "locked")]
    assert serving, "the group vanished"
