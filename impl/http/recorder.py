"""The peer the DSs under test talk to: a recorder that holds every DS -> DS POST.

This module owns the interposer of `conform --remote` (impl/lockstep/remote.py): the DSs
under test are configured with every peer (each other, the rogue DS R) at this one URL, so
every message one DS sends another stops here.  `Recorder` answers each POST 202 `accepted`
(the sending DS drops its relay row: a peer's answer changes nothing at the sender,
docs/wire.md "Retries") and keeps the request's bytes, exactly as signed by the sender; the
test then delivers them (or not, or twice, or somewhere else) as the model's network allows,
by POSTing the same bytes to the DS the envelope names.  So the test, not the servers,
decides what the network does.

Plain HTTP on a loopback address only (stdlib http.server in a thread): the DSs under test
reach it as `http://127.0.0.1:PORT`; nothing is verified here, the receiving DS does that.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import wire
from .wire import TransactionEnvelope, WireType


class Recorder:
    """A loopback HTTP server keeping every POSTed body, in arrival order (`take`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._held: list[bytes] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                answer = recorder._accept(body)
                self.send_response(202)
                self.send_header("content-type", wire.CONTENT_TYPE)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        name="conform-recorder")

    def _accept(self, body: bytes) -> bytes:
        with self._lock:
            self._held.append(body)
        try:
            env = TransactionEnvelope.decode(body)
            sender, recipient = env.recipient, env.sender
        except ValueError:
            sender, recipient = b"recorder", b"?"
        return TransactionEnvelope(version=wire.VERSION, type=WireType.accepted,
                                   sender=sender, recipient=recipient, cipher_suite=0,
                                   body=b"").encode()

    def take(self) -> list[bytes]:
        """Every body received since the last `take`, oldest first."""
        with self._lock:
            held, self._held = self._held, []
        return held

    def start(self) -> Recorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["Recorder"]
