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


# -- unknown keys are errors, named with the nearest valid key --------------------------------

def _cli(env_extra: dict[str, str], *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_misspelt_nested_env_var_is_rejected_with_the_nearest_key(monkeypatch):
    from rag.settings import SettingsError, load_settings

    monkeypatch.setenv("RAG_RETRIEVAL__TOP_KK", "3")
    with pytest.raises(ValidationError, match="top_kk"):
        Settings()
    with pytest.raises(SettingsError) as err:
        load_settings()
    msg = str(err.value)
    assert "retrieval.top_kk" in msg and "RAG_RETRIEVAL__TOP_KK" in msg and "retrieval.top_k " in msg


def test_misspelt_toml_section_and_key_are_rejected(tmp_path):
    from rag.settings import SettingsError, load_settings

    (tmp_path / "rag.toml").write_text("[retreival]\ntop_k = 3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"unknown setting retreival .*did you mean retrieval"):
        load_settings()
    (tmp_path / "rag.toml").write_text("[answer]\nmax_sentence = 3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"answer.max_sentence .*did you mean answer.max_sentences"):
        load_settings()


def test_misspelt_section_in_env_is_rejected(monkeypatch):
    from rag.settings import SettingsError, load_settings

    monkeypatch.setenv("RAG_RETREIVAL__TOP_K", "3")
    with pytest.raises(SettingsError, match="RAG_RETREIVAL__TOP_K.*RAG_RETRIEVAL__"):
        load_settings()


def test_unknown_keys_in_overrides_are_rejected():
    with pytest.raises(ValidationError, match="stratgy"):
        Settings().with_overrides(retrieval={"stratgy": "dense"})
    with pytest.raises(ValidationError, match="corpus_dri"):
        Settings(corpus_dri="/x")


def test_other_rag_variables_are_not_settings_and_pass(monkeypatch):
    """RAG_CONFIG, RAG_TEST_INDEX_CACHE and the like are read by other code, never by Settings."""
    from rag.settings import load_settings

    monkeypatch.setenv("RAG_TEST_INDEX_CACHE", "off")
    monkeypatch.setenv("RAG_SOMETHING_ELSE", "1")
    assert load_settings().retrieval.top_k == 8


def test_the_cli_prints_the_settings_error_without_a_traceback(tmp_path):
    done = _cli({"RAG_RETRIEVAL__TOP_KK": "3"}, "index", "status")
    assert done.returncode == 2
    assert "retrieval.top_kk" in done.stderr and "retrieval.top_k" in done.stderr
    assert "Traceback" not in done.stderr
    conf = tmp_path / "bad.toml"
    conf.write_text("[retreival]\ntop_k = 3\n", encoding="utf-8")
    done = _cli({"RAG_CONFIG": str(conf)}, "index", "status")
    assert done.returncode == 2 and "did you mean retrieval" in done.stderr and "Traceback" not in done.stderr
