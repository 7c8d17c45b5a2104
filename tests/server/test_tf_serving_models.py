"""TF Serving's own kinds of test models (TF1 graphs, built in tests/fixtures/tf1_models.py),
answered over REST and gRPC as TF Serving's docs and tests state.

The expected values are TF Serving's: its REST quick start sends `{"instances": [1.0, 2.0, 5.0]}`
to half_plus_two (x declared [?, 1]) and gets `{"predictions": [2.5, 3.0, 4.5]}`; its tests send
x = [2.0] or a scalar 2.0 and get 3.0 back in the same shape; half_plus_three classifies and
regresses tf.Examples with x = 2.0 to 4.0; the counter's signatures change a reference variable.
"""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from tests.fixtures.tf1_models import VOCABULARY


@pytest.fixture(scope="module")
def stub(channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


def rest_post(server, path: str, body: dict) -> requests.Response:
    return requests.post(f"{server.rest}/v1/models/{path}", json=body, timeout=60)


def grpc_predict(stub, model: str, signature: str = "", **inputs) -> dict[str, np.ndarray]:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    for alias, value in inputs.items():
        request.inputs[alias].CopyFrom(tf.make_tensor_proto(value))
    response = stub.Predict(request, timeout=60)
    return {alias: tf.make_ndarray(tensor) for alias, tensor in response.outputs.items()}


@pytest.mark.parametrize(
    ("instances", "predictions"),
    [
        pytest.param([1.0, 2.0, 5.0], [2.5, 3.0, 4.5], id="docs-quick-start-shape-3"),
        pytest.param([[1.0], [2.0]], [[2.5], [3.0]], id="declared-shape"),
    ],
)
def test_half_plus_two_rest(conformance_server, instances, predictions) -> None:
    response = rest_post(conformance_server, "half_plus_two_v1:predict", {"instances": instances})
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": predictions}


@pytest.mark.parametrize(
    ("x", "y"),
    [
        pytest.param(np.array([2.0], np.float32), np.array([3.0], np.float32), id="shape-1"),
        pytest.param(np.float32(2.0), np.float32(3.0), id="scalar"),
    ],
)
def test_half_plus_two_grpc_keeps_the_request_shape(stub, x, y) -> None:
    got = grpc_predict(stub, "half_plus_two_v1", x=x)["y"]
    assert got.shape == np.shape(y)
    assert got.tolist() == np.asarray(y).tolist()


def test_half_plus_two_metadata_keeps_the_declared_shape(conformance_server) -> None:
    document = requests.get(
        f"{conformance_server.rest}/v1/models/half_plus_two_v1/metadata", timeout=60
    ).json()
    x = document["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]["x"]
    assert [d["size"] for d in x["tensor_shape"]["dim"]] == ["-1", "1"]


def test_half_plus_three_classify_and_regress_over_examples(conformance_server, stub) -> None:
    body = {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}, {"x": 4.0}]}
    response = rest_post(conformance_server, "half_plus_three:classify", body)
    assert response.json() == {"results": [[["y", 4.0]], [["y", 5.0]]]}, response.text
    response = rest_post(conformance_server, "half_plus_three:regress", {"examples": [{"x": 2.0}]})
    assert response.json() == {"results": [4.0]}, response.text

    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.name = "half_plus_three"
    classify.model_spec.signature_name = "classify_x_to_y"
    example = classify.input.example_list.examples.add()
    example.features.feature["x"].float_list.value.append(2.0)
    result = stub.Classify(classify, timeout=60).result
    assert [(c.label, c.score) for c in result.classifications[0].classes] == [("y", 4.0)]
    regress = regression_pb2.RegressionRequest()
    regress.model_spec.name = "half_plus_three"
    regress.input.CopyFrom(classify.input)
    assert [r.value for r in stub.Regress(regress, timeout=60).result.regressions] == [4.0]


def test_counter_with_reference_variables(conformance_server, stub) -> None:
    def call(signature: str, **inputs) -> float:
        return float(grpc_predict(stub, "counter", signature, **inputs)["output"])

    assert call("reset_counter") == 0.0
    assert call("incr_counter") == 1.0
    assert call("incr_counter") == 2.0
    assert call("incr_counter_by", delta=np.float32(3.0)) == 5.0
    assert call("get_counter") == 5.0
    body = {"signature_name": "incr_counter_by", "inputs": {"delta": 1.5}}
    response = rest_post(conformance_server, "counter:predict", body)
    assert response.json() == {"outputs": 6.5}, response.text


def test_lookup_table_initialized_from_the_exported_asset(conformance_server) -> None:
    response = rest_post(
        conformance_server, "vocab_lookup:predict", {"instances": [VOCABULARY[1], "kiwi"]}
    )
    assert response.json() == {"predictions": [1, -1]}, response.text


def test_grpc_deadline_cancels_the_run_and_frees_its_thread(stub) -> None:
    """More spinning calls than the server has gRPC threads, each cut by its deadline; if the
    runs went on (2e9 loop steps each), the plain predict after them would find no thread."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "half_plus_two"
    request.model_spec.signature_name = "spin"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(np.array([2e9], np.float32)))
    for _ in range(12):
        with pytest.raises(grpc.RpcError) as caught:
            stub.Predict(request, timeout=0.5)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert grpc_predict(stub, "half_plus_two", x=np.array([2.0], np.float32))["y"].tolist() == [3.0]
