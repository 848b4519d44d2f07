"""A deterministic in-memory network with adversary controls, for tests and the demo.

This module owns moving envelopes between roles; it decides nothing about the protocol.
Envelopes wait in `in_flight` (FIFO unless the caller picks another index); every envelope
ever sent stays in `log`.  The adversary can drop, duplicate, reorder (deliver any index),
replay any logged envelope, deliver to the wrong recipient and tamper with bytes.  When a
role refuses a message (raises ProtocolError) the network records the refusal and, unless
the refused message was itself a Refusal, sends the sender a `Refusal` envelope, as an HTTP
driver would answer with an error body.  Anything else a role raises is a bug and
propagates.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from .envelope import Envelope, Kind, Refusal
from .errors import ProtocolError


class Trace(Protocol):
    """Who records the traced parties' logs (impl/tracelog/record.py NetworkTraces)."""

    def on_send(self, envelope: Envelope) -> None: ...

    def on_receive(self, envelope: Envelope) -> None: ...

    def after(self, name: str) -> None: ...


class Node(Protocol):
    @property
    def name(self) -> str: ...

    def receive(self, envelope: Envelope, now: float) -> list[Envelope]: ...


@dataclasses.dataclass(frozen=True)
class Delivery:
    """What happened when one envelope was delivered."""

    envelope: Envelope
    sent: tuple[Envelope, ...]
    refusal: ProtocolError | None


class Network:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.in_flight: list[Envelope] = []
        self.log: list[Envelope] = []
        self.deliveries: list[Delivery] = []
        self.dropped: list[Envelope] = []
        self.trace: Trace | None = None
        """When set, every envelope a party sends or is handed is written to its log."""

    def attach(self, node: Node) -> None:
        self.nodes[node.name] = node

    def send(self, envelopes: list[Envelope] | tuple[Envelope, ...]) -> None:
        for envelope in envelopes:
            self.in_flight.append(envelope)
            self.log.append(envelope)
            if self.trace is not None:
                self.trace.on_send(envelope)

    def deliver(self, now: float, index: int = 0) -> Delivery:
        """Deliver the envelope at `index` (0: the oldest) and send what the recipient returns."""
        envelope = self.in_flight.pop(index)
        node = self.nodes.get(envelope.recipient)
        if node is None:
            delivery = Delivery(envelope, (), None)
            self.dropped.append(envelope)
        else:
            if self.trace is not None:
                self.trace.on_receive(envelope)
            try:
                out = tuple(node.receive(envelope, now))
                delivery = Delivery(envelope, out, None)
            except ProtocolError as refusal:
                out = ()
                if envelope.kind != Kind.Refusal and envelope.sender in self.nodes:
                    out = (Refusal.answer(envelope, refusal),)
                delivery = Delivery(envelope, out, refusal)
            self.send(out)
            if self.trace is not None:
                self.trace.after(envelope.recipient)
        self.deliveries.append(delivery)
        return delivery

    def run(self, now: float, max_steps: int = 1_000_000) -> int:
        """Deliver in order until nothing is in flight; returns the number delivered."""
        steps = 0
        while self.in_flight and steps < max_steps:
            self.deliver(now)
            steps += 1
        return steps

    def tick(self, now: float) -> None:
        """Let every node with a `tick(now)` act on time (re-sends, expiries)."""
        for node in self.nodes.values():
            tick = getattr(node, "tick", None)
            if tick is not None:
                self.send(tick(now))
                if self.trace is not None:
                    self.trace.after(node.name)

    # -- the adversary -------------------------------------------------------------------------

    def find(self, kind: Kind, *, recipient: str | None = None) -> int:
        """Index in flight of the oldest envelope of `kind` (and recipient); ValueError if none."""
        for i, envelope in enumerate(self.in_flight):
            if envelope.kind == kind and (recipient is None or envelope.recipient == recipient):
                return i
        raise ValueError(f"no {kind} in flight")

    def drop(self, index: int) -> Envelope:
        envelope = self.in_flight.pop(index)
        self.dropped.append(envelope)
        return envelope

    def duplicate(self, index: int) -> None:
        self.in_flight.insert(index + 1, self.in_flight[index])

    def replay(self, log_index: int) -> None:
        """Put any envelope ever sent back in flight, as an attacker who recorded it would."""
        self.in_flight.append(self.log[log_index])

    def misdeliver(self, index: int, recipient: str) -> None:
        self.in_flight[index] = dataclasses.replace(self.in_flight[index], recipient=recipient)

    def tamper(self, index: int, offset: int, mask: int = 0x01) -> None:
        envelope = self.in_flight[index]
        data = bytearray(envelope.payload)
        if data:
            data[offset % len(data)] ^= mask or 0x01
        self.in_flight[index] = dataclasses.replace(envelope, payload=bytes(data))

    def inject(self, envelope: Envelope) -> None:
        """An envelope from a party that is not attached (a rogue DS or client), which may
        name an honest party as its sender: no honest party's log shows it as sent."""
        self.in_flight.append(envelope)
        self.log.append(envelope)
