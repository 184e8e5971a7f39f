"""The embedding model's forward pass in numpy, for a question or two at a time.

Why: importing sentence-transformers (torch, transformers, scikit-learn, scipy) takes 6-9 s on
these 2-core machines, most of a cold start, while the model itself is 23M parameters. A
question's embedding needs none of that: the same weights (`model.safetensors`) and the same
tokenizer (`tokenizer.json`, Rust `tokenizers`) give the same vector (max abs difference ~2e-7 on
corpus text, tests/test_encoder.py) in ~12 ms, after a 0.3 s load. Batches (ingestion, sentence
pre-embedding) still go through sentence-transformers, which is 2-3x faster on padded batches.

Only a sentence-transformers directory of exactly this shape is read: a BERT encoder (absolute
positions, GELU), mean pooling over tokens, optional normalisation; anything else returns None
from `load`, and the caller uses sentence-transformers for everything.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to ~1e-7 (Numerical Recipes' erfc Chebyshev fit): numpy has none, scipy costs an import."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    r = t * np.exp(poly)
    return np.where(x >= 0, 1.0 - r, r - 1.0).astype(x.dtype)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _read_json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _normaliser_agrees(tokenizer_json: dict, tok_config: dict) -> bool:
    """transformers rebuilds a BERT tokenizer's normaliser from tokenizer_config.json
    (do_lower_case, strip_accents, tokenize_chinese_chars); the raw tokenizer.json is used here,
    so they must say the same."""
    norm = tokenizer_json.get("normalizer") or {}
    if norm.get("type") != "BertNormalizer":
        return not any(k in tok_config for k in ("do_lower_case", "strip_accents", "tokenize_chinese_chars"))
    pairs = (("do_lower_case", "lowercase"), ("tokenize_chinese_chars", "handle_chinese_chars"))
    if any(k in tok_config and bool(tok_config[k]) != bool(norm.get(n)) for k, n in pairs):
        return False
    return "strip_accents" not in tok_config or tok_config["strip_accents"] == norm.get("strip_accents")


def _max_tokens(st_config: dict, config: dict, tok_config: dict) -> int:
    """sentence-transformers' limit: max_seq_length, else the smaller of the model's positions and
    the tokenizer's model_max_length."""
    if st_config.get("max_seq_length"):
        return int(st_config["max_seq_length"])
    limit = int(config.get("max_position_embeddings", 512))
    tok_limit = tok_config.get("model_max_length")
    if isinstance(tok_limit, (int, float)) and 0 < tok_limit < limit:
        limit = int(tok_limit)
    return limit


