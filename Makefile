# Setup and checks. `make install` then `make test` is all a newcomer needs.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
# On machines without a GPU this resolves to a CPU build, so the CUDA stack is not pulled.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: install test test-unit test-integration lint format typecheck check-ci benchmark schemas test-report-browser

install:
	$(PIP) install "$(TORCH_SPEC)"
	$(PIP) install -e ".[dev,local-llm]"

test:
	$(PYTHON) -m pytest tests $(PYTEST_ARGS)

test-unit:
	$(PYTHON) -m pytest tests/unit $(PYTEST_ARGS)

test-integration:
	$(PYTHON) -m pytest tests/integration $(PYTEST_ARGS)

lint:
	$(PYTHON) -m ruff check sae_interp tests benchmarks
	$(PYTHON) -m ruff format --check sae_interp tests benchmarks

format:
	$(PYTHON) -m ruff format sae_interp tests benchmarks
	$(PYTHON) -m ruff check --fix sae_interp tests benchmarks

typecheck:
	$(PYTHON) -m mypy

check-ci: lint typecheck test

benchmark:
	$(PYTHON) benchmarks/activation_collection.py

# One JSON schema per eval output in schemas/ (a unit test fails when they are out of date).
schemas:
	$(PYTHON) -m sae_interp.schemas

# The report page in headless Chromium (needs `apt-get install -y chromium`; not part of `make test`).
test-report-browser:
	PYTHONPATH=. $(PYTHON) tests/browser/check_report.py --screenshot report_screenshot.png
