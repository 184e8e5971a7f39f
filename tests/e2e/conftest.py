"""The app as users get it: `python app.py` in a subprocess, driven by a real Chromium.

Why a subprocess: it exercises the real start-up path (settings from the environment,
index loading, model warm-up, Gradio queue and launch). The index is built once per session
with `rag ingest` from four corpus files (cached under the system temp dir, keyed by the
files and the indexing code, so reruns start in seconds) and copied into the session's tmp
dir, because the tests upload documents into it.

A missing Chromium is a failure in CI (CI=true) and a skip on a developer machine.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("RAG_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
E2E_DOCS = ["untoc", "lanzarote-convention", "budapest-convention", "knowmad-2024-08-commentary"]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}


def _unavailable(msg: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg + " (required in CI)", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        _unavailable(f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
                     "(never `playwright install`), or set RAG_E2E_CHROMIUM")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is missing: pip install -e '.[test]'")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The code that decides what an index holds; retrieval and answering code does not.
INDEX_CODE = ["rag/model.py", "rag/settings.py", "rag/structure.py", "rag/tokens.py", "rag/references.py",
              "rag/corpus/loaders.py", "rag/corpus/_meta.py", "rag/index/*.py"]


def _index_key(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    for pattern in INDEX_CODE:
        for p in sorted(REPO.glob(pattern)):
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update({"GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def e2e_index(corpus_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of a small index (four corpus documents) for this session to write into."""
    files = [corpus_files[d] for d in E2E_DOCS]
    caches = Path(tempfile.gettempdir()) / "rag-e2e-index-cache"
    cache = caches / _index_key(files)
    if not (cache / "ok").exists():
        shutil.rmtree(caches, ignore_errors=True)  # older keys are stale
        cache.mkdir(parents=True)
        proc = subprocess.run([sys.executable, "-m", "rag.cli", "--index-dir", str(cache / "index"), "ingest",
                               "--quiet", *map(str, files)], cwd=REPO, env=_env(RAG_CONFIG=str(cache / "none.toml")),
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            pytest.fail(f"rag ingest failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}", pytrace=False)
        (cache / "ok").write_text(proc.stdout)
    dest = tmp_path_factory.mktemp("e2e") / "index"
    shutil.copytree(cache / "index", dest)
    return dest


class App:
    def __init__(self, url: str, root: Path, log: Path, proc: subprocess.Popen):
        self.url, self.root, self.log, self.proc = url, root, log, proc

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="session")
def llm_server():
    """A real OpenAI-compatible HTTP server whose model quotes and cites the passages it is given."""
    from support.openai_server import ChatServer, cite_first_sentences

    server = ChatServer(brain=cite_first_sentences, model="test-model").start()
    yield server
    server.stop()


def launch_app(root: Path, timeout: float = 240, **env: str) -> App:
    """Start `python app.py` with RAG_* settings from `env`; return once it answers HTTP."""
    port = _free_port()
    log = root / f"app-{port}.log"
    full_env = _env(RAG_APP__PORT=str(port), RAG_APP__HOST="127.0.0.1", RAG_CONFIG=str(root / "none.toml"),
                    GRADIO_TEMP_DIR=str(root / "gradio-tmp"), **env)
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=full_env, stdout=fh,
                                stderr=subprocess.STDOUT)
    started = App(f"http://127.0.0.1:{port}/", root, log, proc)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"app.py exited with {proc.returncode}:\n{started.output()}", pytrace=False)
        try:
            with urllib.request.urlopen(started.url, timeout=5) as r:
                if r.status == 200 and not r.headers.get("X-Treaty-QA-Starting"):  # not the starting page
                    return started
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_app(started)
            pytest.fail(f"app.py did not answer HTTP at {started.url} within {timeout:.0f} s:\n{started.output()}",
                        pytrace=False)
        time.sleep(1)


def stop_app(app: App) -> None:
    app.proc.terminate()
    try:
        app.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        app.proc.kill()
        app.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app(e2e_index: Path, llm_server) -> Iterator[App]:
    root = e2e_index.parent
    started = launch_app(root, RAG_INDEX_DIR=str(e2e_index), RAG_APP__UPLOAD_DIR=str(root / "uploads"),
                         RAG_APP__MAX_UPLOAD_MB="2", RAG_LLM__BASE_URL=llm_server.base_url,
                         RAG_LLM__MODEL="test-model")
    yield started
    stop_app(started)


@pytest.fixture(scope="session")
def browser(chromium_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Dialogs(list):
    """Any alert/confirm a page opens (a sign that injected script ran)."""


@pytest.fixture
def page_factory(browser, app: App):
    """page_factory(viewport=LAPTOP) -> a fresh page (own session) with the app loaded."""
    contexts = []

    def make(viewport: dict | None = None):
        ctx = browser.new_context(viewport=viewport or LAPTOP)
        contexts.append(ctx)
        page = ctx.new_page()
        page.dialogs = Dialogs()
        page.errors = []

        def on_dialog(d):
            page.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.set_default_timeout(30_000)
        page.goto(app.url)
        page.wait_for_selector("#question textarea")
        return page

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def page(page_factory):
    return page_factory(LAPTOP)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
