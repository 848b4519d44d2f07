"""Real servers on loopback (docs/wire.md): the workload, the statuses, serialisation,
limits, a graceful stop and a SIGKILL, each with the server a `mimi-portability serve`
subprocess started here on a free port, its state in a tmp folder.

Negative controls: the serialisation test runs the same two MigrationInits against a DS
whose lock is taken away (both are granted: two locks), and the status test's helper fails
on any 5xx or on a refusal whose code or status is not the one expected.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from impl.client import Client
from impl.ds import DeliveryService
from impl.envelope import GroupMovedRedirect, Kind, Refusal, SeededRandom
from impl.group import build_commit
from impl.group_state import GroupState, Member
from impl.http import wire, workload
from impl.http.client import HttpMember, http_client
from impl.http.config import WorldFile, load_ds_config
from impl.http.server import DSNode
from impl.http.wire import TransactionEnvelope, WireType
from impl.http.world import ServerProcess, init_world
from impl.messages import MigrationRequest
from tests.http_world import (
    client_key,
    envelope,
    http,
    http_world,
    post,
    queue_request,
    running_world,
    state_digest,
)

REPO = Path(__file__).resolve().parents[1]
M0, M1, M2 = (f"member-{i}@client.example" for i in range(3))
DS1, DS2, DS3 = "ds1.example", "ds2.example", "ds3.example"
__all__ = ["http_world"]  # the fixture, imported for pytest


def _members(world: WorldFile, client: httpx.Client) -> dict[str, HttpMember]:
    return {c.identity: HttpMember(c, world, client) for c in world.clients.values()}


def _group(world: WorldFile, members: dict[str, HttpMember], ds: str, gid: bytes,
           names: list[str]) -> GroupState:
    state = GroupState(group_id=gid, epoch=0, cipher_suite=world.suite, members=tuple(
        Member(leaf_index=i, identity=n.encode(), signature_key=members[n].key.public_bytes())
        for i, n in enumerate(names)))
    status, refusal = members[names[0]].create_group(state, ds)
    assert status == 202, refusal
    for i, n in enumerate(names):
        members[n].call(functools.partial(Client.join, state=state, ds=ds, leaf_index=i))
    return state


def _drive(members: dict[str, HttpMember], world: WorldFile, done: Callable[[], bool],
           timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in members.values():
            m.flush()
            for ds in world.ds:
                m.poll(ds)
            m.flush()
        if done():
            return
        time.sleep(0.02)
    raise AssertionError("no outcome in time")


def _nonce(member: HttpMember, gid: bytes) -> bytes | None:
    pending = member.role.groups[gid].pending
    return None if pending is None else pending.nonce


def _refused(response: httpx.Response, status: int, code: str) -> Refusal:
    """The answer is the refusal `code` under `status`, with a one-line reason."""
    assert response.status_code < 500, response.text
    body = TransactionEnvelope.decode(response.content)
    assert body.type is WireType.refusal
    refusal = Refusal.decode(body.body)
    assert (response.status_code, refusal.code.decode()) == (status, code), \
        response.headers.get("mimi-reason")
    reason = response.headers["mimi-reason"]
    assert reason and "\n" not in reason
    return refusal


def test_refuse_helper_detects_a_5xx_and_a_wrong_code() -> None:
    """Negative control of `_refused`: it would catch a 5xx and a wrong code."""
    ok = wire.refusal_envelope(Refusal(code=b"wrong_epoch", details=b"{}"), DS1, M0)
    fine = httpx.Response(409, content=ok, headers={"mimi-reason": "wrong_epoch(...)"})
    _refused(fine, 409, "wrong_epoch")
    for response, status, code in ((httpx.Response(500, content=b"boom"), 500, "x"),
                                   (fine, 409, "group_locked"), (fine, 400, "wrong_epoch")):
        with pytest.raises(AssertionError):
            _refused(response, status, code)


# -- the whole thing: the workload against two servers ---------------------------------------


def test_workload_migrates_back_and_forth(http_world: tuple[WorldFile, dict[str, Any]]
                                          ) -> None:
    world, servers = http_world
    done = subprocess.run(
        [sys.executable, "-m", "mimi_portability", "workload", "--world",
         str(world.path.parent), "--groups", "2", "--migrations", "4", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["migrations"] == {"completed": 4, "refused": 0, "aborted": 0,
                                    "indeterminate": 0}
    assert result["groups"] == 2 and result["commits"] == 4
    statuses = {d: s.status() for d, s in servers.items()}
    for gid, placed in result["placement"].items():
        serving = [d for d, st in statuses.items()
                   for g in st["groups"] if g["group_id"] == gid and g["phase"] != "moved"]
        assert serving == [placed]  # exactly one DS serves each group
        moved = [g for d, st in statuses.items() for g in st["groups"]
                 if g["group_id"] == gid and g["phase"] == "moved"]
        assert [g["target"] for g in moved] == [placed]
    for st in statuses.values():
        assert st["nonces"]["pending"] == 0 and st["relay"]["pending"] == 0


@pytest.mark.parametrize(("settings", "outcome"), [
    ({"policy": {"source_allowed": []}}, "refused"),  # every MigrationInit: not_authorized
    ({"nonce_lifetime": 0.0}, "aborted"),  # every nonce expired: a signed rejection
])
def test_workload_counts_refused_and_aborted(tmp_path: Path, settings: dict[str, Any],
                                             outcome: str) -> None:
    with running_world(tmp_path / "w", ds=2, clients=2, tls=False, settings=settings) as (
            world, servers):
        result = workload.run(world, groups=1, migrations=2, commits=0)
        statuses = [s.status() for s in servers.values()]
    counts = result.to_json()["migrations"]
    assert counts == {"completed": 0, "refused": 0, "aborted": 0, "indeterminate": 0,
                      outcome: 2}
    assert result.ok
    assert [g["phase"] for st in statuses for g in st["groups"]] == ["active"]  # unmoved
    assert all(st["relay"] == {"pending": 0, "queued": 0} for st in statuses)


def test_well_known_and_status(http_world: tuple[WorldFile, dict[str, Any]]) -> None:
    world, _ = http_world
    config = load_ds_config(world.configs[DS1])
    with http(world) as client:
        doc = client.get(world.ds[DS1].url + wire.WELL_KNOWN_PATH).json()
        status = client.get(world.ds[DS1].url + wire.STATUS_PATH).json()
    assert doc["domain"] == DS1
    assert doc["signature_keys"] == {str(s): k.public_bytes().hex()
                                     for s, k in sorted(config.keys.items())}
    assert set(status) >= {"domain", "groups", "nonces"} and status["domain"] == DS1
    assert set(status["nonces"]) == {"pending", "consumed", "expired", "rejected"}
    for g in status["groups"]:
        assert set(g) == {"group_id", "phase", "epoch", "target"}
        assert g["phase"] in ("active", "locked", "moved")
        bytes.fromhex(g["group_id"])


# -- every refusal, with its status, over the wire -------------------------------------------


def test_refusals_over_the_wire(http_world: tuple[WorldFile, dict[str, ServerProcess]]
                                ) -> None:
    world, servers = http_world
    gid = b"refusals group"
    with http(world) as client, http_client(world.ca) as member_http:
        members = _members(world, member_http)
        try:
            state = _group(world, members, DS1, gid, [M0, M1])
            key0 = client_key(world, M0)
            commit = build_commit(state, key0, 0)

            def send(body: bytes, path: str = wire.CLIENT_PATH, ds: str = DS1,
                     **headers: str) -> httpx.Response:
                return post(client, world, ds, path, body, **headers)

            before = state_digest(world, DS1)
            # 400: bytes that do not decode; a type this path does not take
            _refused(send(b"\x00\x01garbage"), 400, "malformed")
            _refused(send(envelope(WireType.fanout, M0, DS1, commit, key0)), 400,
                     "unexpected_message")
            # 401: an unknown client, a signature by another key
            _refused(send(envelope(WireType.commit, "eve@client.example", DS1, commit, key0)),
                     401, "not_authenticated")
            _refused(send(envelope(WireType.commit, M0, DS1, commit,
                                   client_key(world, M1))), 401, "not_authenticated")
            _refused(send(envelope(WireType.migration_content, M0, DS1, b"x", key0),
                          wire.DS_PATH), 401, "not_authenticated")  # a client is no peer
            # 403: creating a group one is not a member of
            other = GroupState(group_id=b"not mine", epoch=0, cipher_suite=world.suite,
                               members=(state.members[1],))
            _refused(send(envelope(WireType.group_creation, M0, DS1, other.encode(), key0)),
                     403, "not_authorized")
            # 404: a group this DS never had
            stranger = GroupState(group_id=b"elsewhere", epoch=0, cipher_suite=world.suite,
                                  members=state.members)
            _refused(send(envelope(WireType.commit, M0, DS1, build_commit(stranger, key0, 0),
                                   key0)), 404, "unknown_group")
            # 409: another epoch
            _refused(send(envelope(WireType.commit, M0, DS1,
                                   build_commit(state.at_epoch(5), key0, 0), key0)),
                     409, "wrong_epoch")
            _refused(send(envelope(WireType.group_creation, M0, DS1,
                                   state.at_epoch(3).encode(), key0)), 409, "group_exists")
            # 421: the envelope names another DS
            _refused(send(envelope(WireType.commit, M0, DS2, commit, key0)), 421,
                     "wrong_recipient")
            # the HTTP layer's own: 405, 404, 415, 413
            assert client.get(world.ds[DS1].url + wire.CLIENT_PATH).status_code == 405
            assert client.post(world.ds[DS1].url + wire.STATUS_PATH).status_code == 405
            _refused(client.get(world.ds[DS1].url + "/nowhere"), 404, "not_found")
            _refused(send(b"x", **{"content-type": "application/json"}), 415,
                     "unsupported_media_type")
            assert state_digest(world, DS1) == before  # none of it changed anything

            # 409 group_locked while the target is down; then the same bytes get through
            servers[DS2].stop()
            members[M0].call(lambda c: c.start_migration(gid, DS2))
            assert members[M0].flush() == 0  # the request is indeterminate: kept
            servers[DS2].start()
            assert members[M0].flush() == 1  # the same bytes, now answered
            deadline = time.monotonic() + 10
            while _nonce(members[M0], gid) is None and time.monotonic() < deadline:
                members[M0].poll(DS2)  # the MigrationResponse; the init waits in the relay
            servers[DS2].stop()
            members[M0].flush()  # the MigrationInit: DS1 locks, its MigrationContent waits
            assert [g["phase"] for g in servers[DS1].status()["groups"]
                    if g["group_id"] == gid.hex()] == ["locked"]
            _refused(send(envelope(WireType.commit, M1, DS1, build_commit(state, client_key(
                world, M1), 1), client_key(world, M1))), 409, "group_locked")
            servers[DS2].start()  # DS1's relay delivers the same content bytes
            _drive(members, world, lambda: all(m.role.groups[gid].ds == DS2
                                               for m in (members[M0], members[M1])))
            # 421 group_moved, with the redirect
            refusal = _refused(send(envelope(WireType.commit, M1, DS1, commit,
                                             client_key(world, M1))), 421, "group_moved")
            redirect = refusal.redirect()
            assert isinstance(redirect, GroupMovedRedirect)
            assert redirect.target_domain_name == DS2.encode() and redirect.group_id == gid
        finally:
            for m in members.values():
                m.close()


def test_a_stale_queue_request_is_refused(http_world: tuple[WorldFile, dict[str, Any]]
                                          ) -> None:
    world, _ = http_world
    with http(world) as client:
        fresh = post(client, world, DS1, wire.QUEUE_PATH, queue_request(world, M2, DS1))
        assert fresh.status_code == 200
        assert TransactionEnvelope.decode(fresh.content).type is WireType.queue_batch
        stale = queue_request(world, M2, DS1, at=time.time() - 3600)
        _refused(post(client, world, DS1, wire.QUEUE_PATH, stale), 401, "not_authenticated")


# -- serialisation: two concurrent MigrationInits, exactly one lock --------------------------


def _two_inits(world: WorldFile, configs: dict[str, Any], gid: bytes
               ) -> tuple[GroupState, list[bytes]]:
    """The group's state and two MigrationInitWithCommit requests for it (member-0 to DS2,
    member-1 to DS3), each answered by its target, built in memory with the world's keys."""
    trust = world.trust()
    clients = {n: Client(n, key=client_key(world, n), trust=trust) for n in (M0, M1)}
    state = GroupState(group_id=gid, epoch=0, cipher_suite=world.suite, members=tuple(
        Member(leaf_index=i, identity=n.encode(), signature_key=clients[n].key.public_bytes())
        for i, n in enumerate((M0, M1))))
    inits = []
    for i, (name, target) in enumerate(((M0, DS2), (M1, DS3))):
        clients[name].join(state, DS1, i)
        ds = DeliveryService(target, keys=configs[target].keys, trust=configs[target].trust(),
                             random=SeededRandom(target))
        (response,) = ds.receive(clients[name].start_migration(gid, target), 0.0)
        (init,) = clients[name].receive(response, 0.0)
        assert init.kind is Kind.MigrationInitWithCommit
        inits.append(TransactionEnvelope.of(init).signed(clients[name].key).encode())
    return state, inits


