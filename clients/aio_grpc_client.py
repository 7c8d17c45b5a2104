"""AsyncGrpcClient: GrpcClient's methods as coroutines, over one grpc.aio channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from grpc import aio

from clients import grpc_messages as messages
from clients.channel import TlsConfig, make_channel
from clients.client import DEFAULT_TIMEOUT, Features
from clients.errors import InvalidInputError, ModelNotFoundError, error_for_grpc_status
from clients.inputs import Inputs, name_inputs, needs_signature, with_signature_dtypes
from clients.request_log.calls import CallRecorder
from clients.retry import NO_RETRY, RetryPolicy, async_call_with_retries, deadline_after
from clients.signatures import (
    ModelMetadata,
    Signature,
    SignatureCache,
    VersionStatus,
    find_signature,
)
from clients.spec import ModelConfigSpec, ModelTarget
from wire import protos

if TYPE_CHECKING:
    from requestlog.writer import RequestLog

__all__ = ["AsyncGrpcClient"]


class AsyncGrpcClient:
    """GrpcClient for asyncio: the same arguments, results and errors, awaited.

    request_log logs a sample of the calls, as GrpcClient's does (the writer is a thread, so
    logging never waits on the event loop). Create it inside the running event loop that uses
    it, and close it there:
    ``async with AsyncGrpcClient("localhost:8500") as client: await client.predict(...)``.

    Raises:
        ValueError: for a timeout that is not positive or incomplete mTLS settings.
        OSError: if a PEM file cannot be read.
    """

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
        deadline_after(timeout)  # validates
        self.target, self.timeout, self.retry = target, timeout, retry or RetryPolicy()
        self.request_log = request_log
        self._signatures = SignatureCache()
        self._channel = make_channel(
            target, tls=tls, load_balancing=load_balancing, options=options, aio=True
        )
        self._stubs = {name: method.bind(self._channel) for name, method in protos.METHODS.items()}

    async def predict(
        self,
        model: str,
        inputs: Inputs,
        *,
        version: int | None = None,
        label: str | None = None,
        signature: str | None = None,
        output_filter: Sequence[str] | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> dict[str, np.ndarray]:
        """As GrpcClient.predict.

        Raises:
            The errors of GrpcClient.predict: ValueError, ModelNotFoundError,
            InvalidInputError, ResourceExhaustedError, ServerUnavailableError,
            DeadlineExceededError, ServerError.
        """
        call = CallRecorder(self.request_log, "grpc", request_id)
        target = ModelTarget(model, version, label, signature)
        deadline = self._deadline(timeout)
        try:
            sig = await self._signature(target, deadline) if needs_signature(inputs) else None
            named = with_signature_dtypes(name_inputs(inputs, sig), sig)
            request = messages.predict_request(target, named, output_filter)
            response = await self._call("Predict", request, deadline, call=call)
            outputs = messages.predict_outputs(response)
            call.log("predict", request, response)
            return outputs
        except (InvalidInputError, ModelNotFoundError):
            self._signatures.discard(target.address)  # the signature may have changed
            raise

    async def classify(
        self,
        model: str,
        examples: Sequence[Features],
        *,
        context: Features | None = None,
        version: int | None = None,
        label: str | None = None,
        signature: str | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> list[list[tuple[str, float]]]:
        """As GrpcClient.classify.

        Raises:
            The errors of GrpcClient.classify.
        """
        call = CallRecorder(self.request_log, "grpc", request_id)
        target = ModelTarget(model, version, label, signature)
        request = messages.examples_request(protos.ClassificationRequest, target, examples, context)
        response = await self._call("Classify", request, self._deadline(timeout), call=call)
        call.log("classify", request, response)
        return messages.classifications(response)

    async def regress(
        self,
        model: str,
        examples: Sequence[Features],
        *,
        context: Features | None = None,
        version: int | None = None,
        label: str | None = None,
        signature: str | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
    ) -> list[float]:
        """As GrpcClient.regress.

        Raises:
            The errors of GrpcClient.regress.
        """
        call = CallRecorder(self.request_log, "grpc", request_id)
        target = ModelTarget(model, version, label, signature)
        request = messages.examples_request(protos.RegressionRequest, target, examples, context)
        response = await self._call("Regress", request, self._deadline(timeout), call=call)
        call.log("regress", request, response)
        return messages.regressions(response)

    async def get_model_metadata(
        self,
        model: str,
        *,
        version: int | None = None,
        label: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Signature]:
        """As GrpcClient.get_model_metadata.

        Raises:
            The errors of GrpcClient.get_model_metadata.
        """
        described = await self.describe_model(model, version=version, label=label, timeout=timeout)
        return described.signatures

    async def describe_model(
        self,
        model: str,
        *,
        version: int | None = None,
        label: str | None = None,
        timeout: float | None = None,
    ) -> ModelMetadata:
        """As GrpcClient.describe_model.

        Raises:
            The errors of GrpcClient.describe_model.
        """
        target = ModelTarget(model, version, label)
        request = messages.metadata_request(target)
        response = await self._call("GetModelMetadata", request, self._deadline(timeout))
        metadata = messages.metadata(model, response)
        self._signatures.put(target, metadata.signatures)
        return metadata

    async def get_model_status(
        self, model: str, *, version: int | None = None, timeout: float | None = None
    ) -> list[VersionStatus]:
        """As GrpcClient.get_model_status.

        Raises:
            The errors of GrpcClient.get_model_status.
        """
        request = messages.status_request(ModelTarget(model, version))
        response = await self._call("GetModelStatus", request, self._deadline(timeout))
        return messages.version_statuses(response)

    async def reload_config(
        self, models: Sequence[ModelConfigSpec] | Any, *, timeout: float | None = None
    ) -> None:
        """As GrpcClient.reload_config; not retried.

        Raises:
            The errors of GrpcClient.reload_config.
        """
        request = messages.reload_request(models)
        deadline = self._deadline(timeout)
        response = await self._call("HandleReloadConfigRequest", request, deadline, NO_RETRY)
        error = messages.reload_status_error(response)
        if error is not None:
            raise error

    async def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        await self._channel.close()

    async def __aenter__(self) -> AsyncGrpcClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _deadline(self, timeout: float | None) -> float:
        return deadline_after(self.timeout if timeout is None else timeout)

    async def _signature(self, target: ModelTarget, deadline: float) -> Signature:
        signatures = self._signatures.get(target.address)
        if signatures is None:
            request = messages.metadata_request(target.address)
            response = await self._call("GetModelMetadata", request, deadline)
            signatures = messages.signatures(response)
            self._signatures.put(target.address, signatures)
        return find_signature(signatures, target.name, target.signature_name)

    async def _call(
        self,
        method: str,
        request: Any,
        deadline: float,
        retry: RetryPolicy | None = None,
        call: CallRecorder | None = None,
    ) -> Any:
        stub = self._stubs[method]
        metadata = call.grpc_metadata() if call is not None else None

        async def attempt(seconds_left: float) -> Any:
            try:
                return await stub(request, timeout=seconds_left, metadata=metadata)
            except aio.AioRpcError as err:
                raise error_for_grpc_status(err.code(), err.details() or "") from err

        return await async_call_with_retries(attempt, retry or self.retry, deadline)
