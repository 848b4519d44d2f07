"""Bad input at the HTTP layer (issue 14 item 6): a Hypothesis fuzz of a real server.

One world (two DSs on loopback, plain HTTP, a hosted group with a pending nonce so there is
state to lose) and, against DS1's endpoints: random bodies, mutations of valid signed
requests (a commit, a MigrationRequest, a GroupCreation, a queue fetch, a DS's
MigrationContent), wrong content types, wrong methods on every path, huge and malformed
declared lengths, and truncated streams (the client stops sending, or closes its side).
Every answer must be a 4xx with a one-line reason (the `mimi-reason` header, or h11's
one-line body for a request head it cannot parse); never a 5xx; and DS1's files (every row
of its store and relay) and /status are the same afterwards.  `FUZZED` counts the requests;
the last test prints the figure.
"""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impl.client import Client
from impl.envelope import Envelope, Kind
from impl.group import build_commit
from impl.group_state import GroupState, Member
from impl.http import wire
from impl.http.client import HttpMember, http_client
from impl.http.config import WorldFile
from impl.http.wire import WireType
from impl.messages import MigrationRequest
from tests.http_world import (
    client_key,
    ds_key,
    envelope,
    queue_request,
    running_world,
    state_digest,
)
from tests.strategies import mutated_bytes

DS1, DS2 = "ds1.example", "ds2.example"
M0, M1 = "member-0@client.example", "member-1@client.example"
FUZZED = {"requests": 0, "5xx": 0}
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


class Target:
    def __init__(self, world: WorldFile, valid: list[bytes]) -> None:
        self.world = world
        self.url = world.ds[DS1].url
        self.host, port = self.url.removeprefix("http://").split(":")
        self.port = int(port)
        self.valid = valid
        self.client = httpx.Client(timeout=10)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    settings_ = {"limits": {"max_body": 65536, "body_timeout": 0.3}}
    with running_world(tmp_path_factory.mktemp("fuzz") / "w", ds=2, clients=2, tls=False,
                       settings=settings_) as (world, _), http_client(None) as member_http:
        members = {c.identity: HttpMember(c, world, member_http)
                   for c in world.clients.values()}
        gid = b"fuzzed group"
        state = GroupState(group_id=gid, epoch=0, cipher_suite=world.suite, members=tuple(
            Member(leaf_index=i, identity=n.encode(), signature_key=members[n].key.public_bytes())
            for i, n in enumerate((M0, M1))))
        assert members[M0].create_group(state, DS1)[0] == 202
        for i, n in enumerate((M0, M1)):
            members[n].call(functools.partial(Client.join, state=state, ds=DS1, leaf_index=i))
        for m in members.values():
            m.close()
        # a pending nonce at DS1 as target: a group of DS2's asks to move here
        request = MigrationRequest(source_domain_name=DS2.encode(),
                                   target_domain_name=DS1.encode(), group_id=b"incoming",
                                   epoch=0)
        key0 = client_key(world, M0)
        valid = [
            envelope(WireType.commit, M0, DS1, build_commit(state, key0, 0), key0),
            envelope(WireType.migration_request, M1, DS1, request.encode(),
                     client_key(world, M1), cipher_suite=world.suite),
            envelope(WireType.group_creation, M0, DS1, GroupState(
                group_id=b"another", epoch=0, cipher_suite=world.suite,
                members=state.members[:1]).encode(), key0),
            queue_request(world, M0, DS1, at=time.time() + 86400 * 365),  # never fresh
            envelope(WireType.migration_content, DS2, DS1, b"\x00" * 40,
                     ds_key(world, DS2, world.suite)),
        ]
        with httpx.Client(timeout=10) as c:
            answer = c.post(world.ds[DS1].url + wire.CLIENT_PATH, content=valid[1],
                            headers={"content-type": wire.CONTENT_TYPE})
            assert answer.status_code == 202  # the nonce: state the fuzz must not touch
        t = Target(world, valid)
        t.before = (state_digest(world, DS1), _status(t))  # type: ignore[attr-defined]
        yield t
        t.client.close()


def _status(t: Target) -> Any:
    return t.client.get(t.url + wire.STATUS_PATH).json()


def _check(response: httpx.Response) -> None:
    FUZZED["requests"] += 1
    if response.status_code >= 500:
        FUZZED["5xx"] += 1
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    reason = response.headers.get("mimi-reason")
    assert reason, response.headers
    assert "\n" not in reason and len(reason) <= 300


