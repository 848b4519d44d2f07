"""The loopback fault proxy (impl/faults/proxy.py) against a tiny HTTP server: each mode does
what it says, measured at the upstream (how many whole requests it handled) and at the
client (what answer came back), beside a control without a fault."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from impl.faults.proxy import Fault, Mode, Proxy, ProxyThread, Request


class _Counter(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn and httpx speak
    bodies: list[bytes]
    truncated: list[int]

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        if len(body) < length:  # the connection was cut mid-body
            type(self).truncated.append(len(body))
            self.close_connection = True
            return
        type(self).bodies.append(body)
        answer = b"echo:" + body
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def upstream() -> Iterator[tuple[http.server.ThreadingHTTPServer, type[_Counter]]]:
    handler = type("Handler", (_Counter,), {"bodies": [], "truncated": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: tuple[http.server.ThreadingHTTPServer, type[_Counter]]) -> Iterator[Proxy]:
    server, _ = upstream
    with ProxyThread() as thread:
        yield thread.add(("127.0.0.1", server.server_address[1]), name="test")


def _post(client: httpx.Client, proxy: Proxy, body: bytes, path: str = "/m") -> httpx.Response:
    return client.post(f"http://{proxy.address}{path}", content=body)


def test_no_fault_relays_every_request_once_over_one_kept_alive_connection(
        proxy: Proxy, upstream: tuple[object, type[_Counter]]) -> None:
    _, handler = upstream
    with httpx.Client(timeout=5) as client:
        answers = [_post(client, proxy, f"r{i}".encode()) for i in range(5)]
    assert [a.content for a in answers] == [f"echo:r{i}".encode() for i in range(5)]
    assert handler.bodies == [f"r{i}".encode() for i in range(5)]
    assert [(s.mode, s.status, s.forwarded) for s in proxy.log] == [(None, 200, 1)] * 5


def test_drop_request_never_reaches_the_upstream(
        proxy: Proxy, upstream: tuple[object, type[_Counter]]) -> None:
    _, handler = upstream
    fault = proxy.arm(Fault(Mode.DROP_REQUEST))
    with httpx.Client(timeout=5) as client:
        with pytest.raises(httpx.TransportError):
            _post(client, proxy, b"lost")
        assert _post(client, proxy, b"next").content == b"echo:next"  # only the next one
    assert handler.bodies == [b"next"]
    assert fault.spent
    assert [(s.mode, s.status, s.forwarded) for s in proxy.log] == [
        (Mode.DROP_REQUEST, None, 0), (None, 200, 1)]


def test_drop_response_reaches_the_upstream_but_not_the_client(
        proxy: Proxy, upstream: tuple[object, type[_Counter]]) -> None:
    _, handler = upstream
    proxy.arm(Fault(Mode.DROP_RESPONSE))
    with httpx.Client(timeout=5) as client, pytest.raises(httpx.TransportError):
        _post(client, proxy, b"acted")
    assert handler.bodies == [b"acted"]
    assert proxy.log[0].forwarded == 1 and proxy.log[0].status is None


def test_cut_request_leaves_the_upstream_a_truncated_body(
        proxy: Proxy, upstream: tuple[object, type[_Counter]]) -> None:
    _, handler = upstream
    proxy.arm(Fault(Mode.CUT_REQUEST))
    with httpx.Client(timeout=5) as client, pytest.raises(httpx.TransportError):
        _post(client, proxy, b"0123456789")
    deadline = time.monotonic() + 5
    while not handler.truncated and time.monotonic() < deadline:
        time.sleep(0.01)
    assert handler.bodies == []
    assert handler.truncated == [5]


def test_cut_response_gives_the_client_half_an_answer(
        proxy: Proxy, upstream: tuple[object, type[_Counter]]) -> None:
    _, handler = upstream
    proxy.arm(Fault(Mode.CUT_RESPONSE))
    with httpx.Client(timeout=5) as client, pytest.raises(httpx.TransportError):
        _post(client, proxy, b"0123456789")
    assert handler.bodies == [b"0123456789"]


def test_duplicate_delivers_twice_and_answers_the_second(
        proxy: Proxy, upstream: tuple[object, type[_Counter]]) -> None:
    _, handler = upstream
    proxy.arm(Fault(Mode.DUPLICATE))
    with httpx.Client(timeout=5) as client:
        assert _post(client, proxy, b"twice").content == b"echo:twice"
    assert handler.bodies == [b"twice", b"twice"]
    assert proxy.log[0].forwarded == 2


def test_delay_holds_the_request_and_lets_others_pass(
        proxy: Proxy, upstream: tuple[object, type[_Counter]]) -> None:
    _, handler = upstream
    proxy.arm(Fault(Mode.DELAY, match=lambda r: r.path == "/slow", seconds=0.6))
    done: list[float] = []

    def slow() -> None:
        with httpx.Client(timeout=5) as client:
            start = time.monotonic()
            assert _post(client, proxy, b"slow", "/slow").status_code == 200
            done.append(time.monotonic() - start)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    with httpx.Client(timeout=5) as client:
        assert _post(client, proxy, b"fast").status_code == 200
    thread.join()
    assert done and done[0] >= 0.6
    assert handler.bodies == [b"fast", b"slow"]  # reordered


def test_match_and_skip_choose_which_request_a_fault_hits(
        proxy: Proxy, upstream: tuple[object, type[_Counter]]) -> None:
    _, handler = upstream

    def kind_b(request: Request) -> bool:
        return request.body.startswith(b"B")

    proxy.arm(Fault(Mode.DROP_REQUEST, match=kind_b, skip=1, count=2))
    sent = [b"A1", b"B1", b"A2", b"B2", b"B3", b"B4"]
    with httpx.Client(timeout=5) as client:
        for body in sent:
            with contextlib.suppress(httpx.TransportError):
                _post(client, proxy, body)
    assert handler.bodies == [b"A1", b"B1", b"A2", b"B4"]
    assert [s.request.body for s in proxy.log if s.mode is Mode.DROP_REQUEST] == [b"B2", b"B3"]


def test_a_dead_upstream_is_a_dropped_answer_not_a_proxy_crash() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with ProxyThread() as thread:
        proxy = thread.add(("127.0.0.1", port))
        with httpx.Client(timeout=5) as client, pytest.raises(httpx.TransportError):
            _post(client, proxy, b"x")
        assert [(s.status, s.forwarded) for s in proxy.log] == [(None, 0)]


def test_an_answer_predicate_drops_only_the_answer_it_names(
        proxy: Proxy, upstream: tuple[object, type[_Counter]]) -> None:
    _, handler = upstream
    proxy.arm(Fault(Mode.DROP_RESPONSE, answer=lambda r: r.body == b"echo:B"))
    outcomes = []
    with httpx.Client(timeout=5) as client:
        for body in (b"A", b"B", b"B"):
            try:
                outcomes.append(_post(client, proxy, body).content)
            except httpx.TransportError:
                outcomes.append(None)
    assert outcomes == [b"echo:A", None, b"echo:B"]
    assert handler.bodies == [b"A", b"B", b"B"]


def test_an_answer_predicate_on_a_mode_that_acts_before_the_answer_is_refused() -> None:
    with pytest.raises(ValueError, match="before the answer"):
        Fault(Mode.DROP_REQUEST, answer=lambda r: True)


def test_a_retargeted_proxy_reopens_its_upstream_connection_at_the_new_address() -> None:
    """The upstream connection is reopened to wherever the proxy points now (an HTTP/1.0
    upstream closes it after every answer, as a killed server does once), whatever client
    connection the next request comes on."""
    servers, handlers = [], []
    for version in ("HTTP/1.0", "HTTP/1.1"):
        handler = type("Handler", (_Counter,), {"bodies": [], "truncated": [],
                                                "protocol_version": version})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        handlers.append(handler)
    try:
        with ProxyThread() as thread, httpx.Client(timeout=5) as client:
            proxy = thread.add(("127.0.0.1", servers[0].server_address[1]))
            assert _post(client, proxy, b"one").status_code == 200
            proxy.retarget(("127.0.0.1", servers[1].server_address[1]))
            assert _post(client, proxy, b"two").content == b"echo:two"
        assert handlers[0].bodies == [b"one"] and handlers[1].bodies == [b"two"]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
