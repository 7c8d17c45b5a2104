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
GRPC_PORT ?= 8500
REST_PORT ?= 8501
BATCHING ?= 0
SERVER_FLAGS ?=
LOCAL_CONFIG := $(BUILD)/models.config

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
demo: $(LOCAL_CONFIG) ## Export, serve, send real predictions over REST and gRPC, stop
	$(PY) -m export list --base-dir $(MODELS)
	$(PY) -m demo --models $(MODELS) --config $(LOCAL_CONFIG) --port $(GRPC_PORT) --rest-port $(REST_PORT)

##@ Models

.PHONY: export
export: $(STAMP) ## Train and export the example models into $(MODELS)/ (versions that exist are kept)
	$(PY) -m export examples --base-dir $(MODELS)

$(LOCAL_CONFIG): serving_config/models.config | export
	mkdir -p $(BUILD)
	$(PY) -m serving_config render --models-root $(MODELS) --out $@

##@ Serving

.PHONY: serve
serve: $(LOCAL_CONFIG) ## Run the embedded server on serving_config/ (REST $(REST_PORT), gRPC $(GRPC_PORT); BATCHING=1)
	$(PY) -m server --port=$(GRPC_PORT) --rest_api_port=$(REST_PORT) \
	  --model_config_file=$(LOCAL_CONFIG) --allow_version_labels_for_unavailable_models \
	  --monitoring_config_file=serving_config/monitoring.config \
	  $(if $(filter 1,$(BATCHING)),--enable_batching --batching_parameters_file=serving_config/batching_parameters.txt) \
	  $(SERVER_FLAGS)

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