def _race(world: WorldFile, servers: dict[str, ServerProcess],
          members: dict[str, HttpMember], gid: bytes) -> None:
    _group(world, members, DS1, gid, [M0, M1])
    inits = []
    for name, target in ((M0, DS2), (M1, DS3)):
        members[name].call(lambda c, t=target: c.start_migration(gid, t))
        assert members[name].flush() == 1
        deadline = time.monotonic() + 10
        while _nonce(members[name], gid) is None:
            assert time.monotonic() < deadline, "no MigrationResponse"
            members[name].poll(target)
        (row,) = members[name].relay.pending()  # the MigrationInitWithCommit
        members[name].relay.done(row.id)
        inits.append(row.wire)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def fire(body: bytes) -> None:
        with httpx.Client(timeout=10) as c:
            barrier.wait()
            statuses.append(post(c, world, DS1, wire.CLIENT_PATH, body).status_code)

    threads = [threading.Thread(target=fire, args=(b,)) for b in inits]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [202, 409]

    def moved() -> bool:
        at = {m.role.groups[gid].ds for m in members.values()}
        return len(at) == 1 and DS1 not in at

    _drive(members, world, moved)
    holders = [d for d in (DS2, DS3) if any(
        g["group_id"] == gid.hex() for g in servers[d].status()["groups"])]
    assert len(holders) == 1
    assert {m.role.groups[gid].ds for m in members.values()} == set(holders)
    for m in members.values():  # the loser's attempt was refused: given up
        if m.role.groups[gid].pending is not None:
            m.call(lambda c: c.abandon_migration(gid))


