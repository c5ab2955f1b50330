# driftcli: `make help` lists the targets. Needs only python3 on the machine.
PYTHON ?= python3
CHROMIUM ?= chromium
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo test lint check smoke bench docs screenshot clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# An editable install leaves driftcli's bytecode uncompiled; where
	@# PYTHONDONTWRITEBYTECODE is set it would be compiled at every start.
	$(BIN)/python -m compileall -q driftcli
	@touch $@

install: $(STAMP) ## Create .venv and install driftcli with its dev tools

demo: $(STAMP) ## Check the sample data: no drift (exit 0), then drift (exit 1)
	$(BIN)/driftcli check sample_data/live_ok.parquet --ref sample_data/ref.parquet
	@$(BIN)/driftcli check sample_data/live_drift.parquet --ref sample_data/ref.parquet; \
	  code=$$?; echo "driftcli exited $$code (1 = drift found, as expected here)"; test $$code -eq 1

test: $(STAMP) ## Run the test suite
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

smoke: $(STAMP) ## Pipe the sample files through the installed command
	cat sample_data/live_drift.jsonl | $(BIN)/driftcli check - --ref sample_data/ref.parquet --format json > /dev/null; test $$? -eq 1
	$(BIN)/driftcli check sample_data/live_ok.csv --ref sample_data/ref.csv --format json > /dev/null
	$(BIN)/python -m driftcli --version

docs: $(STAMP) ## Regenerate the command reference (docs/cli.md) from --help, the settings table from their declarations
	$(BIN)/python -m driftcli.cli.helpdoc > docs/cli.md
	$(BIN)/python -m driftcli.cli.settings_doc docs/configuration.md

screenshot: $(STAMP) ## Redraw docs/report.png: sample_data/'s HTML report in headless Chromium
	@dir=$$(mktemp -d) && \
	$(BIN)/driftcli check sample_data/live_drift.parquet --ref sample_data/ref.parquet \
	  --html $$dir/report.html --quiet --exit-zero && \
	$(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-background-networking \
	  --disable-component-update --disable-sync --no-first-run --user-data-dir=$$dir/profile \
	  --hide-scrollbars --window-size=1280,2000 --screenshot=$(CURDIR)/docs/report.png \
	  file://$$dir/report.html 2>/dev/null; \
	code=$$?; rm -rf $$dir; test $$code -eq 0 && echo "wrote docs/report.png"

bench: $(STAMP) ## Speed and memory against baselines, 1M and 5M rows (see benchmarks/README.md)
	$(BIN)/python benchmarks/bench.py

check: lint test smoke ## Everything CI should pass: lint, tests, smoke

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
