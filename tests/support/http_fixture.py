"""A real HTTP server on 127.0.0.1 for download tests: routes are plain functions.

Each route receives the request handler and writes a real HTTP response, so the client
code under test goes through sockets, headers, redirects and broken connections exactly
as it would against docs.un.org.
"""
from __future__ import annotations

import io
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()  # body bytes actually written per path
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)


def _handler_class(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            server.hits[path] += 1
            route = server.routes.get(path)
            try:
                if route is None:
                    send(self, 404, b"<html><body>Not found</body></html>", "text/html")
                else:
                    route(self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should for oversized files

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
         headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(body)
    handler.server_ref.sent[handler.path] += len(body)  # type: ignore[attr-defined]


# --- route builders -------------------------------------------------------------------


def static(body: bytes, content_type: str = "application/pdf", status: int = 200) -> Route:
    return lambda h: send(h, status, body, content_type)


def flaky(failures: int, body: bytes, content_type: str = "application/pdf", status: int = 500) -> Route:
    """Fails `failures` times with `status`, then serves the body."""
    count = {"n": 0}

    def route(h: BaseHTTPRequestHandler) -> None:
        count["n"] += 1
        if count["n"] <= failures:
            send(h, status, b"<html><body>Internal Server Error</body></html>", "text/html")
        else:
            send(h, 200, body, content_type)

    return route


def slow(delay: float, body: bytes, content_type: str = "application/pdf") -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        time.sleep(delay)
        send(h, 200, body, content_type)

    return route


def redirect(location: str, status: int = 302) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return route


def huge(total: int, declare_length: bool, head: bytes = b"%PDF-1.4\n") -> Route:
    """Streams `total` bytes of a PDF-looking body, optionally without Content-Length."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        if declare_length:
            h.send_header("Content-Length", str(total))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        block = head + b"0" * (64 * 1024 - len(head))
        written = 0
        while written < total:
            piece = block[: total - written]
            h.wfile.write(piece)
            written += len(piece)
            h.server_ref.sent[h.path] += len(piece)  # type: ignore[attr-defined]
            block = b"0" * len(block)

    return route


def truncated(body: bytes, cut: int) -> Route:
    """Declares the full length but closes the connection after `cut` bytes."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[:cut])
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)

    return route


# --- helpers --------------------------------------------------------------------------


def make_pdf(text: str) -> bytes:
    """A real one-page PDF rendered with reportlab."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    y = 800
    for line in text.splitlines():
        c.drawString(72, y, line)
        y -= 16
    c.showPage()
    c.save()
    return buf.getvalue()


def closed_port() -> int:
    """A local port nothing listens on: connections to it are refused, like an offline host."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve() -> Iterator[LocalServer]:
    server = LocalServer()
    handler = _handler_class(server)
    handler.server_ref = server  # type: ignore[attr-defined]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    server._httpd = httpd
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
