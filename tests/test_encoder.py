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


def _variant(tmp_path: Path, name: str) -> Path:
    """A copy of the bundled model directory (weights linked, not copied)."""
    out = tmp_path / name
    shutil.copytree(MODEL_DIR, out, ignore=shutil.ignore_patterns("model.safetensors"))
    (out / "model.safetensors").symlink_to(MODEL_DIR / "model.safetensors")
    return out


def _edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_settings_that_make_sentence_transformers_compute_otherwise_are_refused(tmp_path):
    # transformers rebuilds the normaliser from tokenizer_config.json: a disagreement changes the tokens
    cased = _variant(tmp_path, "cased")
    _edit_json(cased / "tokenizer_config.json", do_lower_case=False)
    assert NumpyEncoder.load(cased) is None
    # a default prompt is prepended to every text
    prompted = _variant(tmp_path, "prompted")
    _edit_json(prompted / "config_sentence_transformers.json", prompts={"query": "query: "},
               default_prompt_name="query")
    assert NumpyEncoder.load(prompted) is None
    # weights that do not fit the configuration fail at load, not at the first question
    wide = _variant(tmp_path, "wide")
    _edit_json(wide / "config.json", hidden_size=768)
    assert NumpyEncoder.load(wide) is None
    layers = _variant(tmp_path, "layers")
    _edit_json(layers / "config.json", num_hidden_layers=7)
    assert NumpyEncoder.load(layers) is None
    # without max_seq_length, the limit is the tokenizer's model_max_length, as sentence-transformers sets it
    short = _variant(tmp_path, "short")
    (short / "sentence_bert_config.json").unlink()
    _edit_json(short / "tokenizer_config.json", model_max_length=128)
    assert NumpyEncoder.load(short).max_tokens == 128


def test_answer_time_embedding_stays_in_numpy_and_ingestion_uses_sentence_transformers():
    emb = Embedder(EmbeddingSettings())
    texts = [f"Each State Party shall adopt measures number {i}." for i in range(20)]
    vecs = np.asarray(emb.embed(texts))  # an answer's sentences, before the batch model is loaded
    assert emb._model is None and vecs.shape == (20, 384)
    bulk = np.asarray(emb.embed(texts, bulk=True))  # ingestion
    assert emb._model is not None
    assert np.abs(vecs - bulk).max() < 1e-5


def test_a_question_does_not_wait_for_the_batch_model_to_load():
    """The batch model loads under the embedder's lock (seconds of imports, at the first upload);
    a question's embedding must not need that lock."""
    import threading

    from rag.index import embedder as module

    emb = Embedder(EmbeddingSettings())
    done = threading.Event()
    with module._LOCK:  # as while another thread imports sentence-transformers
        worker = threading.Thread(target=lambda: (emb.embed_query("is grooming a crime?"), done.set()))
        worker.start()
        answered = done.wait(timeout=60)
    worker.join()
    assert answered


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
