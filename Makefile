# MindLens: `make run` (pipeline once if needed, then API + demo) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export MINDLENS_DATA_DIR ?= $(abspath ../shared/datasets)
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR := false

.PHONY: install run pipeline serve test test-fast lint format mlflow-ui airflow-ui platform clean

LINT_PATHS := src dags plugins demo tests benchmarks label_studio docs/capture.py

$(STAMP): requirements.txt pyproject.toml setup.py
	test -x $(BIN)/pip || $(PYTHON) -m venv --clear $(VENV)  # --clear: a half-made venv (interrupted) is rebuilt
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

## Register the shipped releases (the newest champion) and serve API + demo at once; the
## pipeline DAG runs once beside the server (reports, challengers trained here; a winner is
## served when it ends), its progress on the landing page http://127.0.0.1:8000/.
run: install
	$(BIN)/mindlens registry bootstrap
	$(BIN)/mindlens serve --first-pipeline

pipeline: install
	$(BIN)/mindlens pipeline

serve: install
	$(BIN)/mindlens serve

test: install
	$(BIN)/pytest -q -ra

test-fast: install
	$(BIN)/pytest -q -m "not slow"

## ruff (lint + format check), mypy on src/, the import-layer contract (pyproject.toml)
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

mlflow-ui: install
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(abspath .mindlens)/mlflow.db --host 127.0.0.1 --port 5000

airflow-ui: install
	$(BIN)/mindlens airflow standalone

## The Celery process topology on loopback: Airflow api-server, scheduler, dag-processor,
## triggerer, Celery workers (Redis broker, PostgreSQL metadata; `make platform WORKERS=3`) and
## an MLflow server on PostgreSQL; README "Running the platform on Celery workers". Ctrl-C stops it.
platform: install
	$(BIN)/mindlens platform up $(if $(WORKERS),--workers $(WORKERS))

clean:
	rm -rf .mindlens
