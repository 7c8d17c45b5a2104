"""RestClient: TF Serving's REST API (/v1/models/...) over one requests.Session."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import requests

from clients import rest_json
from clients.client import DEFAULT_TIMEOUT, Features, ServingClient
from clients.errors import (
    DeadlineExceededError,
    InvalidInputError,
    ServerError,
    ServerUnavailableError,
    ServingClientError,
    error_for_http_status,
)
from clients.inputs import Inputs, name_inputs, with_signature_dtypes
from clients.request_log.calls import CallRecorder
from clients.retry import RetryPolicy, call_with_retries
from clients.signatures import (
    ModelMetadata,
    VersionStatus,
    metadata_from_json,
    statuses_from_json,
)
from clients.spec import ModelTarget

if TYPE_CHECKING:
    from requestlog.writer import RequestLog

__all__ = ["RestClient"]


def _error_for_request_exception(err: requests.RequestException) -> ServingClientError:
    if isinstance(err, requests.Timeout):  # before ConnectionError: ConnectTimeout is both
        return DeadlineExceededError(str(err))
    if isinstance(err, requests.ConnectionError):  # refused, reset, DNS, TLS handshake
        return ServerUnavailableError(str(err))
    return ServingClientError(str(err))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as err:
        raise ServerError(f"the server's answer is not JSON: {body[:200]!r}") from err


def _messages() -> Any:
    # Imported on the request log's writer thread, so a client that logs nothing never loads
    # the gRPC messages.
    from clients.request_log import rest_messages

    return rest_messages


def _float32(value: float) -> float:
    # The server's float32 value as gRPC delivers it, not the shortest decimal printing it.
    return float(np.float32(value))


class RestClient(ServingClient):
    """A TF Serving REST client, e.g. RestClient("http://localhost:8501").

    For https, verify is True (system CAs), False, or a CA bundle path; cert is a client
    certificate path, or a (certificate, key) pair of paths, for servers or proxies that
    ask for one. One requests.Session, so connections are kept alive and reused.
    Predict reads the signature's metadata once (cached) to name and type the outputs,
    since JSON carries neither a single output's name nor dtypes. request_log logs a sample
    of the calls (see ServingClient); REST answers do not name the version that served, so
    the version or label asked for is logged. A sampled call's values are converted on the
    log's thread: do not change input arrays in place until the log has written them.

    Raises:
        ValueError: for a timeout that is not positive.
    """

    transport = "rest"

    def __init__(
        self,
        url: str = "http://localhost:8501",
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        request_log: RequestLog | None = None,
    ) -> None:
        super().__init__(timeout, retry, request_log)
        self.url = url.rstrip("/") if "://" in url else f"http://{url.rstrip('/')}"
        self._session = requests.Session()
        # Passed with each request: requests lets REQUESTS_CA_BUNDLE override Session.verify.
        self._tls: dict[str, Any] = {"verify": verify, "cert": cert}

    def close(self) -> None:
        """Close the session's pooled connections."""
        self._session.close()

    def _call(
        self,
        method: str,
        path: str,
        deadline: float,
        body: bytes | None = None,
        call: CallRecorder | None = None,
    ) -> bytes:
        url = self.url + path
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if call is not None:
            headers.update(call.http_headers())

        def attempt(seconds_left: float) -> bytes:
            try:
                response = self._session.request(
                    method, url, data=body, headers=headers, timeout=seconds_left, **self._tls
                )
                response.raise_for_status()
            except requests.HTTPError as err:
                status, content = err.response.status_code, err.response.content
                message = rest_json.decode_error(content) or content.decode(errors="replace")
                raise error_for_http_status(status, message) from err
            except requests.RequestException as err:
                raise _error_for_request_exception(err) from err
            return response.content

        return call_with_retries(attempt, self.retry, deadline)

    def _predict(
        self,
        target: ModelTarget,
        inputs: Inputs,
        output_filter: Sequence[str] | None,
        deadline: float,
        call: CallRecorder,
    ) -> dict[str, np.ndarray]:
        signature = self._signature(target, deadline)
        named = name_inputs(inputs, signature)
        body = rest_json.encode_predict_request(named, target.signature)
        answer = self._call("POST", f"{target.rest_path()}:predict", deadline, body, call)
        dtypes = {name: info["dtype"] for name, info in signature["outputs"].items()}
        try:
            outputs = rest_json.decode_predict_response(answer, dtypes, list(dtypes))
        except ValueError as err:
            raise ServerError(f"malformed predict response: {err}") from err
        if output_filter:
            unknown = sorted(set(output_filter) - set(outputs))
            if unknown:  # gRPC's server-side check, which the REST API lacks
                raise InvalidInputError(
                    f"output tensor alias not found in signature: {', '.join(unknown)} "
                    f"Outputs expected to be in the set {{{','.join(sorted(outputs))}}}."
                )
            outputs = {name: outputs[name] for name in output_filter}
        call.log_later(
            "predict",
            lambda: _messages().predict_messages(
                target, with_signature_dtypes(named, signature), output_filter, outputs
            ),
        )
        return outputs

    def _examples(
        self,
        verb: str,
        target: ModelTarget,
        examples: Sequence[Features],
        context: Features | None,
        deadline: float,
        call: CallRecorder,
    ) -> bytes:
        body = rest_json.encode_examples(examples, context, target.signature)
        return self._call("POST", f"{target.rest_path()}:{verb}", deadline, body, call)

    def _classify(
        self,
        target: ModelTarget,
        examples: Sequence[Features],
        context: Features | None,
        deadline: float,
        call: CallRecorder,
    ) -> list[list[tuple[str, float]]]:
        answer = self._examples("classify", target, examples, context, deadline, call)
        try:
            decoded = rest_json.decode_classify_response(answer)
        except ValueError as err:
            raise ServerError(f"malformed classify response: {err}") from err
        results = [[(label, _float32(score)) for label, score in pairs] for pairs in decoded]
        call.log_later(
            "classify",
            lambda: _messages().classify_messages(target, examples, context, results),
        )
        return results

    def _regress(
        self,
        target: ModelTarget,
        examples: Sequence[Features],
        context: Features | None,
        deadline: float,
        call: CallRecorder,
    ) -> list[float]:
        answer = self._examples("regress", target, examples, context, deadline, call)
        try:
            values = [_float32(v) for v in rest_json.decode_regress_response(answer)]
        except ValueError as err:
            raise ServerError(f"malformed regress response: {err}") from err
        call.log_later(
            "regress", lambda: _messages().regress_messages(target, examples, context, values)
        )
        return values

    def _metadata(self, target: ModelTarget, deadline: float) -> ModelMetadata:
        answer = self._call("GET", f"{target.rest_path()}/metadata", deadline)
        return metadata_from_json(target.name, _json(answer))

    def _status(self, target: ModelTarget, deadline: float) -> list[VersionStatus]:
        return statuses_from_json(_json(self._call("GET", target.rest_path(), deadline)))