def test_two_concurrent_migration_inits_exactly_one_lock(tmp_path: Path) -> None:
    """Against a real server: of two MigrationInits (member-0 to DS2, member-1 to DS3, each
    answered by its real target) sent at once, one is accepted and the other refused
    group_locked; exactly one target ends with the group, its members all follow it."""
    with running_world(tmp_path / "w", ds=[DS1, DS2, DS3], clients=2, tls=False) as (
            world, servers), http_client(world.ca) as member_http:
        members = _members(world, member_http)
        try:
            for round_ in range(3):
                _race(world, servers, members, f"race {round_}".encode())
        finally:
            for m in members.values():
                m.close()


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("serialised", [True, False])
def test_the_lock_is_what_serialises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     serialised: bool) -> None:
    """In process, the two MigrationInits handed to the node from two threads, the first to
    pass the source's lock check held inside the signature check until the other arrives
    there too (at most 1 s), the second then held until the first is answered.  With the
    node's lock the second never gets past the check: one init wins, the other is refused
    group_locked.  Without it (the negative control) both pass: two locks, two exports."""
    world = init_world(tmp_path / "w", domains=[DS1, DS2, DS3], clients=[M0, M1], tls=False)
    configs = {d: load_ds_config(world.configs[d]) for d in world.ds}
    node = DSNode(configs[DS1])
    try:
        state, inits = _two_inits(world, configs, b"in-process race")
        status, _, _ = node.handle(wire.CLIENT_PATH, envelope(
            WireType.group_creation, M0, DS1, state.encode(), client_key(world, M0)))
        assert status == 202
        verify_signed = node.role.trust.verify_signed
        arrived: list[int] = []
        both, first_answered = threading.Event(), threading.Event()

        def verify(*args: Any) -> None:
            arrived.append(1)
            if len(arrived) == 1:
                both.wait(1.0)
            else:
                both.set()
                first_answered.wait(5.0)
            verify_signed(*args)

        monkeypatch.setattr(node.role.trust, "verify_signed", verify)
        if not serialised:
            monkeypatch.setattr(node, "lock", _NoLock())
        statuses: list[int] = []

        def handle(body: bytes) -> None:
            statuses.append(node.handle(wire.CLIENT_PATH, body)[0])
            first_answered.set()

        threads = [threading.Thread(target=handle, args=(b,)) for b in inits]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        contents = [p for p in node.relay.pending()
                    if TransactionEnvelope.decode(p.wire).type is WireType.migration_content]
        if serialised:
            assert sorted(statuses) == [202, 409] and len(contents) == 1
            assert len(arrived) == 1
        else:
            assert statuses == [202, 202] and len(contents) == 2
    finally:
        node.close()


