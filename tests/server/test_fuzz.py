"""Property tests: random JSON and random tensors never crash the server or give an undocumented 5xx."""

from __future__ import annotations

import json

import grpc
import numpy as np
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from server.tensors import to_proto

# 501 is documented for dtypes JSON cannot carry; 503/504 would be overload and time-outs.
DOCUMENTED_REST = {200, 400, 404, 501}
DOCUMENTED_GRPC = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.NOT_FOUND,
}
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)
signatures = st.sampled_from(
    [
        "serving_default",
        "two_inputs",
        "two_outputs",
        "scalar_output",
        "nope",
        "float32",
        "int32",
        "string",
        "bool",
        "float16",
    ]
)
keys = st.sampled_from(["instances", "inputs", "signature_name", "examples", "context", "x"])
bodies = st.dictionaries(keys, json_values | signatures, max_size=3)


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        yield s


@SETTINGS
@given(
    body=bodies,
    model=st.sampled_from(["half_plus_two", "identity"]),
    verb=st.sampled_from(["predict", "classify", "regress"]),
)
def test_random_json_bodies(conformance_server, session, body, model, verb) -> None:
    data = json.dumps(body, allow_nan=True)
    response = session.post(
        f"{conformance_server.rest}/v1/models/{model}:{verb}", data=data, timeout=30
    )
    assert response.status_code in DOCUMENTED_REST, response.text
    document = json.loads(response.text, parse_constant=float)
    assert ("error" in document) == (response.status_code != 200)


@SETTINGS
@given(raw=st.binary(max_size=64))
def test_random_bytes(conformance_server, session, raw) -> None:
    response = session.post(
        f"{conformance_server.rest}/v1/models/half_plus_two:predict", data=raw, timeout=30
    )
    assert response.status_code in DOCUMENTED_REST


dtypes = st.sampled_from(
    [np.float32, np.float64, np.int32, np.int64, np.int8, np.uint8, np.bool_, np.float16]
)
arrays = dtypes.flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
)


@pytest.fixture(scope="module")
def stub(channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@SETTINGS
@given(
    array=arrays,
    signature=signatures,
    alias=st.sampled_from(["x", "a", "inputs"]),
    content=st.booleans(),
)
def test_random_tensors(conformance_server, stub, array, signature, alias, content) -> None:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = (
        "identity"
        if signature not in ("two_inputs", "two_outputs", "scalar_output")
        else "half_plus_two"
    )
    request.model_spec.signature_name = signature
    request.inputs[alias].CopyFrom(to_proto(array, use_tensor_content=content))
    try:
        stub.Predict(request, timeout=30)
    except grpc.RpcError as err:
        assert err.code() in DOCUMENTED_GRPC, err.details()


def test_server_is_healthy_after_the_fuzzing(conformance_server, session) -> None:
    response = session.post(
        f"{conformance_server.rest}/v1/models/half_plus_two:predict",
        json={"instances": [2.0]},
        timeout=10,
    )
    assert response.json() == {"predictions": [3.0]}
    assert conformance_server.process is None or conformance_server.process.poll() is None
