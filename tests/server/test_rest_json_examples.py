"""decode_examples, merge_context and the classify/regress/error response bodies."""

from __future__ import annotations

import json
import math

import pytest
from tensorflow.core.example import example_pb2

from server.errors import Code, ServingError
from server.rest_json import (
    decode_examples,
    encode_classify_response,
    encode_error,
    encode_regress_response,
    merge_context,
    parse_body,
)


def _features(serialized: bytes) -> dict[str, tuple[str, list]]:
    example = example_pb2.Example.FromString(serialized)
    out = {}
    for name, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        out[name] = (kind, list(getattr(feature, kind).value) if kind else [])
    return out


def _error(doc: dict, method: str = "regress") -> str:
    with pytest.raises(ServingError) as caught:
        decode_examples(doc, method)
    assert caught.value.code == Code.INVALID_ARGUMENT
    return caught.value.message


def test_feature_kinds() -> None:
    body = (
        b'{"examples": [{"f": [1.5, NaN], "i": 3, "b": [true, false], "s": "t\xc3\xa9",'
        b' "x": {"b64": "AAE="}, "e": [], "big": 184467440737095516160}]}'
    )
    examples, context = decode_examples(parse_body(body), "classify")
    assert context is None and len(examples) == 1
    features = _features(examples[0])
    assert (
        features["f"][0] == "float_list"
        and features["f"][1][0] == 1.5
        and math.isnan(features["f"][1][1])
    )
    assert features["i"] == ("int64_list", [3])
    assert features["b"] == ("int64_list", [1, 0])
    assert features["s"] == ("bytes_list", ["té".encode()])
    assert features["x"] == ("bytes_list", [b"\x00\x01"])
    assert features["e"] == (None, [])
    assert features["big"] == ("float_list", [pytest.approx(1.8446744e20)])


def test_context_is_serialized_separately() -> None:
    examples, context = decode_examples(
        {"context": {"c": 1}, "examples": [{"a": 2}, {"a": 3}]}, "regress"
    )
    assert _features(context) == {"c": ("int64_list", [1])}
    assert [_features(e) for e in examples] == [
        {"a": ("int64_list", [2])},
        {"a": ("int64_list", [3])},
    ]


def test_merge_context_lets_the_example_win() -> None:
    examples, context = decode_examples(
        {"context": {"shared": "ctx", "both": 1}, "examples": [{"both": 2}, {"own": 1.5}]},
        "classify",
    )
    merged = [_features(e) for e in merge_context(examples, context)]
    assert merged[0] == {"shared": ("bytes_list", [b"ctx"]), "both": ("int64_list", [2])}
    assert merged[1]["both"] == ("int64_list", [1]) and merged[1]["own"] == ("float_list", [1.5])
    assert merge_context(examples, None) == examples


@pytest.mark.parametrize(
    ("doc", "suffix"),
    [
        pytest.param(
            {},
            " When method is classify, key 'examples' is expected and was not found",
            id="missing",
        ),
        pytest.param(
            {"examples": {}}, " Expecting 'examples' value to be an list/array", id="not-list"
        ),
        pytest.param({"examples": []}, " 'examples' value is an empty array", id="empty"),
    ],
)
def test_examples_list_rules(doc: dict, suffix: str) -> None:
    message = _error(doc, "regress")  # the message says classify for regress too
    assert message.startswith("JSON Value: {") and message.endswith(suffix)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param(
            {"examples": [[1]]},
            "Example must be JSON object but got JSON Array",
            id="example-array",
        ),
        pytest.param(
            {"examples": ["x"]},
            "Example must be JSON object but got JSON String",
            id="example-string",
        ),
        pytest.param(
            {"context": 1, "examples": [{}]},
            "Example must be JSON object but got JSON Number",
            id="context",
        ),
        pytest.param(
            {"examples": [{"f": None}]},
            "Feature: f has element with unexpected JSON type: Null",
            id="null",
        ),
        pytest.param(
            {"examples": [{"f": [[1]]}]},
            "Feature: f has element with unexpected JSON type: Array",
            id="nested",
        ),
        pytest.param(
            {"examples": [{"f": {"a": 1}}]},
            "Feature: f has element with unexpected JSON type: Object",
            id="object",
        ),
        pytest.param(
            {"examples": [{"f": [1, 1.5]}]},
            "Unexpected element type in feature: f expecting type: int64",
            id="int-then-float",
        ),
        pytest.param(
            {"examples": [{"f": [1.5, 1]}]},
            "Unexpected element type in feature: f expecting type: float",
            id="float-then-int",
        ),
        pytest.param(
            {"examples": [{"f": ["a", True]}]},
            "Unexpected element type in feature: f expecting type: bytes",
            id="bytes-then-bool",
        ),
        pytest.param(
            {"examples": [{"f": [2**63]}]},
            "Feature: f has uint64_t element. Only int64_t is supported.",
            id="uint64",
        ),
        pytest.param({"examples": [{"f": {"b64": "!"}}]}, "Unable to base64 decode", id="bad-b64"),
        pytest.param(
            {"examples": [{"ok": 1, "a\udcd4": 1}]},  # invalid UTF-8 byte 0xd4, surrogateescaped
            "Feature name 'a\\xd4' is not valid UTF-8 (at character 1); tf.Example feature "
            "names are UTF-8 strings",
            id="feature-name-invalid-utf8",
        ),
        pytest.param(
            {"context": {"\ud800": 1}, "examples": [{}]},  # an unpaired surrogate escape
            "Feature name '\\xed\\xa0\\x80' is not valid UTF-8 (at character 0); "
            "tf.Example feature names are UTF-8 strings",
            id="feature-name-lone-surrogate",
        ),
    ],
)
def test_feature_errors(doc: dict, message: str) -> None:
    assert _error(doc) == message


def test_unknown_method_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        decode_examples({"examples": [{}]}, "predict")


def test_classify_response() -> None:
    body = encode_classify_response([[("a", 0.5), ("", 3.0)], []])
    assert body == b'{"results":[[["a",0.5],["",3.0]],[]]}'


def test_regress_response_uses_the_float_formatter() -> None:
    assert encode_regress_response([9000000.0, 0.1, math.nan]) == b'{"results":[9e+06,0.1,NaN]}'


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: encode_classify_response([]),
            "Cannot convert empty ClassificationResults to JSON",
            id="classify",
        ),
        pytest.param(
            lambda: encode_regress_response([]),
            "Cannot convert empty RegressionResults to JSON",
            id="regress",
        ),
    ],
)
def test_empty_results(call, message: str) -> None:
    with pytest.raises(ServingError) as caught:
        call()
    assert caught.value.message == message and caught.value.http_status == 400


def test_error_body_escapes_the_message() -> None:
    body = encode_error('Bad "value"\n\\ é')
    assert json.loads(body) == {"error": 'Bad "value"\n\\ é'}
    assert "é".encode() in body
