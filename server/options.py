"""ServerOptions: one field per flag of `python -m server`, with tensorflow_model_server's defaults."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

_MIB = 1 << 20
INT32_MAX = (1 << 31) - 1
INT64_MAX = (1 << 63) - 1


class FlagError(Exception):
    """A command line or flag combination that the server refuses to start with."""


def _schedulable_cpus() -> int:
    """CPUs this process may run on, as TensorFlow's NumSchedulableCPUs counts them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


_DEFAULT_THREADS = 4 * _schedulable_cpus()


def _flag(default: Any, help_text: str, *, extension: bool = False, note: str = "") -> Any:
    """A ServerOptions field that is also a command-line flag."""
    metadata = {"help": help_text, "extension": extension, "note": note}
    return dataclasses.field(default=default, metadata=metadata)


_THREADS_NOTE = "4 x schedulable CPUs"
# A request of N bytes may ask for tensors of up to 4N bytes by default: an int64 value of
# one varint byte becomes 8, a JSON number of two bytes ("1,") a float64 of 8.
TENSOR_BYTES_PER_REQUEST_BYTE = 4


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """Parsed flags; one field per flag, with tensorflow_model_server's defaults."""

    port: int = _flag(
        8500, "TCP port of the gRPC API; 0 turns it off (then --grpc_socket_path is required)."
    )
    grpc_socket_path: str = _flag("", "Also serve gRPC on this UNIX socket.")
    rest_api_port: int = _flag(
        0, "TCP port of the REST API; 0 turns REST off. Must differ from --port."
    )
    rest_api_num_threads: int = _flag(
        _DEFAULT_THREADS, "Threads serving REST requests.", note=_THREADS_NOTE
    )
    rest_api_timeout_in_ms: int = _flag(
        30000, "Time limit of a REST predict, classify or regress call; 0 or less means none."
    )
    rest_api_idle_timeout_seconds: int = _flag(
        60,
        "Close a REST connection whose client has sent nothing for this many seconds, between "
        "requests or in the middle of one (answered 408), or has taken that long over one "
        "request head; a request being answered is never idle. 0 or less keeps idle "
        "connections open, as tensorflow_model_server does (its libevent server sets no "
        "timeout).",
        extension=True,
    )
    rest_api_max_connections: int = _flag(
        0,
        "Most REST connections open at once, so that descriptors remain for gRPC, model files "
        "and logs. At the limit a new connection closes the one whose client has been silent "
        "longest (so health probes still get through), or is answered 503 and closed when "
        "every open one is being answered. 0 derives it from the open-file limit: "
        "RLIMIT_NOFILE's soft limit minus a reserve of a quarter of it, at least 384. A "
        "negative value means no limit, as in tensorflow_model_server.",
        extension=True,
        note="0: RLIMIT_NOFILE minus a reserve",
    )
    rest_api_enable_cors_support: bool = _flag(
        False, "Add CORS headers to REST responses and answer CORS preflight requests."
    )
    model_name: str = _flag(
        "default", "Name of the single served model (ignored with --model_config_file)."
    )
    model_base_path: str = _flag(
        "", "Folder holding the model's numbered versions (required unless --model_config_file)."
    )
    model_config_file: str = _flag("", "ModelServerConfig text proto listing the models to serve.")
    model_config_file_poll_wait_seconds: int = _flag(
        0, "Seconds between re-reads of --model_config_file; 0 reads it once."
    )
    file_system_poll_wait_seconds: int = _flag(
        1, "Seconds between scans for new model versions; 0 scans once, negative never."
    )
    enable_batching: bool = _flag(False, "Run concurrent requests to the same model as one batch.")
    batching_parameters_file: str = _flag(
        "", "BatchingParameters text proto; needs --enable_batching."
    )
    monitoring_config_file: str = _flag(
        "", "MonitoringConfig text proto (Prometheus endpoint); read only when REST is on."
    )
    enable_model_warmup: bool = _flag(
        True, "Replay a version's assets.extra/tf_serving_warmup_requests before it serves."
    )
    num_request_iterations_for_warmup: int = _flag(
        0, "Times each warmup request is replayed; 0 means once."
    )
    allow_version_labels_for_unavailable_models: bool = _flag(
        False, "Allow version labels to point at versions that are not loaded yet."
    )
    grpc_max_threads: int = _flag(
        _DEFAULT_THREADS, "Threads serving gRPC requests.", note=_THREADS_NOTE
    )
    grpc_channel_arguments: str = _flag(
        "", "gRPC server channel arguments as key=value,key2=value2."
    )
    ssl_config_file: str = _flag(
        "", "SSLConfig text proto turning on TLS for gRPC (REST stays plain HTTP)."
    )
    max_num_load_retries: int = _flag(5, "Retries after a failed model load; 0 means one attempt.")
    load_retry_interval_micros: int = _flag(
        60_000_000, "Wait between model load retries, in microseconds."
    )
    num_load_threads: int = _flag(
        0,
        "Threads that load model versions (each retry's wait holds none), off the request and "
        "reload paths. 0, as in tensorflow_model_server, loads one version at a time on one "
        "background thread (its manager loop).",
    )
    num_unload_threads: int = _flag(
        0,
        "Threads that unload model versions once their requests finish. 0, as in "
        "tensorflow_model_server, unloads one version at a time on one background thread.",
    )
    saved_model_tags: str = _flag(
        "serve", "Comma-separated tags choosing the MetaGraph to load from each SavedModel."
    )
    tensorflow_session_parallelism: int = _flag(
        0,
        "Threads of both the intra-op and inter-op pools of the model Sessions, unless "
        "--tensorflow_intra_op_parallelism or --tensorflow_inter_op_parallelism is above 0. "
        "0 lets TensorFlow choose (the schedulable CPUs).",
    )
    tensorflow_intra_op_parallelism: int = _flag(
        0,
        "Threads that run one op's parallel work in the model Sessions (with "
        "--tensorflow_inter_op_parallelism; when either is above 0 both are used as given).",
    )
    tensorflow_inter_op_parallelism: int = _flag(
        0,
        "Threads that run independent ops of a Session run in parallel (with "
        "--tensorflow_intra_op_parallelism).",
    )
    enable_signature_method_name_check: bool = _flag(
        False, "Reject calls whose API does not match the signature's method_name."
    )
    enable_serialization_as_tensor_content: bool = _flag(
        False, "Write gRPC response tensors as tensor_content bytes."
    )
    enable_grpc_healthcheck_service: bool = _flag(
        False, "Serve grpc.health.v1.Health, reporting both services SERVING."
    )
    host: str = _flag(
        "127.0.0.1",
        "Address to listen on. tensorflow_model_server listens on all interfaces; pass 0.0.0.0 for that.",
        extension=True,
    )
    max_request_bytes: int = _flag(
        64 * _MIB,
        "Largest REST body (after gzip decompression too) or gRPC message accepted; bigger "
        "ones get a clear error.",
        extension=True,
    )
    rest_api_gzip_limit_bytes: int = _flag(
        100 * _MIB,
        "Largest decompressed gzip REST body (tensorflow_model_server's fixed limit); the "
        "limit applied is the smaller of this and --max_request_bytes.",
        extension=True,
    )
    max_tensor_bytes: int = _flag(
        0,
        "Largest input tensor a request may ask for: its element count times its dtype's "
        "size (8 per string) is checked before any array is built, so a few bytes of "
        "TensorProto (a huge shape with one value, which TensorFlow repeats) cannot make "
        "the server allocate gigabytes; bigger ones get INVALID_ARGUMENT naming the input. "
        "0 means 4 x --max_request_bytes; a negative value means no limit. "
        "tensorflow_model_server has no such limit.",
        extension=True,
        note="0: 4 x --max_request_bytes",
    )
    enable_request_logging_extension: bool = _flag(
        False,
        'Accept a model\'s logging_config (log_collector_config type "tfrecord", '
        "filename_prefix /folder/prefix, sampling_config sampling_rate) and write a sample of its "
        "predict, classify and regress calls as PredictionLog TFRecord files. "
        "tensorflow_model_server refuses any logging_config.",
        extension=True,
    )
    request_log_dir: str = _flag(
        "",
        "The folder request logs are written under (absolute; needed with "
        "--enable_request_logging_extension): a config or reload whose filename_prefix lies "
        "anywhere else is refused, so a reload RPC cannot make the server write elsewhere.",
        extension=True,
    )
    ignored_flags: tuple[str, ...] = ()
    show_version: bool = False
    show_help: bool = False

    @property
    def rest_enabled(self) -> bool:
        """Whether the REST API starts: a non-zero port that differs from the gRPC port."""
        return self.rest_api_port != 0 and self.rest_api_port != self.port

    def tensor_byte_limit(self) -> int | None:
        """--max_tensor_bytes resolved: 4 x --max_request_bytes for 0, None for no limit."""
        if self.max_tensor_bytes < 0:
            return None
        return self.max_tensor_bytes or TENSOR_BYTES_PER_REQUEST_BYTE * self.max_request_bytes

    def _threads_from_pair(self) -> bool:
        # tensorflow_model_server (server.cc) takes the intra/inter pair when either is above 0.
        return self.tensorflow_intra_op_parallelism > 0 or self.tensorflow_inter_op_parallelism > 0

    def session_threads(self) -> tuple[int, int]:
        """(intra_op, inter_op) parallelism of every model Session, as tensorflow_model_server
        derives them from its three flags (server.cc): the pair when either is above 0,
        otherwise --tensorflow_session_parallelism for both. TensorFlow creates its pools with
        the process's first Session, so every model shares what the first one set."""
        if self._threads_from_pair():
            return self.tensorflow_intra_op_parallelism, self.tensorflow_inter_op_parallelism
        return self.tensorflow_session_parallelism, self.tensorflow_session_parallelism

    def check_session_threads(self) -> None:
        """Refuse Session thread flags that tensorflow_model_server refuses, or that would make
        TensorFlow abort the process.

        Raises:
            FlagError: all three flags above 0 (tensorflow_model_server's words); a value
                beyond 32 bits (ConfigProto's size); a negative intra-op count, which
                TensorFlow cannot make a pool of (a failed CHECK, no message a user can act
                on). A negative inter-op count is TensorFlow's "run in the caller's thread".
        """
        names = [f"tensorflow_{kind}_parallelism" for kind in ("session", "intra_op", "inter_op")]
        if all(getattr(self, name) > 0 for name in names):
            raise FlagError(
                "Either configure server_options.tensorflow_session_parallelism or "
                "(server_options.tensorflow_intra_op_parallelism, "
                "server_options.tensorflow_inter_op_parallelism) separately. "
                "You cannot configure all."
            )
        for name in names:
            value = getattr(self, name)
            if not -INT32_MAX - 1 <= value <= INT32_MAX:
                raise FlagError(f"--{name} must fit in 32 bits, got {value}")
        intra, _ = self.session_threads()
        if intra < 0:
            name = names[1] if self._threads_from_pair() else names[0]
            raise FlagError(
                f"--{name}={intra} would give the Sessions' intra-op pool {intra} threads, which "
                "TensorFlow cannot create (it aborts the process); use 0 for TensorFlow's choice"
            )

    def gzip_body_limit(self) -> int:
        """The most bytes a gzip REST body may inflate to: both limits apply."""
        return min(self.rest_api_gzip_limit_bytes, self.max_request_bytes)
