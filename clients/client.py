"""The interface GrpcClient and RestClient share: same methods, arguments, results and errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from clients.errors import InvalidInputError, ModelNotFoundError
from clients.inputs import Inputs
from clients.request_log.calls import CallRecorder
from clients.retry import RetryPolicy, deadline_after
from clients.signatures import (
    ModelMetadata,
    Signature,
    SignatureCache,
    VersionStatus,
    find_signature,
)
from clients.spec import ModelTarget

if TYPE_CHECKING:
    from requestlog.writer import RequestLog

__all__ = ["DEFAULT_TIMEOUT", "ServingClient"]

DEFAULT_TIMEOUT = 10.0
Features = Mapping[str, Any]


class ServingClient(ABC):
    """A TF Serving client; switching GrpcClient for RestClient changes nothing else.

    Every call has a deadline (timeout seconds, the client's unless given per call) and
    retries, within it, calls that found no server. Use it as a context manager, or close it.
    With a request_log, a sample of the successful predict, classify and regress calls is
    logged; a call's request_id (given, or made up when it is sampled) is sent to the server
    as the X-Request-Id header or x-request-id gRPC metadata.
    """

    transport = ""

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        deadline_after(timeout)  # validates
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.request_log = request_log
        self._signatures = SignatureCache()

    def predict(
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
        """Run a predict signature: {input alias: array} (or one array) -> {output alias: array}.

        Inputs may be numpy arrays, lists, Python scalars, bytes or str; lists take the
        signature's dtype. output_filter limits the outputs returned. request_id names the
        call in request logs (client's and server's), e.g. to join labels known later.

        Raises:
            ValueError: both version and label given, a timeout not positive, a bare value
                for a signature with several inputs, values that cannot be encoded, or an
                empty request_id.
            ModelNotFoundError: the model or version is not served.
            InvalidInputError: the server refused the inputs, signature, label or filter.
            ResourceExhaustedError: the request is over the server's size limit or quota.
            ServerUnavailableError: no server answered, after bounded retries.
            DeadlineExceededError: the deadline passed.
            ServerError: the server failed.
        """
        call = CallRecorder(self.request_log, self.transport, request_id)
        target = ModelTarget(model, version, label, signature)
        deadline = self._deadline(timeout)
        try:
            return self._predict(target, inputs, output_filter, deadline, call)
        except (InvalidInputError, ModelNotFoundError):
            self._signatures.discard(target.address)  # the signature may have changed
            raise

    def classify(
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
        """Classify examples given as {feature: value} dicts: (label, score) pairs per example.

        context holds features common to every example. request_id as for predict.

        Raises:
            ValueError: both version and label given, a timeout not positive, a feature
                value that is not a number, string or flat list of them, or an empty
                request_id.
            ModelNotFoundError: the model or version is not served.
            InvalidInputError: the server refused the examples, signature or label.
            ResourceExhaustedError: the request is over the server's size limit or quota.
            ServerUnavailableError: no server answered, after bounded retries.
            DeadlineExceededError: the deadline passed.
            ServerError: the server failed.
        """
        call = CallRecorder(self.request_log, self.transport, request_id)
        target = ModelTarget(model, version, label, signature)
        return self._classify(target, examples, context, self._deadline(timeout), call)

    def regress(
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
        """Regress examples given as {feature: value} dicts: one value per example.

        Raises:
            The errors of classify.
        """
        call = CallRecorder(self.request_log, self.transport, request_id)
        target = ModelTarget(model, version, label, signature)
        return self._regress(target, examples, context, self._deadline(timeout), call)

    def get_model_metadata(
        self,
        model: str,
        *,
        version: int | None = None,
        label: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Signature]:
        """The model's signatures: {name: {"inputs": ..., "outputs": ..., "method_name": ...}}.

        Each input and output is {"dtype": "DT_FLOAT", "shape": [-1, 3]} (shape None when
        its rank is unknown).

        Raises:
            ValueError: both version and label given, or a timeout not positive.
            ModelNotFoundError: the model or version is not served.
            InvalidInputError: the label is unknown.
            ServerUnavailableError: no server answered, after bounded retries.
            DeadlineExceededError: the deadline passed.
            ServerError: the server failed or answered something else than metadata.
        """
        return self.describe_model(model, version=version, label=label, timeout=timeout).signatures

    def describe_model(
        self,
        model: str,
        *,
        version: int | None = None,
        label: str | None = None,
        timeout: float | None = None,
    ) -> ModelMetadata:
        """GetModelMetadata in full: the version that answered (which is how a label, or the
        latest when neither is given, resolves) and its signatures.

        Raises:
            The errors of get_model_metadata; ServerError also when the answer holds no version.
        """
        target = ModelTarget(model, version, label)
        metadata = self._metadata(target, self._deadline(timeout))
        self._signatures.put(target, metadata.signatures)
        return metadata

    def get_model_status(
        self, model: str, *, version: int | None = None, timeout: float | None = None
    ) -> list[VersionStatus]:
        """The state of each version the server knows (all, or the given one), newest first.

        Raises:
            ValueError: a timeout not positive.
            ModelNotFoundError: the server knows no version of the model (or not this one).
            ServerUnavailableError: no server answered, after bounded retries.
            DeadlineExceededError: the deadline passed.
            ServerError: the server failed or answered something else than a status.
        """
        target = ModelTarget(model, version)
        return self._status(target, self._deadline(timeout))

    @abstractmethod
    def close(self) -> None:
        """Release the connection(s). The client cannot be used afterwards."""

    def __enter__(self) -> ServingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _deadline(self, timeout: float | None) -> float:
        return deadline_after(self.timeout if timeout is None else timeout)

    def _signature(self, target: ModelTarget, deadline: float) -> Signature:
        """The target's signature, from the cache or the server's metadata.

        Raises:
            InvalidInputError: the model has no such signature; or as get_model_metadata.
        """
        signatures = self._signatures.get(target.address)
        if signatures is None:
            signatures = self._metadata(target.address, deadline).signatures
            self._signatures.put(target.address, signatures)
        return find_signature(signatures, target.name, target.signature_name)

    @abstractmethod
    def _predict(
        self,
        target: ModelTarget,
        inputs: Inputs,
        output_filter: Sequence[str] | None,
        deadline: float,
        call: CallRecorder,
    ) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def _classify(
        self,
        target: ModelTarget,
        examples: Sequence[Features],
        context: Features | None,
        deadline: float,
        call: CallRecorder,
    ) -> list[list[tuple[str, float]]]: ...

    @abstractmethod
    def _regress(
        self,
        target: ModelTarget,
        examples: Sequence[Features],
        context: Features | None,
        deadline: float,
        call: CallRecorder,
    ) -> list[float]: ...

    @abstractmethod
    def _metadata(self, target: ModelTarget, deadline: float) -> ModelMetadata: ...

    @abstractmethod
    def _status(self, target: ModelTarget, deadline: float) -> list[VersionStatus]: ...
