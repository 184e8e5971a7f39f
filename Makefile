# Two entry points (see README): `make app` and `make test`. Both set up what they need.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
# The corpus ships in corpus/documents (settings default); RAG_CORPUS_DIR may point elsewhere.
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1

.PHONY: setup app test test-fast eval soak chromium clean

$(BIN)/rag: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/rag

setup: $(BIN)/rag

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

app: setup
	$(BIN)/python app.py

# Evaluation gate first (the product against eval/thresholds.toml; baselines are for `make eval`), then the tests.
test: setup chromium
	RAG_INDEX_DIR=$${RAG_INDEX_DIR:-$$(mktemp -d)/index} $(BIN)/rag eval --check --no-baselines --no-cold-start --out artifacts/eval
	$(BIN)/python -m pytest -q -m "not soak"

test-fast: setup
	$(BIN)/python -m pytest -q -m "not e2e and not slow"

eval: setup
	$(BIN)/rag eval --out eval/reports/latest

# Reliability suite (soak/README.md): 20 sessions x 20 questions during a 200-page upload,
# kill -9 x 5, 30+ hostile uploads, damaged indexes. Loopback only; bounded by SOAK_TIMEOUT.
# Writes artifacts/soak/report.md (+ report.json, figures); exit 1 when a behaviour fails.
SOAK_TIMEOUT ?= 3600
SOAK_ARGS ?=
soak: setup
	timeout --kill-after=30 $(SOAK_TIMEOUT) $(BIN)/python -m soak.run --out artifacts/soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) data artifacts
