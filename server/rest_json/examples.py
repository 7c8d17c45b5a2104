"""Classify and regress request bodies -> serialized tensorflow.Example protos."""

from __future__ import annotations

from typing import Any

import numpy as np
from tensorflow.core.example import example_pb2, feature_pb2

from server.errors import invalid_argument
from server.rest_json.dense import decode_b64_object
from server.rest_json.parse import signature_name_of
from server.rest_json.snippets import json_type_name, json_value_to_string
from server.rest_json.values import (
    INT64_RANGE,
    as_double,
    in_range,
    is_b64_object,
    is_json_integer,
    to_bytes,
)

METHODS = ("classify", "regress")


def _unexpected_type(name: str, value: object) -> Exception:
    return invalid_argument(
        f"Feature: {name} has element with unexpected JSON type: {json_type_name(value)}"
    )


def _element(name: str, value: object, kind: str | None) -> tuple[str, object]:
    """The feature kind (`int64`, `float`, `bytes`) of one element and its value."""
    converted: object
    if value is None or type(value) is list:
        raise _unexpected_type(name, value)
    if type(value) is dict and not is_b64_object(value):
        raise _unexpected_type(name, value)
    if type(value) is bool:
        wanted, converted = "int64", int(value)
    elif type(value) is dict or type(value) is str:
        wanted, converted = "bytes", value
    elif is_json_integer(value):
        wanted, converted = "int64", value
    else:  # decimals, NaN/Inf and integers too long for rapidjson's int types
        wanted, converted = "float", as_double(value)  # type: ignore[arg-type]
    if kind is not None and kind != wanted:
        raise invalid_argument(f"Unexpected element type in feature: {name} expecting type: {kind}")
    if wanted == "bytes":
        converted = decode_b64_object(value) if type(value) is dict else to_bytes(value)  # type: ignore[arg-type]
    elif wanted == "int64" and not in_range(converted, INT64_RANGE):
        raise invalid_argument(f"Feature: {name} has uint64_t element. Only int64_t is supported.")
    return wanted, converted


def _feature(name: str, content: object) -> feature_pb2.Feature:
    kind: str | None = None
    values: list[object] = []
    for value in content if type(content) is list else [content]:
        kind, converted = _element(name, value, kind)
        values.append(converted)
    feature = feature_pb2.Feature()
    if kind == "int64":
        feature.int64_list.value.extend(values)
    elif kind == "bytes":
        feature.bytes_list.value.extend(values)
    elif kind == "float":
        with np.errstate(over="ignore"):
            floats = np.array(values, dtype=np.float64).astype(np.float32)
        feature.float_list.value.extend(floats.tolist())
    return feature


def _feature_name(name: str) -> str:
    """The name as a tf.Example key: protobuf holds map keys as UTF-8 text.

    Raises:
        ServingError: INVALID_ARGUMENT for a name with invalid UTF-8 or an unpaired
            surrogate escape, shown with those bytes escaped.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as err:
        shown = to_bytes(name).decode("utf-8", "backslashreplace")
        raise invalid_argument(
            f"Feature name '{shown}' is not valid UTF-8 (at character {err.start}); "
            "tf.Example feature names are UTF-8 strings"
        ) from None
    return name


def _example(value: object) -> bytes:
    if type(value) is not dict:
        raise invalid_argument(f"Example must be JSON object but got JSON {json_type_name(value)}")
    example = example_pb2.Example()
    for name, content in value.items():
        example.features.feature[_feature_name(name)].CopyFrom(_feature(name, content))
    serialized: bytes = example.SerializeToString()  # tensorflow has no type information
    return serialized


def decode_examples(doc: dict[str, Any], method: str) -> tuple[list[bytes], bytes | None]:
    """Turn a parsed classify or regress body into serialized Examples.

    Returns the serialized examples in request order and the serialized `context` Example,
    or None when the body has no `context`. `method` is `classify` or `regress`; TF Serving
    names `classify` in its missing-`examples` message either way, and so does this.

    Raises:
        ServingError: INVALID_ARGUMENT with TF Serving's message for a malformed body.
        ValueError: `method` is neither `classify` nor `regress`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    signature_name_of(doc)
    context = _example(doc["context"]) if "context" in doc else None
    if "examples" not in doc:
        raise invalid_argument(
            f"JSON Value: {json_value_to_string(doc)} When method is classify, key 'examples' "
            "is expected and was not found"
        )
    examples = doc["examples"]
    if type(examples) is not list:
        raise invalid_argument(
            f"JSON Value: {json_value_to_string(doc)} Expecting 'examples' value to be an list/array"
        )
    if not examples:
        raise invalid_argument(
            f"JSON Value: {json_value_to_string(doc)} 'examples' value is an empty array"
        )
    return [_example(item) for item in examples], context


def merge_context(examples: list[bytes], context: bytes | None) -> list[bytes]:
    """Each example with the context's features, as TF Serving builds its input tensor.

    TF Serving concatenates the serialized context and example; under protobuf merge rules
    a feature present in both takes the example's value.
    """
    if not context:
        return list(examples)
    return [context + example for example in examples]
