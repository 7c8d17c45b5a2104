"""Request logging from a model's logging_config (an extension: TF Serving's build has none).

With --enable_request_logging_extension, a model's
``logging_config { log_collector_config { type: "tfrecord" filename_prefix: "/logs/name" }
sampling_config { sampling_rate: 0.1 } }`` makes the server log a sample of that model's
successful predict, classify and regress calls, over REST and gRPC, as PredictionLog records
in `/logs/name-<UTC time>-<pid>-<n>.tfrecord` files: the format of the client library's
request logs (the requestlog package), written by the same writer, off the request path.
The request id is the caller's `X-Request-Id` header or `x-request-id` gRPC metadata, else a
random one. per_task_sampling_configs and custom_logging_config are ignored.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tensorflow_serving.apis import (
    classification_pb2,
    model_pb2,
    predict_pb2,
    regression_pb2,
)
from tensorflow_serving.config import model_server_config_pb2

from requestlog import REQUEST_ID_METADATA, RequestLog
from server.calls import SpecChoice
from server.servable import DEFAULT_SIGNATURE
from wire import protos

log = logging.getLogger(__name__)

TFRECORD_COLLECTOR = "tfrecord"
REQUEST_ID_KEY = REQUEST_ID_METADATA  # gRPC metadata key; the HTTP header, lower-cased
# gRPC API -> the request log's call kind
LOGGED_APIS = {"Predict": "predict", "Classify": "classify", "Regress": "regress"}
_CLIENT_MESSAGES = {
    "predict": (protos.PredictRequest, protos.PredictResponse),
    "classify": (protos.ClassificationRequest, protos.ClassificationResponse),
    "regress": (protos.RegressionRequest, protos.RegressionResponse),
}
ToProto = Callable[[np.ndarray], Any]


def without_logging_configs(
    config: model_server_config_pb2.ModelServerConfig,
) -> model_server_config_pb2.ModelServerConfig:
    """A copy of config with every model's logging_config cleared (what the repository serves)."""
    served = model_server_config_pb2.ModelServerConfig()
    served.CopyFrom(config)
    for entry in served.model_config_list.config:
        entry.ClearField("logging_config")
    return served


def _as_client_messages(kind: str, request: Any, response: Any) -> tuple[Any, Any]:
    request_class, response_class = _CLIENT_MESSAGES[kind]
    return (
        request_class.FromString(request.SerializeToString()),
        response_class.FromString(response.SerializeToString()),
    )


def _fill_spec(spec: model_pb2.ModelSpec, choice: SpecChoice, signature: str) -> None:
    name, version, label = choice
    spec.name = name
    if version is not None:
        spec.version.value = version
    elif label:
        spec.version_label = label
    if signature:
        spec.signature_name = signature


