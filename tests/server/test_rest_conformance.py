"""REST conformance: TF Serving's URL grammar, bodies, formats and the status-code table."""

from __future__ import annotations

import base64
import gzip
import json
import math

import pytest
import requests

# Unknown model/version 404, unknown label 400, wrong method 400, non-/v1 404 HTML.
ERROR_CASES = [
    pytest.param(
        "POST",
        "/v1/models/nope:predict",
        {"instances": [1.0]},
        404,
        "Servable not found for request: Latest(nope)",
        id="unknown-model",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two/versions/7:predict",
        {"instances": [1.0]},
        404,
        "Servable not found for request: Specific(half_plus_two, 7)",
        id="unknown-version",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two/labels/gold:predict",
        {"instances": [1.0]},
        400,
        "Unrecognized servable version label: gold",
        id="unknown-label",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:predict",
        {"signature_name": "nope", "instances": [1.0]},
        400,
        'Serving signature name: "nope" not found in signature def',
        id="unknown-signature-predict",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:classify",
        {"signature_name": "nope", "examples": [{"x": 1.0}]},
        400,
        "No signature was found with the name: nope",
        id="unknown-signature-classify",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:regress",
        {"signature_name": "nope", "examples": [{"x": 1.0}]},
        400,
        "No signature was found with the name: nope",
        id="unknown-signature-regress",
    ),
    pytest.param(
        "POST",
        "/v1/models/nope:regress",
        {"examples": [{"x": 1.0}]},
        404,
        "Servable not found for request: Latest(nope)",
        id="unknown-model-regress",
    ),
    pytest.param(
        "GET",
        "/v1/models/nope",
        None,
        404,
        "Could not find any versions of model nope",
        id="status-unknown-model",
    ),
    pytest.param(
        "GET",
        "/v1/models/half_plus_two/versions/9",
        None,
        404,
        "Could not find version 9 of model half_plus_two",
        id="status-unknown-version",
    ),
    pytest.param(
        "GET",
        "/v1/models/nope/metadata",
        None,
        404,
        "Servable not found for request: Latest(nope)",
        id="metadata-unknown-model",
    ),
    pytest.param(
        "GET",
        "/v1/models/half_plus_two/labels/gold/metadata",
        None,
        400,
        "Unrecognized servable version label: gold",
        id="metadata-unknown-label",
    ),
    pytest.param(
        "GET", "/v1/models", None, 400, "Missing model name in request.", id="missing-model-name"
    ),
    pytest.param(
        "PUT",
        "/v1/models/half_plus_two:predict",
        {"instances": [1.0]},
        400,
        "Malformed request: PUT /v1/models/half_plus_two:predict",
        id="wrong-method",
    ),
    pytest.param(
        "GET",
        "/v1/models/half_plus_two:predict",
        None,
        400,
        "Malformed request: GET /v1/models/half_plus_two:predict",
        id="get-predict",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two/metadata",
        {},
        400,
        "Malformed request: POST /v1/models/half_plus_two/metadata",
        id="post-metadata",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:PREDICT",
        {"instances": [1.0]},
        400,
        "Malformed request: POST /v1/models/half_plus_two:PREDICT",
        id="upper-case-verb",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two/versions/HELLO:regress",
        {},
        400,
        "Malformed request: POST /v1/models/half_plus_two/versions/HELLO:regress",
        id="non-numeric-version",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two/versions/50/labels/l:regress",
        {},
        400,
        "Malformed request",
        id="version-and-label",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:predict?x=1",
        {"instances": [1.0]},
        400,
        "Malformed request: POST /v1/models/half_plus_two:predict?x=1",
        id="query-string",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two/versions/99999999999999999999:predict",
        {},
        400,
        "Failed to convert version: 99999999999999999999 to numeric.",
        id="version-overflow",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:predict",
        {"instances": [1.0], "inputs": [1.0]},
        400,
        "expecting only one of 'inputs' or 'instances' keys to exist",
        id="both-formats",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:predict",
        {"signature_name": "x"},
        400,
        'Serving signature name: "x" not found',
        id="signature-checked-before-inputs",
    ),
    pytest.param(
        "POST",
        "/v1/models/nope:predict",
        b"{",
        400,
        "JSON Parse error",
        id="bad-body-before-model-lookup",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:predict",
        {},
        400,
        "Missing 'inputs' or 'instances' key",
        id="no-inputs",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:predict",
        {"instances": ["a"]},
        400,
        "is not of expected type: float",
        id="wrong-dtype",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:predict",
        {"signature_name": "scalar_output", "instances": [1.0]},
        400,
        "Tensor name: total has no shape information",
        id="row-format-scalar-output",
    ),
    pytest.param(
        "POST",
        "/v1/models/half_plus_two:regress",
        {"instances": [1.0]},
        400,
        "key 'examples' is expected and was not found",
        id="regress-without-examples",
    ),
    pytest.param(
        "POST",
        "/v1/models/identity:predict",
        {"signature_name": "float16", "inputs": [1.0]},
        501,
        "Conversion of JSON Value: 1.0 to type: half",
        id="unimplemented-dtype",
    ),
    # Row format wraps the inner status as INVALID_ARGUMENT, so the same case is a 400 there.
    pytest.param(
        "POST",
        "/v1/models/identity:predict",
        {"signature_name": "float16", "instances": [1.0]},
        400,
        "Error: UNIMPLEMENTED: Conversion of JSON Value: 1.0 to type: half",
        id="unimplemented-dtype-row",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), ERROR_CASES)
