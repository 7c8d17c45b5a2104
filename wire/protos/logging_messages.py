"""PredictionLog, the record of one served call: TF Serving's request logs and warmup files."""

from __future__ import annotations

from wire.protos.builder import (
    DOUBLE,
    INT32,
    INT64,
    MESSAGE,
    STRING,
    field,
    message,
    proto_file,
)
from wire.protos.serving_messages import PREDICTION_SERVICE_FILE

__all__ = ["LOGGING_FILE", "PROJECT_METADATA_FIELDS"]

# LogMetadata has no request id, sub-second time or latency. The project's request logs carry
# them in fields numbered from 1001, far above TF Serving's own (1-8): a reader with TF Serving's
# schema keeps them as unknown fields and sees a plain PredictionLog.
PROJECT_METADATA_FIELDS = {
    "request_id": 1001,
    "timestamp_micros": 1002,
    "latency_micros": 1003,
    "transport": 1004,
}

# SamplingConfig's per_task_sampling_configs (3), and PredictionLog's predict_streamed_log (7)
# and session_run_log (5), are left out: the project neither writes nor reads them, and
# protobuf keeps them as unknown fields when a peer's record has them.
_MESSAGES = [
    message(
        "SamplingConfig",
        field("sampling_rate", 1, DOUBLE),
        field("attributes", 2, INT32),
    ),
    message(
        "LogMetadata",
        field("model_spec", 1, MESSAGE, "ModelSpec"),
        field("sampling_config", 2, MESSAGE, "SamplingConfig"),
        field("saved_model_tags", 3, STRING, repeated=True),
        field("timestamp_secs", 4, INT64),
        field("dc", 5, STRING),
        field("request_origin", 6, STRING),
        field("request_criticality", 7, STRING),
        field("safe_aggregation_privacy_key", 8, INT64),
        field("request_id", PROJECT_METADATA_FIELDS["request_id"], STRING),
        field("timestamp_micros", PROJECT_METADATA_FIELDS["timestamp_micros"], INT64),
        field("latency_micros", PROJECT_METADATA_FIELDS["latency_micros"], INT64),
        field("transport", PROJECT_METADATA_FIELDS["transport"], STRING),
    ),
    message(
        "ClassifyLog",
        field("request", 1, MESSAGE, "ClassificationRequest"),
        field("response", 2, MESSAGE, "ClassificationResponse"),
    ),
    message(
        "RegressLog",
        field("request", 1, MESSAGE, "RegressionRequest"),
        field("response", 2, MESSAGE, "RegressionResponse"),
    ),
    message(
        "PredictLog",
        field("request", 1, MESSAGE, "PredictRequest"),
        field("response", 2, MESSAGE, "PredictResponse"),
    ),
    message(
        "MultiInferenceLog",
        field("request", 1, MESSAGE, "MultiInferenceRequest"),
        field("response", 2, MESSAGE, "MultiInferenceResponse"),
    ),
    message(
        "PredictionLog",
        field("log_metadata", 1, MESSAGE, "LogMetadata"),
        field("classify_log", 2, MESSAGE, "ClassifyLog", oneof="log_type"),
        field("regress_log", 3, MESSAGE, "RegressLog", oneof="log_type"),
        field("multi_inference_log", 4, MESSAGE, "MultiInferenceLog", oneof="log_type"),
        field("predict_log", 6, MESSAGE, "PredictLog", oneof="log_type"),
    ),
]

LOGGING_FILE = proto_file(
    "wire/protos/tensorflow_serving_logging.proto",
    "tensorflow.serving",
    messages=_MESSAGES,
    dependencies=[PREDICTION_SERVICE_FILE.name],
)
