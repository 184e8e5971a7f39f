"""A page on the app's port while the app itself starts.

Importing Gradio and the retrieval libraries takes about 8 s on two cores (measured: Gradio
4.8 s, llama-index 2.4 s) before the real page can be served. Meanwhile this standard-library
server answers every request with a small page that says so and polls until the app answers,
then reloads into it, so the browser never shows "connection refused". It is closed (port
released) just before the app binds the same port.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = "X-Treaty-QA-Starting"

PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Treaty Q&amp;A is starting</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
.dot{display:inline-block;animation:b 1.2s infinite}@keyframes b{50%{opacity:.2}}</style></head>
<body><h1>Treaty Q&amp;A is starting<span class="dot">&hellip;</span></h1>
<p>The question box appears here by itself in a few seconds.</p>
<script>
async function poll(){
  try{
    const r = await fetch(location.pathname, {cache: "no-store"});
    if (r.ok && !r.headers.get("X-Treaty-QA-Starting")) { location.reload(); return; }
  } catch (e) {}
  setTimeout(poll, 700);
}
setTimeout(poll, 700);
</script></body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        # The page for the app's own address; every other path (the app's API, its assets) is
        # "not yet": 503 with Retry-After, which API clients understand.
        page = self.path.split("?", 1)[0] in ("/", "")
        body = PAGE if page else b"The app is starting; try again in a few seconds.\n"
        self.send_response(200 if page else 503)
        self.send_header("Content-Type", "text/html; charset=utf-8" if page else "text/plain; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header(MARKER, "1")
        if not page:
            self.send_header("Retry-After", "2")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET
    do_POST = do_GET

    def log_message(self, *args) -> None:  # quiet: the app logs its own start
        pass


class Splash:
    """Serve the starting page on (host, port) until `close()`; never raises on a busy port
    (the app's own start then reports it)."""

    def __init__(self, host: str, port: int):
        self._server: ThreadingHTTPServer | None = None
        try:
            self._server = ThreadingHTTPServer((host, port), _Handler)
        except OSError:
            return
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="rag-splash", daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
