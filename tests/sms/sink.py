"""A local HTTP(S) SMS gateway for the tests: it records every request and answers with
the status and body the test sets, so an OTP sent "by SMS" can be read back from it."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.helpers import serving_in_thread


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Sink:
    port: int = 0
    scheme: str = "http"
    status: int = 200
    answer: bytes = b"OK ID 42"
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/send"

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """The first ``count`` requests, waiting for them to arrive (an event, not a sleep)."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received[:count])


def _handler(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            with sink.arrived:
                sink.received.append(Received(self.command, parts.path, parse_qs(parts.query),
                                              {k.lower(): v for k, v in self.headers.items()}, body))
                sink.arrived.notify_all()
            self.send_response(sink.status)
            self.send_header("Content-Length", str(len(sink.answer)))
            self.end_headers()
            self.wfile.write(sink.answer)

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def http_sink(cert: tuple[Path, Path] | None = None) -> Iterator[Sink]:
    """A sink on loopback; with ``cert`` (certificate file, key file) it speaks HTTPS."""
    sink = Sink()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink))
    if cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*cert)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        sink.scheme = "https"
    sink.port = server.server_address[1]
    with serving_in_thread(server):
        yield sink