class NumpyEncoder:
    """Mean-pooled, normalised BERT sentence embeddings, as sentence-transformers computes them."""

    def __init__(self, weights: dict[str, np.ndarray], tokenizer, config: dict, max_tokens: int, truncating):
        self._w = weights
        self.tokenizer = tokenizer  # never reconfigured after load: shared by threads
        self._truncating = truncating
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.dimension = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_tokens = max_tokens

    @classmethod
    def load(cls, model_dir: str | Path) -> "NumpyEncoder | None":
        """The encoder for a local sentence-transformers directory, or None if it is not one this
        module computes exactly (then sentence-transformers does all the work). Anything that
        would make sentence-transformers compute differently is a refusal here: a prompt, a
        tokenizer configuration that overrides tokenizer.json's normaliser, missing or misshaped
        weights."""
        root = Path(model_dir)
        modules = _read_json(root / "modules.json")
        config = _read_json(root / "config.json")
        pooling = _read_json(root / "1_Pooling" / "config.json")
        st_config = _read_json(root / "sentence_bert_config.json") or {}
        st_extra = _read_json(root / "config_sentence_transformers.json") or {}
        tok_config = _read_json(root / "tokenizer_config.json") or {}
        if not (isinstance(modules, list) and isinstance(config, dict) and isinstance(pooling, dict)
                and isinstance(st_config, dict) and isinstance(st_extra, dict) and isinstance(tok_config, dict)):
            return None
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules if isinstance(m, dict)]
        if kinds not in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]):
            return None
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
        if modes != {"pooling_mode_mean_tokens"} or pooling.get("include_prompt") is False:
            return None
        if (config.get("model_type") != "bert" or config.get("hidden_act") != "gelu"
                or config.get("position_embedding_type", "absolute") != "absolute"
                or st_config.get("do_lower_case") or st_extra.get("default_prompt_name")):
            return None
        prompts = st_extra.get("prompts")
        if isinstance(prompts, dict) and any(prompts.values()):
            return None  # a prompt is prepended by sentence-transformers when named
        if not ((root / "tokenizer.json").is_file() and (root / "model.safetensors").is_file()):
            return None
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
            truncating = Tokenizer.from_file(str(root / "tokenizer.json"))
            if not _normaliser_agrees(json.loads((root / "tokenizer.json").read_text(encoding="utf-8")), tok_config):
                return None
            weights = {k.removeprefix("bert."): np.asarray(v, dtype=np.float32)
                       for k, v in load_file(root / "model.safetensors").items() if v.dtype.kind == "f"}
            max_tokens = _max_tokens(st_config, config, tok_config)
            tokenizer.no_padding()
            tokenizer.no_truncation()  # counts: the whole text
            truncating.no_padding()
            truncating.enable_truncation(max_tokens)  # what the model sees, as transformers cuts it
            encoder = cls(weights, tokenizer, config, max_tokens, truncating)
        except Exception:  # noqa: BLE001 - unreadable or inconsistent: let sentence-transformers report it
            return None
        return encoder if encoder._shapes_agree(config) else None

    def _shapes_agree(self, config: dict) -> bool:
        """Every tensor the forward pass reads is there, with the shape the configuration implies."""
        dim, inner = self.dimension, int(config["intermediate_size"])
        want = {"embeddings.word_embeddings.weight": (int(config["vocab_size"]), dim),
                "embeddings.position_embeddings.weight": (int(config["max_position_embeddings"]), dim),
                "embeddings.token_type_embeddings.weight": (int(config.get("type_vocab_size", 2)), dim),
                "embeddings.LayerNorm.weight": (dim,), "embeddings.LayerNorm.bias": (dim,)}
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            for name in ("attention.self.query", "attention.self.key", "attention.self.value",
                         "attention.output.dense"):
                want[p + name + ".weight"], want[p + name + ".bias"] = (dim, dim), (dim,)
            want[p + "intermediate.dense.weight"], want[p + "intermediate.dense.bias"] = (inner, dim), (inner,)
            want[p + "output.dense.weight"], want[p + "output.dense.bias"] = (dim, inner), (dim,)
            for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
                want[p + norm + ".weight"], want[p + norm + ".bias"] = (dim,), (dim,)
        return (dim % self.heads == 0 and self.max_tokens <= int(config["max_position_embeddings"])
                and all(k in self._w and self._w[k].shape == shape for k, shape in want.items()))

    def vocabulary(self) -> dict[str, int]:
        return self.tokenizer.get_vocab()

    def count_tokens(self, text: str) -> int:
        """Wordpieces with the special tokens, not truncated (what the chunker must keep under the limit)."""
        return len(self.tokenizer.encode(text).ids)

    def _ids(self, text: str) -> np.ndarray:
        """Token ids as sentence-transformers feeds them: truncated to the model's limit by the
        tokenizer's own rule (the special tokens kept)."""
        return np.asarray(self._truncating.encode(text).ids, dtype=np.int64)

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 (len(texts), dimension), unit length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.concatenate([self._encode_one(t) for t in texts])

    def _encode_one(self, text: str) -> np.ndarray:
        # One text at a time: no padding, no attention mask, and the question path embeds one.
        w = self._w
        ids = self._ids(text)
        n = len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        h, d = self.heads, self.dimension // self.heads
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def dense(z: np.ndarray, name: str) -> np.ndarray:
                return z @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q = dense(x, "attention.self.query").reshape(n, h, d).transpose(1, 0, 2)
            k = dense(x, "attention.self.key").reshape(n, h, d).transpose(1, 0, 2)
            v = dense(x, "attention.self.value").reshape(n, h, d).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, h * d)
            x = _layer_norm(dense(context, "attention.output.dense") + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps)
            x = _layer_norm(dense(_gelu(dense(x, "intermediate.dense")), "output.dense") + x,
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        e = x.mean(0, keepdims=True)
        return (e / max(float(np.linalg.norm(e)), 1e-12)).astype(np.float32)
