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
# Test processes: two keep both cores busy while the other waits on a server or a load run
# (PYTEST_WORKERS=0 runs in this process). A module's tests stay in one process, with its fixtures.
PYTEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadscope
GRPC_PORT ?= 8500
REST_PORT ?= 8501
BATCHING ?= 0
SERVER_FLAGS ?=
LOCAL_CONFIG := $(BUILD)/models.config
BENCH_ARGS ?=
BENCH_CLIENTS_ARGS ?=
MODEL ?= tabular
TRANSPORTS ?= rest grpc
USERS ?=
RUN_TIME ?= 10s
# Load tests are open loop: RATE requests per second in total (empty: loadtest's default,
# 20). CLOSED_LOOP=1 sends back to back instead, labelled as not corrected for coordinated
# omission.
RATE ?=
CLOSED_LOOP ?= 0
BATCH_SIZE ?= 1
LABEL ?=
PROCESSES ?= 1
SLO_P99_MS ?= 250
SLO_ERROR_RATE ?= 0
LOADTEST_ARGS ?=
ROLLOUT_TRANSPORT ?= grpc
ROLLOUT_ARGS ?=
REQUEST_LOGS ?=
CAPACITY_ARGS ?=
# tune-batching: embedded (python -m server), docker (tensorflow/serving, pinned) or kubernetes
# (a one-off Deployment from k8s/base; TUNE_ARGS="--image IMAGE:TAG --namespace NS").
TUNE_LAUNCHER ?= embedded
TUNE_ARGS ?=
VERIFY_ARGS ?=
KUBECTL ?= kubectl
DOCKER ?= docker
OVERLAY ?= dev
IMAGE ?= tfserving-bundle
TAG ?= $(shell git rev-parse --short HEAD)
GPU ?= 0
# The target TF Serving release: one file, which the image tags and the TensorFlow pin follow
# (`make tfs-release RELEASE=X.Y.Z` moves them all; a test fails when any disagree).
TFS_RELEASE = $(shell cat serving_config/tfserving_release.txt)
TFS_IMAGE = tensorflow/serving:$(TFS_RELEASE)
RELEASE ?=
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)

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
demo: $(LOCAL_CONFIG) ## Export, serve, send real predictions over REST and gRPC, verify every model, stop
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
check-config: export ## Check serving_config/ through TF Serving's protobuf schemas, and the pinned release everywhere
	$(PY) -m serving_config check --models-root $(MODELS)
	$(PY) -m deploy_checks release
	$(PY) -m export check-serving $(MODELS)

.PHONY: check-serving
check-serving: $(STAMP) ## Every version in $(MODELS)/ against the target TF Serving release: its op registry, then its warmup in that release's TensorFlow
	@test -d $(MODELS) || { echo "no $(MODELS)/ to check: run make export first"; exit 1; }
	$(PY) -m export check-serving $(MODELS)

.PHONY: op-registry
op-registry: $(STAMP) ## Record TensorFlow RELEASE's op registry (default: the target release) for check-serving
	$(PY) -m export.op_registry dump $(if $(RELEASE),--release $(RELEASE))

.PHONY: tfs-release
tfs-release: $(STAMP) ## Move the target TF Serving release (RELEASE=X.Y.Z): image tags, GPU tag, TensorFlow pins
	@test -n "$(RELEASE)" || { echo "usage: make tfs-release RELEASE=X.Y.Z (now $(TFS_RELEASE))"; exit 2; }
	$(PY) -m deploy_checks release set $(RELEASE)

##@ Client

.PHONY: predict
predict: $(STAMP) ## Ask `make serve`'s server: a held-out tabular case over gRPC, a digit PNG over REST
	$(PY) -m clients predict --model tabular --input @clients/cli/examples/tabular.json \
	  --target 127.0.0.1:$(GRPC_PORT)
	$(PY) -m clients predict --model digits --input @clients/cli/examples/digit.png \
	  --transport rest --url http://127.0.0.1:$(REST_PORT)

