"""What TF Serving checks before it accepts a ModelServerConfig (startup and reload alike)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tensorflow_serving.config import model_server_config_pb2

from server import lifecycle as lc
from server.errors import Code, ServingError, failed_precondition, invalid_argument
from serving_config.startup_rules import refusals

# The log collector types the request logging extension knows (server/request_logging.py).
LOG_COLLECTOR_TYPES = frozenset({"tfrecord"})


def validate_config(
    config: model_server_config_pb2.ModelServerConfig,
    request_logging: bool = False,
    log_dir: Path | None = None,
) -> None:
    """Raises ServingError with TF Serving's code and message for a config it would refuse
    (serving_config.startup_rules), then for a logging_config the request logging extension
    (request_logging) cannot honour, or whose files would lie outside log_dir.
    """
    for refusal in refusals(config, request_logging=request_logging):
        raise ServingError(Code[refusal.code], refusal.message)
    if request_logging:
        for entry in config.model_config_list.config:
            if entry.HasField("logging_config"):
                _check_logging_config(entry)
                if log_dir is not None:
                    _check_log_location(entry, log_dir)


def _check_log_location(entry: model_server_config_pb2.ModelConfig, log_dir: Path) -> None:
    """A filename_prefix must name files under log_dir (symbolic links and .. resolved)."""
    prefix = entry.logging_config.log_collector_config.filename_prefix
    folder = Path(os.path.realpath(Path(prefix).parent))
    allowed = Path(os.path.realpath(log_dir))
    if not Path(prefix).is_absolute() or not folder.is_relative_to(allowed):
        raise invalid_argument(
            f"Model {entry.name}: log_collector_config.filename_prefix {prefix!r} is outside "
            f"--request_log_dir {str(log_dir)!r}: request logs are written only under it"
        )


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
