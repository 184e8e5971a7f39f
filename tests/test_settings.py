"""Settings precedence, nested overrides and presets.

Why: evaluation runs compare configurations by preset and TOML file, and deployments set
environment variables; a source silently ignored (or a preset that does not validate)
means a comparison or a deployment runs with other settings than it says.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.settings import PRESETS, Settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No RAG_* variables or ./rag.toml from the caller's environment."""
    import os

    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults():
    s = Settings()
    assert s.retrieval.strategy == "hybrid" and s.answer.mode == "extractive"
    assert s.embedding.max_seq_tokens == 256 and s.chunking.max_tokens < s.embedding.max_seq_tokens
    assert not s.llm.configured


def test_precedence_init_over_env_over_toml(monkeypatch, tmp_path):
    (tmp_path / "rag.toml").write_text("[retrieval]\ntop_k = 3\ncandidates = 11\n[answer]\nmax_sentences = 2\n",
                                       encoding="utf-8")
    s = Settings()
    assert (s.retrieval.top_k, s.retrieval.candidates, s.answer.max_sentences) == (3, 11, 2)
    monkeypatch.setenv("RAG_RETRIEVAL__TOP_K", "5")
    s = Settings()
    assert (s.retrieval.top_k, s.retrieval.candidates, s.answer.max_sentences) == (5, 11, 2)  # merged
    s = Settings(retrieval={"top_k": 7})
    assert (s.retrieval.top_k, s.retrieval.candidates) == (7, 11)


def test_rag_config_points_at_a_toml_file(tmp_path):
    conf = tmp_path / "elsewhere.toml"
    conf.write_text('index_dir = "/tmp/from-config"\n[llm]\nbase_url = "http://127.0.0.1:9/v1"\n', encoding="utf-8")
    code = "from rag.settings import Settings; s = Settings(); print(s.index_dir, s.llm.configured)"
    env = {"PATH": "/usr/bin:/bin", "RAG_CONFIG": str(conf)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["/tmp/from-config", "True"]


def test_invalid_values_are_rejected(monkeypatch):
    monkeypatch.setenv("RAG_RETRIEVAL__STRATEGY", "magic")
    with pytest.raises(ValidationError, match="strategy"):
        Settings()
    monkeypatch.delenv("RAG_RETRIEVAL__STRATEGY")
    monkeypatch.setenv("RAG_RETRIEVAL__TOP_K", "many")
    with pytest.raises(ValidationError, match="top_k"):
        Settings()


def test_with_overrides_is_a_nested_copy():
    base = Settings(retrieval={"top_k": 4})
    changed = base.with_overrides(retrieval={"strategy": "dense"}, index_dir=Path("/tmp/x"))
    assert (changed.retrieval.strategy, changed.retrieval.top_k) == ("dense", 4)
    assert changed.index_dir == Path("/tmp/x")
    assert base.retrieval.strategy == "hybrid" and base.index_dir != Path("/tmp/x")
    with pytest.raises(ValidationError):
        base.with_overrides(retrieval={"strategy": "nope"})


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_validates(name):
    s = Settings(retrieval={"top_k": 6}).preset(name)
    assert s.retrieval.top_k == 6  # a preset changes only what it names
    for section, values in PRESETS[name].items():
        for key, value in values.items():
            assert getattr(getattr(s, section), key) == value


def test_preset_names():
    assert {"default", "hybrid", "dense", "lexical", "no-expansion", "no-references"} <= set(PRESETS)
    with pytest.raises(KeyError, match="known: .*dense"):
        Settings().preset("nope")
