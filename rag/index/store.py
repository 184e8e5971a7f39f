"""Chroma, in llama-index's vector-store layout, with our own embeddings."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..model import Chunk
from ..settings import Settings
from .errors import IndexDamaged

_BATCH = 2000  # Chroma costs ~50 ms per call on top of the rows: few, large calls


class VectorStore:
    """Persistent Chroma collection (local directory, or a Chroma server when configured)."""

    def __init__(self, settings: Settings):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if settings.chroma_host:
            self.client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                              settings=chroma_settings)
            self.path: Path | None = None
        else:
            path = Path(settings.index_dir) / "chroma"
            self.path = path
            try:
                path.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            except Exception as exc:  # noqa: BLE001 - Chroma raises many types for a bad file
                raise IndexDamaged(path / "chroma.sqlite3",
                                   f"the vector store cannot be opened ({type(exc).__name__})") from None
        self._name = settings.collection
        try:
            self._open()
        except Exception as exc:  # noqa: BLE001
            raise IndexDamaged(self.path / "chroma.sqlite3" if self.path else settings.chroma_host,
                               f"the vector store cannot be opened ({type(exc).__name__})") from None

    def _open(self) -> None:
        # No embedding_function: Chroma's default would try to download a model.
        self.collection = self.client.get_or_create_collection(
            self._name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )

    def clear(self) -> None:
        """Drop every vector (the collection is recreated empty)."""
        try:
            self.client.delete_collection(self._name)
        except Exception:  # noqa: BLE001 - already gone
            pass
        self._open()

    def count(self) -> int:
        return self.collection.count()

    def all_ids(self) -> list[str]:
        """Every vector id in the collection (ids only: cheap enough to compare on open)."""
        out: list[str] = []
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=5000, offset=offset)["ids"]
            out += got
            if len(got) < 5000:
                return out
            offset += len(got)

    def hashes(self, ids: list[str]) -> dict[str, str]:
        """id -> the chunk hash stored with its vector, for the ids that exist."""
        out: dict[str, str] = {}
        for i in range(0, len(ids), _BATCH):
            got = self.collection.get(ids=ids[i:i + _BATCH], include=["metadatas"])
            out.update({cid: (md or {}).get("chunk_hash", "") for cid, md in zip(got["ids"], got["metadatas"])})
        return out

    def ids_for(self, doc_id: str) -> list[str]:
        return self.collection.get(where={"doc_id": doc_id}, include=[])["ids"]

    def embeddings(self, ids: list[str]) -> dict[str, tuple[str, list[float]]]:
        """id -> (chunk hash, embedding) for the ids that exist."""
        out: dict[str, tuple[str, list[float]]] = {}
        for i in range(0, len(ids), _BATCH):
            got = self.collection.get(ids=ids[i:i + _BATCH], include=["embeddings", "metadatas"])
            for cid, emb, md in zip(got["ids"], got["embeddings"], got["metadatas"]):
                out[cid] = ((md or {}).get("chunk_hash", ""), list(emb))
        return out

    def upsert(self, chunks: list[Chunk], embeddings) -> None:
        """Write chunks with their vectors: one native Chroma upsert per batch (idempotent, so a
        re-run after a crash needs no delete first), in the layout llama-index's ChromaVectorStore
        writes and reads (`_node_content`, `doc_id`/`ref_doc_id` = our document id)."""
        from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        ids, metadatas, documents = [], [], []
        for c in chunks:
            md: dict[str, Any] = dict(c.metadata)
            md["chunk_hash"] = c.hash
            md["chunk_id"] = c.id
            node = TextNode(id_=c.id, text=c.embed_text, metadata=md,
                            excluded_embed_metadata_keys=list(md), excluded_llm_metadata_keys=list(md))
            # llama-index writes the source document's id into the "doc_id" metadata key:
            # make that our document id (it is also what its delete(ref_doc_id) uses).
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=c.doc_id)
            meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
            metadatas.append({k: ("" if v is None else v) for k, v in meta.items()})
            ids.append(c.id)
            documents.append(node.get_content(metadata_mode=MetadataMode.NONE))
        vectors = np.asarray(embeddings, dtype=np.float32)
        for i in range(0, len(ids), _BATCH):
            self.collection.upsert(ids=ids[i:i + _BATCH], embeddings=vectors[i:i + _BATCH],
                                   metadatas=metadatas[i:i + _BATCH], documents=documents[i:i + _BATCH])

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), _BATCH):
            self.collection.delete(ids=ids[i:i + _BATCH])

    def query(self, embedding: list[float], k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first. Asks Chroma for ids and distances only: the
        chunks' texts and metadata are in memory already, and fetching and converting them into
        llama-index nodes cost ~11 ms of a ~13 ms query (measured on the development corpus)."""
        k = max(1, min(k, self.count() or 1))
        res = self.collection.query(query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=k,
                                    where=where or None, include=["distances"])
        ids = (res.get("ids") or [[]])[0]
        distances = (res.get("distances") or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances)]  # cosine distance = 1 - cos