class RequestLoggers:
    """One RequestLog per model whose config asks for logging; replaced when the config changes."""

    def __init__(
        self, on_record: Callable[[str, str], None] | None = None, folder: Path = Path("/")
    ) -> None:
        """on_record(model name, outcome) is told every record count (see RequestLog); every
        log is written under folder (--request_log_dir; server.config_rules checks it)."""
        self.folder = folder
        self._lock = threading.Lock()
        self._logs: dict[str, tuple[tuple[str, float], RequestLog]] = {}
        self._on_record = on_record

    def apply(self, config: model_server_config_pb2.ModelServerConfig) -> None:
        """Log the models of config that have a logging_config, and only those."""
        wanted = {}
        for entry in config.model_config_list.config:
            if entry.HasField("logging_config"):
                logging_config = entry.logging_config
                prefix = logging_config.log_collector_config.filename_prefix
                wanted[entry.name] = (prefix, logging_config.sampling_config.sampling_rate)
        with self._lock:
            stale = [
                request_log
                for name, (settings, request_log) in self._logs.items()
                if wanted.get(name) != settings
            ]
            kept = {n: v for n, v in self._logs.items() if wanted.get(n) == v[0]}
            for name, (prefix, rate) in wanted.items():
                if name not in kept:
                    path = Path(prefix)
                    on_count = (
                        None
                        if self._on_record is None
                        else functools.partial(self._on_record, name)
                    )
                    request_log = RequestLog(
                        path.parent, sampling_rate=rate, prefix=path.name, on_count=on_count
                    )
                    kept[name] = ((prefix, rate), request_log)
                    log.info("logging %.4g of the requests to %s to %s-*", rate, name, prefix)
            self._logs = kept
        for request_log in stale:
            request_log.close()

    def close(self) -> None:
        """Finish every log's file."""
        with self._lock:
            logs, self._logs = self._logs, {}
        for _, request_log in logs.values():
            request_log.close()

    def _sampled(self, model: str) -> RequestLog | None:
        found = self._logs.get(model)
        if found is None or not found[1].should_sample():
            return None
        return found[1]

    @staticmethod
    def _submit(
        request_log: RequestLog,
        kind: str,
        build: Callable[[], tuple[Any, Any]],
        request_id: str | None,
        transport: str,
        started: float,
    ) -> None:
        latency = time.perf_counter() - started
        request_log.submit_later(
            kind,  # type: ignore[arg-type]
            build,
            request_id=request_id or uuid.uuid4().hex,
            timestamp=time.time() - latency,
            latency=latency,
            transport=transport,
        )

    def log(
        self,
        model: str,
        kind: str,
        build: Callable[[], tuple[Any, Any]],
        request_id: Callable[[], str | None],
        transport: str,
        started: float,
    ) -> None:
        """Log a successful call to model if it logs and the call is sampled.

        build() makes the call's (request, response) TF Serving messages, on the log's writer
        thread; request_id() reads the caller's id; started is the call's time.perf_counter().
        """
        request_log = self._sampled(model)
        if request_log is None:
            return
        self._submit(
            request_log,
            kind,
            lambda: _as_client_messages(kind, *build()),
            request_id(),
            transport,
            started,
        )


def predict_messages(
    choice: SpecChoice,
    signature: str,
    inputs: Mapping[str, np.ndarray],
    outputs: Mapping[str, np.ndarray],
    served_version: int,
    to_proto: ToProto,
) -> tuple[Any, Any]:
    """A predict call that did not arrive as messages (REST) as the messages it stands for."""
    request = predict_pb2.PredictRequest()
    _fill_spec(request.model_spec, choice, signature)
    response = predict_pb2.PredictResponse()
    _fill_spec(response.model_spec, (choice[0], served_version, None), signature)
    response.model_spec.signature_name = signature or DEFAULT_SIGNATURE
    for name, array in inputs.items():
        request.inputs[name].CopyFrom(to_proto(array))
    for name, array in outputs.items():
        response.outputs[name].CopyFrom(to_proto(array))
    return request, response


def examples_messages(
    kind: str,
    choice: SpecChoice,
    signature: str,
    examples: list[bytes],
    result: Any,
    served_version: int,
    fill_result: Callable[[Any, Any], None],
) -> tuple[Any, Any]:
    """A classify or regress call that did not arrive as messages (REST) as its messages.

    examples are serialized tf.Examples (context merged in); fill_result(response.result,
    result) writes the answer into the response message.
    """
    request_class, response_class = {
        "classify": (
            classification_pb2.ClassificationRequest,
            classification_pb2.ClassificationResponse,
        ),
        "regress": (regression_pb2.RegressionRequest, regression_pb2.RegressionResponse),
    }[kind]
    request, response = request_class(), response_class()
    _fill_spec(request.model_spec, choice, signature)
    _fill_spec(response.model_spec, (choice[0], served_version, None), signature)
    response.model_spec.signature_name = signature or DEFAULT_SIGNATURE
    listed = request.input.example_list.examples
    for serialized in examples:
        listed.add().ParseFromString(serialized)
    fill_result(response.result, result)
    return request, response
