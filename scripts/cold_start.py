"""Cold start as a user meets it: process start to a served page, to the app's own page, and to
the first answer shown in a real browser (Debian's chromium through Playwright).

    .venv/bin/python scripts/cold_start.py [--index-dir DIR] [--runs 3] [--out FILE.json]

The index must already be built (the app builds it in the background otherwise, which is a
first-run cost, not a cold start). Each run starts `app.py` on a free loopback port, polls the
port until anything answers (the starting page), then until the app answers its own config, then
loads the page, asks one question and waits for the finished answer.
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
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "RAG_INDEX_DIR": index_dir, "RAG_APP__PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out: dict[str, float] = {}
    try:
        while _status(base + "/") == 0:
            if time.perf_counter() - t0 > timeout or proc.poll() is not None:
                raise RuntimeError("the app did not serve a page")
            time.sleep(0.05)
        out["page_s"] = time.perf_counter() - t0
        while _status(base + "/config") != 200:
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError("the app's own page did not come up")
            time.sleep(0.05)
        out["app_page_s"] = time.perf_counter() - t0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(base + "/", wait_until="domcontentloaded")
            page.wait_for_selector("#question textarea", timeout=timeout * 1000)
            page.fill("#question textarea", QUESTION)
            page.click("#ask-btn")
            page.wait_for_selector(ANSWER_DONE, timeout=timeout * 1000)
            out["first_answer_s"] = time.perf_counter() - t0
            browser.close()
    finally:
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
