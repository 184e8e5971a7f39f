"""Cold start as a user meets it: process start to a served page, to the app's own page, and to
the first answer shown in a real browser (Debian's chromium through Playwright), which is open
before the app starts, as a user's is.

    .venv/bin/python scripts/cold_start.py [--index-dir DIR] [--runs 3] [--out FILE.json]

The index must already be built (the app builds it in the background otherwise, which is a
first-run cost, not a cold start). Each run starts `app.py` on a free loopback port, polls the
port until anything answers (the starting page), opens it in the browser (it reloads into the app
by itself), waits for the question box, asks one question and waits for the finished answer.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Does Article 14 of the Lanzarote Convention cover victim rehabilitation?"
ANSWER_DONE = "#chat .answer:not(.streaming), #chat .app-message"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def one_run(index_dir: str, chromium: str, timeout: float = 120) -> dict[str, float]:
    """One cold start as a user meets it: the browser is already open (its own start-up is not the
    app's), the app process starts at t0, the user opens the address as soon as anything answers
    (the starting page, which reloads into the app by itself), asks, and waits for the answer."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "RAG_INDEX_DIR": index_dir, "RAG_APP__PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    base = f"http://127.0.0.1:{port}"
    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while _status(base + "/") == 0:
                if time.perf_counter() - t0 > timeout or proc.poll() is not None:
                    raise RuntimeError("the app did not serve a page")
                time.sleep(0.05)
            out["page_s"] = time.perf_counter() - t0
            page.goto(base + "/", wait_until="domcontentloaded")  # the starting page, until the app's
            page.wait_for_selector("#question textarea", timeout=timeout * 1000)
            out["app_page_s"] = time.perf_counter() - t0  # the question box is shown
            page.fill("#question textarea", QUESTION)
            page.click("#ask-btn")
            page.wait_for_selector(ANSWER_DONE, timeout=timeout * 1000)
            out["first_answer_s"] = time.perf_counter() - t0
        finally:
            browser.close()
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {k: round(v, 2) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index-dir", default=os.environ.get("RAG_INDEX_DIR", str(ROOT / "data/index")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    runs = [one_run(args.index_dir, args.chromium) for _ in range(args.runs)]
    for r in runs:
        print(r)
    summary = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("median", summary)
    if args.out:
        args.out.write_text(json.dumps({"runs": runs, "median": summary, "question": QUESTION}, indent=1) + "\n")


if __name__ == "__main__":
    main()
