"""Generative answers from an OpenAI-compatible server or Ollama, held to their citations.

The model only phrases; validation decides what the user sees. Whenever the endpoint
fails or the reply cannot be verified against the passages, the extractive answerer
(`fallback`) answers instead, with a notice saying why: the caller never gets an
exception for a network problem.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlparse

import httpx

from rag.answer.prompt import BuiltPrompt, build_prompt
from rag.answer.validate import (
    FALLBACK_NOTICE,
    REFUSAL,
    StreamRenderer,
    Validation,
    render_sentence,
    check_support,
    take_verdict,
    validate_answer,
    verified_text,
)
from rag.model import Answer, Citation, DocType, Passage, Verdict
from rag.settings import Settings

Fallback = Callable[[str, list[Passage]], Answer]

# Prompt headroom beyond the passages (system message, question, history), used to size
# Ollama's num_ctx, whose small default would silently cut the prompt.
_PROMPT_OVERHEAD_TOKENS = 1500


class LLMConfigError(ValueError):
    """The LLM settings cannot work; the message says which setting to fix."""


def _endpoint_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean 'the endpoint failed', as opposed to bugs in this code."""
    import openai
    import ollama

    return (
        openai.APIError, ollama.ResponseError, ollama.RequestError, httpx.HTTPError, OSError,
        json.JSONDecodeError,  # a server that is not speaking the protocol
    )


def describe_endpoint_error(base_url: str, exc: BaseException, timeout_s: float) -> str:
    """A notice a person can act on, naming the endpoint and what went wrong."""
    import openai
    import ollama

    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException, TimeoutError)):
        return f"LLM endpoint {base_url} did not answer within {timeout_s:g} s (timeout)."
    if isinstance(exc, openai.APIStatusError):
        return f"LLM endpoint {base_url} returned HTTP {exc.status_code}: {_short(exc.message)}"
    if isinstance(exc, ollama.ResponseError):
        status = f"HTTP {exc.status_code}" if exc.status_code > 0 else "an error"
        return f"LLM endpoint {base_url} returned {status}: {_short(exc.error)}"
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError, ConnectionError)):
        cause = exc.__cause__ or exc
        return f"LLM endpoint {base_url} unreachable: {_short(str(cause) or type(cause).__name__)}"
    return f"LLM endpoint {base_url} failed: {_short(str(exc) or type(exc).__name__)}"


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_settings(settings: Settings) -> None:
    llm = settings.llm
    if not llm.base_url:
        raise LLMConfigError(
            "no LLM endpoint configured: set llm.base_url (env RAG_LLM__BASE_URL), e.g. "
            "http://127.0.0.1:8080/v1 for an OpenAI-compatible server or "
            "http://127.0.0.1:11434 for Ollama"
        )
    url = urlparse(llm.base_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise LLMConfigError(
            f"llm.base_url {llm.base_url!r} is not an http(s) URL such as http://127.0.0.1:8080/v1"
        )
    if not llm.model:
        raise LLMConfigError("llm.model is empty: set RAG_LLM__MODEL to the served model's name")
    if llm.timeout_s <= 0 or llm.max_tokens <= 0 or llm.context_tokens <= 0:
        raise LLMConfigError(
            "llm.timeout_s, llm.max_tokens and llm.context_tokens must be positive "
            f"(got {llm.timeout_s}, {llm.max_tokens}, {llm.context_tokens})"
        )


def build_llm(settings: Settings):
    """The llama-index LLM for settings.llm.provider; no network traffic yet."""
    llm = settings.llm
    if llm.provider == "openai":
        from llama_index.llms.openai_like import OpenAILike

        return OpenAILike(
            model=llm.model,
            api_base=llm.base_url.rstrip("/"),
            api_key=llm.api_key or "not-needed",
            is_chat_model=True,
            timeout=llm.timeout_s,
            temperature=llm.temperature,
            max_tokens=llm.max_tokens,
            max_retries=0,  # a local server that failed once will fail again; answer now
            context_window=llm.context_tokens + llm.max_tokens + _PROMPT_OVERHEAD_TOKENS,
        )
    if llm.provider == "ollama":
        from llama_index.llms.ollama import Ollama

        base = llm.base_url.rstrip("/")
        if base.endswith("/v1"):  # Ollama's native API lives at the root
            base = base[: -len("/v1")]
        return Ollama(
            model=llm.model,
            base_url=base,
            request_timeout=llm.timeout_s,
            temperature=llm.temperature,
            context_window=llm.context_tokens + llm.max_tokens + _PROMPT_OVERHEAD_TOKENS,
            additional_kwargs={"num_predict": llm.max_tokens},
        )
    raise LLMConfigError(f"unknown llm.provider {llm.provider!r}; use 'openai' or 'ollama'")


def _chat_messages(prompt: BuiltPrompt):
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=role, content=content) for role, content in prompt.messages()]


def _metadata_str(passage: Passage, key: str) -> str | None:
    value = passage.chunk.metadata.get(key)
    return None if value is None or value == "" else str(value)


def _source_type(passage: Passage) -> DocType:
    try:
        return DocType(str(passage.chunk.metadata.get("doc_type", "treaty")))
    except ValueError:
        return DocType.treaty


