"""The table of document names: a protocol is found through its parent's abbreviation even when
punctuation touches the parent's title, and the table is safe under concurrent questions."""
from __future__ import annotations

import sys
import threading

from rag.model import DocType, DocumentMeta
from rag.references import find_documents


def meta(doc_id: str, title: str, short: str = "") -> DocumentMeta:
    return DocumentMeta(id=doc_id, title=title, short_title=short, doc_type=DocType.treaty)


PARENT = meta("crc", "Convention on the Rights of the Child", "CRC")
PROTOCOL = meta("opac", "Optional Protocol to the Convention on the Rights of the Child, on the involvement of "
                        "children in armed conflict")


def test_protocol_named_through_parent_abbreviation_after_punctuation():
    metas = {"crc": PARENT, "opac": PROTOCOL}
    q = "What does the optional protocol to the CRC, on the involvement of children in armed conflict say?"
    assert [m.doc_id for m in find_documents(q, metas)] == ["opac"]
    assert [m.doc_id for m in find_documents("Does the CRC protect play?", metas)] == ["crc"]


def test_concurrent_questions_over_changing_document_sets():
    sets = [{f"d{i}": meta(f"d{i}", f"Doc number {i}")} for i in range(12)]  # more sets than the cache keeps
    errors: list[BaseException] = []

    def ask(k: int) -> None:
        try:
            for n in range(3000):
                metas = sets[(k + n) % 12]
                found = find_documents("what does doc number 3 say", metas)
                assert [m.doc_id for m in found] == (["d3"] if "d3" in metas else [])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(6)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: without the lock this failed 5 times in 6
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
