"""The server's metrics, named, labelled and bucketed exactly as TF Serving exports them."""

from __future__ import annotations

import functools
import threading

from prometheus_client import CollectorRegistry

from server.errors import Code
from server.metrics.exposition import ExportedMetric, exponential_buckets, render_page

# Bucket layouts copied from the C++ definitions (contract section 5); latencies are in µs.
LATENCY_BUCKETS_US = exponential_buckets(10, 1.8, 33)  # util.cc: up to ~20 minutes
EXAMPLE_COUNT_BUCKETS = exponential_buckets(1, 2, 15)  # util.cc: request_example_counts
QUEUING_LATENCY_BUCKETS_US = exponential_buckets(100, 1.2, 52)  # batching_session.cc: ~1 s
BATCH_SIZE_BUCKETS = exponential_buckets(1, 2, 14)  # batching_util.h: 1 .. 8192

# ModelVersionStatus.State names, in lifecycle order (contract section 8).
VERSION_STATES = ("START", "LOADING", "AVAILABLE", "UNLOADING", "END")
RUNTIME = "TF1"
_MICROS = 1_000_000


class ServingMetrics:
    """Every metric the server records, in a registry of its own, rendered as TF Serving's page.

    All methods may be called from any thread. Latencies are given in seconds and recorded in
    microseconds, as TF Serving records them.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Keeps a version's five state series consistent for a concurrent scrape.
        self._state_lock = threading.Lock()
        new = functools.partial(ExportedMetric, registry=self.registry)
        latency = functools.partial(new, kind="histogram", buckets=LATENCY_BUCKETS_US)
        batch_size = functools.partial(new, kind="histogram", buckets=BATCH_SIZE_BUCKETS)
        serving = "/tensorflow/serving/"
        batching = serving + "batching_session/"
        saved_model = "/tensorflow/cc/saved_model/"
        self._request_count = new(
            serving + "request_count", "counter", "Requests.", ("model_name", "status")
        )
        self._request_latency = latency(
            serving + "request_latency",
            description="Request wall time (us).",
            labelnames=("model_name", "API", "entrypoint"),
        )
        self._runtime_latency = latency(
            serving + "runtime_latency",
            description="Model run wall time (us).",
            labelnames=("model_name", "API", "runtime"),
        )
        self._example_counts = new(
            serving + "request_example_counts",
            "histogram",
            "Examples per request.",
            ("model",),
            buckets=EXAMPLE_COUNT_BUCKETS,
        )
        self._example_count_total = new(
            serving + "request_example_count_total", "counter", "Examples.", ("model",)
        )
        self._warmup_latency = latency(
            serving + "model_warmup_latency",
            description="Warmup wall time (us).",
            labelnames=("model_path", "status"),
        )
        self._warmup_records = new(
            serving + "model_warmup_records_read",
            "counter",
            "Warmup records read.",
            ("model_path", "status"),
        )
        self._queuing_latency = new(
            batching + "queuing_latency",
            "histogram",
            "Time in the batch queue (us).",
            ("thread_pool_name",),
            buckets=QUEUING_LATENCY_BUCKETS_US,
        )
        self._wrapped_run_count = new(batching + "wrapped_run_count", "counter", "Batch runs.")
        self._input_batch_size = batch_size(
            batching + "input_batch_size", description="Rows per task."
        )
        self._processed_batch_size = batch_size(
            batching + "processed_batch_size", description="Executed batch sizes."
        )
        self._padding_size = batch_size(
            batching + "padding_size",
            description="Padding rows per batch.",
            labelnames=("execution_batch_size",),
        )
        self._load_attempts = new(
            saved_model + "load_attempt_count", "counter", "Loads.", ("model_path", "status")
        )
        self._load_latency = new(
            saved_model + "load_latency", "counter", "Load wall time (us).", ("model_path",)
        )
        # Our own extension, under our own prefix: TF Serving exports no version state.
        self._version_state = new(
            "/tensorflow_serving_bundle/model_version_state",
            "gauge",
            "1 for a version's current state, 0 for the others.",
            ("model_name", "version", "state"),
        )
        self._request_log_records = new(
            "/tensorflow_serving_bundle/request_log_records",
            "counter",
            "Request-log records of --enable_request_logging_extension, by outcome: sampled, "
            "written, dropped_queue_full, dropped_io_error, dropped_unencodable, dropped_closed.",
            ("model_name", "outcome"),
        )
        self._metrics = tuple(v for v in vars(self).values() if isinstance(v, ExportedMetric))

    def request(self, model_name: str, status: str | Code) -> None:
        """Count one request by model and canonical code name ("OK", "NOT_FOUND", ...)."""
        if isinstance(status, Code):
            status = status.name
        self._request_count.child(model_name, status).inc()

    def request_latency(self, model_name: str, api: str, entrypoint: str, seconds: float) -> None:
        """Record a successful request's wall time; entrypoint is "REST" or "GRPC"."""
        self._request_latency.child(model_name, api, entrypoint).observe(seconds * _MICROS)

    def runtime_latency(self, model_name: str, api: str, seconds: float) -> None:
        """Record the time spent running the model for one Predict, Classify or Regress."""
        self._runtime_latency.child(model_name, api, RUNTIME).observe(seconds * _MICROS)

    def example_count(self, model: str, n: int) -> None:
        """Record the number of examples in one MultiInference request.

        Raises:
            ValueError: if n is negative.
        """
        _check_not_negative("example count", n)
        self._example_counts.child(model).observe(n)
        self._example_count_total.child(model).inc(n)

    def warmup(self, model_path: str, status: str, seconds: float, records: int) -> None:
        """Record one version's warmup: its wall time and the records it replayed.

        Raises:
            ValueError: if records is negative.
        """
        _check_not_negative("records", records)
        self._warmup_latency.child(model_path, status).observe(seconds * _MICROS)
        self._warmup_records.child(model_path, status).inc(records)

    def batch_queuing_latency(self, thread_pool_name: str, seconds: float) -> None:
        """Record how long one task waited in a batch queue before its batch ran."""
        self._queuing_latency.child(thread_pool_name).observe(seconds * _MICROS)

    def batch_input(self, size: int) -> None:
        """Record one task's batch size; TF Serving calls this once per input tensor of a task."""
        self._input_batch_size.child().observe(size)

    def batch(self, batch_size: int, padded_size: int) -> None:
        """Record one batch run: batch_size rows, padded to padded_size allowed rows.

        Raises:
            ValueError: if padded_size is smaller than batch_size.
        """
        if padded_size < batch_size:
            raise ValueError(f"padded size {padded_size} is below batch size {batch_size}")
        self._wrapped_run_count.child().inc()
        self._processed_batch_size.child().observe(padded_size)
        self._padding_size.child(padded_size).observe(padded_size - batch_size)

    def model_load(self, model_path: str, success: bool, seconds: float) -> None:
        """Record one SavedModel load attempt and add its wall time to the path's total."""
        self._load_attempts.child(model_path, "success" if success else "fail").inc()
        # TF counts whole microseconds and a negative (clock skew) duration as zero.
        self._load_latency.child(model_path).inc(max(0, round(seconds * _MICROS)))

    def set_version_state(self, model_name: str, version: int | str, state: str) -> None:
        """Mark state as the version's current one: its series 1, the other four 0.

        Raises:
            ValueError: if state is not one of VERSION_STATES.
        """
        if state not in VERSION_STATES:
            raise ValueError(f"unknown version state {state!r}; expected one of {VERSION_STATES}")
        version = str(version)
        with self._state_lock:
            for each in VERSION_STATES:
                self._version_state.child(model_name, version, each).set(int(each == state))

    def forget_version(self, model_name: str, version: int | str) -> None:
        """Remove a version's state series, e.g. once it has left the server."""
        version = str(version)
        with self._state_lock:
            for state in VERSION_STATES:
                self._version_state.forget(model_name, version, state)

    def request_log_record(self, model_name: str, outcome: str) -> None:
        self._request_log_records.child(model_name, outcome).inc()

    def render(self) -> bytes:
        """Return the whole page in TF Serving's text format (serve it as CONTENT_TYPE)."""
        with self._state_lock:
            return render_page(self._metrics)


def _check_not_negative(what: str, value: float) -> None:
    if value < 0:
        raise ValueError(f"{what} must not be negative, got {value}")
