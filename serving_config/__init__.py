"""TF Serving config files for this bundle (models, batching, monitoring) and their checker."""

from __future__ import annotations

from serving_config.check import Problem, check_file, check_text
from serving_config.model_config import ConfigLoadError, load_model_server_config, render_local
from serving_config.schema import (
    BatchingParameters,
    ConfigParseError,
    ModelServerConfig,
    MonitoringConfig,
    PrometheusConfig,
    SSLConfig,
    parse_text,
)

__all__ = [
    "BatchingParameters",
    "ConfigLoadError",
    "ConfigParseError",
    "ModelServerConfig",
    "MonitoringConfig",
    "Problem",
    "PrometheusConfig",
    "SSLConfig",
    "check_file",
    "check_text",
    "load_model_server_config",
    "parse_text",
    "render_local",
]
