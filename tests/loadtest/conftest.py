"""One embedded server for the load test tests, serving the exported example models as `make
serve` does (serving_config/models.config rendered for them: tabular 1 and 2 with the labels
stable -> 1 and canary -> 2, digits, regressor)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadtest import RunSummary
from tests.loadtest.cli_runs import CliRun, run_cli
from tests.serverproc import RunningServer, start_server

SHORT = ["--users", "4", "--run-time", "3s"]


@pytest.fixture(scope="package")
def example_server(example_models: Path, tmp_path_factory) -> Iterator[RunningServer]:
    from serving_config.model_config import render_local_text

    config = tmp_path_factory.mktemp("loadtest-config") / "models.config"
    config.write_text(render_local_text(models_root=example_models))
    flags = [f"--model_config_file={config}", "--allow_version_labels_for_unavailable_models"]
    with start_server(flags, tmp_path_factory.mktemp("loadtest-logs")) as server:
        yield server


@pytest.fixture(scope="package")
def metered_server(example_models: Path, tmp_path_factory) -> Iterator[RunningServer]:
    """A server of the load test tests' own, with its metrics page: tests freeze or starve it,
    which must not stall anyone else's."""
    from serving_config.model_config import render_local_text
    from tests.serverproc import ROOT

    folder = tmp_path_factory.mktemp("metered")
    config = folder / "models.config"
    config.write_text(render_local_text(models_root=example_models))
    flags = [
        f"--model_config_file={config}",
        f"--monitoring_config_file={ROOT / 'serving_config' / 'monitoring.config'}",
        "--allow_version_labels_for_unavailable_models",
    ]
    with start_server(flags, folder) as server:
        yield server


@dataclass(frozen=True)
class Outcome:
    cli: CliRun
    report: Path
    summary: RunSummary


def _cli_run(report: Path, *args: str) -> Outcome:
    cli = run_cli("run", *args, *SHORT, "--report-dir", str(report))
    assert (report / "summary.json").is_file(), cli.stderr[-3000:]
    return Outcome(cli, report, RunSummary.load(report / "summary.json"))


@pytest.fixture(scope="package")
def rest_run(example_server, example_models, tmp_path_factory) -> Outcome:
    """REST against the canary label, with thresholds any healthy run meets."""
    return _cli_run(
        tmp_path_factory.mktemp("rest") / "report",
        *("--transport", "rest", "--host", example_server.rest, "--model", "tabular"),
        *("--label", "canary", "--models-root", str(example_models)),
        *("--slo-p99-ms", "60000", "--slo-error-rate", "0", "--slo-min-rps", "1"),
    )


@pytest.fixture(scope="package")
def grpc_run(example_server, example_models, tmp_path_factory) -> Outcome:
    """gRPC against version 1 in closed loop, with three thresholds no server meets."""
    return _cli_run(
        tmp_path_factory.mktemp("grpc") / "report",
        "--closed-loop",
        *("--transport", "grpc", "--host", example_server.grpc, "--model", "tabular"),
        *("--version", "1", "--models-root", str(example_models)),
        *("--slo-p99-ms", "0.001", "--slo-p50-ms", "0.001", "--slo-min-rps", "1e9"),
    )