.PHONY: client-wheel
client-wheel: $(STAMP) ## Build dist/tfserving_client-*.whl: clients/ only; needs grpcio, protobuf, numpy, requests
	$(PY) packaging/client/build.py --out dist

##@ Load testing

.PHONY: loadtest
loadtest: $(LOCAL_CONFIG) ## Open-loop load test of REST and gRPC (RATE req/s, $(RUN_TIME) each) against make serve's server, started if none answers; reports/<timestamp>/
	$(PY) -m loadtest run $(foreach t,$(TRANSPORTS),--transport $(t)) --model $(MODEL) \
	  $(if $(LABEL),--label $(LABEL)) --batch-size $(BATCH_SIZE) --processes $(PROCESSES) \
	  $(if $(USERS),--users $(USERS)) --run-time $(RUN_TIME) $(if $(RATE),--rate $(RATE)) \
	  $(if $(filter 1,$(CLOSED_LOOP)),--closed-loop) --models-root $(MODELS) \
	  --rest-url http://127.0.0.1:$(REST_PORT) --grpc-target 127.0.0.1:$(GRPC_PORT) \
	  --start-server $(LOCAL_CONFIG) --server-log $(BUILD)/loadtest-server.log \
	  --server-args="--monitoring_config_file=serving_config/monitoring.config $(SERVER_FLAGS)" \
	  --slo-p99-ms $(SLO_P99_MS) --slo-error-rate $(SLO_ERROR_RATE) $(LOADTEST_ARGS)

.PHONY: capacity
capacity: $(LOCAL_CONFIG) ## Max open-loop rate of MODEL within SLO_P99_MS (steps, bisection, repeats); reports/<ts>-capacity/
	$(PY) -m loadtest capacity-search --transport $(firstword $(TRANSPORTS)) --model $(MODEL) \
	  $(if $(LABEL),--label $(LABEL)) --batch-size $(BATCH_SIZE) --processes $(PROCESSES) \
	  $(if $(USERS),--users $(USERS)) --models-root $(MODELS) \
	  --rest-url http://127.0.0.1:$(REST_PORT) --grpc-target 127.0.0.1:$(GRPC_PORT) \
	  --start-server $(LOCAL_CONFIG) --server-log $(BUILD)/loadtest-server.log \
	  --server-args="--monitoring_config_file=serving_config/monitoring.config $(SERVER_FLAGS)" \
	  --slo-p99-ms $(SLO_P99_MS) --slo-error-rate $(SLO_ERROR_RATE) $(CAPACITY_ARGS)

.PHONY: tune-batching
tune-batching: $(LOCAL_CONFIG) ## Batching parameters of MODEL with the highest max rate within SLO_P99_MS (a server restart per trial); reports/<ts>-tune-batching/
	$(PY) -m loadtest tune-batching --transport $(firstword $(TRANSPORTS)) --model $(MODEL) \
	  $(if $(LABEL),--label $(LABEL)) --batch-size $(BATCH_SIZE) --processes $(PROCESSES) \
	  $(if $(USERS),--users $(USERS)) --models-root $(MODELS) --launcher $(TUNE_LAUNCHER) \
	  --start-server $(LOCAL_CONFIG) --server-args="$(SERVER_FLAGS)" \
	  --slo-p99-ms $(SLO_P99_MS) --slo-error-rate $(SLO_ERROR_RATE) $(TUNE_ARGS)

