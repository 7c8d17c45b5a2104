"""One embedded server for the load test tests, serving the exported example models as `make
serve` does (serving_config/models.config rendered for them: tabular 1 and 2 with the labels
stable -> 1 and canary -> 2, digits, regressor)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serverproc import RunningServer, start_server


@pytest.fixture(scope="package")
def example_server(example_models: Path, tmp_path_factory) -> Iterator[RunningServer]:
    from serving_config.model_config import render_local_text

    config = tmp_path_factory.mktemp("loadtest-config") / "models.config"
    config.write_text(render_local_text(models_root=example_models))
    flags = [f"--model_config_file={config}", "--allow_version_labels_for_unavailable_models"]
    with start_server(flags, tmp_path_factory.mktemp("loadtest-logs")) as server:
        yield server
