"""The messages of TF Serving's ModelService: model status, config reloads, server config."""

from __future__ import annotations

from wire.protos.builder import (
    ENUM,
    INT64,
    MESSAGE,
    STRING,
    UINT32,
    WELL_KNOWN_FILES,
    enum,
    field,
    map_field,
    message,
    proto_file,
)
from wire.protos.serving_messages import PREDICTION_SERVICE_FILE
from wire.protos.tensorflow_messages import ERROR_CODES_FILE

__all__ = ["MODEL_SERVICE_FILE"]

_POLICY = "FileSystemStoragePathSourceConfig.ServableVersionPolicy"

# Only the nested version policy of FileSystemStoragePathSourceConfig is described; ModelConfig
# refers to it by its full name. ModelConfig's deprecated model_type (3) and logging_config (6)
# are left out and kept as unknown fields when present.
_SERVER_CONFIG = [
    message(
        "FileSystemStoragePathSourceConfig",
        nested=[
            message(
                "ServableVersionPolicy",
                field("latest", 100, MESSAGE, "Latest", oneof="policy_choice"),
                field("all", 101, MESSAGE, "All", oneof="policy_choice"),
                field("specific", 102, MESSAGE, "Specific", oneof="policy_choice"),
                nested=[
                    message("Latest", field("num_versions", 1, UINT32)),
                    message("All"),
                    message("Specific", field("versions", 1, INT64, repeated=True)),
                ],
            )
        ],
    ),
    message(
        "ModelConfig",
        field("name", 1, STRING),
        field("base_path", 2, STRING),
        field("model_platform", 4, STRING),
        field("model_version_policy", 7, MESSAGE, _POLICY),
        map_field("version_labels", 8, STRING, INT64),
    ),
    message("ModelConfigList", field("config", 1, MESSAGE, "ModelConfig", repeated=True)),
    message(
        "ModelServerConfig",
        field("model_config_list", 1, MESSAGE, "ModelConfigList", oneof="config"),
        field("custom_model_config", 2, MESSAGE, ".google.protobuf.Any", oneof="config"),
    ),
]

# TF Serving's status.proto and get_model_status.proto set snake_case JSON names explicitly.
_STATUS = [
    message(
        "StatusProto",
        field("error_code", 1, ENUM, ".tensorflow.error.Code", json_name="error_code"),
        field("error_message", 2, STRING, json_name="error_message"),
    ),
    message(
        "ModelVersionStatus",
        field("version", 1, INT64),
        field("state", 2, ENUM, "State"),
        field("status", 3, MESSAGE, "StatusProto"),
        enums=[
            enum(
                "State",
                [
                    ("UNKNOWN", 0),
                    ("START", 10),
                    ("LOADING", 20),
                    ("AVAILABLE", 30),
                    ("UNLOADING", 40),
                    ("END", 50),
                ],
            )
        ],
    ),
    message("GetModelStatusRequest", field("model_spec", 1, MESSAGE, "ModelSpec")),
    message(
        "GetModelStatusResponse",
        field(
            "model_version_status",
            1,
            MESSAGE,
            "ModelVersionStatus",
            repeated=True,
            json_name="model_version_status",
        ),
    ),
]

_RELOAD = [
    message(
        "ReloadConfigRequest",
        field("config", 1, MESSAGE, "ModelServerConfig"),
        field("metric_names", 2, STRING, repeated=True),
    ),
    message(
        "Metric",
        field("name", 1, STRING),
        field("int64_value_increase", 2, INT64, oneof="value_increase"),
    ),
    message(
        "ReloadConfigResponse",
        field("status", 1, MESSAGE, "StatusProto"),
        field("metric", 2, MESSAGE, "Metric", repeated=True),
    ),
]

MODEL_SERVICE_FILE = proto_file(
    "wire/protos/tensorflow_serving_model_service.proto",
    "tensorflow.serving",
    messages=[*_SERVER_CONFIG, *_STATUS, *_RELOAD],
    dependencies=[
        *(known.name for known in WELL_KNOWN_FILES),
        ERROR_CODES_FILE.name,
        PREDICTION_SERVICE_FILE.name,
    ],
)