def test_error_table(conformance_server, method, path, body, status, message) -> None:
    data = body if body is None or isinstance(body, bytes) else json.dumps(body)
    response = requests.request(method, conformance_server.rest + path, data=data, timeout=30)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert message in response.json()["error"]


def test_non_v1_path_is_a_libevent_404_page(conformance_server) -> None:
    response = requests.get(conformance_server.rest + "/healthz", timeout=10)
    assert response.status_code == 404
    assert response.text.startswith("<HTML><HEAD>") and "404 Not Found" in response.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", "JSON Parse error: The document is empty", id="empty"),
        pytest.param(b"{", "JSON Parse error:", id="truncated"),
        pytest.param(b"[1]", "Is not object", id="not-object"),
        pytest.param(b"xyz", "JSON Parse error: Invalid value. at offset: 0", id="garbage"),
    ],
)
def test_bad_json_gets_400_and_the_server_keeps_serving(conformance_server, body, message) -> None:
    response = requests.post(
        conformance_server.rest + "/v1/models/half_plus_two:predict", data=body, timeout=10
    )
    assert response.status_code == 400
    assert message in response.json()["error"]
    ok = requests.post(
        conformance_server.rest + "/v1/models/half_plus_two:predict",
        json={"instances": [2.0]},
        timeout=10,
    )
    assert ok.json() == {"predictions": [3.0]}


def post(server, path: str, body) -> requests.Response:
    return requests.post(
        server.rest + path,
        data=json.dumps(body) if not isinstance(body, bytes) else body,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        pytest.param(
            "/v1/models/half_plus_two:predict",
            {"instances": [1.0, 2.0, 5.0]},
            {"predictions": [2.5, 3.0, 4.5]},
            id="row",
        ),
        pytest.param(
            "/v1/models/half_plus_two:predict",
            {"inputs": [1.0, 2.0]},
            {"outputs": [2.5, 3.0]},
            id="columnar",
        ),
        pytest.param(
            "/v1/models/half_plus_two:predict",
            {"inputs": {"x": [4.0]}},
            {"outputs": [4.0]},
            id="columnar-named",
        ),
        pytest.param(
            "/v1/models/half_plus_two/versions/123:predict",
            {"instances": [{"x": 2.0}]},
            {"predictions": [3.0]},
            id="version-named-instance",
        ),
        pytest.param(
            "/v1/models/half_plus_two:predict",
            {"signature_name": "two_outputs", "instances": [1.0, 3.0]},
            {"predictions": [{"y": 2.5, "x_squared": 1.0}, {"y": 3.5, "x_squared": 9.0}]},
            id="row-several-outputs",
        ),
        pytest.param(
            "/v1/models/half_plus_two:predict",
            {"signature_name": "two_outputs", "inputs": [2.0]},
            {"outputs": {"y": [3.0], "x_squared": [4.0]}},
            id="columnar-several-outputs",
        ),
        pytest.param(
            "/v1/models/half_plus_two:predict",
            {"signature_name": "scalar_output", "inputs": [1.0, 2.0]},
            {"outputs": {"y": [2.5, 3.0], "total": 3.0}},
            id="columnar-scalar-output",
        ),
        pytest.param(
            "/v1/models/half_plus_two:predict",
            {"signature_name": "two_inputs", "instances": [{"a": 1.0, "b": [1.0, 2.0]}]},
            {"predictions": [4.0]},
            id="two-inputs",
        ),
        pytest.param(
            "/v1/models/half_plus_two:regress",
            {"signature_name": "regress_x_to_y", "examples": [{"x": 1.0}, {"x": 4.0}]},
            {"results": [2.5, 4.0]},
            id="regress",
        ),
        pytest.param(
            "/v1/models/half_plus_two:classify",
            {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]},
            {"results": [[["y", 3.0]]]},
            id="classify",
        ),
        pytest.param(
            "/v1/models/half_plus_two:classify",
            {"signature_name": "classify_scores_only", "examples": [{"x": 2.0}]},
            {"results": [[["", 3.0]]]},
            id="classify-scores-only",
        ),
        pytest.param(
            "/v1/models/half_plus_two:regress",
            {
                "signature_name": "regress_x_to_y",
                "context": {"x": 10.0},
                "examples": [{}, {"x": 2.0}],
            },
            {"results": [7.0, 3.0]},
            id="regress-context",
        ),
    ],
)
def test_inference(conformance_server, path, body, expected) -> None:
    response = post(conformance_server, path, body)
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_float_formatting_and_non_finite_values(conformance_server) -> None:
    response = post(
        conformance_server,
        "/v1/models/identity:predict",
        b'{"signature_name": "float32", "inputs": [3, 9000000, 0.00003, NaN, Infinity, -Inf]}',
    )
    assert response.status_code == 200, response.text
    text = response.text
    for token in ["3.0", "9e+06", "3e-05", "NaN", "Infinity", "-Infinity"]:
        assert token in text
    values = json.loads(text, parse_constant=float)["outputs"]
    assert values[:3] == [3.0, 9e6, pytest.approx(3e-05)] and math.isnan(values[3])


