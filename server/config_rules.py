"""What TF Serving checks before it accepts a ModelServerConfig (startup and reload alike)."""

from __future__ import annotations

from collections.abc import Mapping

from tensorflow_serving.config import model_server_config_pb2

from server import lifecycle as lc
from server.errors import Code, ServingError, failed_precondition, invalid_argument

PLATFORM = "tensorflow"
# The log collector types the request logging extension knows (server/request_logging.py).
LOG_COLLECTOR_TYPES = frozenset({"tfrecord"})


def validate_config(
    config: model_server_config_pb2.ModelServerConfig, request_logging: bool = False
) -> None:
    """Raises ServingError with TF Serving's message for a config it would refuse.

    A logging_config is refused unless request_logging (the extension) is on.
    """
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
            if not request_logging:
                # As in TF Serving's open-source build, which supplies no request-logger creator.
                raise invalid_argument("No request-logger-creator provided.")
            _check_logging_config(entry)


def _check_logging_config(entry: model_server_config_pb2.ModelConfig) -> None:
    """Raises ServingError for a logging_config the request logging extension cannot honour."""
    collector = entry.logging_config.log_collector_config
    if collector.type not in LOG_COLLECTOR_TYPES:
        # TF Serving's LogCollector::Create message for an unregistered type.
        raise ServingError(
            Code.NOT_FOUND, f"Cannot find LogCollector::Factory for type: {collector.type}"
        )
    if not collector.filename_prefix or collector.filename_prefix.endswith("/"):
        raise invalid_argument(
            f"Model {entry.name}: log_collector_config.filename_prefix must be a folder and a "
            f"file name prefix, e.g. /logs/{entry.name}; got {collector.filename_prefix!r}"
        )
    rate = entry.logging_config.sampling_config.sampling_rate
    if not 0.0 <= rate <= 1.0:
        raise invalid_argument(
            f"Model {entry.name}: sampling_config.sampling_rate must be from 0 to 1, got {rate}"
        )


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
