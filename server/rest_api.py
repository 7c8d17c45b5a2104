"""The REST edge: TF Serving's /v1 URL grammar, decoded to core calls and encoded back to JSON."""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import tensorflow as tf
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_status_pb2

from server import inference, rest_json
from server.core import ServingCore, fill_classifications, metadata_signature_map
from server.errors import Code, ServingError, invalid_argument
from server.http.messages import Request, Response
from server.servable import Servable
from server.tensors import to_proto

JSON = "application/json"
INT64_MAX = 2**63 - 1
POST_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
    re.IGNORECASE,
)
GET_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.IGNORECASE,
)
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "POST, GET"),
    ("Access-Control-Allow-Headers", "Content-Type"),
)
ORIGIN = re.compile(r"https?://")


@functools.lru_cache(maxsize=256)
def _input_specs(servable: Servable, signature: str) -> dict[str, rest_json.InputSpec]:
    info = servable.signature_defs[signature].inputs
    return {
        alias: rest_json.InputSpec.for_numpy(tf.dtypes.as_dtype(tensor.dtype).as_numpy_dtype)
        for alias, tensor in info.items()
    }


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    value = int(text)
    if value > INT64_MAX:
        raise invalid_argument(f"Failed to convert version: {text} to numeric.")
    return value


def _spec(name: str, version: str | None, label: str | None) -> tuple[str, int | None, str | None]:
    return name, _version(version), unquote(label) if label else None


def _fill_regressions(result: Any, values: list[float]) -> None:
    for value in values:
        result.regressions.add(value=value)


class RestApi:
    """The handler behind every /v1 request; one instance per server."""

    def __init__(self, core: ServingCore, timeout_ms: int = 30000, cors: bool = False) -> None:
        self._core = core
        self._timeout_ms = timeout_ms
        self._cors = cors

    def __call__(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        started = time.perf_counter()
        model, api = "", ""
        try:
            model, api, work = self._route(request)
            body = work()
            status, code = 200, Code.OK
        except ServingError as err:
            status, code, body = err.http_status, err.code, rest_json.encode_error(err.message)
        self._core.record(model, api, "REST", code, started)
        return Response(status, body, JSON, CORS_HEADERS if self._cors else ())

    def _preflight(self, request: Request) -> Response:
        headers = CORS_HEADERS if self._cors else ()
        if ORIGIN.match(request.headers.get("origin", "")):
            return Response(200, b"", None, headers)
        return Response(400, b"", None, headers)

    def _route(self, request: Request) -> tuple[str, str, Callable[[], bytes]]:
        """(model name, API label, the work to do); the name is known even when the work fails.

        Raises:
            ServingError: INVALID_ARGUMENT `Malformed request` for anything the grammar rejects.
        """
        target, method = request.target, request.method
        malformed = invalid_argument(f"Malformed request: {method} {target}")
        if method == "POST" and (match := POST_PATH.fullmatch(target)):
            name, version, label, verb = match.groups()
            name = unquote(name)
            handlers = {
                "predict": self._predict,
                "classify": self._classify,
                "regress": self._classify,
            }
            if verb not in handlers:
                raise malformed
            work = handlers[verb]
            return name, verb, lambda: work(_spec(name, version, label), request, verb)
        if method == "GET" and (match := GET_PATH.fullmatch(target)):
            name, version, label, metadata = match.groups()
            name = unquote(name) if name else ""
            if not name:
                raise invalid_argument("Missing model name in request.")
            work = self._metadata if metadata == "metadata" else self._status
            return name, "", lambda: work(_spec(name, version, label))
        raise malformed

    def _predict(self, spec: tuple, request: Request, verb: str) -> bytes:
        started = time.perf_counter()
        doc = rest_json.parse_body(request.body)
        signature = rest_json.signature_name_of(doc)
        with self._core.repository.acquire(*spec) as servable:
            if servable.signature(signature) is None:
                raise invalid_argument(
                    f'Serving signature name: "{signature}" not found in signature def'
                )
            specs = _input_specs(servable, signature)
            if not specs:
                raise invalid_argument(
                    f"Failed to get input map for signature: {signature or 'DEFAULT'}"
                )
            inputs, fmt = rest_json.decode_predict_request(doc, specs)
            run = self._core.timed_run(servable, "predict", fixed_timeout_ms=self._timeout_ms)
            outputs = inference.predict(servable.signature_defs, run, signature, inputs)
            if self._core.request_logs is not None:
                self._core.request_logs.log_rest_predict(
                    spec,
                    signature,
                    inputs,
                    outputs,
                    servable.version,
                    request.headers,
                    started,
                    to_proto,
                )
        return rest_json.encode_predict_response(outputs, fmt)

    def _classify(self, spec: tuple, request: Request, verb: str) -> bytes:
        started = time.perf_counter()
        doc = rest_json.parse_body(request.body)
        signature = rest_json.signature_name_of(doc)
        examples, context = rest_json.decode_examples(doc, verb)
        examples = rest_json.merge_context(examples, context)
        with self._core.repository.acquire(*spec) as servable:
            run = self._core.timed_run(servable, verb, fixed_timeout_ms=self._timeout_ms)
            if verb == "classify":
                result = inference.classify(servable.signature_defs, run, signature, examples)
                fill_result, body = fill_classifications, rest_json.encode_classify_response(result)
            else:
                result = inference.regress(servable.signature_defs, run, signature, examples)
                fill_result, body = _fill_regressions, rest_json.encode_regress_response(result)
            if self._core.request_logs is not None:
                self._core.request_logs.log_rest_examples(
                    verb,
                    spec,
                    signature,
                    examples,
                    result,
                    servable.version,
                    request.headers,
                    started,
                    fill_result,
                )
            return body

    def _metadata(self, spec: tuple) -> bytes:
        with self._core.repository.acquire(*spec) as servable:
            signatures = metadata_signature_map(servable.signature_defs)
            version = servable.version
        document = {
            "model_spec": {"name": spec[0], "signature_name": "", "version": str(version)},
            "metadata": {
                "signature_def": json_format.MessageToDict(
                    signatures,
                    preserving_proto_field_name=True,
                    always_print_fields_with_no_presence=True,
                )
            },
        }
        return json.dumps(document, indent=2).encode()

    def _status(self, spec: tuple) -> bytes:
        name, version, _label = spec  # TF Serving ignores the label here (contract 0.6)
        response = get_model_status_pb2.GetModelStatusResponse()
        for state in self._core.repository.status(name, version):
            item = response.model_version_status.add(version=state.version)
            item.state = get_model_status_pb2.ModelVersionStatus.State.Value(state.state)
            code, message = state.status
            item.status.error_code = int(code)
            item.status.error_message = message
        text = json_format.MessageToJson(response, always_print_fields_with_no_presence=True)
        return text.encode()
