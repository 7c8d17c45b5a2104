"""The config files this bundle ships say what the deployment needs, and pass the checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving_config import BatchingParameters, MonitoringConfig, check_file, parse_text
from serving_config.model_config import (
    BATCHING_PARAMETERS,
    DEFAULT_MODELS_ROOT,
    MODELS_CONFIG,
    MONITORING_CONFIG,
    SHIPPED_FILES,
    load_model_server_config,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "path",
    [pytest.param(path, id=path.name) for path in SHIPPED_FILES],
)
def test_shipped_file_passes_the_checker(path: Path, models_root: Path) -> None:
    assert check_file(path, models_root=models_root) == []


def test_models_config_serves_the_three_example_models() -> None:
    config = load_model_server_config(MODELS_CONFIG)
    models = {model.name: model for model in config.model_config_list.config}
    assert list(models) == ["tabular", "digits", "regressor"]
    for name, model in models.items():
        assert model.base_path == f"/models/{name}"
        assert model.model_platform == "tensorflow"
        assert not model.HasField("logging_config")


def test_tabular_serves_two_pinned_versions_behind_labels() -> None:
    tabular = load_model_server_config(MODELS_CONFIG).model_config_list.config[0]
    assert list(tabular.model_version_policy.specific.versions) == [1, 2]
    assert dict(tabular.version_labels) == {"stable": 1, "canary": 2}


@pytest.mark.parametrize("index", [pytest.param(1, id="digits"), pytest.param(2, id="regressor")])
def test_other_models_serve_only_their_latest_version(index: int) -> None:
    model = load_model_server_config(MODELS_CONFIG).model_config_list.config[index]
    assert model.model_version_policy.WhichOneof("policy_choice") == "latest"
    assert model.model_version_policy.latest.num_versions == 1
    assert not model.version_labels


def test_models_config_explains_the_label_startup_flag() -> None:
    assert "--allow_version_labels_for_unavailable_models" in MODELS_CONFIG.read_text()


def test_batching_parameters_values() -> None:
    params = parse_text(BatchingParameters, BATCHING_PARAMETERS.read_text())
    assert params.max_batch_size.value == 32
    assert params.batch_timeout_micros.value == 2000
    assert params.max_enqueued_batches.value == 64
    assert params.num_batch_threads.value == 2
    assert list(params.allowed_batch_sizes) == [4, 8, 16, 32]
    assert params.pad_variable_length_inputs is False
    assert not params.HasField("thread_pool_name")


def test_monitoring_config_enables_prometheus_at_the_standard_path() -> None:
    config = parse_text(MonitoringConfig, MONITORING_CONFIG.read_text())
    assert config.prometheus_config.enable is True
    assert config.prometheus_config.path == "/monitoring/prometheus/metrics"


def test_default_models_root_is_the_repository_models_folder() -> None:
    assert DEFAULT_MODELS_ROOT == REPO_ROOT / "models"
