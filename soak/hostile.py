"""Hostile and broken uploads through the app's real upload path (Handlers.upload: check_upload,
store_upload, ingestion as the uploader's own document).

Counted per case: crashes (an exception out of the handler), partial documents (registry and
Chroma disagree about any document afterwards), impersonations (an upload holding an existing
document's id, the treaty type, or any corpus document changed), and leaks (a server path or
exception text in what the user is shown)."""
from __future__ import annotations

import html as html_mod
import io
import os
import re
import time
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
ARTICLES = "".join(f"### Article {n}. Obligation {n}\n\n1. Each party shall take measure {n} against abuse.\n\n"
                   for n in range(1, 6))


@dataclass
class Case:
    kind: str
    name: str          # the file name as the browser sends it (may hold ../, bytes, control chars)
    data: bytes
    note: str = ""


def _docx(xml: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A real Word file (python-docx's blank document) whose document.xml is `xml`."""
    import docx

    blank = io.BytesIO()
    docx.Document().save(blank)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blank.getvalue())) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, xml if info.filename == "word/document.xml" else src.read(info.filename))
        for k, v in (extra or {}).items():
            z.writestr(k, v)
    return buf.getvalue()


def _docx_body(paras: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{html_mod.escape(p)}</w:t></w:r></w:p>" for p in paras)
    return f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'.encode()


def _docx_bomb(xml_mb: int) -> bytes:
    buf = io.BytesIO()
    para = b"<w:p><w:r><w:t>Article 1. Everyone has rights.</w:t></w:r></w:p>" * 1000
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<w:document xmlns:w="{W_NS}"><w:body>'.encode())
            for _ in range(xml_mb * 1024 * 1024 // len(para) + 1):
                fh.write(para)
            fh.write(b"</w:body></w:document>")
    return buf.getvalue()


def _pdf(pages: list[str], encrypt: str | None = None, image_only: bool = False) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    kwargs = {}
    if encrypt:
        from reportlab.lib import pdfencrypt

        kwargs["encrypt"] = pdfencrypt.StandardEncryption(encrypt, ownerPassword=encrypt + "x", canPrint=0)
    c = canvas.Canvas(buf, **kwargs)
    for text in pages:
        if image_only:  # shapes only: a scan has pixels, not text
            for i in range(30):
                c.rect(72, 700 - i * 20, 400 - i * 7, 12, fill=1)
        else:
            y = 760
            for line in text.splitlines():
                c.drawString(72, y, line[:95])
                y -= 14
        c.showPage()
    c.save()
    return buf.getvalue()


def _pdf_blank_pages(n: int) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    for _ in range(n):
        w.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _pdf_stream_bomb(mb: int) -> bytes:
    """One page whose content stream inflates from a few KB to `mb` MB of text operators."""
    import zlib

    op = b"BT /F1 12 Tf 72 720 Td (Article 1. Everyone has rights.) Tj ET\n"
    stream = zlib.compress(op * (mb * 1024 * 1024 // len(op)), 9)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def yaml_bomb_md() -> str:
    """Markdown whose front matter title is a YAML alias tree of 9**8 leaves (1 KB on disk)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(8):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + "\ntitle: *i\n---\n\n" + ARTICLES


def cases(existing_id: str = "untoc", existing_title: str = "United Nations Convention against Transnational "
          "Organized Crime", treaty_text: str = "") -> list[Case]:
    """More than 30 kinds of hostile or broken uploads."""
    good_pdf = _pdf([ARTICLES])
    forged = (f"---\nid: {existing_id}\ntitle: \"{existing_title}\"\nshort_title: UNTOC\ndoc_type: treaty\n"
              f"owner: \"\"\n---\n\n{treaty_text or ARTICLES}")
    yaml_bomb = yaml_bomb_md()
    return [
        Case("docx zip bomb (60 MB XML)", "bomb.docx", _docx_bomb(60)),
        Case("docx zip bomb by ratio (20 MB XML)", "ratio.docx", _docx_bomb(20)),
        Case("zip archive named .docx", "archive.docx", _zip_plain()),
        Case("docx with XXE entity", "xxe.docx", _docx(
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<w:document xmlns:w="' + W_NS.encode() + b'"><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p>'
            b'</w:body></w:document>')),
        Case("docx with billion-laughs entities", "laughs.docx", _docx(_billion_laughs(W_NS))),
        Case("docx with malformed XML", "broken.docx", _docx(b"<w:document><w:body><w:p>unclosed")),
        Case("docx with path-traversal member names", "slip.docx",
             _docx(_docx_body(["Article 1. Zip slip."]), {"../../../../tmp/soak-zip-slip.txt": b"owned"})),
        Case("pdf content-stream bomb (40 MB inflated)", "streambomb.pdf", _pdf_stream_bomb(40)),
        Case("pdf with 2,100 pages (over the page limit)", "pages.pdf", _pdf_blank_pages(2100)),
        Case("encrypted pdf", "locked.pdf", _pdf([ARTICLES], encrypt="secret")),
        Case("image-only pdf (no text layer)", "scan.pdf", _pdf(["", ""], image_only=True)),
        Case("truncated pdf", "truncated.pdf", good_pdf[: len(good_pdf) // 2]),
        Case("jpeg renamed .pdf", "photo.pdf", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(4000)),
        Case("pdf header then garbage", "garbage.pdf", b"%PDF-1.7\n" + os.urandom(20000)),
        Case("executable (.exe)", "setup.exe", b"MZ\x90\x00" + os.urandom(2000)),
        Case("no extension", "README", ARTICLES.encode()),
        Case("ELF binary named .md", "tool.md", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 4000),
        Case("double extension .md.exe", "notes.md.exe", ARTICLES.encode()),
        Case("NUL bytes after the first 8 KB of a .txt", "late-nul.txt",
             (ARTICLES * 40).encode()[:9000] + b"\x00" * 64 + ARTICLES.encode()),
        Case("UTF-16 text with BOM", "utf16.txt", ("\ufeff" + ARTICLES).encode("utf-16-le")),
        Case("Latin-1 text (invalid UTF-8)", "latin1.txt", ("Article 1. Données à caractère personnel, "
                                                            "protégées. " * 20).encode("latin-1")),
        Case("encoded surrogates and overlong UTF-8", "surrogate.md",
             b"### Article 1. Bad bytes\n\n\xed\xa0\x80 \xc0\xaf \xf8\x88\x80\x80\x80 text\n"),
        Case("forged front matter: existing id, treaty type, no owner", "untoc.md", forged.encode()),
        Case("forged front matter: id with path characters", "pathid.md",
             ("---\nid: ../../registry\ndoc_type: treaty\ntitle: x\n---\n\n" + ARTICLES).encode()),
        Case("YAML billion-laughs front matter", "yamlbomb.md", yaml_bomb.encode()),
        Case("invalid YAML front matter", "badyaml.md", ("---\nid: [unclosed\ntitle: {\n---\n\n" + ARTICLES).encode()),
        Case("front matter only, no body", "onlymeta.md", b"---\ntitle: Nothing\n---\n"),
        Case("huge text (6 M characters, over the limit)", "huge.txt", ("All work and no play. " * 280_000).encode()),
        Case("provision flood (25,000 articles)", "flood.md",
             "".join(f"### Article {n}. T\n\nShall {n}.\n\n" for n in range(1, 25_001)).encode()),
        Case("file over the upload size limit (21 MB)", "big.txt", b"a" * (21 * 1024 * 1024)),
        Case("empty file", "empty.md", b""),
        Case("whitespace only", "blank.txt", b" \n\t\n" * 1000),
        Case("HTML with scripts and handlers", "xss.html", (
            "<html><head><script>alert(1)</script><title>T<script>alert(2)</script></title></head><body>"
            "<h2>Article 1. <img src=x onerror=alert(3)>Scripts</h2><p>1. Parties <a href='javascript:alert(4)'>"
            "shall</a> act.<svg onload=alert(5)></svg></p><iframe src='file:///etc/passwd'></iframe></body></html>"
        ).encode()),
        Case("HTML with XXE doctype", "xxe.html",
             b'<?xml version="1.0"?><!DOCTYPE h [<!ENTITY x SYSTEM "file:///etc/passwd">]><html><body>'
             b'<p>Article 1. &x;</p></body></html>'),
        Case("HTML nested 100,000 deep", "deep.html", b"<div>" * 100_000 + b"Article 1. Deep." + b"</div>" * 100_000),
        Case("Markdown with HTML/JS in headings", "xss.md",
             ("### Article 1. <script>alert(1)</script><img src=x onerror=alert(2)>\n\n"
              "1. [click](javascript:alert(3)) shall apply.\n").encode()),
        Case("name with ../ traversal", "../../../../../tmp/soak-evil.md", ARTICLES.encode()),
        Case("name with backslash traversal", "..\\..\\..\\windows\\evil.md", ARTICLES.encode()),
        Case("non-UTF-8 file name", os.fsdecode(b"\xff\xfe-r\xe9sum\xe9.md"), ARTICLES.encode()),
        Case("name with control chars, RTL override and HTML", "a\u202egnp.md\n<img src=x onerror=alert(1)>.md",
             ARTICLES.encode()),
        Case("name of 400 characters", "x" * 400 + ".md", ARTICLES.encode()),
        Case("hidden dot name", ".md", ARTICLES.encode()),
        Case("a treaty's own text re-uploaded", "copy-of-treaty.md", (treaty_text or ARTICLES).encode()),
        Case("the same file twice (must be one document)", "twice.md", ("### Article 1. Once\n\n1. Only once.\n").encode(),
             note="uploaded twice"),
    ]


def _zip_plain() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "not a word document")
    return buf.getvalue()


def _billion_laughs(ns: str) -> bytes:
    ents = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    return (f'<?xml version="1.0"?><!DOCTYPE d [{ents}]><w:document xmlns:w="{ns}"><w:body><w:p><w:r>'
            f"<w:t>&i;</w:t></w:r></w:p></w:body></w:document>").encode()


# -- scoring ---------------------------------------------------------------------------------
_TAGS = re.compile(r"<[^>]+>")
_ABS = re.compile(r"(?<![\w.])/(?:[\w.-]+/)+[\w.-]*")
_EXC = re.compile(r"Traceback|Error:|Exception|File \"|line \d+, in ")


def leaks(shown: str, secrets: list[str]) -> list[str]:
    """Server paths or exception text in what the user is shown."""
    text = html_mod.unescape(_TAGS.sub(" ", shown))
    found = [s for s in secrets if s and s in text]
    found += [m.group(0) for m in _ABS.finditer(text) if not m.group(0).startswith("//")]
    found += [m.group(0) for m in _EXC.finditer(text)]
    return found


def run(index_dir: Path, corpus_dir: Path, workdir: Path, only: list[str] | None = None,
        log=print) -> dict:
    """Upload every case as an anonymous session through Handlers.upload; score each one."""
    from rag.api import TreatyQA
    from rag.model import DocType
    from rag.settings import Settings
    from rag.ui.handlers import Handlers

    settings = Settings(index_dir=index_dir, corpus_dir=corpus_dir, app={"upload_dir": workdir / "uploads"})
    qa = TreatyQA(settings)
    qa.ensure_index()
    h = Handlers(qa)
    before = {d["doc_id"]: (d["doc_hash"], d["meta"].title, d["meta"].doc_type, d["meta"].owner)
              for d in qa.index.registry.documents()}
    treaty_id = "untoc" if "untoc" in before else sorted(before)[0]
    treaty_text = Path(qa.index.registry.doc_path(treaty_id) or "").read_text(encoding="utf-8") \
        if Path(qa.index.registry.doc_path(treaty_id) or "/nonexistent").is_file() else ""
    secrets = [str(Path(p).resolve()) for p in (index_dir, corpus_dir, workdir, Path.home())] + ["/tmp/"]
    request = SimpleNamespace(session_hash="soak-hostile-session", username=None)
    results = []
    upload_tmp = workdir / "incoming"
    for i, case in enumerate(cases(treaty_id, before[treaty_id][1], treaty_text)):
        if only and not any(o in case.kind for o in only):
            continue
        folder = upload_tmp / f"{i:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        # The browser's name reaches the handler as the temp file's name (Gradio keeps it); a
        # name the file system cannot hold (a slash) is stored under its last part, as Gradio does.
        disk_name = case.name.replace("/", "_") or "_"
        if len(os.fsencode(disk_name)) > 250:  # over the file system's limit: keep the extension
            disk_name = disk_name[:200] + Path(disk_name).suffix
        path = folder / disk_name
        path.write_bytes(case.data)
        row = {"kind": case.kind, "name": case.name.encode("utf-8", "backslashreplace").decode()[:80],
               "bytes": len(case.data)}
        prev_ids = {d["doc_id"] for d in qa.index.registry.documents()}
        t0 = time.perf_counter()
        shown = ""
        try:
            for _ in range(2 if case.note == "uploaded twice" else 1):
                shown, *_ = h.upload([str(path)], request=request, progress=lambda *a, **k: None)
            row["crash"] = False
        except Exception as exc:  # noqa: BLE001 - counted, never fatal to the soak
            row["crash"] = True
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
            log(traceback.format_exc())
        if "/" in case.name or "\\" in case.name:  # the stored name never escapes the folder
            from rag.ui.uploads import UploadError, store_upload

            try:
                stored = store_upload(path, case.name, workdir / "uploads" / "direct")
                row["escaped"] = not stored.resolve().is_relative_to((workdir / "uploads" / "direct").resolve())
            except UploadError:
                row["escaped"] = False
        row["seconds"] = round(time.perf_counter() - t0, 2)
        status = re.findall(r'class="up-status">([^<]*)<', shown) or re.findall(
            r"\b(rejected|failed|indexed|unchanged|updated|added)\b", shown)
        row["status"] = status[0] if status else ""
        row["message"] = html_mod.unescape(_TAGS.sub(" ", shown)).strip()[:240]
        row["leaks"] = leaks(shown, secrets)
        docs = {d["doc_id"]: d for d in qa.index.registry.documents()}
        problems = qa.index.check()
        per_doc = {}
        for cid, d, _ in qa.index.registry.chunk_index():
            per_doc[d] = per_doc.get(d, 0) + 1
        partial = [d for d, rec in docs.items() if rec["n_chunks"] != per_doc.get(d, 0)
                   or len(qa.index.store.ids_for(d)) != rec["n_chunks"]]
        row["partial"] = partial + [p.what for p in problems]
        changed = [d for d, v in before.items()
                   if d not in docs or (docs[d]["doc_hash"], docs[d]["meta"].title, docs[d]["meta"].doc_type,
                                        docs[d]["meta"].owner) != v]
        new = {d: rec for d, rec in docs.items() if d not in prev_ids}
        row["impersonations"] = changed + [d for d, rec in new.items()
                                           if rec["meta"].doc_type == DocType.treaty or not rec["meta"].owner]
        row["new_documents"] = sorted(new)
        # XXE, symlinks, iframes: no server file's content may reach the index
        row["server_file_read"] = qa.index.registry.db.execute(
            "SELECT count(*) FROM chunks WHERE data LIKE '%root:x:0:0%'").fetchone()[0] > 0
        row["duplicate"] = len(set(docs) - prev_ids) > 1  # one file, at most one new document
        if (Path("/tmp/soak-zip-slip.txt")).exists() or (Path("/tmp/soak-evil.md")).exists():
            row["escaped"] = True
        results.append(row)
        log(f"  {case.kind}: {row['status'] or '?'} ({row['seconds']} s)")
    totals = {
        "kinds": len(results),
        "crashes": sum(r["crash"] for r in results),
        "partial_documents": sum(bool(r["partial"]) for r in results),
        "impersonations": sum(bool(r["impersonations"]) for r in results),
        "paths_leaked": sum(bool(r["leaks"]) for r in results),
        "escaped_paths": sum(bool(r.get("escaped")) for r in results),
        "duplicates": sum(bool(r.get("duplicate")) for r in results),
        "server_files_read": sum(bool(r.get("server_file_read")) for r in results),
        "refused": sum(r["status"] in ("rejected", "failed") for r in results),
        "accepted": sum(r["status"] not in ("rejected", "failed", "") for r in results),
        "slowest_s": max((r["seconds"] for r in results), default=0),
    }
    return {"totals": totals, "cases": results}
