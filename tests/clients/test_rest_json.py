"""clients.rest_json against the server's codec: it reads our requests, we read its responses."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorflow.core.example import example_pb2

from clients.rest_json import (
    DEFAULT_OUTPUT_NAME,
    decode_classify_response,
    decode_error,
    decode_predict_response,
    decode_regress_response,
    encode_examples,
    encode_predict_request,
    make_example,
)
from server.rest_json import (
    InputSpec,
    decode_examples,
    decode_predict_request,
    encode_classify_response,
    encode_predict_response,
    encode_regress_response,
    parse_body,
)
from tests.support.no_tensorflow import BLOCK_TENSORFLOW
from wire.protos import Example as OurExample

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CLASSES = [
    pytest.param(example_pb2.Example, id="tf-proto"),
    pytest.param(OurExample, id="our-proto"),
]


def load(body: bytes) -> dict:
    return json.loads(body, parse_constant=float)


def assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if expected.dtype.kind == "f":
        np.testing.assert_array_equal(actual, expected)
    else:
        assert actual.tolist() == expected.tolist()


INPUTS = {
    "f32": np.array([[1.5, np.nan], [np.inf, -np.inf]], np.float32),
    "f64": np.array([[0.1, 1e300], [-0.0, 5e-324]], np.float64),
    "i8": np.array([[-128, 127], [0, 1]], np.int8),
    "u64": np.array([[2**64 - 1, 0], [1, 2]], np.uint64),
    "i64": np.array([[-(2**63), 2**63 - 1], [0, -1]], np.int64),
    "flag": np.array([[True, False], [False, True]]),
    "blob": np.array([[b"\x00\xff", b""], [b"a\x00", b"\x80"]], object),
    "text": np.array([["é", "a"], ["", "日本"]], object),
}


@pytest.mark.parametrize(
    "fmt", [pytest.param("columnar", id="columnar"), pytest.param("row", id="row")]
)
def test_the_servers_parser_reads_back_every_json_dtype(fmt):
    body = encode_predict_request(INPUTS, "sig", format=fmt)
    specs = {name: InputSpec.for_numpy(array.dtype) for name, array in INPUTS.items()}
    doc = parse_body(body)
    assert doc["signature_name"] == "sig"
    tensors, parsed_format = decode_predict_request(doc, specs)
    assert parsed_format == fmt
    for name, array in INPUTS.items():
        expected = array if name != "text" else np.vectorize(str.encode, otypes=[object])(array)
        assert_same(tensors[name], expected)


def test_columnar_json_values_keep_their_json_types():
    doc = load(encode_predict_request(INPUTS))
    inputs = doc["inputs"]
    assert "signature_name" not in doc
    assert np.array_equal(np.float32(inputs["f32"]), INPUTS["f32"], equal_nan=True)
    assert inputs["f64"] == INPUTS["f64"].tolist()
    assert all(type(v) is int for row in inputs["u64"] + inputs["i8"] for v in row)
    assert inputs["flag"] == [[True, False], [False, True]]
    assert inputs["blob"][1] == [{"b64": base64.b64encode(b"a\x00").decode()}, {"b64": "gA=="}]
    assert inputs["text"] == [["é", "a"], ["", "日本"]]


def test_non_finite_floats_are_the_bare_tokens_tf_serving_accepts():
    body = encode_predict_request(np.array([np.nan, np.inf, -np.inf, 1.0], np.float32))
    assert body == b'{"inputs":[NaN,Infinity,-Infinity,1.0]}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(np.float32(2.5), 2.5, id="scalar"),
        pytest.param(b"\x00", {"b64": "AA=="}, id="bytes-scalar"),
        pytest.param("text", "text", id="str-scalar"),
        pytest.param(
            [b"a\x00", b"b"], [{"b64": "YQA="}, {"b64": "Yg=="}], id="bytes-list-keeps-nul"
        ),
        pytest.param([[1, 2]], [[1, 2]], id="int-list"),
        pytest.param(np.zeros((0, 3), np.float32), [], id="empty"),
    ],
)
def test_an_unnamed_input_is_the_bare_columnar_value(value, expected):
    assert load(encode_predict_request(value))["inputs"] == expected


def test_row_format_writes_one_object_per_instance():
    inputs = {"a": np.array([[1, 2], [3, 4]]), "b": np.array([b"x", b"y"], object)}
    instances = load(encode_predict_request(inputs, format="row"))["instances"]
    assert instances == [{"a": [1, 2], "b": {"b64": "eA=="}}, {"a": [3, 4], "b": {"b64": "eQ=="}}]
    bare = load(encode_predict_request(np.array([[1.5], [2.5]]), format="row"))["instances"]
    assert bare == [[1.5], [2.5]]


@pytest.mark.parametrize(
    ("inputs", "fmt", "message"),
    [
        pytest.param(
            {"a": np.zeros(2), "b": np.zeros(3)}, "row", "dimension 0", id="batch-mismatch"
        ),
        pytest.param({"a": np.float32(1)}, "row", "'a' is a scalar", id="named-scalar-row"),
        pytest.param(np.float32(1), "row", "the input is a scalar", id="bare-scalar-row"),
        pytest.param(np.zeros(2), "rows", "format must be", id="bad-format"),
        pytest.param(np.zeros(2, np.float16), "columnar", "UNIMPLEMENTED", id="float16"),
        pytest.param(np.zeros(2, ml_dtypes.bfloat16), "columnar", "UNIMPLEMENTED", id="bfloat16"),
        pytest.param(np.zeros(2, np.complex64), "columnar", "UNIMPLEMENTED", id="complex64"),
        pytest.param(np.zeros(2, np.uint16), "columnar", "UNIMPLEMENTED", id="uint16"),
        pytest.param({"c": np.zeros(2, np.complex128)}, "row", "UNIMPLEMENTED", id="complex128"),
        pytest.param(np.array([b"a", 1], object), "columnar", "not int", id="object-int"),
    ],
)
def test_requests_json_cannot_carry_raise_value_error(inputs, fmt, message):
    with pytest.raises(ValueError, match=message):
        encode_predict_request(inputs, format=fmt)


@pytest.mark.parametrize(
    "fmt", [pytest.param("columnar", id="columnar"), pytest.param("row", id="row")]
)
def test_responses_the_server_writes_decode_to_the_same_arrays(fmt):
    outputs = {
        "scores": np.array([[0.1, np.nan, 3.0], [9e6, -np.inf, 1 / 3]], np.float32),
        "exact": np.array([0.1, 1e300]),
        "ids": np.array([[-(2**63), 7, 0], [1, 2, 3]]),
        "big": np.array([2**64 - 1, 0], np.uint64),
        "ok": np.array([True, False]),
        "id_bytes": np.array([b"\xff\x00", b""], object),
        "label": np.array([b"caf\xc3\xa9", b"x"], object),
    }
    hints = {"exact": np.float64, "big": "DT_UINT64"}
    body = encode_predict_response(outputs, fmt)
    decoded = decode_predict_response(body, hints)
    assert list(decoded) == list(outputs)
    for name, array in outputs.items():
        assert_same(decoded[name], array)


@pytest.mark.parametrize(
    ("body", "kwargs", "expected"),
    [
        pytest.param(
            b'{"predictions": [[1.0, 2.0], [3.0, 4.0]]}',
            {},
            {DEFAULT_OUTPUT_NAME: np.float32([[1, 2], [3, 4]])},
            id="row-unnamed",
        ),
        pytest.param(
            b'{\n    "predictions": [\n        [1, 2]\n    ]\n}',
            {"output_names": ["ids"]},
            {"ids": np.int64([[1, 2]])},
            id="row-named-by-metadata-pretty",
        ),
        pytest.param(
            b'{"predictions": [{"a": 1.5, "b": [true]}, {"a": NaN, "b": [false]}]}',
            {},
            {"a": np.float32([1.5, np.nan]), "b": np.array([[True], [False]])},
            id="row-objects",
        ),
        pytest.param(
            b'{"predictions": [{"b64": "YQ=="}, "\xff"]}',
            {"output_dtypes": {"out_bytes": object}},
            {"out_bytes": np.array([b"a", b"\xff"], object)},
            id="row-b64-and-raw-bytes",
        ),
        pytest.param(
            b'{"predictions": []}',
            {"output_dtypes": {"x": np.int32, "y": object}},
            {"x": np.zeros(0, np.int32), "y": np.zeros(0, object)},
            id="row-empty-batch",
        ),
        pytest.param(b'{"outputs": 3.0}', {}, {DEFAULT_OUTPUT_NAME: np.float32(3)}, id="rank0"),
        pytest.param(
            b'{"outputs": {"a": [1], "b": [[-Infinity], [2.5]]}}',
            {"output_dtypes": {"b": "DT_DOUBLE"}},
            {"a": np.int64([1]), "b": np.float64([[-np.inf], [2.5]])},
            id="columnar-named",
        ),
        pytest.param(
            b'{"outputs": {"b64": "AAE="}}',
            {"output_names": ["raw"]},
            {"raw": np.array(b"\x00\x01", object)},
            id="columnar-b64-scalar",
        ),
        pytest.param(
            b'{"outputs": [[], []]}',
            {},
            {DEFAULT_OUTPUT_NAME: np.zeros((2, 0), np.float32)},
            id="empty",
        ),
    ],
)
def test_decode_predict_response_shapes(body, kwargs, expected):
    decoded = decode_predict_response(body, **kwargs)
    assert list(decoded) == list(expected)
    for name, array in expected.items():
        assert_same(decoded[name], np.asarray(array))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b'{"error": "Servable not found"}', "Servable not found", id="error-body"),
        pytest.param(b"<html>404</html>", "not JSON", id="html"),
        pytest.param(b"[1]", "not a JSON object", id="array"),
        pytest.param(b'{"result": []}', "no 'outputs'", id="neither-key"),
        pytest.param(b'{"predictions": 1}', "not a list", id="predictions-scalar"),
        pytest.param(b'{"outputs": [[1], [2, 3]]}', "inhomogeneous", id="ragged"),
        pytest.param(b'{"outputs": [["a"], ["b", "c"]]}', "not dense", id="ragged-strings"),
        pytest.param(b'{"outputs": [1, "a"]}', "mixes", id="mixed"),
        pytest.param(b'{"outputs": [{"b64": "!!"}]}', "invalid base64", id="bad-b64"),
        pytest.param(b'{"predictions": [{"a": 1}, {"b": 2}]}', "same outputs", id="rows-differ"),
    ],
)
def test_malformed_predict_responses_raise_value_error(body, message):
    with pytest.raises(ValueError, match=message):
        decode_predict_response(body)


def test_a_dtype_hint_that_does_not_fit_raises_value_error():
    with pytest.raises(ValueError, match="DT_RESOURCE"):
        decode_predict_response(b'{"outputs": [1]}', {"x": "DT_RESOURCE"})
    with pytest.raises(ValueError, match="string or a b64"):
        decode_predict_response(b'{"outputs": [1]}', {"x": bytes})


def test_classify_regress_and_error_bodies():
    body = encode_classify_response([[("cat", 0.75), ("dog", 0.25)], [("", 1.0)]])
    assert decode_classify_response(body) == [[("cat", 0.75), ("dog", 0.25)], [("", 1.0)]]
    assert decode_regress_response(encode_regress_response([0.5, -2.0])) == [0.5, -2.0]
    assert decode_regress_response(b'{"results": [NaN]}')[0] != 0  # NaN survives
    assert decode_error(b"{\"error\": \"Missing 'inputs' or 'instances' key\"}") == (
        "Missing 'inputs' or 'instances' key"
    )
    assert decode_error(b"<html><body>Not Found</body></html>") is None
    assert decode_error(b'{"outputs": [1]}') is None
    with pytest.raises(ValueError, match="Cannot convert"):
        decode_regress_response(b'{"error": "Cannot convert empty RegressionResults to JSON"}')
    with pytest.raises(ValueError, match="malformed classify"):
        decode_classify_response(b'{"results": [[["a"]]]}')
    with pytest.raises(ValueError, match="labels must be strings"):
        decode_classify_response(b'{"results": [[[1, 0.5]]]}')
    with pytest.raises(ValueError, match="malformed regress"):
        decode_regress_response(b'{"results": [[1.0]]}')


FEATURES = {
    "age": 42,
    "flags": [True, False],
    "weights": [1, 2.5],
    "score": 0.25,
    "raw": b"\x00\xff",
    "words": ["héllo", b"w"],
    "ids": np.array([3, 4], np.int64),
    "ratio": np.float32(0.5),
    "none": [],
}


@pytest.mark.parametrize("message_class", EXAMPLE_CLASSES)
def test_examples_reach_the_server_as_make_example_builds_them(message_class):
    body = encode_examples([FEATURES, {"age": 7}], context={"country": "nl"}, signature_name="s")
    doc = parse_body(body)
    assert doc["signature_name"] == "s"
    examples, context = decode_examples(doc, "classify")
    parsed = [example_pb2.Example.FromString(data) for data in examples]
    ours = make_example(FEATURES, message_class)
    assert parsed[0] == example_pb2.Example.FromString(ours.SerializeToString())
    assert example_pb2.Example.FromString(context) == example_pb2.Example.FromString(
        make_example({"country": "nl"}, message_class).SerializeToString()
    )
    features = parsed[0].features.feature
    assert list(features["weights"].float_list.value) == [1.0, 2.5]
    assert list(features["flags"].int64_list.value) == [1, 0]
    assert list(features["words"].bytes_list.value) == ["héllo".encode(), b"w"]
    assert list(features["raw"].bytes_list.value) == [b"\x00\xff"]


def test_example_json_keeps_scalars_and_writes_bytes_as_b64():
    doc = load(encode_examples([FEATURES]))
    assert "context" not in doc and "signature_name" not in doc
    assert doc["examples"] == [
        {
            "age": 42,
            "flags": [True, False],
            "weights": [1.0, 2.5],
            "score": 0.25,
            "raw": {"b64": "AP8="},
            "words": ["héllo", {"b64": "dw=="}],
            "ids": [3, 4],
            "ratio": 0.5,
            "none": [],
        }
    ]


@pytest.mark.parametrize(
    ("features", "message"),
    [
        pytest.param({"x": None}, "NoneType", id="null"),
        pytest.param({"x": [[1]]}, "list", id="nested"),
        pytest.param({"x": {"a": 1}}, "dict", id="object"),
        pytest.param({"x": [1, "a"]}, "mixes strings and numbers", id="mixed"),
        pytest.param({"x": 2**63}, "int64 range", id="uint64"),
        pytest.param({"x": np.zeros((2, 2))}, "2-dimensional", id="matrix"),
        pytest.param({"x": 1j}, "complex", id="complex"),
    ],
)
def test_unrepresentable_features_raise_value_error(features, message):
    with pytest.raises(ValueError, match=message):
        encode_examples([features])
    with pytest.raises(ValueError, match=message):
        make_example(features, example_pb2.Example)


JSON_DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32]
JSON_DTYPES += [np.uint64, np.float32, np.float64, np.dtype(">i4"), np.dtype(">f8")]


@settings(max_examples=100, deadline=None)
@given(
    array=st.sampled_from(JSON_DTYPES).flatmap(
        lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0))
    ),
    fmt=st.sampled_from(["columnar", "row"]),
)
def test_any_numeric_tensor_survives_request_and_response_json(array, fmt):
    if fmt == "row" and array.ndim == 0:
        with pytest.raises(ValueError, match="batch dimension"):
            encode_predict_request({"x": array}, format=fmt)
        return
    # JSON's [] has no inner dimensions, and TF Serving rejects an empty "instances" list
    # and cannot write an empty row response.
    shape = array.shape[: array.shape.index(0) + 1] if 0 in array.shape else array.shape
    expected = array.astype(array.dtype.newbyteorder("=")).reshape(shape)
    if fmt == "row" and array.shape[0] == 0:
        return
    body = encode_predict_request({"x": array}, format=fmt)
    tensors, _ = decode_predict_request(
        parse_body(body), {"x": InputSpec.for_numpy(expected.dtype)}
    )
    assert_same(tensors["x"], expected)
    response = encode_predict_response({"x": expected}, fmt)
    assert_same(decode_predict_response(response, {"x": expected.dtype})["x"], expected)


@settings(max_examples=100, deadline=None)
@given(
    array=hnp.arrays(object, hnp.array_shapes(min_dims=0, max_dims=3), elements=st.binary()),
    as_text=st.booleans(),
)
def test_any_bytes_tensor_survives_request_and_response_json(array, as_text):
    value = np.vectorize(lambda b: b.hex(), otypes=[object])(array) if as_text else array
    expected = np.vectorize(str.encode, otypes=[object])(value) if as_text else array
    body = encode_predict_request(value)
    tensors, _ = decode_predict_request(parse_body(body), {"x": InputSpec.for_numpy(object)})
    assert_same(tensors["x"], expected)
    response = encode_predict_response({"x_bytes": expected}, "columnar")
    assert_same(decode_predict_response(response, output_names=["x_bytes"])["x_bytes"], expected)


FEATURE_VALUES = st.one_of(
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1),
    st.lists(st.floats(allow_nan=False, width=32), min_size=1),
    st.lists(st.binary() | st.text(), min_size=1),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, width=32),
)


@settings(max_examples=100, deadline=None)
@given(features=st.dictionaries(st.text(min_size=1), FEATURE_VALUES, max_size=4))
def test_any_features_reach_the_server_as_make_example_builds_them(features):
    (example,), _ = decode_examples(parse_body(encode_examples([features])), "regress")
    expected = make_example(features, example_pb2.Example)
    assert example_pb2.Example.FromString(example) == expected


BLOCKED_TENSORFLOW_SCRIPT = (
    BLOCK_TENSORFLOW
    + """
import json

import numpy as np
from clients import rest_json
from wire import tensors

array = np.arange(6, dtype=np.float32).reshape(2, 3)
proto = tensors.make_tensor_proto(array)
assert (tensors.make_ndarray(proto) == array).all()
assert tensors.make_ndarray(tensors.make_tensor_proto([b"a"])).tolist() == [b"a"]
example = rest_json.make_example({"x": [1.5], "y": b"z"})
assert list(example.features.feature["x"].float_list.value) == [1.5]
body = rest_json.encode_predict_request({"x": array}, format="row")
rows = json.loads(body)["instances"]
outputs = rest_json.decode_predict_response(json.dumps({"predictions": rows}))
assert (outputs["x"] == array).all(), outputs
assert rest_json.encode_examples([{"x": 1}]) == b'{"examples":[{"x":1}]}'
loaded = sorted(name for name in sys.modules if name.partition(".")[0].startswith("tensorflow"))
assert not loaded, loaded
print("ok")
"""
)


def test_tensors_and_rest_json_work_with_tensorflow_blocked():
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BLOCKED_TENSORFLOW_SCRIPT)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
