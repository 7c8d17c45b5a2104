"""What TF Serving checks before it accepts a ModelServerConfig (startup and reload alike)."""

from __future__ import annotations

from collections.abc import Mapping

from tensorflow_serving.config import model_server_config_pb2

from server import lifecycle as lc
from server.errors import Code, ServingError, failed_precondition, invalid_argument

PLATFORM = "tensorflow"


def validate_config(config: model_server_config_pb2.ModelServerConfig) -> None:
    """Raises ServingError with TF Serving's message for a config it would refuse."""
    kind = config.WhichOneof("config")
    if kind == "custom_model_config":
        raise ServingError(
            Code.UNIMPLEMENTED, "ModelServer does not yet support custom model config."
        )
    seen: set[str] = set()
    for entry in config.model_config_list.config:
        if entry.name in seen:
            raise invalid_argument(
                f"Illegal to list model {entry.name} multiple times in config list"
            )
        seen.add(entry.name)
        if not (entry.base_path.startswith("/") or "://" in entry.base_path):
            raise invalid_argument(
                f"Expected model {entry.name} to have an absolute path or URI; got base_path()={entry.base_path}"
            )
        if not entry.model_platform:
            raise invalid_argument(
                "Illegal setting neither ModelServerConfig::model_type (deprecated) nor "
                f"ModelServerConfig::model_platform, model name is {entry.name}"
            )
        if entry.model_platform != PLATFORM:
            raise ServingError(
                Code.NOT_FOUND,
                f"Model {entry.name} requested unsupported platform {entry.model_platform}",
            )
        if entry.HasField("logging_config"):
            # As in TF Serving's open-source build, which supplies no request-logger creator.
            raise invalid_argument("No request-logger-creator provided.")


def validate_labels(
    config: model_server_config_pb2.ModelServerConfig,
    models: Mapping[str, lc.ManagedModel],
    allow_unavailable: bool,
) -> None:
    """A label may point only at an AVAILABLE version (relaxed for new labels by the flag).

    Raises:
        ServingError: FAILED_PRECONDITION with TF Serving's message.
    """
    for entry in config.model_config_list.config:
        model = models.get(entry.name)
        for label, version in entry.version_labels.items():
            state = model.versions.get(version) if model else None
            if state is not None and state.state == lc.AVAILABLE:
                continue
            existing = model.labels.get(label) if model else None
            if allow_unavailable and existing in (None, version):
                continue
            raise failed_precondition(
                f"Request to assign label to version {version} of model {entry.name}, "
                "which is not currently available for inference"
            )