# -- limits: bodies too large, slow and half-open clients ------------------------------------


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[WorldFile, dict[str, ServerProcess]]]:
    settings = {"limits": {"max_body": 65536, "body_timeout": 2.0}, "nonce_lifetime": 0.5,
                "tick_interval": 0.1}
    with running_world(tmp_path_factory.mktemp("limits") / "w", ds=1, clients=1, tls=False,
                       settings=settings) as w:
        yield w


def test_the_background_tick_expires_nonces(limited: tuple[WorldFile, Any]) -> None:
    """No request after the MigrationRequest: only the server's own tick can expire it."""
    world, servers = limited
    request = MigrationRequest(source_domain_name=b"elsewhere.example",
                               target_domain_name=DS1.encode(), group_id=b"ticked", epoch=0)
    with http(world) as client:
        answer = post(client, world, DS1, wire.CLIENT_PATH, envelope(
            WireType.migration_request, M0, DS1, request.encode(), client_key(world, M0),
            cipher_suite=world.suite))
    assert answer.status_code == 202
    deadline = time.monotonic() + 10
    while servers[DS1].status()["nonces"]["expired"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert servers[DS1].status()["nonces"] == {"pending": 0, "consumed": 0, "expired": 1,
                                               "rejected": 0}


def test_a_streamed_body_over_the_limit_is_refused(limited: tuple[WorldFile, Any]) -> None:
    world, _ = limited

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 4096  # 256 KiB in all, no Content-Length (chunked)

    with http(world) as client:
        response = client.post(world.ds[DS1].url + wire.CLIENT_PATH, content=chunks(),
                               headers={"content-type": wire.CONTENT_TYPE})
    _refused(response, 413, "too_large")


def test_a_huge_declared_length_is_refused_unread(limited: tuple[WorldFile, Any]) -> None:
    world, _ = limited
    with _raw(world) as s:
        s.sendall(b"POST /mimi/v1/client HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/octet-stream\r\nContent-Length: 1099511627776\r\n\r\n")
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert b"mimi-reason: Content-Length 1099511627776 over the limit" in answer


def _raw(world: WorldFile) -> socket.socket:
    host, port = world.ds[DS1].url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_slow_and_half_open_clients_do_not_hold_the_server(limited: tuple[WorldFile, Any]
                                                          ) -> None:
    world, _ = limited
    with contextlib.ExitStack() as stack:
        idle = [stack.enter_context(_raw(world)) for _ in range(20)]
        for s in idle:  # half-open: part of a request head, then nothing
            s.sendall(b"POST /mimi/v1/client HTTP/1.1\r\nHost: x\r\n")
        slow = stack.enter_context(_raw(world))
        slow.sendall(b"POST /mimi/v1/client HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/octet-stream\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
        started = time.monotonic()
        with http(world) as client:
            assert client.get(world.ds[DS1].url + wire.STATUS_PATH).status_code == 200
        assert time.monotonic() - started < 1.5  # served while the others hang
        answer = slow.recv(4096)
        waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert 1.0 < waited < 8.0  # the body timeout (2 s) let go of the slow one


# -- a graceful stop, a crash: SIGKILL at a crash point, then a restart on the same file ----


def _leftovers(world: WorldFile) -> list[str]:
    return sorted(p.name for p in (world.path.parent / "state").iterdir()
                  if p.name.endswith(("-wal", "-shm")))


def test_sigterm_stops_gracefully_sigkill_is_a_crash(tmp_path: Path) -> None:
    """SIGTERM: the process ends by the signal after closing its files (no WAL left, as
    after a clean close); SIGKILL leaves them; a restart after either serves the same."""
    with running_world(tmp_path / "w", ds=1, clients=1, tls=False) as (world, servers), \
            http_client(None) as member_http:
        member = HttpMember(world.clients[M0], world, member_http)
        state = GroupState(group_id=b"kept", epoch=0, cipher_suite=world.suite,
                           members=(Member(leaf_index=0, identity=M0.encode(),
                                           signature_key=member.key.public_bytes()),))
        assert member.create_group(state, DS1)[0] == 202
        member.close()
        server = servers[DS1]
        before = server.status()
        assert _leftovers(world)  # WAL files while it runs
        assert server.stop() == -15 and _leftovers(world) == []
        server.start()
        assert server.status() == before
        assert server.process is not None
        server.process.kill()
        server.process.wait()
        assert _leftovers(world)  # what a crash leaves; the next start recovers from it
        server.start()
        assert server.status() == before



def test_sigkill_at_a_crash_point_then_restart(tmp_path: Path) -> None:
    """MIMI_CRASH_AT kills the target right after it committed the nonce of the first
    MigrationRequest (its answer is lost: the client's result is indeterminate); restarted on
    the same file, the same request bytes get the recorded answer and the migration
    completes."""
    env = {DS2: {"MIMI_CRASH_AT": "after_commit:1"}}
    with running_world(tmp_path / "w", ds=2, clients=2, tls=False, env=env) as (
            world, servers), http_client(world.ca) as member_http:
        members = _members(world, member_http)
        try:
            gid = b"crash group"
            _group(world, members, DS1, gid, [M0, M1])
            members[M0].call(lambda c: c.start_migration(gid, DS2))
            assert members[M0].flush() == 0  # no answer: indeterminate, the bytes kept
            assert servers[DS2].process is not None
            assert servers[DS2].process.wait(10) == -9  # SIGKILL, by the hook
            assert members[M0].relay.counts()[0] == 1
            servers[DS2].env.pop("MIMI_CRASH_AT")
            servers[DS2].start()
            _drive(members, world, lambda: all(m.role.groups[gid].ds == DS2
                                               for m in members.values()))
            status = servers[DS2].status()
            assert status["nonces"] == {"pending": 0, "consumed": 1, "expired": 0,
                                        "rejected": 0}
            assert [g["phase"] for g in status["groups"]] == ["active"]
            assert [g["phase"] for g in servers[DS1].status()["groups"]] == ["moved"]
        finally:
            for m in members.values():
                m.close()


def test_a_port_taken_before_the_server_binds_it_is_picked_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from impl.http import world as world_module

    picked = world_module.free_port
    squatters: list[socket.socket] = []

    def free_port() -> int:  # the first port handed out is taken at once by someone else
        port = picked()
        if not squatters:
            squatter = socket.socket()
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            squatters.append(squatter)
        return port

    monkeypatch.setattr(world_module, "free_port", free_port)
    try:
        with running_world(tmp_path / "w", ds=1, clients=1, tls=False) as (world, servers):
            taken = squatters[0].getsockname()[1]
            assert servers[DS1].status()["domain"] == DS1
            assert not world.ds[DS1].url.endswith(f":{taken}")
    finally:
        squatters[0].close()


def test_a_nonce_past_its_lifetime_does_not_block_creating_its_group(tmp_path: Path) -> None:
    """A GroupCreation for a group the DS issued a nonce for is refused group_exists while
    that nonce is pending, and taken once its lifetime has passed, whether or not a tick
    has marked it expired (the DS's rule for a request, docs/profile.md §5)."""
    world = init_world(tmp_path / "w", domains=[DS1, DS2], clients=[M0, M1], tls=False)
    configs = {d: load_ds_config(world.configs[d]) for d in world.ds}
    node = DSNode(configs[DS1])
    try:
        key0 = client_key(world, M0)
        client = Client(M0, key=key0, trust=world.trust())
        state = GroupState(group_id=b"created late", epoch=0, cipher_suite=world.suite,
                           members=(Member(leaf_index=0, identity=M0.encode(),
                                           signature_key=key0.public_bytes()),))
        client.join(state, DS2, 0)
        request = TransactionEnvelope.of(client.start_migration(state.group_id, DS1))
        status, _, _ = node.handle(wire.CLIENT_PATH, request.signed(key0).encode(), now=0.0)
        assert status == 202
        creation = envelope(WireType.group_creation, M0, DS1, state.encode(), key0)
        lifetime = node.role.nonce_lifetime
        status, answer, _ = node.handle(wire.CLIENT_PATH, creation, now=lifetime / 2)
        assert status == 409 and b"group_exists" in answer
        status, _, _ = node.handle(wire.CLIENT_PATH, creation, now=lifetime + 1)
        assert status == 202 and state.group_id in node.role.groups
    finally:
        node.close()


def test_the_configured_answer_lifetime_reaches_the_durable_driver(tmp_path: Path) -> None:
    world = init_world(tmp_path / "w", domains=[DS1, DS2], clients=[M0], tls=False)
    config = dataclasses.replace(load_ds_config(world.configs[DS1]), answer_lifetime=3600.0)
    node = DSNode(config)
    try:
        assert node.durable.answer_lifetime == 3600.0
    finally:
        node.close()
