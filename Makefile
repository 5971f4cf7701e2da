# retrain: everything a developer or CI runs. `make demo` and `make test` set up what is missing.
# Both environments are installed with their bytecode compiled: importing TFX from .pyc files
# takes 11 s here instead of 27 s, and every pipeline run and compile starts a TFX process.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
VENV := .venv
PIPELINES_VENV := .venv-pipelines
export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help setup browser demo quick test lint typecheck actionlint unit bench clean template-fixture

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	@echo "==> uv not found: installing uv $(UV_VERSION) into .tools/"
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	@echo "==> service environment ($(VENV), Python 3.11)"
	$(UV) sync --locked --extra service --extra inventory --extra dev --python 3.11 --compile-bytecode
	@touch $@

$(PIPELINES_VENV)/.installed: pipelines/requirements.lock | $(UV)
	@echo "==> pipeline environment ($(PIPELINES_VENV), Python 3.10, TFX 1.16)"
	rm -rf $(PIPELINES_VENV)
	$(UV) venv --seed --quiet --python "$$(UV=$(UV) scripts/python310.sh)" $(PIPELINES_VENV)
	$(UV) pip install --quiet --no-deps --compile-bytecode --python $(PIPELINES_VENV)/bin/python -r pipelines/requirements.lock
	@touch $@

# This repository, editable, in the pipeline environment (its dependencies are in the lock).
$(PIPELINES_VENV)/.project: $(PIPELINES_VENV)/.installed pyproject.toml
	$(UV) pip install --quiet --no-deps --no-build-isolation --python $(PIPELINES_VENV)/bin/python -e .
	@touch $@

data/.generated: $(VENV)/.installed src/retrain/data/samples.py $(wildcard specs/*.yaml)
	$(VENV)/bin/retrain data generate
	@touch $@

# The inventory page's browser test drives Debian's chromium. Installed when missing (as root,
# or through sudo); if that cannot be done, setup goes on and the browser test fails saying so.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "==> chromium not found: installing Debian's chromium (apt-get)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  { $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; } \
	  || echo "WARNING: could not install chromium; the browser test (tests/inventory) will fail"; }

setup: $(VENV)/.installed $(PIPELINES_VENV)/.project data/.generated browser  ## create both environments and the example data

demo: setup  ## validate, compile and run the example pipeline locally
	$(VENV)/bin/retrain demo

lint: setup
	$(VENV)/bin/ruff check src functions pipelines tests scripts bench
	$(VENV)/bin/ruff format --check src functions pipelines tests scripts bench
	$(VENV)/bin/lint-imports  # the architecture contract in pyproject.toml

typecheck: setup
	$(VENV)/bin/mypy

actionlint:  ## lint the GitHub workflows (actionlint, installed into .tools/ on first use)
	scripts/actionlint.sh

# Test tiers (tests/tiers.py): `quick` runs every test that starts no TFX process, no emulator
# and no browser, with the small Hypothesis profile, in the service environment alone; `unit`
# runs them all with the full profile.
QUICK_TESTS := not tfx and not emulator and not browser

quick: data/.generated  ## the fast tests: no TFX, no emulator, no browser (under 2 minutes)
	HYPOTHESIS_PROFILE=quick $(VENV)/bin/pytest -m "$(QUICK_TESTS)" --durations=10

unit: setup
	HYPOTHESIS_PROFILE=full $(VENV)/bin/pytest --durations=25

test: lint typecheck actionlint unit  ## lint, type-check and run the whole test suite

# The compiled template the Vertex tests submit (tests/delivery/fixtures/template.json): rebuild
# it whenever the pipeline's shape or runtime parameters change (tests/pipelines/test_compile.py
# checks it against a fresh compile).
template-fixture: setup  ## recompile the checked-in Vertex template the delivery and rehearsal tests use
	rm -rf build/template-fixture
	$(VENV)/bin/retrain compile specs/house-prices.yaml --force --out build/template-fixture \
		--pipeline-root gs://retrain-artifacts/pipelines --serving-root gs://retrain-artifacts/serving \
		--image retrain-pipelines:local
	cp build/template-fixture/house-prices.json tests/delivery/fixtures/template.json

bench: setup  ## run the benchmarks and print figures with ratios
	$(VENV)/bin/python bench/run_all.py

clean:  ## remove environments, build output and local work directories
	rm -rf $(VENV) $(PIPELINES_VENV) .tools build work data/*.csv data/.generated