def build_citations(
    validation: Validation, prompt: BuiltPrompt
) -> list[Citation]:
    """One Citation per cited passage, in order of first citation."""
    by_key = prompt.keys
    labels, label_keys = prompt.labels, prompt.label_keys
    out: list[Citation] = []
    for key in validation.cited:
        passage = by_key[key]
        chunk = passage.chunk
        sentences = [
            render_sentence(c.sentence.text, labels, label_keys)
            for c in validation.sentences
            if key in c.keys
        ]
        out.append(
            Citation(
                provision_id=chunk.provision_id,
                doc_id=chunk.doc_id,
                article=_metadata_str(passage, "article"),
                paragraph=_metadata_str(passage, "paragraph"),
                label=chunk.label,
                doc_title=_metadata_str(passage, "doc_title") or "",
                source_type=_source_type(passage),
                text=chunk.text,
                sentences=sentences,
                score=passage.score,
                key=key,
            )
        )
    return out


class LLMAnswerer:
    """Answers with a language model, or falls back to `fallback` when it can't be trusted."""

    def __init__(self, settings: Settings, fallback: Fallback, supported=None):
        """`supported(sentence, cited_text) -> bool`: the faithfulness judge, run on every sentence
        of a reply; without it only citation keys are checked."""
        _check_settings(settings)
        self.settings = settings
        self.fallback = fallback
        self.supported = supported
        self._llm = build_llm(settings)

    @property
    def model_name(self) -> str:
        return self.settings.llm.model

    @property
    def mode(self) -> str:
        return f"llm:{self.model_name}"

    # --- public ----------------------------------------------------------------------

    def run(
        self,
        question: str,
        passages: list[Passage],
        history: list[tuple[str, str]] | None = None,
    ) -> Answer:
        if not passages:
            return self.fallback(question, passages)
        started = time.perf_counter()
        prompt = build_prompt(question, passages, self.settings.llm.context_tokens, history)
        prompt_s = time.perf_counter() - started
        started = time.perf_counter()
        try:
            reply = self._llm.chat(_chat_messages(prompt))
            text = reply.message.content or ""
        except _endpoint_errors() as exc:
            return self._failed(question, passages, exc, prompt_s, time.perf_counter() - started)
        return self._finish(question, passages, prompt, text, prompt_s, time.perf_counter() - started)

    def stream(
        self,
        question: str,
        passages: list[Passage],
        history: list[tuple[str, str]] | None = None,
    ) -> Iterator[str | Answer]:
        """Text deltas (keys already shown as labels), then the final Answer.

        The final Answer supersedes the streamed text: it may drop uncited sentences
        or be the extractive fallback, so a UI must replace what it streamed with it.
        """
        if not passages:
            yield self.fallback(question, passages)
            return
        started = time.perf_counter()
        prompt = build_prompt(question, passages, self.settings.llm.context_tokens, history)
        prompt_s = time.perf_counter() - started
        renderer = StreamRenderer(prompt.labels, prompt.label_keys)
        parts: list[str] = []
        started = time.perf_counter()
        try:
            for chunk in self._llm.stream_chat(_chat_messages(prompt)):
                delta = chunk.delta or ""
                if not delta:
                    continue
                parts.append(delta)
                shown = renderer.feed(delta)
                if shown:
                    yield shown
        except _endpoint_errors() as exc:
            yield self._failed(question, passages, exc, prompt_s, time.perf_counter() - started)
            return
        rest = renderer.flush()
        if rest:
            yield rest
        yield self._finish(
            question, passages, prompt, "".join(parts), prompt_s, time.perf_counter() - started
        )

    # --- internals -------------------------------------------------------------------

    def _timings(self, prompt_s: float, llm_s: float) -> dict[str, float]:
        return {"prompt": round(prompt_s, 4), "llm": round(llm_s, 4)}

    def _fall_back(
        self, question: str, passages: list[Passage], notices: list[str], timings: dict[str, float]
    ) -> Answer:
        answer = self.fallback(question, passages)
        answer.notices = notices + answer.notices
        answer.timings = {**answer.timings, **timings}
        return answer

    def _failed(
        self, question: str, passages: list[Passage], exc: BaseException, prompt_s: float, llm_s: float
    ) -> Answer:
        notice = describe_endpoint_error(self.settings.llm.base_url, exc, self.settings.llm.timeout_s)
        return self._fall_back(
            question, passages, [notice.rstrip(". ") + ". Showing the extractive answer instead."],
            self._timings(prompt_s, llm_s),
        )

    def _finish(
        self,
        question: str,
        passages: list[Passage],
        prompt: BuiltPrompt,
        text: str,
        prompt_s: float,
        llm_s: float,
    ) -> Answer:
        timings = self._timings(prompt_s, llm_s)
        model_verdict, text = take_verdict(text)
        validation = validate_answer(text, set(prompt.keys), prompt.label_keys)
        if validation.ok and not validation.refused and self.supported is not None:
            check_support(validation, {pp.key: pp.text for pp in prompt.passages}, self.supported, prompt.system)
        notices = prompt.notices + validation.notices
        if validation.refused:
            return Answer(
                question=question, answer=REFUSAL, refused=True,
                notices=prompt.notices, mode=self.mode, timings=timings,
            )
        if not validation.ok:
            return self._fall_back(
                question, passages,
                [FALLBACK_NOTICE, f"Reason: {validation.reason}."],
                timings,
            )
        return Answer(
            question=question,
            answer=verified_text(text, validation, prompt.labels, prompt.label_keys),
            verdict=Verdict(kind=model_verdict, reason="stated by the model") if model_verdict else None,
            citations=build_citations(validation, prompt),
            notices=notices,
            mode=self.mode,
            timings=timings,
        )
