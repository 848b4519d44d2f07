"""A loopback fault proxy: an HTTP/1.1 relay between two parties that misbehaves on cue.

This module owns standing between a client and one upstream server on loopback, relaying
each HTTP request and its response whole, and, when a test has armed a `Fault`, doing one
of the things a real network does to a request: drop it, drop its answer, cut the
connection while writing, hold it back, or deliver it twice.  It knows HTTP (h11 parses and
writes every message; nothing here splits bytes by hand) and nothing of the protocol: which
request a fault hits is chosen by the test's `match` predicate over the request's method,
target and body (the test decodes the body with the wire codec if it wants a message kind).

Modes (`Mode`):

* `drop_request`: the request is read whole and never forwarded; the client's connection is
  closed without an answer.  The upstream never sees it.
* `drop_response`: the request is forwarded and answered; the answer is thrown away and the
  client's connection closed.  The upstream acted; the client cannot know it did.
* `cut_request`: drop the connection on write, upstream side: the request head and the first
  half of the body are written to the upstream, then both connections are reset.  The
  upstream sees a truncated request (it must not act on it); the client sees a reset.
* `cut_response`: drop the connection on write, client side: the answer's head and the first
  half of its body reach the client, then the connection is reset.
* `delay`: the request is held `seconds` before it is forwarded (other connections flow on
  meanwhile, so requests are reordered; a client whose timeout is shorter retries while the
  first copy is still on its way).
* `duplicate`: the request is forwarded twice, the second copy on a fresh upstream
  connection after the first was answered; the client gets the answer to the second copy
  (the one a retried request would get).

A `Fault` fires on the `skip`+1-th request it matches and then `count` times in all
(default: once, "the next request"); faults are tried in the order armed, the first that
fires wins.  Every request is logged as it arrives (`Proxy.arrivals`) and once dealt with
(`Proxy.log`: the request, the mode applied, the status relayed, the copies forwarded), so
a test can check that a fault actually happened.

With `tls` (an ssl.SSLContext holding the upstream's own certificate and key) the proxy
speaks HTTPS to its clients, and with `upstream_tls` (one trusting the upstream's CA) HTTPS
to the upstream: it stands where the server's certificate says the server is, as a TLS
terminating load balancer does, so the faults are the same over HTTPS.

The proxies of a test run on one asyncio loop in a background thread (`ProxyThread`), so a
synchronous test, its server subprocesses and its HTTP clients need no event loop of
their own; `arm`, `log` and `clear` are safe from any thread.  `python -m impl.faults.proxy`
runs one proxy in the foreground, for trying a mode by hand.

A little over 500 lines on purpose: one relay with its fault modes, each mode a branch of
the same request loop, and the modes are documented here next to the code that does them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import enum
import ssl
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, Self

import h11

#: How much one read takes from a socket.
CHUNK = 65536
#: How long the proxy waits for the upstream to answer before giving up on a request (the
#: client's connection is then closed, as for a dropped response).
UPSTREAM_TIMEOUT = 30.0


class Mode(enum.StrEnum):
    DROP_REQUEST = "drop_request"
    DROP_RESPONSE = "drop_response"
    CUT_REQUEST = "cut_request"
    CUT_RESPONSE = "cut_response"
    DELAY = "delay"
    DUPLICATE = "duplicate"


@dataclasses.dataclass(frozen=True, slots=True)
class Request:
    """One request as the proxy read it (what a `match` predicate sees)."""

    method: str
    target: str
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclasses.dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


Match = Callable[[Request], bool]
AnswerMatch = Callable[[Response], bool]
#: The modes that can wait for the upstream's answer before deciding (`Fault.answer`).
AFTER_ANSWER = frozenset({"drop_response", "cut_response", "duplicate"})


def everything(_request: Request) -> bool:
    return True


@dataclasses.dataclass
class Fault:
    """Apply `mode` to the `skip`+1-th request `match` accepts, and to the `count`-1 matching
    requests after it.  With `answer` (drop_response, cut_response, duplicate only), a
    request matches only if the upstream's answer to it also satisfies `answer` (to hit the
    queue fetch whose answer carries a given message)."""

    mode: Mode
    match: Match = everything
    answer: AnswerMatch | None = None
    count: int = 1
    skip: int = 0
    seconds: float = 0.0  # for DELAY
    fired: int = 0
    seen: int = 0

    def __post_init__(self) -> None:
        if self.answer is not None and self.mode not in AFTER_ANSWER:
            raise ValueError(f"{self.mode} acts before the answer exists; `answer` is for "
                             f"{sorted(AFTER_ANSWER)}")

    def take(self, request: Request, response: Response | None = None) -> bool:
        """Whether this fault fires on `request` (answered `response`, for a fault with an
        `answer` predicate), and count it."""
        if self.fired >= self.count or not self.match(request):
            return False
        if self.answer is not None and (response is None or not self.answer(response)):
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        self.fired += 1
        return True

    @property
    def spent(self) -> bool:
        return self.fired >= self.count


@dataclasses.dataclass(frozen=True, slots=True)
class Seen:
    """One logged request: what the proxy did with it."""

    request: Request
    mode: Mode | None
    status: int | None  # the status relayed to the client; None: the client got no answer
    forwarded: int  # how many copies reached the upstream whole


class _Upstream:
    """One HTTP/1.1 connection to the upstream, reopened when it must close (to wherever
    `where()` says the upstream is then: a retargeted proxy's new address)."""

    def __init__(self, where: Callable[[], tuple[str, int]],
                 tls: ssl.SSLContext | None = None) -> None:
        self.where = where
        self.tls = tls
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.conn = h11.Connection(h11.CLIENT)

    async def _ensure(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        """The connection, and whether it is reused (an idle keep-alive connection the
        upstream may have closed meanwhile)."""
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        reused = True
        if self.writer is None or self.conn.our_state is not h11.IDLE or self.reader is None:
            self.close()
            self.reader, self.writer = await asyncio.open_connection(*self.where(),
                                                                     ssl=self.tls)
            self.conn = h11.Connection(h11.CLIENT)
            reused = False
        return self.reader, self.writer, reused

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None

    async def exchange(self, request: Request) -> Response | None:
        """Send `request` whole and read the answer; None if the upstream closed or
        timed out without a whole answer.  A reused keep-alive connection that the
        upstream closed before a byte of answer is retried once on a fresh one (what
        every HTTP client does: the upstream closed it idle, before reading the request)."""
        for _attempt in range(2):
            try:
                reader, writer, reused = await self._ensure()
                out = self.conn.send(h11.Request(method=request.method, target=request.target,
                                                 headers=list(request.headers))) or b""
                out += self.conn.send(h11.Data(data=request.body)) or b""
                out += self.conn.send(h11.EndOfMessage()) or b""
                writer.write(out)
                await writer.drain()
                response, started = await asyncio.wait_for(self._read_response(reader),
                                                           UPSTREAM_TIMEOUT)
            except (OSError, h11.ProtocolError, TimeoutError):
                self.close()
                return None
            if response is not None or started or not reused:
                return response
        return None

    async def _read_response(
            self, reader: asyncio.StreamReader) -> tuple[Response | None, bool]:
        """The answer (None: the connection closed first), and whether any byte of it came."""
        head: h11.Response | None = None
        body = bytearray()
        started = False
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(CHUNK)
                started = started or bool(data)
                self.conn.receive_data(data)
                continue
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return Response(head.status_code, head.reason, tuple(head.headers),
                                bytes(body)), True
            elif isinstance(event, h11.ConnectionClosed):
                self.close()
                return None, started

    async def cut(self, request: Request) -> None:
        """Write the head and half the body of `request`, then reset the connection."""
        try:
            _reader, writer, _reused = await self._ensure()
            out = self.conn.send(h11.Request(method=request.method, target=request.target,
                                             headers=list(request.headers))) or b""
            half = request.body[: len(request.body) // 2]
            if half:
                out += self.conn.send(h11.Data(data=half)) or b""
            writer.write(out)
            await writer.drain()
        except (OSError, h11.ProtocolError):
            pass
        self.close()


class Proxy:
    """One listening socket relaying to one upstream (see the module docstring)."""

    def __init__(self, upstream: tuple[str, int], listen: tuple[str, int] = ("127.0.0.1", 0),
                 name: str = "", *, tls: ssl.SSLContext | None = None,
                 upstream_tls: ssl.SSLContext | None = None) -> None:
        self.upstream = upstream
        self.listen = listen
        self.tls = tls  # the server side: HTTPS to the clients
        self.upstream_tls = upstream_tls  # the client side: HTTPS to the upstream
        self.name = name or f"proxy->{upstream[0]}:{upstream[1]}"
        # reentrant: a `match` predicate may read this proxy's own log
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self._log: list[Seen] = []
        self._arrivals: list[Request] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # -- control (any thread) --------------------------------------------------------------------

    def arm(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def disarm(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def log(self) -> list[Seen]:
        with self._lock:
            return list(self._log)

    @property
    def arrivals(self) -> list[Request]:
        """Every request as it arrived, before anything was done with it (`log` has it
        once it was dealt with)."""
        with self._lock:
            return list(self._arrivals)

    def clear(self) -> None:
        with self._lock:
            self._log.clear()
            self._arrivals.clear()

    def retarget(self, upstream: tuple[str, int]) -> None:
        """Relay new connections to another upstream (a server restarted on another port)."""
        self.upstream = upstream

    @property
    def address(self) -> str:
        return f"{self.listen[0]}:{self.port}"

    def _choose(self, request: Request, response: Response | None = None) -> Fault | None:
        """The first armed fault that fires: before the answer (`response` None) those
        without an `answer` predicate, after it those with one."""
        with self._lock:
            for fault in self._faults:
                if (fault.answer is None) == (response is None) and fault.take(request,
                                                                               response):
                    return fault
        return None

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self._log.append(seen)

    # -- serving (the proxy's loop) ----------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.listen[0], self.listen[1],
                                                  ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = h11.Connection(h11.SERVER)
        upstream = _Upstream(lambda: self.upstream, self.upstream_tls)
        try:
            while True:
                request = await self._read_request(conn, reader)
                if request is None:
                    return
                if not await self._relay(request, conn, writer, upstream):
                    return
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (OSError, h11.ProtocolError, asyncio.CancelledError):
            return
        finally:
            upstream.close()
            writer.transport.abort()
            self._tasks.discard(task)

    async def _read_request(self, conn: h11.Connection,
                            reader: asyncio.StreamReader) -> Request | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(CHUNK))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return Request(head.method.decode("ascii"), head.target.decode("ascii"),
                               tuple(head.headers), bytes(body))
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None

    async def _relay(self, request: Request, conn: h11.Connection,
                     writer: asyncio.StreamWriter, upstream: _Upstream) -> bool:
        """Relay one request and its answer; False when the client's connection must end."""
        with self._lock:
            self._arrivals.append(request)
        fault = self._choose(request)
        mode = fault.mode if fault is not None else None
        if mode is Mode.DROP_REQUEST:
            self._record(Seen(request, mode, None, 0))
            return False
        if mode is Mode.CUT_REQUEST:
            await upstream.cut(request)
            self._record(Seen(request, mode, None, 0))
            return False
        if mode is Mode.DELAY:
            assert fault is not None
            await asyncio.sleep(fault.seconds)
        response = await upstream.exchange(request)
        forwarded = 1 if response is not None else 0
        if fault is None and response is not None:
            fault = self._choose(request, response)
            mode = fault.mode if fault is not None else None
        if mode is Mode.DUPLICATE:
            again = _Upstream(lambda: self.upstream, self.upstream_tls)
            second = await again.exchange(request)
            again.close()
            if second is not None:
                response, forwarded = second, forwarded + 1
        if response is None or mode is Mode.DROP_RESPONSE:
            self._record(Seen(request, mode, None, forwarded))
            return False
        head = h11.Response(status_code=response.status, reason=response.reason,
                            headers=list(response.headers))
        # logged before the client can read the answer, so a test reading the log after
        # its request returned sees its request there
        if mode is Mode.CUT_RESPONSE:
            self._record(Seen(request, mode, None, forwarded))
            out = conn.send(head) or b""
            half = response.body[: len(response.body) // 2]
            if half:
                out += conn.send(h11.Data(data=half)) or b""
            writer.write(out)
            await writer.drain()
            return False
        self._record(Seen(request, mode, response.status, forwarded))
        out = conn.send(head) or b""
        if response.body:
            out += conn.send(h11.Data(data=response.body)) or b""
        out += conn.send(h11.EndOfMessage()) or b""
        writer.write(out)
        await writer.drain()
        return True


class ProxyThread:
    """An asyncio loop in a daemon thread hosting any number of proxies; a context manager."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fault-proxies", daemon=True)
        self.proxies: list[Proxy] = []

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=30)

    def start(self) -> Self:
        self._thread.start()
        return self

    def add(self, upstream: tuple[str, int], name: str = "",
            listen: tuple[str, int] = ("127.0.0.1", 0), *, tls: ssl.SSLContext | None = None,
            upstream_tls: ssl.SSLContext | None = None) -> Proxy:
        proxy = Proxy(upstream, listen, name, tls=tls, upstream_tls=upstream_tls)
        self._call(proxy.start())
        self.proxies.append(proxy)
        return proxy

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        for proxy in self.proxies:
            self._call(proxy.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def proxies() -> Iterator[ProxyThread]:
    with ProxyThread() as thread:
        yield thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m impl.faults.proxy",
        description="Relay HTTP from --listen to --upstream, applying a fault to every "
                    "--every-th request (0: none).")
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--upstream", required=True, help="HOST:PORT")
    parser.add_argument("--mode", choices=[m.value for m in Mode])
    parser.add_argument("--every", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=1.0, help="for --mode delay")
    args = parser.parse_args(argv)
    lhost, lport = args.listen.rsplit(":", 1)
    uhost, uport = args.upstream.rsplit(":", 1)
    proxy = Proxy((uhost, int(uport)), (lhost, int(lport)))

    async def run() -> None:
        await proxy.start()
        print(f"listening on {proxy.address}, relaying to {args.upstream}", flush=True)
        n = 0

        def every(_request: Request) -> bool:
            nonlocal n
            n += 1
            return bool(args.every > 0 and n % args.every == 0)

        if args.mode:
            proxy.arm(Fault(Mode(args.mode), match=every, count=1 << 62,
                            seconds=args.seconds))
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["Fault", "Match", "Mode", "Proxy", "ProxyThread", "Request", "Response", "Seen",
           "everything", "proxies"]
