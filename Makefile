# TensorFlow Serving deployment bundle: the verbs a user types.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON_SYSTEM ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODELS ?= models
BUILD ?= build
PYTEST_ARGS ?=

##@ Getting started

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
	  /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: setup
setup: $(STAMP) ## Create .venv and install the project (done once; redone when pyproject.toml changes)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all]'
	touch $@

.PHONY: demo
demo: export ## Export the example models and show what was published (the main job)
	$(PY) -m export list --base-dir $(MODELS)

##@ Models

.PHONY: export
export: $(STAMP) ## Export all example models as new versions under $(MODELS)/
	$(PY) -m export examples --base-dir $(MODELS)

.PHONY: check-config
check-config: export ## Check serving_config/ through TF Serving's protobuf schemas
	$(PY) -m serving_config check --models-root $(MODELS)

##@ Quality

.PHONY: lint
lint: $(STAMP) ## Lint and format-check with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: test
test: $(STAMP) lint ## Run lint and the whole test suite
	$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: clean
clean: ## Remove build output and exported models (keeps .venv)
	rm -rf $(BUILD) $(MODELS) reports .pytest_cache