.PHONY: rollout-check
rollout-check: $(LOCAL_CONFIG) ## Canary against stable of MODEL: signature diff, stable's requests replayed (REQUEST_LOGS, else warmup), then latency, errors, held-out predictions; exits 1 if the canary is worse
	$(PY) -m loadtest.rollout --model $(MODEL) --transport $(ROLLOUT_TRANSPORT) \
	  $(if $(REQUEST_LOGS),--request-logs $(REQUEST_LOGS)) \
	  $(if $(USERS),--users $(USERS)) --run-time $(RUN_TIME) --batch-size $(BATCH_SIZE) --models-root $(MODELS) \
	  --rest-url http://127.0.0.1:$(REST_PORT) --grpc-target 127.0.0.1:$(GRPC_PORT) \
	  --start-server $(LOCAL_CONFIG) --server-log $(BUILD)/loadtest-server.log \
	  --server-args="--monitoring_config_file=serving_config/monitoring.config $(SERVER_FLAGS)" \
	  $(ROLLOUT_ARGS)

.PHONY: verify
verify: $(LOCAL_CONFIG) ## Check make serve's server (started if none answers) answers MODEL's test split as exported; exits 1 if not
	$(PY) -m monitoring verify --model $(MODEL) $(if $(LABEL),--label $(LABEL)) --models-root $(MODELS) \
	  --rest http://127.0.0.1:$(REST_PORT) --grpc 127.0.0.1:$(GRPC_PORT) --slo-p99-ms $(SLO_P99_MS) \
	  --start-server $(LOCAL_CONFIG) --server-log $(BUILD)/verify-server.log \
	  --server-args="--monitoring_config_file=serving_config/monitoring.config $(SERVER_FLAGS)" \
	  --json $(BUILD)/verify-$(MODEL).json $(VERIFY_ARGS)

.PHONY: drift-demo
drift-demo: export ## Simulated request logs of MODEL, held-out then shifted, through the drift check (the shifted ones must drift)
	rm -rf $(BUILD)/drift-demo
	$(PY) -m monitoring simulate --model $(MODEL) --models-root $(MODELS) --kind none --out $(BUILD)/drift-demo/held-out
	$(PY) -m monitoring drift --model $(MODEL) --models-root $(MODELS) --logs $(BUILD)/drift-demo/held-out \
	  --out $(BUILD)/drift-demo/held-out-report
	$(PY) -m monitoring simulate --model $(MODEL) --models-root $(MODELS) --kind shift --strength 0.5 \
	  --out $(BUILD)/drift-demo/shifted
	status=0; $(PY) -m monitoring drift --model $(MODEL) --models-root $(MODELS) \
	  --logs $(BUILD)/drift-demo/shifted --out $(BUILD)/drift-demo/shifted-report --html || status=$$?; \
	  test $$status -eq 1
	@echo "Evidently report: $(BUILD)/drift-demo/shifted-report/drift_report.html"

##@ Quality

.PHONY: lint
lint: $(STAMP) ## Lint and format-check with ruff; check the import rules and the types (pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

.PHONY: test
test: $(STAMP) system-deps lint ## Run lint and the whole test suite
	$(PYTEST) $(PYTEST_ARGS)

.PHONY: test-fast
test-fast: $(STAMP) system-deps ## The suite without the slow end-to-end tests (marked slow), no lint: the inner loop
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

##@ Performance

.PHONY: bench
bench: $(STAMP) system-deps ## Benchmark the server (floor, FastAPI, batching), clients/ against TensorFlow's, the load test against wrk (~7 min); writes $(BUILD)/bench/
	test -d $(MODELS)/tabular || $(PY) -m export examples --base-dir $(MODELS)
	$(PY) -m bench server --models $(MODELS) --out $(BUILD)/bench $(BENCH_ARGS)
	$(PY) -m bench clients --out $(BUILD)/bench $(BENCH_CLIENTS_ARGS)
	$(PY) -m bench loadgen --models $(MODELS) --out $(BUILD)/bench $(BENCH_LOADGEN_ARGS)
	$(MAKE) $(LOCAL_CONFIG)
	$(PY) -m loadtest capacity --rest-host http://127.0.0.1:$(REST_PORT) --grpc-host 127.0.0.1:$(GRPC_PORT) \
	  --model $(MODEL) --models-root $(MODELS) --start-server $(LOCAL_CONFIG) --json $(BUILD)/bench/loadgen-capacity.json