def test_trailing_garbage_after_the_body_is_ignored(conformance_server) -> None:
    response = post(
        conformance_server, "/v1/models/half_plus_two:predict", b'{"instances": [2.0]} trailing'
    )
    assert response.json() == {"predictions": [3.0]}


def test_b64_strings_in_and_bytes_outputs_out(conformance_server) -> None:
    raw = bytes(range(250, 256))
    body = {"signature_name": "string", "instances": [{"b64": base64.b64encode(raw).decode()}]}
    response = post(conformance_server, "/v1/models/identity:predict", body)
    assert response.status_code == 200, response.text
    (row,) = response.json()["predictions"]
    assert base64.b64decode(row["y_bytes"]["b64"]) == raw


@pytest.mark.parametrize(
    ("signature", "values"),
    [
        pytest.param("int32", [1, -2, 3], id="int32"),
        pytest.param("int64", [2**40, -1], id="int64"),
        pytest.param("uint8", [0, 255], id="uint8"),
        pytest.param("bool", [True, False], id="bool"),
        pytest.param("float64", [0.1, 1e300], id="double"),
        pytest.param("string", ["héllo", "x"], id="string"),
    ],
)
def test_identity_round_trips(conformance_server, signature, values) -> None:
    response = post(
        conformance_server,
        "/v1/models/identity:predict",
        {"signature_name": signature, "inputs": values},
    )
    assert response.status_code == 200, response.text
    outputs = response.json()["outputs"]
    if signature == "string":
        assert outputs["y"] == values
        assert [base64.b64decode(v["b64"]).decode() for v in outputs["y_bytes"]] == values
    else:
        assert outputs == values


def test_int_input_rejects_decimal(conformance_server) -> None:
    response = post(
        conformance_server,
        "/v1/models/identity:predict",
        {"signature_name": "int32", "inputs": [1.5]},
    )
    assert response.status_code == 400
    assert "is not of expected type: int32" in response.json()["error"]


def test_gzip_request_body(conformance_server) -> None:
    body = gzip.compress(json.dumps({"instances": [2.0]}).encode())
    response = requests.post(
        conformance_server.rest + "/v1/models/half_plus_two:predict",
        data=body,
        headers={"Content-Encoding": "gzip"},
        timeout=10,
    )
    assert response.json() == {"predictions": [3.0]}


def test_status(conformance_server) -> None:
    response = requests.get(conformance_server.rest + "/v1/models/half_plus_two", timeout=10)
    assert response.json() == {
        "model_version_status": [
            {
                "version": "123",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def test_status_ignores_the_label(conformance_server) -> None:
    response = requests.get(
        conformance_server.rest + "/v1/models/half_plus_two/labels/anything", timeout=10
    )
    assert response.status_code == 200
    assert response.json()["model_version_status"][0]["version"] == "123"


def test_metadata(conformance_server) -> None:
    response = requests.get(
        conformance_server.rest + "/v1/models/half_plus_two/versions/123/metadata", timeout=10
    )
    document = response.json()
    assert document["model_spec"] == {
        "name": "half_plus_two",
        "signature_name": "",
        "version": "123",
    }
    signature = document["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    x = signature["inputs"]["x"]
    assert x["dtype"] == "DT_FLOAT"
    assert x["tensor_shape"] == {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False}
    assert (
        document["metadata"]["signature_def"]["signature_def"]["regress_x_to_y"]["method_name"]
        == "tensorflow/serving/regress"
    )


def test_url_encoded_model_name(conformance_server) -> None:
    response = requests.get(conformance_server.rest + "/v1/models/half%5Fplus%5Ftwo", timeout=10)
    assert response.status_code == 200
