"""The REST edge: TF Serving's /v1 URL grammar, decoded to core calls and encoded back to JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.protobuf import meta_graph_pb2

from server import rest_json
from server.calls import Answer, Call, SpecChoice
from server.core import ServingCore, fill_classifications, metadata_signature_map
from server.errors import ServingError, internal_error, invalid_argument
from server.http.messages import Request, Response
from server.request_logging import REQUEST_ID_KEY, examples_messages, predict_messages
from server.tensors import to_proto

JSON = "application/json"
INT64_MAX = 2**63 - 1
# Digits a version may have before it is refused unread (int64's maximum has 19); a longer
# one is quoted only this far in the error.
_VERSION_DIGITS = 32
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


# A loaded version's SignatureDefs live as long as it does; their JSON input specs are worked
# out once. Keyed by identity (messages are not hashable), the message kept to check it.
_SPECS: dict[int, tuple[meta_graph_pb2.SignatureDef, dict[str, rest_json.InputSpec]]] = {}


def _input_specs(signature: meta_graph_pb2.SignatureDef) -> dict[str, rest_json.InputSpec]:
    known = _SPECS.get(id(signature))
    if known is not None and known[0] is signature:
        return known[1]
    specs = {
        alias: rest_json.InputSpec.for_numpy(tf.dtypes.as_dtype(tensor.dtype).as_numpy_dtype)
        for alias, tensor in signature.inputs.items()
    }
    if len(_SPECS) >= 256:
        _SPECS.clear()
    _SPECS[id(signature)] = (signature, specs)
    return specs


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    # Leading zeros aside, more than 19 digits is beyond int64; Python's int() refuses
    # thousands of digits with its own error, so a long text is never converted.
    digits = text.lstrip("0") or "0"
    if len(digits) > _VERSION_DIGITS or (value := int(digits)) > INT64_MAX:
        quoted = text if len(text) <= _VERSION_DIGITS else f"{text[:_VERSION_DIGITS]}..."
        raise invalid_argument(f"Failed to convert version: {quoted} to numeric.")
    return value


def _spec(name: str, version: str | None, label: str | None) -> SpecChoice:
    return name, _version(version), unquote(label) if label else None


def _malformed(request: Request) -> ServingError:
    return invalid_argument(f"Malformed request: {request.method} {request.target}")


def _fill_regressions(result: Any, values: list[float]) -> None:
    for value in values:
        result.regressions.add(value=value)


class RestApi:
    """The handler behind every /v1 request; one instance per server."""

    def __init__(
        self,
        core: ServingCore,
        timeout_ms: int = 30000,
        cors: bool = False,
        max_tensor_bytes: int | None = None,
    ) -> None:
        self._core = core
        self._timeout_ms = timeout_ms
        self._cors = cors
        self._max_tensor_bytes = max_tensor_bytes

    def __call__(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        call = Call(
            "",
            "REST",
            timeout_ms=self._timeout_ms,
            request_id=lambda: request.headers.get(REQUEST_ID_KEY),
        )

        def work() -> bytes:
            try:
                call.model, call.api, handle = self._route(request)
                return handle(call)
            except ServingError:
                raise
            except Exception as err:
                raise internal_error(f"REST {request.method} {request.target[:200]}") from err

        try:
            status, body = 200, self._core.serve(call, work)
        except ServingError as err:
            status, body = err.http_status, rest_json.encode_error(err.message)
        return Response(status, body, JSON, CORS_HEADERS if self._cors else ())

    def _preflight(self, request: Request) -> Response:
        headers = CORS_HEADERS if self._cors else ()
        if ORIGIN.match(request.headers.get("origin", "")):
            return Response(200, b"", None, headers)
        return Response(400, b"", None, headers)

    def _route(self, request: Request) -> tuple[str, str, Callable[[Call], bytes]]:
        """(model name, API label, the work to do); the name is known even when the work fails.

        Raises:
            ServingError: INVALID_ARGUMENT `Malformed request` for anything the grammar rejects.
        """
        target, method = request.target, request.method
        if method == "POST" and (match := POST_PATH.fullmatch(target)):
            name, version, label, verb = match.groups()
            name = unquote(name)
            spec = _spec(name, version, label)
            if verb == "predict":
                return name, verb, lambda call: self._predict(call, spec, request)
            if verb in ("classify", "regress"):
                return name, verb, lambda call: self._examples(call, spec, request, verb)
            raise _malformed(request)
        if method == "GET" and (match := GET_PATH.fullmatch(target)):
            name, version, label, metadata = match.groups()
            name = unquote(name) if name else ""
            if not name:
                raise invalid_argument("Missing model name in request.")
            spec = _spec(name, version, label)
            if metadata == "metadata":
                return name, "", lambda call: self._metadata(spec)
            return name, "", lambda call: self._status(spec)
        raise _malformed(request)

    def _predict(self, call: Call, spec: SpecChoice, request: Request) -> bytes:
        doc = rest_json.parse_body(request.body)
        signature = rest_json.signature_name_of(doc)
        decoded_format: list[str] = []

        def decode(signature_def: meta_graph_pb2.SignatureDef | None) -> dict[str, Any]:
            if signature_def is None:
                raise invalid_argument(
                    f'Serving signature name: "{signature}" not found in signature def'
                )
            specs = _input_specs(signature_def)
            if not specs:
                raise invalid_argument(
                    f"Failed to get input map for signature: {signature or 'DEFAULT'}"
                )
            inputs, fmt = rest_json.decode_predict_request(doc, specs, self._max_tensor_bytes)
            decoded_format.append(fmt)
            return inputs

        call.log_messages = lambda inputs, answer: predict_messages(
            spec, signature, inputs, answer.value, answer.version, to_proto
        )
        answer = self._core.predict(call, spec, signature, decode)
        return rest_json.encode_predict_response(answer.value, decoded_format[0])

    def _examples(self, call: Call, spec: SpecChoice, request: Request, verb: str) -> bytes:
        doc = rest_json.parse_body(request.body)
        signature = rest_json.signature_name_of(doc)
        examples, context = rest_json.decode_examples(doc, verb)
        examples = rest_json.merge_context(examples, context)
        if verb == "classify":
            call.log_messages = lambda sent, answer: examples_messages(
                "classify",
                spec,
                signature,
                sent,
                answer.value,
                answer.version,
                fill_classifications,
            )
            classified = self._core.classify(call, spec, signature, lambda: examples)
            return rest_json.encode_classify_response(classified.value)
        call.log_messages = lambda sent, answer: examples_messages(
            "regress", spec, signature, sent, answer.value, answer.version, _fill_regressions
        )
        regressed = self._core.regress(call, spec, signature, lambda: examples)
        return rest_json.encode_regress_response(regressed.value)

    def _metadata(self, spec: SpecChoice) -> bytes:
        answer: Answer[Any] = self._core.metadata(spec)
        document = {
            "model_spec": {"name": spec[0], "signature_name": "", "version": str(answer.version)},
            "metadata": {
                "signature_def": json_format.MessageToDict(
                    metadata_signature_map(answer.value),
                    preserving_proto_field_name=True,
                    always_print_fields_with_no_presence=True,
                )
            },
        }
        return json.dumps(document, indent=2).encode()

    def _status(self, spec: SpecChoice) -> bytes:
        name, version, _label = spec  # TF Serving ignores the label here (contract 0.6)
        response = self._core.status(name, version)
        text = json_format.MessageToJson(response, always_print_fields_with_no_presence=True)
        return text.encode()
