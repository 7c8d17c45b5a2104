"""decode_predict_request: TF Serving's instances/inputs rules, dtype table and messages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import Code, ServingError
from server.rest_json import InputSpec, decode_predict_request, parse_body

FLOAT = InputSpec.for_tf_name("float")
DOUBLE = InputSpec.for_tf_name("double")
INT32 = InputSpec.for_tf_name("int32")
INT8 = InputSpec.for_tf_name("int8")
UINT8 = InputSpec.for_tf_name("uint8")
INT64 = InputSpec.for_tf_name("int64")
UINT32 = InputSpec.for_tf_name("uint32")
UINT64 = InputSpec.for_tf_name("uint64")
BOOL = InputSpec.for_tf_name("bool")
STRING = InputSpec.for_tf_name("string")
HALF = InputSpec.for_tf_name("half")


def _error(doc: dict, specs: dict[str, InputSpec]) -> ServingError:
    with pytest.raises(ServingError) as caught:
        decode_predict_request(doc, specs)
    return caught.value


def _decode(body: bytes, specs: dict[str, InputSpec]) -> tuple[dict[str, np.ndarray], str]:
    return decode_predict_request(parse_body(body), specs)


# --- presence rules ---------------------------------------------------------------------


def test_both_keys_rejected() -> None:
    err = _error({"instances": [1], "inputs": [1]}, {"x": FLOAT})
    assert err.message.startswith("JSON Value: {")
    assert (
        "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist"
        in err.message
    )


def test_neither_key_rejected() -> None:
    assert (
        _error({"signature_name": "s"}, {"x": FLOAT}).message
        == "Missing 'inputs' or 'instances' key"
    )


@pytest.mark.parametrize(
    ("doc", "shown"),
    [
        pytest.param({}, "DEFAULT", id="default"),
        pytest.param({"signature_name": "sig"}, "sig", id="named"),
    ],
)
def test_empty_input_map(doc: dict, shown: str) -> None:
    assert (
        _error({**doc, "instances": [1]}, {}).message
        == f"Failed to get input map for signature: {shown}"
    )


def test_other_top_level_keys_are_ignored() -> None:
    tensors, fmt = _decode(b'{"instances": [1], "extra": {"deep": [[[null]]]}}', {"x": FLOAT})
    assert fmt == "row" and tensors["x"].tolist() == [1.0]


# --- row format -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            b'{"instances": 5}', "Expecting 'instances' to be an list/array", id="not-list"
        ),
        pytest.param(b'{"instances": []}', "No values in 'instances' array", id="empty"),
    ],
)
def test_instances_must_be_a_non_empty_list(body: bytes, message: str) -> None:
    err = _error(parse_body(body), {"x": FLOAT})
    assert err.message.startswith("JSON Value: {") and err.message.endswith(message)


def test_plain_list_with_several_inputs() -> None:
    assert _error({"instances": [[1]]}, {"a": FLOAT, "b": FLOAT}).message == (
        "instances is a plain list, but expecting list of objects as multiple input tensors "
        "required as per tensorinfo_map"
    )


def test_plain_rows_batch_into_one_tensor() -> None:
    tensors, fmt = _decode(b'{"instances": [[1, 2.5], [3, 4]]}', {"x": FLOAT})
    assert fmt == "row"
    assert tensors["x"].dtype == np.float32 and tensors["x"].tolist() == [[1.0, 2.5], [3.0, 4.0]]


def test_object_rows_batch_each_input() -> None:
    body = b'{"instances": [{"a": [1, 2], "b": "x"}, {"a": [3, 4], "b": {"b64": "aGk="}}]}'
    tensors, _ = _decode(body, {"a": INT32, "b": STRING})
    assert tensors["a"].dtype == np.int32 and tensors["a"].shape == (2, 2)
    assert tensors["b"].tolist() == [b"x", b"hi"]


def test_single_named_input_with_object_rows() -> None:
    tensors, _ = _decode(b'{"instances": [{"x_bytes": {"b64": "AAE="}}]}', {"x_bytes": STRING})
    assert tensors["x_bytes"].tolist() == [b"\x00\x01"]


def test_b64_rows_are_values_not_objects() -> None:
    tensors, _ = _decode(b'{"instances": [{"b64": "YQ=="}, {"b64": "Yg=="}]}', {"x": STRING})
    assert tensors["x"].tolist() == [b"a", b"b"]


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        pytest.param(
            [{"a": 1, "b": 2}, {"a": 1}],
            "Failed to process element: 1 of 'instances' list. JSON object: {\n    \"a\": 1\n} keys must be equal to: a,b",
            id="missing-key",
        ),
        pytest.param(
            [{"a": 1, "b": 2, "c": 3}],
            "Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: "
            "JSON object: does not have named input: c",
            id="unknown-key",
        ),
        pytest.param(
            [{"a": 1, "b": 2}, [1, 2]],
            "Expecting object but got list at item 1 of input list",
            id="object-then-list",
        ),
        pytest.param(
            [{"a": [1, 2], "b": 2}, {"a": [1, 2, 3], "b": 2}],
            "Failed to process element: 1 key: a of 'instances' list. Error: INVALID_ARGUMENT: "
            "Expecting tensor size: 2 but got: 3",
            id="size-mismatch",
        ),
        pytest.param(
            [{"a": [1, 2], "b": 2}, {"a": [[1], [2]], "b": 2}],
            "Failed to process element: 1 key: a of 'instances' list. Error: INVALID_ARGUMENT: "
            "Expecting shape [2] but got: [2,1]",
            id="shape-mismatch",
        ),
    ],
)
def test_object_row_errors(instances: list, message: str) -> None:
    assert _error({"instances": instances}, {"a": INT32, "b": INT32}).message == message


def test_list_then_object_rows() -> None:
    assert _error({"instances": [[1], {"a": 1}]}, {"x": INT32}).message == (
        "Expecting value/list but got object at item 1 of input list"
    )


def test_nested_errors_are_wrapped_with_the_inner_code() -> None:
    err = _error({"instances": [[1, 2], [3, 4.5]]}, {"x": INT32})
    assert err.code == Code.INVALID_ARGUMENT
    assert err.message == (
        "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
        "JSON Value: 4.5 Type: Number is not of expected type: int32"
    )


def test_inner_shapes_may_differ_between_inputs() -> None:
    body = b'{"instances": [{"a": [1, 2, 3], "b": 7}, {"a": [4, 5, 6], "b": 8}]}'
    tensors, _ = _decode(body, {"a": INT64, "b": INT64})
    assert tensors["a"].shape == (2, 3) and tensors["b"].shape == (2,)


# --- columnar format --------------------------------------------------------------------


def test_columnar_single_input_and_scalar() -> None:
    tensors, fmt = _decode(b'{"inputs": 3}', {"x": FLOAT})
    assert fmt == "columnar" and tensors["x"].shape == () and tensors["x"].dtype == np.float32


def test_columnar_empty_list_has_shape_zero() -> None:
    tensors, _ = _decode(b'{"inputs": []}', {"x": INT32})
    assert tensors["x"].shape == (0,) and tensors["x"].dtype == np.int32


def test_columnar_named_inputs_ignore_extra_keys() -> None:
    tensors, _ = _decode(
        b'{"inputs": {"a": [1, 2], "b": [[true]], "zzz": "ignored"}}', {"a": INT32, "b": BOOL}
    )
    assert set(tensors) == {"a", "b"} and tensors["b"].tolist() == [[True]]


def test_columnar_missing_named_input() -> None:
    err = _error({"inputs": {"a": [1]}}, {"a": INT32, "b": INT32})
    assert err.message == "Missing named input: b in 'inputs' object."


def test_columnar_plain_value_with_several_inputs() -> None:
    assert _error({"inputs": [1]}, {"a": INT32, "b": INT32}).message == (
        "inputs is a plain value/list, but expecting an object as multiple input tensors "
        "required as per tensorinfo_map"
    )


def test_columnar_b64_object_is_the_single_input() -> None:
    tensors, _ = _decode(b'{"inputs": {"b64": "aGVsbG8="}}', {"x": STRING})
    assert tensors["x"].shape == () and tensors["x"].item() == b"hello"


# --- dense tensor levels ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            [[1, 2], 3],
            "JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2",
            id="leaf-too-high",
        ),
        pytest.param(
            [1, [2]], "Encountered list at unexpected level: 1 expected < 1", id="list-too-deep"
        ),
        pytest.param(
            [[1, 2], [3]],
            "Encountered list at unexpected size: 1 at level: 1 expected size: 2",
            id="ragged",
        ),
    ],
)
def test_dense_level_errors(value: list, message: str) -> None:
    assert _error({"inputs": value}, {"x": FLOAT}).message == message


# --- dtype conversion -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        pytest.param(FLOAT, [1, 2.5, 1e39, -1e-50], [1.0, 2.5, np.inf, -0.0], id="float-range"),
        pytest.param(DOUBLE, [1, 0.1], [1.0, 0.1], id="double"),
        pytest.param(INT32, [-(2**31), 2**31 - 1], [-(2**31), 2**31 - 1], id="int32-bounds"),
        pytest.param(INT8, [300], [44], id="int8-wraps-like-tf"),
        pytest.param(UINT8, [255, 256], [255, 0], id="uint8-wraps-like-tf"),
        pytest.param(INT64, [-(2**63), 2**63 - 1], [-(2**63), 2**63 - 1], id="int64-bounds"),
        pytest.param(UINT32, [0, 2**32 - 1], [0, 2**32 - 1], id="uint32-bounds"),
        pytest.param(UINT64, [0, 2**64 - 1], [0, 2**64 - 1], id="uint64-bounds"),
        pytest.param(BOOL, [True, False], [True, False], id="bool"),
        pytest.param(STRING, ["héllo", {"b64": "/w=="}], ["héllo".encode(), b"\xff"], id="string"),
    ],
)
def test_accepted_values(spec: InputSpec, value: list, expected: list) -> None:
    tensors, _ = decode_predict_request({"inputs": value}, {"x": spec})
    assert tensors["x"].dtype == spec.dtype
    assert tensors["x"].tolist() == expected


def test_nan_and_infinity_tokens_for_floats() -> None:
    tensors, _ = _decode(b'{"inputs": [NaN, Inf, -Infinity]}', {"x": FLOAT})
    values = tensors["x"]
    assert np.isnan(values[0]) and values[1] == np.inf and values[2] == -np.inf


@pytest.mark.parametrize(
    ("spec", "leaf", "shown", "json_type"),
    [
        pytest.param(FLOAT, '"1"', '"1"', "String", id="string-for-float"),
        pytest.param(FLOAT, "true", "true", "True", id="bool-for-float"),
        pytest.param(FLOAT, "null", "null", "Null", id="null-for-float"),
        pytest.param(
            FLOAT, '{"b64": "AA=="}', '{\n    "b64": "AA=="\n}', "Object", id="b64-for-float"
        ),
        pytest.param(INT32, "1.0", "1.0", "Number", id="decimal-for-int32"),
        pytest.param(INT32, "2147483648", "2147483648", "Number", id="int32-overflow"),
        pytest.param(
            INT64, "9223372036854775808", "9223372036854775808", "Number", id="int64-overflow"
        ),
        pytest.param(UINT32, "-1", "-1", "Number", id="negative-uint32"),
        pytest.param(UINT64, "1.5", "1.5", "Number", id="decimal-uint64"),
        pytest.param(BOOL, "1", "1", "Number", id="int-for-bool"),
        pytest.param(STRING, "1", "1", "Number", id="int-for-string"),
        pytest.param(INT32, "false", "false", "False", id="false-for-int32"),
    ],
)
def test_type_mismatch_messages(spec: InputSpec, leaf: str, shown: str, json_type: str) -> None:
    err = _error(parse_body(f'{{"inputs": [{leaf}]}}'.encode()), {"x": spec})
    assert err.code == Code.INVALID_ARGUMENT
    assert (
        err.message
        == f"JSON Value: {shown} Type: {json_type} is not of expected type: {spec.tf_dtype_name}"
    )


def test_bool_hidden_among_numbers_is_rejected() -> None:
    err = _error({"instances": [[1.5, 2.5], [3.5, True]]}, {"x": FLOAT})
    assert err.message.endswith("JSON Value: true Type: True is not of expected type: float")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param({"b64": "%%%"}, "Unable to base64 decode", id="bad-base64"),
        pytest.param({"b64": "YQ="}, "Unable to base64 decode", id="bad-padding"),
        pytest.param(
            {"b64": 1},
            'JSON Value: {\n    "b64": 1\n} not formatted correctly for base64 data',
            id="b64-not-string",
        ),
        pytest.param({"b64": "YQ==", "x": 1}, "keys", id="extra-key"),
    ],
)
def test_b64_errors(value: dict, message: str) -> None:
    err = _error({"inputs": [value]}, {"x": STRING})
    if message == "keys":
        assert err.message.endswith(" not formatted correctly for base64 data")
    else:
        assert err.message == message


def test_unpadded_base64_is_accepted() -> None:
    tensors, _ = decode_predict_request({"inputs": [{"b64": "YQ"}]}, {"x": STRING})
    assert tensors["x"].tolist() == [b"a"]


def test_unsupported_dtype_is_unimplemented_in_columnar() -> None:
    err = _error({"inputs": [1.5]}, {"x": HALF})
    assert err.code == Code.UNIMPLEMENTED and err.http_status == 501
    assert err.message == "Conversion of JSON Value: 1.5 to type: half"


def test_unsupported_dtype_in_rows_is_wrapped_as_invalid_argument() -> None:
    err = _error({"instances": [1.5]}, {"x": HALF})
    assert err.code == Code.INVALID_ARGUMENT
    assert err.message == (
        "Failed to process element: 0 of 'instances' list. Error: UNIMPLEMENTED: "
        "Conversion of JSON Value: 1.5 to type: half"
    )


def test_long_snippets_are_cut() -> None:
    doc = {"instances": [1], "inputs": list(range(1000))}
    message = _error(doc, {"x": FLOAT}).message
    snippet = message[len("JSON Value: ") : message.index("...") + 3]
    assert len(snippet.encode()) == 256 + 3 and message.endswith("keys to exist ")


# --- property: random documents only ever produce ServingError -----------------------------

_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=4),
    st.builds(lambda s: {"b64": s}, st.sampled_from(["", "YQ==", "!!", "YQ", "Y"])),
)
_json = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "b64", "c"]), inner, max_size=3)
    ),
    max_leaves=12,
)
_dtype_names = st.sampled_from(
    ["float", "double", "int32", "int8", "int64", "uint32", "uint64", "bool", "string", "half"]
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["instances", "inputs", "signature_name", "other"]), _json, max_size=3
    ),
    st.dictionaries(
        st.sampled_from(["a", "b"]), _dtype_names.map(InputSpec.for_tf_name), max_size=2
    ),
)
def test_random_documents_raise_only_serving_errors(doc: dict, specs: dict[str, InputSpec]) -> None:
    try:
        tensors, fmt = decode_predict_request(doc, specs)
    except ServingError as err:
        assert err.code in (Code.INVALID_ARGUMENT, Code.UNIMPLEMENTED)
        return
    assert fmt in ("row", "columnar")
    for name, array in tensors.items():
        assert array.dtype == specs[name].dtype


# --- the tensor size limit (--max_tensor_bytes) ------------------------------------------


@pytest.mark.parametrize(
    "body, specs, message",
    [
        pytest.param(
            b'{"inputs": [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]}',
            {"x": FLOAT},
            "Input tensor 'x' of shape [3,5] and dtype float needs 60 bytes",
            id="columnar",
        ),
        pytest.param(
            b'{"inputs": {"a": [1], "b": [[1, 2, 3, 4], [5, 6, 7, 8], [9, 0, 1, 2], [3, 4, 5, 6]]}}',
            {"a": FLOAT, "b": DOUBLE},
            "Input tensor 'b' of shape [4,4] and dtype double needs 128 bytes",
            id="columnar-named",
        ),
        pytest.param(
            b'{"instances": [[1, 2, 3, 4, 5, 6, 7, 8, 9]]}',
            {"x": INT64},
            "Input tensor 'x' of shape [1,9] and dtype int64 needs 72 bytes",
            id="rows-of-values",
        ),
        pytest.param(
            b'{"instances": [{"a": 1, "s": ["", "", "", "", "", "", "", ""]}]}',
            {"a": FLOAT, "s": STRING},
            "Input tensor 's' of shape [1,8] and dtype string needs 64 bytes",
            id="rows-of-objects",
        ),
        pytest.param(
            b'{"instances": [[1, 2, 3, [4]]]}',
            {"x": FLOAT},
            "Input tensor 'x' of shape [1,4] and dtype float needs 16 bytes",
            id="checked-before-the-shape-is-verified",
        ),
    ],
)
def test_a_tensor_over_the_byte_limit_is_refused(
    body: bytes, specs: dict[str, InputSpec], message: str
) -> None:
    limit = 15
    with pytest.raises(ServingError) as caught:
        decode_predict_request(parse_body(body), specs, max_tensor_bytes=limit)
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert caught.value.message == (
        f"{message}, more than the limit of {limit} bytes (--max_tensor_bytes)"
    )


def test_a_tensor_at_the_byte_limit_is_decoded() -> None:
    doc = parse_body(b'{"instances": [{"a": [1, 2], "b": "x"}, {"a": [3, 4], "b": "y"}]}')
    tensors, _ = decode_predict_request(doc, {"a": FLOAT, "b": STRING}, max_tensor_bytes=16)
    assert tensors["a"].tolist() == [[1, 2], [3, 4]]
    assert tensors["b"].tolist() == [b"x", b"y"]
