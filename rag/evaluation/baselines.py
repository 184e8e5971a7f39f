"""A plain llama-index pipeline, as a yardstick for the product's retrieval.

It is what one gets from the llama-index quick start: one Document per corpus file,
default SentenceSplitter chunking, an in-memory vector store, top-10 similarity
search, with the same embedding model as the product. No structure, no BM25, no
query resolution (a follow-up turn is searched as typed). Its nodes are located in the
provision tree by their character offsets, so it is scored by the same metrics.
"""
from __future__ import annotations

import time

from .metrics import Locator, RetrievedItem


class PlainLlamaIndex:
    name = "llama-index"
    description = ("plain llama-index: VectorStoreIndex over whole files, default SentenceSplitter, "
                   "same embedding model, similarity_top_k=10; retrieval only")

    def __init__(self, index, top_k: int = 10, progress: bool = False, chunk_size: int | None = None):
        from llama_index.core import Document as LIDocument
        from llama_index.core import VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        from ..index.embedder import LlamaIndexEmbedding

        self.locator = Locator(index.parsed)
        docs = []
        for doc_id in sorted(index.documents):
            parsed = index.parsed(doc_id)
            if parsed is None:
                continue
            # The stored Document is the loaded file body (front matter removed), the same
            # text that the product's parser and offsets refer to.
            docs.append(LIDocument(text=parsed.document.text, id_=doc_id, metadata={"doc_id": doc_id}))
        t0 = time.perf_counter()
        embed = LlamaIndexEmbedding(index.embedder)
        # Default chunking (1024 tokens) is the quick-start pipeline; chunk_size=200 is the same
        # pipeline fitted to the embedding model's 256-token input, a fairer yardstick.
        self.splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=20) if chunk_size else SentenceSplitter()
        self.vindex = VectorStoreIndex.from_documents(docs, embed_model=embed, transformations=[self.splitter],
                                                      show_progress=progress)
        self.retriever = self.vindex.as_retriever(similarity_top_k=top_k)
        self.build_seconds = time.perf_counter() - t0
        nodes = list(self.vindex.docstore.docs.values())
        self.n_nodes = len(nodes)
        self.n_truncated = self._truncated(index.embedder, [n.get_content() for n in nodes])

    @staticmethod
    def _truncated(embedder, texts: list[str]) -> int | None:
        """How many nodes are longer than the model reads (their tail is never embedded)."""
        try:
            model = embedder.model
            limit = int(model.max_seq_length)
            tok = model.tokenizer
            return sum(len(tok(t, add_special_tokens=True, verbose=False)["input_ids"]) > limit for t in texts)
        except Exception:  # noqa: BLE001 - a diagnostic only; a model without a tokenizer skips it
            return None

    def retrieve(self, question: str) -> tuple[list[RetrievedItem], float]:
        t0 = time.perf_counter()
        nodes = self.retriever.retrieve(question)
        seconds = time.perf_counter() - t0
        items = []
        for n in nodes:
            node = n.node
            doc_id = node.metadata.get("doc_id") or node.ref_doc_id
            start, end = node.start_char_idx, node.end_char_idx
            if doc_id is None or start is None or end is None:
                continue
            item = self.locator.locate(doc_id, start, end, score=float(n.score or 0.0), chunk_id=node.node_id)
            if item is not None:
                items.append(item)
        return items, seconds
