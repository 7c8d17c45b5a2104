# syntax=docker/dockerfile:1
# The real TF Serving with this bundle's models and serving_config/ baked in: one immutable
# image per model release, deployed by k8s/ (`make deploy IMAGE=... TAG=...`) or run locally
# (`make serve-docker`, docker-compose.yml).
#
# The build context is serving_config/ (three small files are used); the exported models
# come in as the named context "models" (BuildKit, Docker 23 or newer), so neither .venv nor
# build/ is ever sent to the builder:
#   docker build -f Dockerfile --build-context models=models -t tfserving-bundle:1 serving_config
# GPU variant: add --build-arg TFS_IMAGE=tensorflow/serving:2.21.0-gpu
ARG TFS_IMAGE=tensorflow/serving:2.21.0
FROM ${TFS_IMAGE}

# models.config names container paths /models/<name>; export/ writes <name>/<version>/.
COPY --from=models --link . /models/
COPY --link models.config batching_parameters.txt monitoring.config /config/

# Not root; the server only reads /models and /config (and writes to /tmp).
USER 65532:65532
EXPOSE 8500 8501

# Same flags as k8s/base/deployment.yaml (tests/k8s checks they agree); Kubernetes mounts
# the ConfigMap over /config, so there the cluster's copy of serving_config/ wins.
ENTRYPOINT ["/usr/bin/tensorflow_model_server"]
CMD ["--port=8500", "--rest_api_port=8501", \
     "--model_config_file=/config/models.config", \
     "--monitoring_config_file=/config/monitoring.config", \
     "--enable_batching=true", \
     "--batching_parameters_file=/config/batching_parameters.txt", \
     "--allow_version_labels_for_unavailable_models=true"]
