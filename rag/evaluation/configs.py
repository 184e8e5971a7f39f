"""Which configurations a run compares: the product (reference), presets, TOML settings
files, and the plain llama-index baselines (retrieval only)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tomllib

from ..index.service import Index
from ..settings import PRESETS, Settings

REFERENCE = "product"
TOP_K = 10
_INDEX_FIELDS = ("index_dir", "collection", "chroma_host", "chroma_port", "embedding", "chunking")


class EvalError(ValueError):
    """The evaluation cannot run as asked; the message says what to change."""


@dataclass
class ConfigSpec:
    name: str
    kind: str  # product | preset | config | baseline
    description: str
    settings: Settings | None = None
    answers: bool = True  # False: retrieval-only, answer metrics are n/a


def compare_spec(entry: str, base: Settings) -> ConfigSpec:
    """A `--compare` entry: a preset name or a TOML file of settings overrides."""
    if entry in PRESETS:
        return ConfigSpec(entry, "preset", f"preset {entry!r}: {PRESETS[entry] or 'default settings'}",
                          base.preset(entry))
    path = Path(entry)
    if path.suffix.lower() != ".toml":
        raise EvalError(f"--compare {entry!r}: not a preset ({', '.join(sorted(PRESETS))}) nor a .toml file")
    if not path.is_file():
        raise EvalError(f"--compare {entry}: file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise EvalError(f"--compare {entry}: invalid TOML ({exc})") from exc
    fields = Settings.model_fields
    for key, value in data.items():
        if key not in fields:
            raise EvalError(f"--compare {entry}: unknown setting {key!r}; known: {', '.join(sorted(fields))}")
        sub = fields[key].annotation
        if isinstance(value, dict) and hasattr(sub, "model_fields"):
            unknown = set(value) - set(sub.model_fields)
            if unknown:
                raise EvalError(f"--compare {entry}: unknown [{key}] setting(s) {', '.join(sorted(unknown))}")
    try:
        settings = base.with_overrides(**data)
    except ValueError as exc:
        raise EvalError(f"--compare {entry}: {exc}") from exc
    return ConfigSpec(path.stem, "config", f"settings from {path.name}: {data}", settings)


def same_index(a: Settings, b: Settings) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in _INDEX_FIELDS)


def ensure_index(index: Index, settings: Settings, progress: bool) -> None:
    """Build the index from the corpus when it is empty (or was built by another model or
    chunker), so `rag eval` works on a fresh checkout."""
    corpus = Path(settings.corpus_dir)
    if index.is_empty() and not corpus.is_dir():
        raise EvalError(f"the index at {settings.index_dir} is empty and the corpus directory {corpus} does not "
                        "exist: set RAG_CORPUS_DIR or run `rag ingest PATH` first")
    report = index.ensure_built(progress=progress)
    if report is not None and index.is_empty():
        raise EvalError(f"ingesting {corpus} indexed no documents: {report.summary()}")


class BaselineFactory:
    """Builds a llama-index baseline on first use, so its cost is only paid when it is evaluated."""

    def __init__(self, index: Index, progress: bool, say: Callable[[str], None], chunk_size: int | None = None,
                 hybrid: bool = False):
        self.index, self.progress, self.say, self._b = index, progress, say, None
        self.chunk_size, self.hybrid = chunk_size, hybrid
        split = f"SentenceSplitter(chunk_size={chunk_size})" if chunk_size else "default SentenceSplitter"
        if hybrid:
            self.description = (f"llama-index hybrid: QueryFusionRetriever (reciprocal rank) over a dense "
                                f"VectorStoreIndex retriever and BM25 (bm25s, stemmed), {split}, same embedding "
                                f"model, top 10 of each, fused top 10; retrieval only")
        else:
            self.description = (f"plain llama-index: VectorStoreIndex over whole files, {split}, same "
                                "embedding model, similarity_top_k=10; retrieval only")

    def get(self):
        if self._b is None:
            from .baselines import HybridLlamaIndex, PlainLlamaIndex

            cls = HybridLlamaIndex if self.hybrid else PlainLlamaIndex
            self.say(f"building the {cls.name} baseline (embeds the corpus again) ...")
            self._b = cls(self.index, top_k=TOP_K, progress=self.progress, chunk_size=self.chunk_size)
        return self._b


BASELINES = (("llama-index", None, False), ("llama-index-200", 200, False), ("llama-index-hybrid", 200, True))


def build_specs(settings: Settings, compare, baselines: bool, index: Index, progress: bool,
                say: Callable[[str], None]) -> tuple[list[ConfigSpec], dict[str, BaselineFactory]]:
    specs = [ConfigSpec(REFERENCE, "product", "the product with the given settings (reference)", settings)]
    if baselines:
        specs.append(ConfigSpec("lexical", "preset", "BM25 alone (preset 'lexical')", settings.preset("lexical")))
    for entry in compare:
        spec = compare_spec(entry, settings)
        if not any(s.name == spec.name for s in specs):
            specs.append(spec)
    factories: dict[str, BaselineFactory] = {}
    if baselines:
        for name, size, hybrid in BASELINES:
            factories[name] = BaselineFactory(index, progress, say, size, hybrid)
            specs.append(ConfigSpec(name, "baseline", factories[name].description, None, answers=False))
    return specs, factories
