"""The messages of TF Serving's PredictionService: predict, classify, regress, metadata."""

from __future__ import annotations

from wire.protos.builder import (
    FLOAT,
    MESSAGE,
    STRING,
    WELL_KNOWN_FILES,
    field,
    map_field,
    message,
    proto_file,
)
from wire.protos.tensorflow_messages import TENSORFLOW_FILE

__all__ = ["PREDICTION_SERVICE_FILE"]

_MODEL_SPEC = message(
    "ModelSpec",
    field("name", 1, STRING),
    field("version", 2, MESSAGE, ".google.protobuf.Int64Value", oneof="version_choice"),
    field("version_label", 4, STRING, oneof="version_choice"),
    field("signature_name", 3, STRING),
)

# PredictRequest's predict_streamed_options (5), client_id (6) and request_options (7) are left
# out: TF Serving ignores them, and protobuf keeps them as unknown fields if a peer sends them.
_PREDICT = [
    message(
        "PredictRequest",
        field("model_spec", 1, MESSAGE, "ModelSpec"),
        map_field("inputs", 2, STRING, MESSAGE, ".tensorflow.TensorProto"),
        field("output_filter", 3, STRING, repeated=True),
    ),
    message(
        "PredictResponse",
        field("model_spec", 2, MESSAGE, "ModelSpec"),
        map_field("outputs", 1, STRING, MESSAGE, ".tensorflow.TensorProto"),
    ),
]

_INPUT = [
    message("ExampleList", field("examples", 1, MESSAGE, ".tensorflow.Example", repeated=True)),
    message(
        "ExampleListWithContext",
        field("examples", 1, MESSAGE, ".tensorflow.Example", repeated=True),
        field("context", 2, MESSAGE, ".tensorflow.Example"),
    ),
    message(
        "Input",
        field("example_list", 1, MESSAGE, "ExampleList", oneof="kind"),
        field("example_list_with_context", 2, MESSAGE, "ExampleListWithContext", oneof="kind"),
    ),
]

_CLASSIFY = [
    message("Class", field("label", 1, STRING), field("score", 2, FLOAT)),
    message("Classifications", field("classes", 1, MESSAGE, "Class", repeated=True)),
    message(
        "ClassificationResult",
        field("classifications", 1, MESSAGE, "Classifications", repeated=True),
    ),
    message(
        "ClassificationRequest",
        field("model_spec", 1, MESSAGE, "ModelSpec"),
        field("input", 2, MESSAGE, "Input"),
    ),
    message(
        "ClassificationResponse",
        field("model_spec", 2, MESSAGE, "ModelSpec"),
        field("result", 1, MESSAGE, "ClassificationResult"),
    ),
]

_REGRESS = [
    message("Regression", field("value", 1, FLOAT)),
    message("RegressionResult", field("regressions", 1, MESSAGE, "Regression", repeated=True)),
    message(
        "RegressionRequest",
        field("model_spec", 1, MESSAGE, "ModelSpec"),
        field("input", 2, MESSAGE, "Input"),
    ),
    message(
        "RegressionResponse",
        field("model_spec", 2, MESSAGE, "ModelSpec"),
        field("result", 1, MESSAGE, "RegressionResult"),
    ),
]

_MULTI_INFERENCE = [
    message(
        "InferenceTask",
        field("model_spec", 1, MESSAGE, "ModelSpec"),
        field("method_name", 2, STRING),
    ),
    message(
        "MultiInferenceRequest",
        field("tasks", 1, MESSAGE, "InferenceTask", repeated=True),
        field("input", 2, MESSAGE, "Input"),
    ),
    message(
        "InferenceResult",
        field("model_spec", 1, MESSAGE, "ModelSpec"),
        field("classification_result", 2, MESSAGE, "ClassificationResult", oneof="result"),
        field("regression_result", 3, MESSAGE, "RegressionResult", oneof="result"),
    ),
    message(
        "MultiInferenceResponse",
        field("results", 1, MESSAGE, "InferenceResult", repeated=True),
    ),
]

# GetModelMetadataResponse.metadata["signature_def"] is an Any packing a SignatureDefMap, whose
# type URL is built from the full name, so the package and name must be TF Serving's.
_METADATA = [
    message(
        "SignatureDefMap",
        map_field("signature_def", 1, STRING, MESSAGE, ".tensorflow.SignatureDef"),
    ),
    message(
        "GetModelMetadataRequest",
        field("model_spec", 1, MESSAGE, "ModelSpec"),
        field("metadata_field", 2, STRING, repeated=True),
    ),
    message(
        "GetModelMetadataResponse",
        field("model_spec", 1, MESSAGE, "ModelSpec"),
        map_field("metadata", 2, STRING, MESSAGE, ".google.protobuf.Any"),
    ),
]

PREDICTION_SERVICE_FILE = proto_file(
    "wire/protos/tensorflow_serving_prediction.proto",
    "tensorflow.serving",
    messages=[
        _MODEL_SPEC,
        *_PREDICT,
        *_INPUT,
        *_CLASSIFY,
        *_REGRESS,
        *_MULTI_INFERENCE,
        *_METADATA,
    ],
    dependencies=[*(known.name for known in WELL_KNOWN_FILES), TENSORFLOW_FILE.name],
)
