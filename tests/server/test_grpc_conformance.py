"""gRPC conformance: PredictionService and ModelService with TF Serving's codes and messages."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)


@pytest.fixture(scope="module")
def stub(channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture(scope="module")
def model_stub(channel):
    return model_service_pb2_grpc.ModelServiceStub(channel)


def predict_request(
    name="half_plus_two", values=(1.0, 2.0), signature="", version=None, label=None, **inputs
):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    if label is not None:
        request.model_spec.version_label = label
    tensors = inputs or {"x": np.asarray(values, dtype=np.float32)}
    for key, value in tensors.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return request


def example_input(target, values, feature="x"):
    for value in values:
        example = target.example_list.examples.add()
        example.features.feature[feature].float_list.value.append(value)


def test_predict(stub) -> None:
    response = stub.Predict(predict_request(values=[1.0, 2.0, 5.0]), timeout=30)
    assert tf.make_ndarray(response.outputs["y"]).tolist() == [2.5, 3.0, 4.5]
    # Typed value fields by default, as TF Serving writes them.
    assert list(response.outputs["y"].float_val) == [2.5, 3.0, 4.5]
    assert not response.outputs["y"].tensor_content
    assert response.model_spec.name == "half_plus_two"
    assert response.model_spec.version.value == 123
    assert response.model_spec.signature_name == "serving_default"


def test_predict_output_filter(stub) -> None:
    request = predict_request(signature="two_outputs")
    request.output_filter.append("x_squared")
    response = stub.Predict(request, timeout=30)
    assert list(response.outputs) == ["x_squared"]


ERRORS = [
    pytest.param(
        lambda: predict_pb2.PredictRequest(),
        grpc.StatusCode.INVALID_ARGUMENT,
        "Missing ModelSpec",
        id="missing-spec",
    ),
    pytest.param(
        lambda: predict_request(name=""),
        grpc.StatusCode.INVALID_ARGUMENT,
        "ModelSpec has no name specified.",
        id="empty-name",
    ),
    pytest.param(
        lambda: predict_request(name="nope"),
        grpc.StatusCode.NOT_FOUND,
        "Servable not found for request: Latest(nope)",
        id="unknown-model",
    ),
    pytest.param(
        lambda: predict_request(version=9),
        grpc.StatusCode.NOT_FOUND,
        "Servable not found for request: Specific(half_plus_two, 9)",
        id="unknown-version",
    ),
    pytest.param(
        lambda: predict_request(label="gold"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "Unrecognized servable version label: gold",
        id="unknown-label",
    ),
    pytest.param(
        lambda: predict_request(signature="nope"),
        grpc.StatusCode.FAILED_PRECONDITION,
        'Serving signature key "nope" not found.',
        id="unknown-signature",
    ),
    pytest.param(
        lambda: predict_request(x=np.ones(2, np.float32), z=np.ones(2, np.float32)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "input size does not match signature",
        id="extra-input",
    ),
    pytest.param(
        lambda: predict_request(
            signature="two_inputs",
            a=np.ones(3, np.float32),
            b=np.ones((2, 2), np.float32),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "Incompatible shapes: [2] vs. [3]",
        id="graph-refuses-shapes",
    ),
    pytest.param(
        lambda: predict_request(x=np.array([True])),
        grpc.StatusCode.INVALID_ARGUMENT,
        "Expects arg[0] to be float but bool is provided",
        id="wrong-dtype",
    ),
]


@pytest.mark.parametrize(("make", "code", "message"), ERRORS)
def test_predict_errors(stub, make, code, message) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        stub.Predict(make(), timeout=30)
    assert caught.value.code() == code
    assert message in caught.value.details()


def test_shapes_are_not_checked_against_the_signature(stub) -> None:
    """TF Serving feeds what the request carries; the graph decides (x is declared [?])."""
    response = stub.Predict(predict_request(x=np.array([[2.0, 4.0]], np.float32)), timeout=30)
    assert tf.make_ndarray(response.outputs["y"]).tolist() == [[3.0, 4.0]]
    scalar = stub.Predict(predict_request(x=np.float32(2.0)), timeout=30)
    assert tf.make_ndarray(scalar.outputs["y"]).tolist() == 3.0


def test_output_filter_errors(stub) -> None:
    request = predict_request()
    request.output_filter.append("nope")
    with pytest.raises(grpc.RpcError) as caught:
        stub.Predict(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "output tensor alias not found in signature: nope" in caught.value.details()


def test_classify_and_regress(stub) -> None:
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "half_plus_two"
    request.model_spec.signature_name = "classify_x_to_y"
    example_input(request.input, [2.0, 4.0])
    response = stub.Classify(request, timeout=30)
    got = [[(c.label, c.score) for c in row.classes] for row in response.result.classifications]
    assert got == [[("y", 3.0)], [("y", 4.0)]]
    regress = regression_pb2.RegressionRequest()
    regress.model_spec.name = "half_plus_two"
    regress.model_spec.signature_name = "regress_x_to_y"
    example_input(regress.input, [0.0, 2.0])
    values = [r.value for r in stub.Regress(regress, timeout=30).result.regressions]
    assert values == [2.0, 3.0]


def test_classify_errors(stub) -> None:
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "half_plus_two"
    request.model_spec.signature_name = "nope"
    example_input(request.input, [1.0])
    with pytest.raises(grpc.RpcError) as caught:
        stub.Classify(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "No signature was found with the name: nope" in caught.value.details()
    empty = classification_pb2.ClassificationRequest()
    empty.model_spec.name = "half_plus_two"
    empty.model_spec.signature_name = "classify_x_to_y"
    with pytest.raises(grpc.RpcError) as caught:
        stub.Classify(empty, timeout=30)
    assert caught.value.details() == "Input is empty."


def test_multi_inference(stub) -> None:
    request = inference_pb2.MultiInferenceRequest()
    for signature, method in [("classify_x_to_y", "classify"), ("regress_x_to_y", "regress")]:
        task = request.tasks.add()
        task.model_spec.name = "half_plus_two"
        task.model_spec.signature_name = signature
        task.method_name = f"tensorflow/serving/{method}"
    example_input(request.input, [2.0])
    response = stub.MultiInference(request, timeout=30)
    assert response.results[0].classification_result.classifications[0].classes[0].score == 3.0
    assert response.results[1].regression_result.regressions[0].value == 3.0
    duplicate = inference_pb2.MultiInferenceRequest()
    duplicate.CopyFrom(request)
    duplicate.tasks[1].model_spec.signature_name = "classify_x_to_y"
    with pytest.raises(grpc.RpcError) as caught:
        stub.MultiInference(duplicate, timeout=30)
    assert "Duplicate evaluation of signature: classify_x_to_y" in caught.value.details()


def test_metadata(stub) -> None:
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "half_plus_two"
    request.metadata_field.append("signature_def")
    response = stub.GetModelMetadata(request, timeout=30)
    assert response.model_spec.version.value == 123
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signatures)
    assert (
        signatures.signature_def["serving_default"].inputs["x"].dtype == tf.float32.as_datatype_enum
    )
    request.ClearField("metadata_field")
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetModelMetadata(request, timeout=30)
    assert "must specify at least one metadata_field" in caught.value.details()
    request.metadata_field.append("nope")
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetModelMetadata(request, timeout=30)
    assert "Metadata field nope is not supported" in caught.value.details()


def test_model_status(model_stub) -> None:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "half_plus_two"
    response = model_stub.GetModelStatus(request, timeout=30)
    (status,) = response.model_version_status
    assert status.version == 123
    assert status.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert status.status.error_code == 0 and status.status.error_message == ""
    request.model_spec.name = "nope"
    with pytest.raises(grpc.RpcError) as caught:
        model_stub.GetModelStatus(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_reload_rejects_non_list_config(model_stub) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        model_stub.HandleReloadConfigRequest(model_management_pb2.ReloadConfigRequest(), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Only ModelConfigList is currently supported" in caught.value.details()


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "float16"]
)
def test_identity_dtypes(stub, dtype) -> None:
    value = np.arange(6).reshape(2, 3).astype(dtype)
    response = stub.Predict(predict_request(name="identity", signature=dtype, x=value), timeout=30)
    got = tf.make_ndarray(response.outputs["y"])
    assert got.dtype == value.dtype and np.array_equal(got, value)


def test_identity_strings(stub) -> None:
    value = np.array([b"\x00\xff", "héllo".encode()], dtype=object)
    response = stub.Predict(
        predict_request(name="identity", signature="string", x=value), timeout=30
    )
    assert tf.make_ndarray(response.outputs["y"]).tolist() == value.tolist()
