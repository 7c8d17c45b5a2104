"""encode_predict_response and the float formatter: TF Serving's response bodies, parsed back."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from server.errors import Code, ServingError
from server.rest_json import (
    InputSpec,
    decode_predict_request,
    encode_predict_response,
    format_float,
    parse_body,
)
from server.rest_json.floats import format_float_array


def _loads(body: bytes) -> object:
    return json.loads(body, parse_constant=lambda token: float(token.replace("Infinity", "inf")))


def _error(outputs: dict, fmt: str) -> ServingError:
    with pytest.raises(ServingError) as caught:
        encode_predict_response(outputs, fmt)
    assert caught.value.code == Code.INVALID_ARGUMENT
    return caught.value


# --- the float formatter ----------------------------------------------------------------

_CONTRACT_FLOATS = [
    pytest.param(9000000, "9e+06", id="9000000"),
    pytest.param(999999, "999999.0", id="999999"),
    pytest.param(0.00003, "3e-05", id="0.00003"),
    pytest.param(555557.5, "555557.5", id="555557.5"),
    pytest.param(3, "3.0", id="3"),
    pytest.param(0.2, "0.2", id="0.2-no-noise-digits"),
    pytest.param(-0.0, "-0.0", id="negative-zero"),
    pytest.param(123456789, "123456792.0", id="float32-rounded-whole"),
    pytest.param(3.14159265, "3.14159274", id="nine-digits"),
    pytest.param(math.nan, "NaN", id="nan"),
    pytest.param(math.inf, "Infinity", id="inf"),
    pytest.param(-math.inf, "-Infinity", id="minus-inf"),
]


@pytest.mark.parametrize(("value", "text"), _CONTRACT_FLOATS)
def test_format_float(value: float, text: str) -> None:
    assert format_float(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(0.1, "0.1", id="short"),
        pytest.param(3.141592653589793, "3.1415926535897931", id="seventeen-digits"),
        pytest.param(1e16, "1e+16", id="round-trips-in-six"),
        pytest.param(12345678901.0, "12345678901.0", id="whole"),
    ],
)
def test_format_double(value: float, text: str) -> None:
    assert format_float(value, double=True) == text


@pytest.mark.parametrize(
    "dtype", [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
)
def test_contract_examples_inside_large_arrays(dtype: type) -> None:
    values = [9000000, 999999, 0.00003, 555557.5, 3, math.nan, math.inf, -math.inf] * 20
    body = encode_predict_response({"y": np.array(values, dtype=dtype)}, "columnar")
    assert body.startswith(b'{"outputs":[9e+06,999999.0,3e-05,555557.5,3.0,NaN,Infinity,-Infinity,')


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        st.integers(0, 300),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=32)
        | st.sampled_from([0.1, 1e6, 999999.5, 123456.0, 1e-5, 16777216.0, 3.4028235e38, 1e-45]),
    )
)
def test_vectorised_formatting_matches_the_scalar_formatter(values: np.ndarray) -> None:
    double = values.dtype == np.float64
    assert format_float_array(values) == [format_float(v, double) for v in values.tolist()]


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=12),
        elements=st.floats(allow_nan=False, allow_infinity=False, width=32),
    )
)
def test_float32_round_trip_is_bit_exact(values: np.ndarray) -> None:
    body = encode_predict_response({"y": values}, "columnar")
    parsed = np.array(_loads(body)["outputs"], dtype=np.float64).astype(np.float32)
    assert parsed.shape == values.shape
    assert np.array_equal(parsed.view(np.uint32), values.view(np.uint32))


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.integers(1, 200), elements=st.floats(allow_nan=False, allow_infinity=False)
    )
)
def test_float64_round_trip_is_bit_exact(values: np.ndarray) -> None:
    parsed = np.array(_loads(encode_predict_response({"y": values}, "row"))["predictions"])
    assert np.array_equal(parsed.view(np.uint64), values.view(np.uint64))


# --- row and columnar layouts -----------------------------------------------------------


def test_row_single_output_omits_the_name() -> None:
    body = encode_predict_response({"y": np.array([[1, 2], [3, 4]], dtype=np.int32)}, "row")
    assert _loads(body) == {"predictions": [[1, 2], [3, 4]]}


def test_row_several_outputs_are_objects() -> None:
    outputs = {"a": np.array([1.5, 2.0], dtype=np.float32), "b": np.array([[True], [False]])}
    assert _loads(encode_predict_response(outputs, "row")) == {
        "predictions": [{"a": 1.5, "b": [True]}, {"a": 2.0, "b": [False]}]
    }


def test_row_zero_batch() -> None:
    assert (
        encode_predict_response({"y": np.zeros((0, 3), np.float32)}, "row") == b'{"predictions":[]}'
    )
    outputs = {"a": np.zeros((0,), np.int64), "b": np.zeros((0, 2), np.float16)}
    assert _loads(encode_predict_response(outputs, "row")) == {"predictions": []}


def test_row_rank_zero_output() -> None:
    assert (
        _error({"y": np.float32(1.0)}, "row").message == "Tensor name: y has no shape information "
    )


def test_row_inconsistent_batch() -> None:
    outputs = {"a": np.zeros(2, np.float32), "b": np.zeros(3, np.float32)}
    assert (
        _error(outputs, "row").message
        == "Tensor name: b has inconsistent batch size: 3 expecting: 2"
    )


def test_columnar_layouts() -> None:
    assert _loads(encode_predict_response({"y": np.float64(2.5)}, "columnar")) == {"outputs": 2.5}
    outputs = {"a": np.zeros(2, np.int64), "b": np.array([[1, 2, 3]], np.uint8)}
    assert _loads(encode_predict_response(outputs, "columnar")) == {
        "outputs": {"a": [0, 0], "b": [[1, 2, 3]]}
    }


def test_whole_floats_keep_a_decimal_point() -> None:
    body = encode_predict_response({"y": np.array([1, 2, 3], np.float32)}, "columnar")
    assert body == b'{"outputs":[1.0,2.0,3.0]}'


def test_strings_bytes_suffix_and_invalid_utf8() -> None:
    raw = np.array([b"hi", b"\xff\x00"], dtype=object)
    body = encode_predict_response({"text": raw, "blob_bytes": raw}, "columnar")
    assert _loads(body) == {
        "outputs": {"text": ["hi", "\ufffd\x00"], "blob_bytes": [{"b64": "aGk="}, {"b64": "/wA="}]}
    }


@pytest.mark.parametrize(
    ("array", "name"),
    [
        pytest.param(np.array([1.0], np.float16), "half", id="half"),
        pytest.param(np.array([1j], np.complex64), "complex64", id="complex64"),
    ],
)
def test_unwritable_dtypes(array: np.ndarray, name: str) -> None:
    assert (
        _error({"y": array}, "columnar").message
        == f"Failed to write JSON value for tensor type: {name}"
    )


def test_empty_output_map() -> None:
    assert _error({}, "row").message == "Cannot convert empty tensor map to JSON"


# --- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "specs"),
    [
        pytest.param(b'{"instances": [[1.5, 2.0], [3.0, -4.25]]}', {"x": "float"}, id="row-plain"),
        pytest.param(
            b'{"instances": [{"a": [1, 2], "b": "x"}, {"a": [3, 4], "b": "y"}]}',
            {"a": "int32", "b": "string"},
            id="row-objects",
        ),
        pytest.param(
            b'{"inputs": {"a": [[1, 2]], "b": [true, false, true]}}',
            {"a": "int64", "b": "bool"},
            id="columnar-named",
        ),
        pytest.param(b'{"inputs": 7.5}', {"x": "double"}, id="columnar-scalar"),
        pytest.param(
            b'{"instances": [{"b64": "/9j/"}, {"b64": "AAAA"}]}',
            {"img_bytes": "string"},
            id="row-b64",
        ),
    ],
)
def test_request_tensors_echoed_back_reproduce_the_request(
    body: bytes, specs: dict[str, str]
) -> None:
    tensors, fmt = decode_predict_request(
        parse_body(body), {k: InputSpec.for_tf_name(v) for k, v in specs.items()}
    )
    response = _loads(encode_predict_response(tensors, fmt))
    request = json.loads(body)
    if fmt == "row":
        assert response == {"predictions": request["instances"]}
    else:
        assert response == {"outputs": request["inputs"]}
