"""Assemble the model server from its flags: repository, core, gRPC and REST edges, metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from server.batching import BatchingOptions
from server.config_source import ConfigFileWatcher, initial_config
from server.core import ServingCore
from server.errors import Code, ServingError
from server.flags import ServerOptions
from server.grpc_edge import ModelService, PredictionService
from server.http import HttpServer, Response, connection_cap
from server.metrics import CONTENT_TYPE, ServingMetrics
from server.repository import ModelRepository
from server.request_logging import RequestLoggers
from server.rest_api import RestApi
from server.servable import Servable
from server.warmup import run_warmup
from serving_config.schema import parse_text

log = logging.getLogger(__name__)
DEFAULT_METRICS_PATH = "/monitoring/prometheus/metrics"
MAX_BATCHING_THREADS = 256


def batching_options(options: ServerOptions) -> BatchingOptions | None:
    if not options.enable_batching:
        return None
    if not options.batching_parameters_file:
        return BatchingOptions(thread_pool_name="model_server_batch_threads")
    text = Path(options.batching_parameters_file).read_text()
    parsed = BatchingOptions.from_proto(parse_text("batching", text))
    parsed.validate()
    return parsed


def monitoring_path(options: ServerOptions) -> str | None:
    """The Prometheus page's path, or None; parsed only when REST is on, as TF Serving does."""
    if not (options.monitoring_config_file and options.rest_enabled):
        return None
    config = parse_text("monitoring", Path(options.monitoring_config_file).read_text())
    if not config.prometheus_config.enable:
        return None
    return config.prometheus_config.path or DEFAULT_METRICS_PATH


