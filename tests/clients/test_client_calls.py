"""Every client method over gRPC and REST against the embedded server: results, versions, labels."""

from __future__ import annotations

import numpy as np
import pytest

from clients import GrpcClient, ModelNotFoundError, RestClient, VersionStatus
from tests.clients.conftest import CANARY, STABLE

HALF_PLUS_TWO = {
    "inputs": {"x": {"dtype": "DT_FLOAT", "shape": [-1]}},
    "outputs": {"y": {"dtype": "DT_FLOAT", "shape": [-1]}},
    "method_name": "tensorflow/serving/predict",
}


def test_predict_named_arrays(client) -> None:
    outputs = client.predict(
        "half_plus_two", {"x": np.array([1.0, 2.0], np.float32)}, version=STABLE
    )
    assert list(outputs) == ["y"]
    assert outputs["y"].dtype == np.float32
    np.testing.assert_array_equal(outputs["y"], [2.5, 3.0])


def test_predict_one_unnamed_list_takes_the_signature_name_and_dtype(client) -> None:
    outputs = client.predict("half_plus_two", [1, 2], version=STABLE)
    np.testing.assert_array_equal(outputs["y"], np.array([2.5, 3.0], np.float32))


@pytest.mark.parametrize(
    ("version", "label", "expected"),
    [
        pytest.param(None, None, 0.5 * 4 + 3, id="latest"),
        pytest.param(STABLE, None, 0.5 * 4 + 2, id="version-123"),
        pytest.param(CANARY, None, 0.5 * 4 + 3, id="version-124"),
        pytest.param(None, "stable", 0.5 * 4 + 2, id="label-stable"),
        pytest.param(None, "canary", 0.5 * 4 + 3, id="label-canary"),
    ],
)
def test_versions_and_labels_pick_the_version(client, version, label, expected) -> None:
    outputs = client.predict("half_plus_two", {"x": [4.0]}, version=version, label=label)
    assert outputs["y"].tolist() == [expected]
    examples = [{"x": 4.0}]
    assert client.regress(
        "half_plus_two", examples, version=version, label=label, signature="regress_x_to_y"
    ) == [expected]
    metadata = client.get_model_metadata("half_plus_two", version=version, label=label)
    assert metadata["serving_default"] == HALF_PLUS_TWO


def test_version_and_label_together_are_refused(client) -> None:
    with pytest.raises(ValueError, match="not both"):
        client.predict("half_plus_two", {"x": [1.0]}, version=STABLE, label="stable")


def test_several_outputs_and_output_filter(client) -> None:
    x = np.array([1.0, 3.0], np.float32)
    both = client.predict("half_plus_two", {"x": x}, version=STABLE, signature="two_outputs")
    assert sorted(both) == ["x_squared", "y"]
    np.testing.assert_array_equal(both["x_squared"], [1.0, 9.0])
    only = client.predict(
        "half_plus_two", {"x": x}, signature="two_outputs", output_filter=["x_squared"]
    )
    assert list(only) == ["x_squared"]


def test_several_inputs(client) -> None:
    inputs = {"a": [1.0, 2.0], "b": [[1.0, 1.0], [0.5, 0.5]]}
    outputs = client.predict("half_plus_two", inputs, signature="two_inputs")
    np.testing.assert_array_equal(outputs["sum"], np.array([3.0, 3.0], np.float32))


IDENTITY_VALUES = {
    "float32": np.array([[1.5, -2.0], [3.25, 0.0]], np.float32),
    "float64": np.array([1.0 / 3.0, 1e300]),
    "int8": np.array([-128, 127], np.int8),
    "int16": np.array([[-32768, 7]], np.int16),
    "int32": np.array([2**31 - 1, -5], np.int32),
    "int64": np.array([2**62, -(2**62)], np.int64),
    "uint8": np.array([0, 255], np.uint8),
    "bool": np.array([True, False]),
    "float16": np.array([0.5, -1.25], np.float16),
}


@pytest.mark.parametrize("dtype", [pytest.param(name, id=name) for name in IDENTITY_VALUES])
def test_every_dtype_round_trips(client, dtype: str) -> None:
    value = IDENTITY_VALUES[dtype]
    if dtype == "float16" and isinstance(client, RestClient):
        with pytest.raises(ValueError, match="over gRPC"):  # TF Serving's JSON has no half
            client.predict("identity", {"x": value}, signature=dtype)
        return
    outputs = client.predict("identity", {"x": value}, signature=dtype)
    assert outputs["y"].dtype == value.dtype
    np.testing.assert_array_equal(outputs["y"], value)


