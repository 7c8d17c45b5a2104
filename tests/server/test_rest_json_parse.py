"""parse_body and signature_name_of: TF Serving's JSON parse rules and parse error messages."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import Code, ServingError
from server.rest_json import parse_body, signature_name_of


def _parse_error(body: bytes) -> str:
    with pytest.raises(ServingError) as caught:
        parse_body(body)
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert caught.value.http_status == 400
    return caught.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", "JSON Parse error: The document is empty", id="empty"),
        pytest.param(b"  \n", "JSON Parse error: The document is empty. at offset: 3", id="blank"),
        pytest.param(b"x", "JSON Parse error: Invalid value. at offset: 0", id="invalid-value"),
        pytest.param(b"]", "JSON Parse error: The document is empty. at offset: 0", id="closer"),
        pytest.param(
            b"{",
            "JSON Parse error: Missing a name for object member. at offset: 1",
            id="open-object",
        ),
        pytest.param(
            b"{1:2}",
            "JSON Parse error: Missing a name for object member. at offset: 1",
            id="number-key",
        ),
        pytest.param(
            b'{"a":1,}',
            "JSON Parse error: Missing a name for object member. at offset: 7",
            id="trailing-comma-object",
        ),
        pytest.param(
            b'{"a" 1}',
            "JSON Parse error: Missing a colon after a name of object member. at offset: 5",
            id="no-colon",
        ),
        pytest.param(
            b'{"a":1 "b":2}',
            "JSON Parse error: Missing a comma or '}' after an object member. at offset: 7",
            id="no-comma-object",
        ),
        pytest.param(
            b'{"a":[1 2]}',
            "JSON Parse error: Missing a comma or ']' after an array element. at offset: 8",
            id="no-comma-array",
        ),
        pytest.param(
            b'{"a":[1,]}',
            "JSON Parse error: Invalid value. at offset: 8",
            id="trailing-comma-array",
        ),
        pytest.param(
            b'{"a":}', "JSON Parse error: Invalid value. at offset: 5", id="missing-value"
        ),
        pytest.param(
            b'{"a":tru}', "JSON Parse error: Invalid value. at offset: 8", id="bad-literal"
        ),
        pytest.param(b'{"a":-x}', "JSON Parse error: Invalid value. at offset: 6", id="lone-minus"),
        pytest.param(
            b'{"a":Infinit}', "JSON Parse error: Invalid value. at offset: 12", id="bad-infinity"
        ),
        pytest.param(
            b'{"a":nan}', "JSON Parse error: Invalid value. at offset: 6", id="lowercase-nan"
        ),
        pytest.param(
            b'{"a":"\\uZZZZ"}',
            "JSON Parse error: Incorrect hex digit after \\u escape in string. at offset: 6",
            id="bad-hex",
        ),
        pytest.param(
            b'{"a":"abc',
            "JSON Parse error: Missing a closing quotation mark in string. at offset: 9",
            id="unterminated",
        ),
        pytest.param(
            b'{"a":"\\q"}',
            "JSON Parse error: Invalid escape character in string. at offset: 6",
            id="bad-escape",
        ),
        pytest.param(
            b'{"a":"\\ud800"}',
            "JSON Parse error: The surrogate pair in string is invalid. at offset: 6",
            id="lone-high-surrogate",
        ),
        pytest.param(
            b'{"a":"x\ty"}',
            "JSON Parse error: Invalid encoding in string. at offset: 7",
            id="control-char",
        ),
        pytest.param(
            b'{"a":1.}',
            "JSON Parse error: Miss fraction part in number. at offset: 7",
            id="no-fraction",
        ),
        pytest.param(
            b'{"a":1e+}',
            "JSON Parse error: Miss exponent in number. at offset: 8",
            id="no-exponent",
        ),
        pytest.param(
            b'{"a":1e999}',
            "JSON Parse error: Number too big to be stored in double. at offset: 5",
            id="too-big",
        ),
        pytest.param(
            '{"é":x}'.encode(),
            "JSON Parse error: Invalid value. at offset: 6",
            id="offset-in-bytes",
        ),
    ],
)
def test_syntax_errors_carry_rapidjson_reason_and_offset(body: bytes, message: str) -> None:
    assert _parse_error(body) == message


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        pytest.param(b"[1,2]", "[\n    1,\n    2\n]", id="array"),
        pytest.param(b'"text"', '"text"', id="string"),
        pytest.param(b"1.5", "1.5", id="number"),
        pytest.param(b"null", "null", id="null"),
    ],
)
def test_root_must_be_an_object(body: bytes, shown: str) -> None:
    assert _parse_error(body) == f"JSON Value: {shown} Is not object"


def test_nan_and_infinity_spellings_are_numbers() -> None:
    doc = parse_body(b'{"a":[NaN,-NaN,Inf,-Inf,Infinity,-Infinity]}')
    a = doc["a"]
    assert math.isnan(a[0]) and math.isnan(a[1])
    assert a[2:] == [math.inf, -math.inf, math.inf, -math.inf]


def test_nan_tokens_inside_strings_stay_text() -> None:
    assert parse_body(b'{"a":"Inf NaN -Inf","b":Inf}') == {"a": "Inf NaN -Inf", "b": math.inf}


def test_trailing_garbage_after_the_root_is_ignored() -> None:
    assert parse_body(b'{"a": 1} this is not json') == {"a": 1}


def test_integers_and_decimals_stay_apart() -> None:
    doc = parse_body(b'{"i": 1, "d": 1.0, "e": 1e2, "big": 18446744073709551615}')
    assert type(doc["i"]) is int and type(doc["d"]) is float and type(doc["e"]) is float
    assert doc["big"] == 2**64 - 1


def test_integers_beyond_uint64_become_doubles_as_in_rapidjson() -> None:
    doc = parse_body(b'{"a": 184467440737095516160, "b": 1e300}')
    assert doc["a"] == pytest.approx(1.8446744073709552e20) and type(doc["a"]) is float


def test_byte_order_mark_and_invalid_utf8_are_tolerated() -> None:
    doc = parse_body(b'\xef\xbb\xbf{"a": "\xff\xfe"}')
    assert doc["a"].encode("utf-8", "surrogateescape") == b"\xff\xfe"


def test_surrogate_pairs_decode() -> None:
    assert parse_body(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_very_deep_unknown_key_parses() -> None:
    depth = 100_000
    body = b'{"instances": [1], "deep": ' + b"[" * depth + b"]" * depth + b"}"
    assert parse_body(body)["instances"] == [1]


@pytest.mark.parametrize(
    ("doc", "name"),
    [
        pytest.param({}, "serving_default", id="absent"),
        pytest.param({"signature_name": ""}, "serving_default", id="empty"),
        pytest.param({"signature_name": "classify_x"}, "classify_x", id="given"),
    ],
)
def test_signature_name(doc: dict, name: str) -> None:
    assert signature_name_of(doc) == name


@pytest.mark.parametrize(
    "value",
    [pytest.param(1, id="int"), pytest.param(None, id="null"), pytest.param(["a"], id="list")],
)
def test_signature_name_must_be_a_string(value: object) -> None:
    with pytest.raises(ServingError) as caught:
        signature_name_of({"signature_name": value})
    assert caught.value.message.startswith('JSON Value: {\n    "signature_name": ')
    assert caught.value.message.endswith(
        " not formatted correctly. 'signature_name' key must be a string value."
    )


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text(max_size=5), _json_values, max_size=4))
def test_valid_json_objects_parse_like_the_stdlib(doc: dict) -> None:
    body = json.dumps(doc, allow_nan=True).encode()
    assert parse_body(body) == json.loads(body)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=40)
    | st.text(alphabet='{}[]":,.-+eE0123456789 tfnulrsaINy\\u', max_size=30).map(str.encode)
)
def test_arbitrary_bytes_raise_only_serving_errors(body: bytes) -> None:
    try:
        parse_body(body)
    except ServingError as err:
        assert err.code == Code.INVALID_ARGUMENT
        assert err.message.startswith("JSON ")
