"""The starting page: served at once on the app's port, says it is starting, tells API clients
to retry, and gives the port back to the app."""
from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from rag.ui.splash import MARKER, Splash


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_page_then_port_released():
    port = free_port()
    splash = Splash("127.0.0.1", port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            body = r.read().decode()
            assert r.status == 200 and r.headers[MARKER] == "1"
        assert "is starting" in body and "location.reload()" in body
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5)
        assert err.value.code == 503 and err.value.headers["Retry-After"]
    finally:
        splash.close()
    with socket.socket() as s:  # the app binds the same port next (as Gradio does, SO_REUSEADDR)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_a_busy_port_is_left_to_the_app_to_report():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        splash = Splash("127.0.0.1", s.getsockname()[1])  # no exception
        splash.close()
