# Setup and checks. `make install` then `make test` is all a newcomer needs.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
# On machines without a GPU this resolves to a CPU build, so the CUDA stack is not pulled.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=
# Every package at the version the full test run passed with (`make constraints` refreshes it).
CONSTRAINTS := constraints.txt

# The offline LLM's runtime, pinned (also in pyproject.toml's local-llm extra), built once for
# this CPU with llama.cpp's AMX kernels compiled out (they crash with a general-protection
# fault on some AMX machines), and reused by every later install on the same CPU: the
# wheel's folder is keyed by the version, the build options and the CPU's feature flags.
# Why: README.md, "The offline LLM runtime".
LLAMA_CPP_VERSION := 0.3.16
ifeq ($(shell uname -m),x86_64)
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
	-DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=ON
endif
LLAMA_KEY := $(shell (grep -m1 '^flags' /proc/cpuinfo 2>/dev/null; uname -m; \
	echo "$(LLAMA_CMAKE_ARGS)") | cksum | cut -d' ' -f1)
LLAMA_WHEELS ?= $(HOME)/.cache/sae-interp/wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(LLAMA_KEY)
# Seconds the install's last step gives the offline LLM for its one answer.
DOCTOR_TIMEOUT_S ?= 300

.PHONY: install llama-wheel doctor test test-unit test-integration lint format typecheck \
	check-ci benchmark schemas test-report-browser constraints

install: llama-wheel
	$(PIP) install -c $(CONSTRAINTS) "$(TORCH_SPEC)"
	$(PIP) install -c $(CONSTRAINTS) --find-links "$(LLAMA_WHEELS)" -e ".[dev,local-llm,distributed]"
	$(PYTHON) -m sae_interp.doctor --only versions,llm --llm-timeout-s $(DOCTOR_TIMEOUT_S)

# The llama-cpp-python wheel, built once per version and build options (several minutes).
llama-wheel:
	@if ls "$(LLAMA_WHEELS)"/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "llama-cpp-python $(LLAMA_CPP_VERSION): reusing the wheel in $(LLAMA_WHEELS)"; \
	else \
		echo "llama-cpp-python $(LLAMA_CPP_VERSION): building its wheel for this CPU (minutes)"; \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-deps --no-cache-dir \
			-w "$(LLAMA_WHEELS)" "llama-cpp-python==$(LLAMA_CPP_VERSION)"; \
	fi

# Every check of `sae-interp doctor`: versions, device, model, SAEs, corpus, offline LLM.
doctor:
	$(PYTHON) -m sae_interp.doctor

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

# The report page in headless Chromium (needs `apt-get install -y chromium`; .ci/run does it).
test-report-browser:
	PYTHONPATH=. $(PYTHON) tests/browser/check_report.py --screenshot report_screenshot.png

# Re-resolve every dependency at its newest allowed version in a new virtual environment and
# write constraints.txt from it. Land the new file only together with a passing `make test`
# run installed through it.
constraints:
	bash shell_scripts/refresh_constraints.sh "$(PYTHON)" "$(TORCH_SPEC)" "$(LLAMA_WHEELS)"
