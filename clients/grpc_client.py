"""GrpcClient: TF Serving's PredictionService and ModelService over one gRPC channel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
import numpy as np

from clients import grpc_messages as messages
from clients.channel import TlsConfig, make_channel
from clients.client import DEFAULT_TIMEOUT, Features, ServingClient
from clients.errors import error_for_grpc_status
from clients.inputs import Inputs, name_inputs, needs_signature, with_signature_dtypes
from clients.request_log.calls import CallRecorder
from clients.retry import NO_RETRY, RetryPolicy, call_with_retries
from clients.signatures import ModelMetadata, VersionStatus
from clients.spec import ModelConfigSpec, ModelTarget
from wire import protos

if TYPE_CHECKING:
    from requestlog.writer import RequestLog

__all__ = ["GrpcClient"]


class GrpcClient(ServingClient):
    """A TF Serving gRPC client, e.g. GrpcClient("localhost:8500").

    target is any gRPC target: "host:port", "dns:///svc.ns.svc.cluster.local:8500" with
    load_balancing="round_robin" to spread calls over every address (a headless Service),
    or "ipv4:10.0.0.1:8500,10.0.0.2:8500". tls turns on TLS (mTLS with a client
    certificate); options are extra gRPC channel arguments, which win over the defaults.
    request_log logs a sample of the calls (see ServingClient). Thread-safe; one channel,
    so connections are reused.

    Raises:
        ValueError: for a timeout that is not positive or incomplete mTLS settings.
        OSError: if a PEM file cannot be read.
    """

    transport = "grpc"

    def __init__(
        self,
        target: str = "localhost:8500",
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        tls: TlsConfig | None = None,
        load_balancing: str | None = None,
        options: Sequence[tuple[str, Any]] = (),
        request_log: RequestLog | None = None,
    ) -> None:
        super().__init__(timeout, retry, request_log)
        self.target = target
        self._channel = make_channel(
            target, tls=tls, load_balancing=load_balancing, options=options
        )
        self._stubs = {name: method.bind(self._channel) for name, method in protos.METHODS.items()}

    def reload_config(
        self, models: Sequence[ModelConfigSpec] | Any, *, timeout: float | None = None
    ) -> None:
        """Replace the served models (HandleReloadConfigRequest); models left out are unloaded.

        models is a list of ModelConfigSpec or a protos.ModelServerConfig. The server answers
        once the new models are available. Not retried: it is not idempotent.

        Raises:
            ValueError: a timeout that is not positive.
            InvalidInputError: the server refused the config.
            ServerError: a model failed to load (UNKNOWN), or another server failure.
            ServerUnavailableError: no server answered (no retry).
            DeadlineExceededError: the deadline passed (the reload may still complete).
        """
        request = messages.reload_request(models)
        response = self._call(
            "HandleReloadConfigRequest", request, self._deadline(timeout), NO_RETRY
        )
        error = messages.reload_status_error(response)
        if error is not None:
            raise error

    def send(self, method: str, request: Any, *, timeout: float | None = None) -> Any:
        """Call a TF Serving gRPC method ("Predict", "Classify", "Regress", "MultiInference",
        "GetModelMetadata", "GetModelStatus", ...) with a request message built beforehand
        (a wire.protos message, or any message that serializes the same); returns the response
        message. For callers that build a request once and send it many times, such as a load
        test: nothing is converted per call. Retried as the client's retry policy says; not
        request-logged.

        Raises:
            ValueError: an unknown method, or a timeout that is not positive.
            ServingClientError: a subclass for the server's status (message is its text),
                e.g. InvalidInputError, ServerUnavailableError, DeadlineExceededError.
        """
        if method not in self._stubs:
            known = ", ".join(sorted(self._stubs))
            raise ValueError(f"unknown TF Serving gRPC method {method!r}; known: {known}")
        return self._call(method, request, self._deadline(timeout))

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        self._channel.close()

    def _call(
        self,
        method: str,
        request: Any,
        deadline: float,
        retry: RetryPolicy | None = None,
        call: CallRecorder | None = None,
    ) -> Any:
        stub: Callable[..., Any] = self._stubs[method]
        metadata = call.grpc_metadata() if call is not None else None

        def attempt(seconds_left: float) -> Any:
            try:
                return stub(request, timeout=seconds_left, metadata=metadata)
            except grpc.RpcError as err:
                raise error_for_grpc_status(err.code(), err.details() or "") from err

        return call_with_retries(attempt, retry or self.retry, deadline)

    def _predict(
        self,
        target: ModelTarget,
        inputs: Inputs,
        output_filter: Sequence[str] | None,
        deadline: float,
        call: CallRecorder,
    ) -> dict[str, np.ndarray]:
        signature = self._signature(target, deadline) if needs_signature(inputs) else None
        named = with_signature_dtypes(name_inputs(inputs, signature), signature)
        request = messages.predict_request(target, named, output_filter)
        response = self._call("Predict", request, deadline, call=call)
        outputs = messages.predict_outputs(response)
        call.log("predict", request, response)
        return outputs

    def _classify(
        self,
        target: ModelTarget,
        examples: Sequence[Features],
        context: Features | None,
        deadline: float,
        call: CallRecorder,
    ) -> list[list[tuple[str, float]]]:
        request = messages.examples_request(protos.ClassificationRequest, target, examples, context)
        response = self._call("Classify", request, deadline, call=call)
        call.log("classify", request, response)
        return messages.classifications(response)

    def _regress(
        self,
        target: ModelTarget,
        examples: Sequence[Features],
        context: Features | None,
        deadline: float,
        call: CallRecorder,
    ) -> list[float]:
        request = messages.examples_request(protos.RegressionRequest, target, examples, context)
        response = self._call("Regress", request, deadline, call=call)
        call.log("regress", request, response)
        return messages.regressions(response)

    def _metadata(self, target: ModelTarget, deadline: float) -> ModelMetadata:
        request = messages.metadata_request(target)
        return messages.metadata(target.name, self._call("GetModelMetadata", request, deadline))

    def _status(self, target: ModelTarget, deadline: float) -> list[VersionStatus]:
        request = messages.status_request(target)
        return messages.version_statuses(self._call("GetModelStatus", request, deadline))