def _raw(t: Target, data: bytes, *, half_close: bool = False, wait: float = 5.0) -> bytes:
    """Send `data` on a fresh connection; what comes back until the server closes (or
    `wait` seconds pass)."""
    with socket.create_connection((t.host, t.port), timeout=wait) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and not half_close:
                    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), None)
                    if length is not None and len(body) >= length:
                        break  # else: read until the server closes
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def _check_raw(answer: bytes) -> None:
    FUZZED["requests"] += 1
    head = answer.split(b"\r\n\r\n", 1)[0]
    status_line = head.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 4"), answer[:200]
    body = answer.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in answer else b""
    reasons = [line for line in head.split(b"\r\n") if line.lower().startswith(b"mimi-reason:")]
    # our refusals carry the header; h11's own 400 for a head it cannot parse, a line of text
    assert reasons or (body and b"\n" not in body.strip()), answer[:200]


PATHS = (wire.CLIENT_PATH, wire.DS_PATH, wire.QUEUE_PATH)


@given(path=st.sampled_from(PATHS), body=st.binary(max_size=3000))
@FUZZ
def test_random_bodies(target: Target, path: str, body: bytes) -> None:
    _check(target.client.post(target.url + path, content=body,
                              headers={"content-type": wire.CONTENT_TYPE}))


@given(path=st.sampled_from(PATHS), data=st.data())
@settings(FUZZ, max_examples=400)
def test_mutated_valid_requests(target: Target, path: str, data: st.DataObject) -> None:
    body = data.draw(mutated_bytes(st.sampled_from(target.valid)))
    if body in target.valid:
        return  # an edit that undid itself: not bad input
    _check(target.client.post(target.url + path, content=body,
                              headers={"content-type": wire.CONTENT_TYPE}))


@given(path=st.sampled_from(PATHS), data=st.data(),
       content_type=st.sampled_from(["", "application/json", "text/plain",
                                     "application/octet", "multipart/form-data",
                                     "application/x-www-form-urlencoded"]))
@FUZZ
def test_wrong_content_types(target: Target, path: str, data: st.DataObject,
                             content_type: str) -> None:
    body = data.draw(st.sampled_from(target.valid))
    headers = {"content-type": content_type} if content_type else {}
    response = target.client.post(target.url + path, content=body, headers=headers)
    _check(response)
    assert response.status_code == 415


@given(path=st.sampled_from([*PATHS, wire.STATUS_PATH, wire.WELL_KNOWN_PATH, "/", "/mimi",
                             "/mimi/v1/clients", "/status/", "/%00"]),
       method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "POST", "TRACE"]))
@FUZZ
def test_wrong_methods_and_paths(target: Target, path: str, method: str) -> None:
    good = (method in ("GET",) and path in (wire.STATUS_PATH, wire.WELL_KNOWN_PATH)) or (
        method == "POST" and path in PATHS)
    if good:
        return
    _check(target.client.request(method, target.url + path, content=b"x",
                                 headers={"content-type": wire.CONTENT_TYPE}))


@given(path=st.sampled_from(PATHS),
       length=st.one_of(st.integers(65537, 2**63), st.sampled_from(
           ["-1", "1e9", "0x10", " 12", "99999999999999999999999999", "1,2", ""])))
@settings(FUZZ, max_examples=60)
def test_huge_and_malformed_declared_lengths(target: Target, path: str,
                                             length: int | str) -> None:
    answer = _raw(target, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  f"application/octet-stream\r\nContent-Length: {length}\r\n\r\n".encode())
    _check_raw(answer)
    if isinstance(length, int):
        assert answer.startswith(b"HTTP/1.1 413")


@given(path=st.sampled_from(PATHS), data=st.data(), half_close=st.booleans())
@settings(FUZZ, max_examples=25)
def test_truncated_streams(target: Target, path: str, data: st.DataObject,
                           half_close: bool) -> None:
    body = data.draw(st.sampled_from(target.valid))
    cut = data.draw(st.integers(0, len(body) - 1))
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    answer = _raw(target, head + body[:cut], half_close=half_close)
    if half_close:
        FUZZED["requests"] += 1
        # the client gave up mid-body: nothing to answer, or a 4xx
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:200]
    else:
        _check_raw(answer)
        assert answer.startswith(b"HTTP/1.1 408")


def test_zz_nothing_changed_and_no_5xx(target: Target) -> None:
    """Runs last in the module: DS1's files and /status are as before the fuzz."""
    before_files, before_status = target.before  # type: ignore[attr-defined]
    assert state_digest(target.world, DS1) == before_files
    assert _status(target) == before_status
    assert before_status["nonces"]["pending"] == 1 and len(before_status["groups"]) == 1
    assert FUZZED["5xx"] == 0
    assert FUZZED["requests"] >= 500
    print(f"\nHTTP fuzz: {FUZZED['requests']} requests, {FUZZED['5xx']} 5xx, state unchanged")


__all__ = ["Envelope", "Kind", "Path"]
