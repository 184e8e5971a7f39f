"""The numpy forward pass gives sentence-transformers' vectors, so a question needs no torch."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.index.embedder import Embedder, resolve_model_path
from rag.index.encoder import NumpyEncoder
from rag.settings import EmbeddingSettings

MODEL_DIR = Path(resolve_model_path(EmbeddingSettings().model))


@pytest.fixture(scope="module")
def reference():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(MODEL_DIR), device="cpu")


@pytest.fixture(scope="module")
def texts(corpus_files: dict[str, Path]) -> list[str]:
    """Real questions and corpus paragraphs, short to far over the 256-token limit."""
    out = ["What does Article 16 of the Budapest Convention say?", "is grooming kids online a crime",
           "Does Article 14 cover victim rehabilitation?", "a", "Ünïcödé — “quotes” and 日本語"]
    for name in ("untoc", "crc", "knowmad-2024-08-commentary"):
        paragraphs = [p for p in re.split(r"\n\s*\n", corpus_files[name].read_text(encoding="utf-8")) if len(p) > 40]
        out += paragraphs[5:12]
    out.append(" ".join(out[5:12]) * 3)  # several thousand wordpieces: truncated as sentence-transformers does
    return out


def test_vectors_match_sentence_transformers(reference, texts):
    encoder = NumpyEncoder.load(MODEL_DIR)
    assert encoder is not None
    mine = encoder.encode(texts)
    theirs = reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert mine.shape == theirs.shape == (len(texts), 384)
    assert np.abs(mine - theirs).max() < 1e-5
    # not trivially equal: different texts give different vectors
    assert float(mine[0] @ mine[1]) < 0.9


def test_token_counts_match_sentence_transformers(reference, texts):
    encoder = NumpyEncoder.load(MODEL_DIR)
    counts = [encoder.count_tokens(t) for t in texts]
    theirs = [len(reference.tokenizer(t, add_special_tokens=True, verbose=False)["input_ids"]) for t in texts]
    assert counts == theirs
    assert max(counts) > 256  # the long text is counted whole, not cut


def test_other_model_shapes_are_left_to_sentence_transformers(tmp_path):
    cls_pooled = tmp_path / "cls"
    shutil.copytree(MODEL_DIR, cls_pooled, ignore=shutil.ignore_patterns("model.safetensors"))
    (cls_pooled / "model.safetensors").symlink_to(MODEL_DIR / "model.safetensors")
    pooling = cls_pooled / "1_Pooling" / "config.json"
    cfg = json.loads(pooling.read_text())
    cfg.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(cfg))
    assert NumpyEncoder.load(cls_pooled) is None
    assert Embedder(EmbeddingSettings(model=str(cls_pooled))).fast is None
    assert NumpyEncoder.load(tmp_path / "missing") is None
    broken = tmp_path / "broken"
    shutil.copytree(MODEL_DIR, broken, ignore=shutil.ignore_patterns("model.safetensors"))
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    assert NumpyEncoder.load(broken) is None


def test_a_question_is_answered_without_importing_torch(corpus_index):
    """The cold-start path: a new process answers from the built index, and torch never loads."""
    index_dir = corpus_index.settings.index_dir
    code = (
        "import sys\n"
        "from rag.api import TreatyQA\n"
        "from rag.settings import Settings\n"
        f"qa = TreatyQA(Settings(index_dir={str(index_dir)!r}, corpus_dir={str(corpus_index.settings.corpus_dir)!r}))\n"
        "a = qa.ask('Does the Lanzarote Convention require states to criminalise grooming?')\n"
        "print(a.citations[0].label if a.citations else 'none')\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    label, loaded = done.stdout.strip().splitlines()[-2:]
    assert "Lanzarote" in label and "23" in label
    assert loaded == "False False"
