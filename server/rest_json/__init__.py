"""TF Serving's REST JSON codec: bodies <-> numpy tensors and tf.Example protos, no network code."""

from __future__ import annotations

from server.rest_json.examples import decode_examples, merge_context
from server.rest_json.floats import format_float
from server.rest_json.input_spec import InputSpec, tf_name_of
from server.rest_json.parse import DEFAULT_SIGNATURE, parse_body, signature_name_of
from server.rest_json.predict_decode import COLUMNAR, ROW, decode_predict_request
from server.rest_json.predict_encode import encode_predict_response
from server.rest_json.results import encode_classify_response, encode_error, encode_regress_response

__all__ = [
    "COLUMNAR",
    "DEFAULT_SIGNATURE",
    "ROW",
    "InputSpec",
    "decode_examples",
    "decode_predict_request",
    "encode_classify_response",
    "encode_error",
    "encode_predict_response",
    "encode_regress_response",
    "format_float",
    "merge_context",
    "parse_body",
    "signature_name_of",
    "tf_name_of",
]
