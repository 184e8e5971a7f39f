"""N concurrent browser sessions × M questions against the real app while another session
uploads a large document: errors, latency before / during / after the upload, and whether
every answer is the answer to its own question.

Each session is its own gradio_client.Client (its own Gradio session, as a browser tab), asking
"What does Article K of UNTOC say?" with K different per session and per question; an answer
matches when its export's title is that question and it cites UNTOC, Art. K."""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from .common import percentile

UNTOC_ARTICLES = 41


def article_for(session: int, q: int) -> int:
    return 1 + (session * 7 + q * 3) % UNTOC_ARTICLES


def question_for(session: int, q: int) -> str:
    return f"What does Article {article_for(session, q)} of UNTOC say?"


def large_pdf(path: Path, corpus_texts: list[str], pages: int = 200, lines_per_page: int = 48) -> Path:
    """A `pages`-page PDF laid out from corpus texts (real provisions, real words)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    lines = [ln.strip() for t in corpus_texts for ln in t.splitlines() if ln.strip() and not ln.startswith("---")]
    wrapped: list[str] = []
    for ln in lines:
        while len(ln) > 95:
            cut = ln.rfind(" ", 0, 95)
            cut = cut if cut > 40 else 95
            wrapped.append(ln[:cut])
            ln = ln[cut:].strip()
        wrapped.append(ln.lstrip("#").strip())
    while len(wrapped) < pages * lines_per_page:
        wrapped += wrapped
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("Soak test: a large uploaded compilation")
    for p in range(pages):
        y = 800
        for ln in wrapped[p * lines_per_page:(p + 1) * lines_per_page]:
            c.drawString(50, y, ln)
            y -= 16
        c.showPage()
    c.save()
    return path


def _export_md(result) -> str:
    """The Markdown export among the /ask outputs (the one string starting with '# ')."""
    for item in result if isinstance(result, (list, tuple)) else [result]:
        if isinstance(item, str) and item.startswith("# "):
            return item
    return ""


def answer_matches(question: str, article: int, md: str) -> bool:
    first = md.splitlines()[0] if md else ""
    if first != f"# {question}":
        return False
    sources = md.split("## Sources", 1)[1] if "## Sources" in md else ""
    return re.search(rf"\*\*UNTOC, Art\. {article}(?![0-9])", sources) is not None


def run(url: str, sessions: int, questions: int, upload: Path | None, deadline_s: float = 900,
        before_fraction: float = 0.25, log=print) -> dict:
    from gradio_client import Client, handle_file

    t_zero = time.monotonic()
    stop_at = t_zero + deadline_s
    records: list[dict] = []
    lock = threading.Lock()
    upload_window: dict = {}
    before_q = max(1, int(questions * before_fraction)) if upload else questions
    barrier = threading.Barrier(sessions + (1 if upload else 0))
    clients = [Client(url, verbose=False) for _ in range(sessions)]

    def session(s: int) -> None:
        client = clients[s]
        for q in range(questions):
            if q == before_q and upload:
                try:
                    barrier.wait(timeout=max(1.0, stop_at - time.monotonic()))
                except threading.BrokenBarrierError:
                    pass
            if time.monotonic() > stop_at:
                with lock:
                    records.append({"session": s, "q": q, "status": "not asked (deadline)"})
                continue
            question = question_for(s, q)
            t0 = time.monotonic()
            rec = {"session": s, "q": q, "question": question, "start": t0 - t_zero}
            try:
                result = client.predict(question, [], [], [], "extractive", api_name="/ask")
                md = _export_md(result)
                rec["status"] = "ok" if md else "no answer"
                rec["matched"] = answer_matches(question, article_for(s, q), md)
                if not rec["matched"]:
                    rec["got"] = md[:300]
            except Exception as exc:  # noqa: BLE001 - an error is a figure, not the end of the soak
                rec["status"] = "error"
                rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
                rec["matched"] = False
            rec["end"] = time.monotonic() - t_zero
            rec["latency"] = rec["end"] - rec["start"]
            with lock:
                records.append(rec)

    def uploader() -> None:
        client = Client(url, verbose=False)
        try:
            barrier.wait(timeout=max(1.0, stop_at - time.monotonic()))
        except threading.BrokenBarrierError:
            pass
        upload_window["start"] = time.monotonic() - t_zero
        try:
            result = client.predict([handle_file(str(upload))], api_name="/upload")
            shown = result[0] if isinstance(result, (list, tuple)) else str(result)
            upload_window["result"] = re.sub(r"<[^>]+>", " ", str(shown))[:400]
            upload_window["ok"] = bool(re.search(r"\b(ingested|added|indexed|updated|unchanged)\b", str(shown)))
        except Exception as exc:  # noqa: BLE001
            upload_window["result"] = f"{type(exc).__name__}: {exc}"[:300]
            upload_window["ok"] = False
        upload_window["end"] = time.monotonic() - t_zero

    threads = [threading.Thread(target=session, args=(s,), daemon=True) for s in range(sessions)]
    if upload:
        threads.append(threading.Thread(target=uploader, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, stop_at - time.monotonic()) + 120)
    asked = [r for r in records if "latency" in r]
    u0, u1 = upload_window.get("start"), upload_window.get("end")

    def phase(r: dict) -> str:
        if u0 is None:
            return "before"
        if r["end"] <= u0:
            return "before"
        if u1 is None or r["start"] < u1:
            return "during"
        return "after"

    for r in asked:
        r["phase"] = phase(r)
    lat = {p: [r["latency"] for r in asked if r["phase"] == p and r["status"] == "ok"]
           for p in ("before", "during", "after")}
    figures = {
        "sessions": sessions, "questions_per_session": questions, "asked": len(asked),
        "not_asked": len(records) - len(asked),
        "errors": sum(r["status"] != "ok" for r in asked),
        "mismatched": sum(not r.get("matched") for r in asked if r["status"] == "ok"),
        "upload_s": round(u1 - u0, 1) if (u0 is not None and u1 is not None) else None,
        "upload_ok": upload_window.get("ok"),
        "upload_result": upload_window.get("result"),
        "wall_s": round(time.monotonic() - t_zero, 1),
    }
    for p, xs in lat.items():
        figures[f"n_{p}"] = len(xs)
        figures[f"p50_{p}_s"] = round(percentile(xs, 50), 2) if xs else None
        figures[f"p95_{p}_s"] = round(percentile(xs, 95), 2) if xs else None
    log(f"  concurrency: {figures}")
    return {"figures": figures, "records": sorted(records, key=lambda r: r.get("start", 1e9)),
            "upload_window": upload_window}