##@ Kubernetes and Docker

.PHONY: system-deps
system-deps: ## Install what tests need from Debian if missing: prometheus (with promtool), its pushgateway, kubectl, wrk
	@if command -v promtool >/dev/null; then echo "promtool: $$(command -v promtool)"; \
	else $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends prometheus; fi
	@if command -v prometheus-pushgateway >/dev/null; then echo "pushgateway: $$(command -v prometheus-pushgateway)"; \
	else $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends prometheus-pushgateway; fi
	@if command -v $(KUBECTL) >/dev/null; then echo "kubectl: $$(command -v $(KUBECTL))"; \
	else $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends kubernetes-client; fi
	@if command -v wrk >/dev/null; then echo "wrk: $$(command -v wrk)"; \
	else $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends wrk; fi

# Kustomize loads only files in or below a kustomization's folder, and kubectl apply -k, Argo CD
# and Flux keep that default; so the files the manifests ship live in k8s/ as copies, committed
# with the manifests. Edit the originals, then run make k8s-config (the targets below do);
# tests/k8s/test_manifests.py fails while a copy differs from its original.
K8S_COPIES := \
  $(foreach f,models.config batching_parameters.txt monitoring.config,serving_config/$(f):k8s/base/serving_config/$(f)) \
  deploy/grafana/dashboards/tfserving.json:k8s/components/monitoring/dashboards/tfserving.json

.PHONY: k8s-config
k8s-config: ## Copy serving_config/ and the Grafana dashboard into k8s/ (commit the copies: kubectl apply -k reads them)
	@for pair in $(K8S_COPIES); do \
	  src=$${pair%%:*}; dst=$${pair#*:}; \
	  if ! cmp -s "$$src" "$$dst"; then mkdir -p "$$(dirname "$$dst")"; cp "$$src" "$$dst"; \
	    echo "copied $$src to $$dst"; fi; \
	done

.PHONY: k8s-check
k8s-check: $(STAMP) k8s-config ## Render every k8s overlay, validate it against the Kubernetes schemas, promtool the rules
	$(PY) -m deploy_checks check

.PHONY: k8s-generate
k8s-generate: $(STAMP) ## Regenerate k8s/components/monitoring/prometheusrule.yaml from deploy/prometheus/
	$(PY) -m deploy_checks generate

.PHONY: image
image: check-serving ## Build $(IMAGE):$(TAG): the pinned tensorflow/serving with $(MODELS)/ and serving_config/ baked in (GPU=1)
	@command -v $(DOCKER) >/dev/null || { echo "image needs Docker 23+ (BuildKit); without it use make serve"; exit 1; }
	@test -d $(MODELS) || { echo "no $(MODELS)/ to bake in: run make export first"; exit 1; }
	$(DOCKER) build -f Dockerfile --build-context models=$(MODELS) \
	  --build-arg TFS_IMAGE=$(TFS_IMAGE)$(if $(filter 1,$(GPU)),-gpu) \
	  -t $(IMAGE):$(TAG) serving_config

.PHONY: serve-docker
serve-docker: image ## Run the real TF Serving with the baked models and the k8s flags (REST $(REST_PORT), gRPC $(GRPC_PORT))
	$(DOCKER) run --rm --read-only --tmpfs /tmp \
	  -p $(GRPC_PORT):8500 -p $(REST_PORT):8501 $(IMAGE):$(TAG)

.PHONY: deploy
deploy: $(STAMP) k8s-config check-serving ## kubectl apply k8s/overlays/$(OVERLAY) (dev, prod, gpu) running $(IMAGE):$(TAG), built by make image
	$(PY) -m deploy_checks render $(OVERLAY) --image $(IMAGE):$(TAG) | $(KUBECTL) apply -f -

.PHONY: clean
clean: ## Remove build output and exported models (keeps .venv)
	rm -rf $(BUILD) $(MODELS) reports dist .pytest_cache