def test_strings_and_bytes(client) -> None:
    text = ["plain", "héllo wörld"]
    outputs = client.predict("identity", {"x": text}, signature="string")
    expected = [s.encode() for s in text]
    assert outputs["y"].tolist() == expected  # written as JSON strings by REST
    assert outputs["y_bytes"].tolist() == expected  # written as b64 by REST
    raw = bytes(range(256))
    binary = client.predict("identity", {"x": [raw]}, signature="string")["y_bytes"]
    assert binary.tolist() == [raw]


def test_classify_and_regress_half_plus_two(client) -> None:
    examples = [{"x": 1.0}, {"x": 2.0}]
    assert client.classify(
        "half_plus_two", examples, version=STABLE, signature="classify_x_to_y"
    ) == [[("y", 2.5)], [("y", 3.0)]]
    assert client.classify(
        "half_plus_two", examples, version=STABLE, signature="classify_scores_only"
    ) == [[("", 2.5)], [("", 3.0)]]
    assert client.regress(
        "half_plus_two", examples, label="canary", signature="regress_x_to_y"
    ) == [
        3.5,
        4.0,
    ]


def test_examples_with_context(client) -> None:
    values = client.regress(
        "half_plus_two", [{}, {}], context={"x": 2.0}, label="stable", signature="regress_x_to_y"
    )
    assert values == [3.0, 3.0]


def test_model_status(client) -> None:
    assert client.get_model_status("half_plus_two") == [
        VersionStatus(CANARY, "AVAILABLE", "OK", ""),
        VersionStatus(STABLE, "AVAILABLE", "OK", ""),
    ]
    assert client.get_model_status("half_plus_two", version=STABLE) == [
        VersionStatus(STABLE, "AVAILABLE", "OK", "")
    ]


def test_metadata_is_the_same_over_both_transports(server) -> None:
    with GrpcClient(server.grpc) as grpc_client, RestClient(server.rest) as rest_client:
        for model in ("half_plus_two", "identity", "digits", "tabular"):
            assert grpc_client.get_model_metadata(model) == rest_client.get_model_metadata(model)
        metadata = grpc_client.get_model_metadata("identity")
    assert metadata["int8"]["inputs"]["x"] == {"dtype": "DT_INT8", "shape": None}
    assert metadata["string"]["outputs"]["y_bytes"] == {"dtype": "DT_STRING", "shape": None}


def test_closed_grpc_client_refuses_calls(server) -> None:
    with GrpcClient(server.grpc) as client:
        assert client.get_model_status("identity")[0].state == "AVAILABLE"
    with pytest.raises(ValueError, match="closed channel"):
        client.get_model_status("identity")


@pytest.mark.parametrize(
    ("version", "label", "answered"),
    [
        pytest.param(None, None, CANARY, id="latest"),
        pytest.param(STABLE, None, STABLE, id="version"),
        pytest.param(None, "stable", STABLE, id="label"),
    ],
)
def test_describe_model_names_the_version_that_answered(client, version, label, answered) -> None:
    described = client.describe_model("half_plus_two", version=version, label=label)
    assert (described.name, described.version) == ("half_plus_two", answered)
    assert described.signatures["serving_default"] == HALF_PLUS_TWO


def test_send_takes_a_prebuilt_request(server) -> None:
    from wire import protos

    request = protos.PredictRequest()
    request.model_spec.name = "half_plus_two"
    request.model_spec.version.value = STABLE
    request.inputs["x"].dtype = protos.DataType.DT_FLOAT
    request.inputs["x"].tensor_shape.dim.add(size=2)
    request.inputs["x"].float_val.extend([1.0, 2.0])
    with GrpcClient(server.grpc) as client:
        response = client.send("Predict", request)
        assert list(response.outputs["y"].float_val) == [2.5, 3.0]
        assert response.model_spec.version.value == STABLE
        request.model_spec.name = "no_such_model"
        with pytest.raises(ModelNotFoundError, match="no_such_model"):
            client.send("Predict", request)
        with pytest.raises(ValueError, match="unknown TF Serving gRPC method 'Fit'"):
            client.send("Fit", request)
