"""App callbacks (rag.ui.handlers) called directly, on a real small index on disk.

Why: the app is shared by many users; what one user sees must never carry server paths,
exception text or another session's files, and a malformed question must still get a reply.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from rag.api import TreatyQA
from rag.ui.handlers import Handlers

SMALL = {"a.md": "eff-2024-01-ngo-redlines", "b.md": "iccpr-op1"}
_PATH = re.compile(r"/(?:tmp|work|home|srv|var|root)\b")


@pytest.fixture(scope="module")
def built(corpus_files, tmp_path_factory):
    """SMALL indexed once; each test gets a copy (index and uploads) in its own folder."""
    from tests.conftest import make_settings

    base = tmp_path_factory.mktemp("ui-small")
    docs = base / "docs"
    docs.mkdir()
    for name, doc_id in SMALL.items():
        shutil.copyfile(corpus_files[doc_id], docs / name)
    settings = make_settings(base, corpus_dir=docs)
    qa = TreatyQA(settings)
    assert qa.ingest([docs], progress=False).ok
    return base, docs


@pytest.fixture
def qa(built, tmp_path):
    from tests.conftest import make_settings

    base, docs = built
    shutil.copytree(base / "index", tmp_path / "index")
    return TreatyQA(make_settings(tmp_path, corpus_dir=docs))


def no_progress(*_args, **_kwargs) -> None:
    return None


def visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def drain(gen):
    last = None
    for last in gen:
        pass
    return last


def test_upload_errors_show_no_server_paths(qa, tmp_path, corpus_files):
    h = Handlers(qa)
    bad_docx = tmp_path / "in" / "report.docx"
    bad_docx.parent.mkdir()
    bad_docx.write_bytes(b"PK\x03\x04 not really a zip")
    forged = tmp_path / "in" / "forged.md"
    forged.write_text("---\nid: iccpr-op1\ntitle: Mine\n---\n# Mine\n\nArticle 1\n\nSome text here.\n",
                      encoding="utf-8")
    html, *_ = h.upload([str(bad_docx), str(forged)], progress=no_progress)
    shown = visible(html)
    assert "not a Word .docx file" in shown
    assert not _PATH.search(shown), shown
    assert str(corpus_files["iccpr-op1"].parent) not in shown and str(qa.settings.app.upload_dir) not in shown


def test_a_failed_answer_shows_a_reference_not_the_exception(qa, caplog):
    class Broken(TreatyQA):
        """A TreatyQA whose retrieval fails the way a bug would, with a path in the message."""

        def retrieve(self, *args, **kwargs):
            raise RuntimeError("database /srv/secret/registry.sqlite is locked")

    h = Handlers(Broken(qa.settings, qa.index))
    chat, *_ = drain(h.ask("What does Article 1 say?", [], [], [], [], "extractive"))
    shown = visible(chat[-1]["content"])
    assert "internal error" in shown and "/srv/secret" not in shown and "locked" not in shown
    ref = re.search(r"reference (\w+)", shown).group(1)
    assert any(ref in r.getMessage() and "/srv/secret" in r.getMessage() for r in caplog.records)


def test_a_lone_surrogate_gets_a_clean_reply(qa):
    h = Handlers(qa)
    chat, _, conversation, evidence, *_ = drain(h.ask("What does Article 1 say \ud800?", [], [], [], [], None))
    blob = json.dumps(chat, ensure_ascii=False) + (evidence if isinstance(evidence, str) else "")
    blob.encode("utf-8")  # would raise on a surrogate: Gradio's event stream breaks the same way
    assert chat[-1]["role"] == "assistant" and "?" in chat[0]["content"]
    assert qa.check_question("\ud800 Article 1") == "? Article 1"


def test_exports_are_private_per_session_and_removed_when_it_ends(qa):
    import stat
    from types import SimpleNamespace

    h = Handlers(qa)
    alice, bob = SimpleNamespace(session_hash="alice123"), SimpleNamespace(session_hash="bob456")
    question = "What does Article 1 say about communications?"
    files = []
    for who in (alice, alice, bob):
        out = drain(h.ask(question, [], [], [], [], None, request=who))
        files.append(Path(out[4]))
    a1, a2, b1 = files
    assert a1 != a2 and a1.parent == a2.parent != b1.parent
    for f in files:
        assert f.read_text(encoding="utf-8").strip()
        assert "article" not in f.name.lower() and "communications" not in f.name.lower()
        assert re.fullmatch(r"answer-[0-9a-f]{8}\.md", f.name)
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        assert stat.S_IMODE(f.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(h.export_dir.stat().st_mode) == 0o700
    h.end_session(alice)
    assert not a1.exists() and not a1.parent.exists() and b1.exists()


def test_exports_of_sessions_that_never_ended_expire(qa):
    import os
    import time
    from types import SimpleNamespace

    from rag.ui import handlers

    h = Handlers(qa)
    old = Path(drain(h.ask("What does Article 1 say?", [], [], [], [], None,
                           request=SimpleNamespace(session_hash="gone")))[4])
    stale = time.time() - handlers.EXPORT_MAX_AGE_S - 10
    os.utime(old.parent, (stale, stale))
    drain(h.ask("What does Article 2 say?", [], [], [], [], None, request=SimpleNamespace(session_hash="new")))
    assert not old.parent.exists()


# -- uploads are the uploader's ----------------------------------------------------------------

FORGED = ("---\nid: iccpr-op1\ntitle: Optional Protocol to the Convention on Zorblax\ndoc_type: treaty\n---\n"
          "# Zorblax\n\n### Article 1. Zorblax\n\nThe zorblax protocol requires every quantum ferret to be "
          "registered with the zorblax registry before it is released.\n")
ZQ = "What does the zorblax protocol require for quantum ferrets?"


def session(name: str):
    from types import SimpleNamespace

    return SimpleNamespace(session_hash=name, username=None)


def upload_as(h: Handlers, who, tmp_path: Path, name: str = "forged.md", text: str = FORGED) -> str:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    html, *_ = h.upload([str(path)], request=who, progress=no_progress)
    return visible(html)


def test_an_upload_cannot_take_an_id_or_the_treaty_type_and_is_one_document(qa, tmp_path):
    h = Handlers(qa)
    alice = session("alice")
    before = qa.index.registry.doc_hash("iccpr-op1")
    shown = upload_as(h, alice, tmp_path)
    assert "ingested" in shown
    (up,) = [m for m in qa.index.documents.values() if m.uploaded]
    assert up.id.startswith("upload-") and up.id != "iccpr-op1" and up.doc_type.value == "commentary"
    assert qa.index.registry.doc_hash("iccpr-op1") == before  # the treaty is untouched
    assert "unchanged" in upload_as(h, alice, tmp_path)  # the same content again: the same document
    assert "unchanged" in upload_as(h, alice, tmp_path, name="renamed.md")  # another name, same text
    assert [m.id for m in qa.index.documents.values() if m.uploaded] == [up.id]
    assert "Uploaded" in __import__("rag.ui.render", fromlist=["x"]).toc_html(up, [])


def test_uploads_are_visible_and_cited_only_for_their_owner_who_can_remove_them(qa, tmp_path):
    h = Handlers(qa)
    alice, bob = session("alice"), session("bob")
    upload_as(h, alice, tmp_path)
    upload_as(h, alice, tmp_path, name="again.md")  # a second copy of the same bytes, also removed below
    (up,) = [m for m in qa.index.documents.values() if m.uploaded]
    choices = lambda who: [v for _, v in h.documents(who)[0]["choices"]]  # noqa: E731
    assert up.id in choices(alice) and up.id not in choices(bob) and "iccpr-op1" in choices(bob)
    assert [v for _, v in h.documents(alice)[2]["choices"]] == [up.id] and h.documents(bob)[2]["choices"] == []
    evidence = lambda who: drain(h.ask(ZQ, [], [], [], [], None, request=who))[3]  # noqa: E731
    mine = evidence(alice)
    assert up.id in mine and "badge-uploaded" in mine
    assert "upload-" not in evidence(bob)
    assert "upload-" not in drain(h.ask(ZQ, [], [], [up.id], [], None, request=bob))[3]  # choosing it is no way in
    article = f"{up.id}/art_1"
    assert "not in the index" in h.open_article(article, bob)[0]
    assert "Zorblax" in h.open_article(article, alice)[0]
    assert "Choose a document" in h.toc(up.id, bob)
    html, *_ = h.remove_uploads([up.id, "iccpr-op1"], request=bob)
    assert "not one of your uploaded documents" in visible(html) and up.id in qa.index.documents
    assert "iccpr-op1" in qa.index.documents
    stored = Path(up.path)
    assert stored.exists()
    html, *_ = h.remove_uploads([up.id], request=alice)
    assert "removed" in visible(html) and up.id not in qa.index.documents and not stored.parent.exists()
    assert "iccpr-op1" in qa.index.documents


def test_published_uploads_are_visible_to_everyone(qa, tmp_path):
    qa.settings = qa.settings.with_overrides(app={"publish_uploads": True})
    h = Handlers(qa)
    upload_as(h, session("alice"), tmp_path)
    (up,) = [m for m in qa.index.documents.values() if m.uploaded]
    assert up.id in [v for _, v in h.documents(session("bob"))[0]["choices"]]
    assert up.id in drain(h.ask(ZQ, [], [], [], [], None, request=session("bob")))[3]


TELEWORK = ("---\ntitle: Alice's private memo\n---\n# Memo\n\n### Article 1. Telecommuting\n\n"
            "Staff may request telecommuting arrangements twice a week.\n")
TQ = "Does the Optional Protocol to the ICCPR regulate telecommuting?"


def test_a_private_upload_does_not_change_what_another_user_is_told(qa, tmp_path):
    """Whether a word exists in alice's private upload must not show in bob's answers: before, bob's
    refusal changed from "the texts never use the term" to another reason once alice uploaded it."""
    h = Handlers(qa)
    alice, bob = session("alice"), session("bob")
    def bob_asks(question: str) -> str:  # the answer as shown, less its timing line
        shown = visible(drain(h.ask(question, [], [], [], [], None, request=bob))[0][-1]["content"])
        return re.sub(r"mode: .*$", "", shown).strip()

    typo = TQ.replace("telecommuting", "telecomuting")  # a correction must not spell alice's word either
    before = [bob_asks(TQ), bob_asks(typo)]
    assert "ingested" in upload_as(h, alice, tmp_path, name="memo.md", text=TELEWORK)
    assert any(m.owner for m in qa.index.documents.values())
    assert [bob_asks(TQ), bob_asks(typo)] == before
    assert "telecommuting" in before[0].lower() and "telecommuting" not in before[1].lower()
