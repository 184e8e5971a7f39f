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


def _bm25_retriever(nodes, top_k: int):
    """BM25 over llama-index nodes with bm25s and the English Snowball stemmer, wrapped as a
    llama-index BaseRetriever (llama-index-retrievers-bm25 is not installed; it wraps bm25s the
    same way)."""
    import bm25s
    import Stemmer
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore

    stemmer = Stemmer.Stemmer("english")
    corpus = bm25s.tokenize([n.get_content() for n in nodes], stopwords="en", stemmer=stemmer, show_progress=False)
    bm25 = bm25s.BM25()
    bm25.index(corpus, show_progress=False)

    class BM25Retriever(BaseRetriever):
        def _retrieve(self, query_bundle):
            q = bm25s.tokenize([query_bundle.query_str], stopwords="en", stemmer=stemmer, show_progress=False)
            if not q.ids or not q.ids[0]:
                return []
            k = min(top_k, len(nodes))
            docs, scores = bm25.retrieve(q, k=k, show_progress=False)
            return [NodeWithScore(node=nodes[int(i)], score=float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]

    return BM25Retriever()


class HybridLlamaIndex(PlainLlamaIndex):
    """The strongest plain llama-index pipeline we know to build without domain knowledge:
    200-token SentenceSplitter chunks, a dense VectorStoreIndex retriever and a BM25 retriever,
    fused by QueryFusionRetriever in reciprocal-rank mode (one query, no LLM rewriting)."""

    name = "llama-index-hybrid"

    def __init__(self, index, top_k: int = 10, progress: bool = False, chunk_size: int | None = 200):
        from llama_index.core.retrievers import QueryFusionRetriever

        super().__init__(index, top_k=top_k, progress=progress, chunk_size=chunk_size or 200)
        t0 = time.perf_counter()
        nodes = list(self.vindex.docstore.docs.values())
        self.bm25 = _bm25_retriever(nodes, top_k)
        self.dense = self.retriever
        self.retriever = QueryFusionRetriever([self.dense, self.bm25], mode="reciprocal_rerank",
                                              similarity_top_k=top_k, num_queries=1, use_async=False,
                                              llm=_NoLLM(), verbose=False)
        self.build_seconds += time.perf_counter() - t0


def _NoLLM():
    """QueryFusionRetriever asks for an LLM even with num_queries=1 (it never calls it then)."""
    from llama_index.core.llms import MockLLM

    return MockLLM()