class ModelServer:
    """A running server; `start()` blocks until every configured model has settled."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self.metrics = ServingMetrics()
        self._batching = batching_options(options)
        self._metrics_path = monitoring_path(options)
        self.repository = ModelRepository(
            self._load,
            allow_labels_for_unavailable=options.allow_version_labels_for_unavailable_models,
            max_load_retries=options.max_num_load_retries,
            load_retry_interval=options.load_retry_interval_micros / 1e6,
            load_threads=options.num_load_threads,
            unload_threads=options.num_unload_threads,
            on_state=lambda name, version, state: self.metrics.set_version_state(
                name, version, state
            ),
        )
        self.core = ServingCore(
            self.repository,
            self.metrics,
            (
                RequestLoggers(self.metrics.request_log_record, Path(options.request_log_dir))
                if options.enable_request_logging_extension
                else None
            ),
        )
        self._grpc: grpc.Server | None = None
        self._http: HttpServer | None = None
        self._watcher: ConfigFileWatcher | None = None
        self.grpc_port: int | None = None
        self.rest_port: int | None = None

    def _load(self, name: str, version: int, path: Path) -> Servable:
        started = time.perf_counter()

        def on_queue_latency(s: float) -> None:
            # Only batch schedulers call this, and Servable makes them only when batching is on.
            assert self._batching is not None
            self.metrics.batch_queuing_latency(self._batching.thread_pool_name, s)

        hooks: dict[str, Callable[..., None]] = {
            "on_queue_latency": on_queue_latency,
            "on_batch": self.metrics.batch,
        }
        try:
            tags = set(self.options.saved_model_tags.split(","))
            servable = Servable(
                name, version, path, tags, self._batching, hooks, self.options.session_threads()
            )
        except ServingError:
            self.metrics.model_load(str(path), False, time.perf_counter() - started)
            raise
        self.metrics.model_load(str(path), True, time.perf_counter() - started)
        if self.options.enable_model_warmup:
            warm_started = time.perf_counter()
            try:
                records, _ = run_warmup(servable, self.options.num_request_iterations_for_warmup)
            except ServingError as err:
                self.metrics.warmup(str(path), err.code.name, time.perf_counter() - warm_started, 0)
                servable.close()
                raise
            self.metrics.warmup(str(path), "OK", time.perf_counter() - warm_started, records)
        return servable

    def start(self) -> None:
        """Load the models, then open the ports (TF Serving opens them only after loading).

        Raises:
            ServingError: the config is invalid or a model failed to load.
        """
        options = self.options
        self.load_models()
        if options.file_system_poll_wait_seconds > 0:
            self.repository.start_polling(options.file_system_poll_wait_seconds)
        if options.model_config_file and options.model_config_file_poll_wait_seconds > 0:
            self._watcher = ConfigFileWatcher(
                options.model_config_file,
                options.model_config_file_poll_wait_seconds,
                self.core.reload,
            )
            self._watcher.start()
        self._start_grpc()
        if options.rest_enabled:
            self._start_rest()

    def load_models(self) -> None:
        """Serve the startup config and wait until each of its models has settled.

        Raises:
            ServingError: the config is invalid or a model failed to load.
        """
        self.core.apply_config(initial_config(self.options), wait_forever=True)

    def prediction_service(self) -> PredictionService:
        """The gRPC PredictionService servicer over this server's core."""
        options = self.options
        return PredictionService(
            self.core, options.enable_serialization_as_tensor_content, options.tensor_byte_limit()
        )

    def rest_api(self) -> RestApi:
        """The handler of every /v1 REST request over this server's core."""
        options = self.options
        return RestApi(
            self.core,
            options.rest_api_timeout_in_ms,
            options.rest_api_enable_cors_support,
            options.tensor_byte_limit(),
        )

    def _start_grpc(self) -> None:
        options = self.options
        limit = options.max_request_bytes
        server = grpc.server(
            futures.ThreadPoolExecutor(
                max_workers=options.grpc_max_threads, thread_name_prefix="grpc"
            ),
            options=[
                ("grpc.max_receive_message_length", limit),
                ("grpc.max_send_message_length", 2**31 - 1),
            ],
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            self.prediction_service(), server
        )
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(self.core), server)
        if options.enable_grpc_healthcheck_service:
            checker = health.HealthServicer()
            # TF Serving registers the short names too (server.cc); probes written for it ask them.
            for service in (
                "tensorflow.serving.ModelService",
                "tensorflow.serving.PredictionService",
                "ModelService",
                "PredictionService",
            ):
                checker.set(service, health_pb2.HealthCheckResponse.SERVING)
            health_pb2_grpc.add_HealthServicer_to_server(checker, server)
        credentials = (
            _server_credentials(options.ssl_config_file) if options.ssl_config_file else None
        )
        if options.port:
            address = f"{_bracket(options.host)}:{options.port}"
            if credentials:
                self.grpc_port = server.add_secure_port(address, credentials)
            else:
                self.grpc_port = server.add_insecure_port(address)
        if options.grpc_socket_path:
            server.add_insecure_port(f"unix:{options.grpc_socket_path}")
        server.start()
        self._grpc = server
        log.info("Running gRPC ModelServer at %s:%s ...", options.host, self.grpc_port)

    def _worker_threads(self, configured: int) -> int:
        """Request threads for an edge: enough, with batching on, to fill every batch.

        TF Serving's gRPC server is asynchronous, so its thread limit does not cap how many
        requests wait in a batch; here each waiting request holds a thread, so fewer threads
        than max_batch_size x num_batch_threads would keep batches from filling.
        """
        if self._batching is None:
            return configured
        wanted = self._batching.max_batch_size * self._batching.num_batch_threads
        return max(configured, min(wanted, MAX_BATCHING_THREADS))

    def _start_rest(self) -> None:
        options = self.options
        exact = {}
        if self._metrics_path:
            exact[self._metrics_path] = lambda request: Response(
                200, self.metrics.render(), CONTENT_TYPE
            )
        self._http = HttpServer(
            self.rest_api(),
            options.host,
            options.rest_api_port,
            max_body_bytes=options.max_request_bytes,
            gzip_limit_bytes=options.gzip_body_limit(),
            executor=futures.ThreadPoolExecutor(
                options.rest_api_num_threads, thread_name_prefix="rest"
            ),
            exact_handlers=exact,
            # With batching, requests must wait for their batch on worker threads.
            inline_when_alone=self._batching is None,
            idle_timeout=options.rest_api_idle_timeout_seconds,
            max_connections=connection_cap(options.rest_api_max_connections),
        )
        self._http.run_in_thread()
        self.rest_port = self._http.port
        log.info("Exporting HTTP/REST API at:%s:%d ...", options.host, self.rest_port)

    def stop(self, grace: float = 5.0) -> None:
        # Loads and their retries stop first, so that no reload RPC waits on them.
        self.repository.stop_loading()
        if self._watcher:
            self._watcher.stop()
        if self._http:
            self._http.stop()
        if self._grpc:
            self._grpc.stop(grace).wait()
        if self.core.request_logs is not None:
            self.core.request_logs.close()
        self.repository.close()


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _server_credentials(path: str) -> grpc.ServerCredentials:
    config = parse_text("ssl", Path(path).read_text())
    if not (config.server_key and config.server_cert):
        raise ServingError(
            Code.INVALID_ARGUMENT, f"{path}: server_key and server_cert are required"
        )
    return grpc.ssl_server_credentials(
        [(config.server_key.encode(), config.server_cert.encode())],
        root_certificates=config.custom_ca.encode() if config.custom_ca else None,
        require_client_auth=bool(config.client_verify),
    )
