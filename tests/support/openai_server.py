"""A real HTTP server speaking the OpenAI chat-completions and Ollama chat protocols.

Each test plugs in a "brain" (messages -> reply text) to script the model's behaviour:
well cited, citing unknown keys, citing nothing, obeying injected instructions, slow,
or failing with an HTTP status. Requests are recorded so tests can inspect the prompt.

Use the fixture by importing it into the test module:
    from tests.support.openai_server import chat_server  # noqa: F401
"""
from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Messages = list[dict[str, Any]]
Brain = Callable[[Messages], str]


class BrainHTTPError(Exception):
    """Raised by a brain to make the server answer with this HTTP status."""

    def __init__(self, status: int, message: str = "scripted failure"):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def messages(self) -> Messages:
        return list((self.body or {}).get("messages", []))

    def content(self, role: str) -> str:
        """All message text of one role, joined (content may be a string or parts)."""
        out = []
        for m in self.messages:
            if m.get("role") != role:
                continue
            c = m.get("content", "")
            if isinstance(c, list):
                c = "".join(p.get("text", "") for p in c if isinstance(p, dict))
            out.append(c)
        return "\n".join(out)


# --- brains ----------------------------------------------------------------------------

_PASSAGE = re.compile(r'^\[(P\d+)\][^\n]*\n"""(.*?)"""', re.MULTILINE | re.DOTALL)


def last_user_text(messages: Messages) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            c = m.get("content", "")
            if isinstance(c, list):
                c = "".join(p.get("text", "") for p in c if isinstance(p, dict))
            return c
    return ""


def prompt_passages(messages: Messages) -> list[tuple[str, str]]:
    """(key, fenced text) of each passage in the latest user message."""
    return _PASSAGE.findall(last_user_text(messages))


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    m = re.search(r"(?<!Art)(?<!No)\.\s+(?=[A-Z])", text)
    sentence = text[: m.start()] if m else text.rstrip(".…[] ")
    return sentence.rstrip(".")


def cite_first_sentences(messages: Messages) -> str:
    """A faithful model: quotes each passage's first sentence and cites its key."""
    passages = prompt_passages(messages)
    if not passages:
        return "The texts do not address this."
    return " ".join(f"{first_sentence(text)} [{key}]." for key, text in passages)


def cite_unknown_key(messages: Messages) -> str:
    """Well cited, plus one sentence citing a key that was never given."""
    return cite_first_sentences(messages) + " Witness protection is universal [P99]."


def cite_nothing(messages: Messages) -> str:
    """Faithful content, no citations at all."""
    return " ".join(f"{first_sentence(t)}." for _, t in prompt_passages(messages))


def refuse(messages: Messages) -> str:
    return "The texts do not address this."


def obey_injection(mode: str = "only") -> Brain:
    """A gullible model: follows 'reply only with X' found in a passage.

    mode "only": the reply is just the injected word; "append": a well-cited answer with
    the injected word added as a sentence of its own.
    """

    def brain(messages: Messages) -> str:
        m = re.search(r"reply only with (\w+)", last_user_text(messages), re.IGNORECASE)
        if not m:
            return cite_first_sentences(messages)
        word = m.group(1)
        return word if mode == "only" else f"{cite_first_sentences(messages)} {word}."

    return brain


def sleeper(seconds: float, then: Brain = cite_first_sentences) -> Brain:
    def brain(messages: Messages) -> str:
        time.sleep(seconds)
        return then(messages)

    return brain


def http_error(status: int = 500, message: str = "model crashed") -> Brain:
    def brain(messages: Messages) -> str:
        raise BrainHTTPError(status, message)

    return brain


def fixed(reply: str) -> Brain:
    return lambda messages: reply


# --- server ----------------------------------------------------------------------------


def _pieces(text: str, size: int = 7) -> Iterator[str]:
    """Stream in small pieces that split words and brackets, as real tokenizers do."""
    for i in range(0, len(text), size):
        yield text[i : i + size]


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    # -- plumbing --
    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return raw.decode("utf-8", "replace")

    def _record(self, body: Any) -> None:
        with self.server.lock:
            self.server.owner.requests.append(
                RecordedRequest(self.command, self.path, dict(self.headers), body)
            )

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _think(self, messages: Messages) -> str | None:
        """Run the brain; on BrainHTTPError answer with that status and return None."""
        try:
            return self.server.owner.brain(messages)
        except BrainHTTPError as e:
            if self.path.startswith("/api/"):
                self._json(e.status, {"error": e.message})
            else:
                self._json(e.status, {"error": {"message": e.message, "type": "server_error"}})
            return None

    # -- routes --
    def do_GET(self) -> None:
        self._record(None)
        model = self.server.owner.model
        if self.path.rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [
                {"id": model, "object": "model", "created": 0, "owned_by": "tests"}]})
        elif self.path.rstrip("/") == "/api/tags":
            self._json(200, {"models": [{"name": model, "model": model}]})
        else:
            self._json(404, {"error": f"no route GET {self.path}"})

    def do_POST(self) -> None:
        body = self._body()
        self._record(body)
        if not isinstance(body, dict):
            self._json(400, {"error": "body must be a JSON object"})
        elif self.path.rstrip("/") == "/v1/chat/completions":
            self._openai_chat(body)
        elif self.path.rstrip("/") == "/api/chat":
            self._ollama_chat(body)
        else:
            self._json(404, {"error": f"no route POST {self.path}"})

    def _openai_chat(self, body: dict[str, Any]) -> None:
        reply = self._think(body.get("messages", []))
        if reply is None:
            return
        model = body.get("model", self.server.owner.model)
        created = int(time.time())
        if not body.get("stream"):
            self._json(200, {
                "id": "chatcmpl-test", "object": "chat.completion", "created": created,
                "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            })
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def event(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                     "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant", "content": ""})
        for piece in _pieces(reply):
            event({"content": piece})
        event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _ollama_chat(self, body: dict[str, Any]) -> None:
        reply = self._think(body.get("messages", []))
        if reply is None:
            return
        model = body.get("model", self.server.owner.model)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        final = {"model": model, "created_at": stamp, "done": True, "done_reason": "stop",
                 "total_duration": 1, "prompt_eval_count": 1, "eval_count": 1}
        if body.get("stream", True) is False:
            self._json(200, {**final, "message": {"role": "assistant", "content": reply}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for piece in _pieces(reply):
            line = {"model": model, "created_at": stamp, "done": False,
                    "message": {"role": "assistant", "content": piece}}
            self.wfile.write((json.dumps(line) + "\n").encode())
            self.wfile.flush()
        last = {**final, "message": {"role": "assistant", "content": ""}}
        self.wfile.write((json.dumps(last) + "\n").encode())
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a sleeping brain must not block shutdown
    block_on_close = False

    def __init__(self, owner: "ChatServer"):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout test) is expected; anything else is reported."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


@dataclass
class ChatServer:
    """Start with `start()`, or use as a context manager; `brain` may be swapped any time."""

    brain: Brain = cite_first_sentences
    model: str = "test-model"
    requests: list[RecordedRequest] = field(default_factory=list)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def root_url(self) -> str:
        """Ollama's base URL (native API under /api)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL."""
        return f"{self.root_url}/v1"

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST"
                and r.path.rstrip("/").endswith(("/api/chat", "/chat/completions"))]

    def start(self) -> "ChatServer":
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "ChatServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server
