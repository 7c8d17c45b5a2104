"""A version swap and a second model's load under steady open-loop load, on a polling server."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.loadtest.cli_runs import run_cli
from tests.serverproc import RunningServer, start_server

pytestmark = pytest.mark.slow  # end to end: Locust runs while versions load

CONFIG = """model_config_list {{
  config {{ name: "tabular" base_path: "{root}/tabular" model_platform: "tensorflow" }}
  config {{ name: "regressor" base_path: "{root}/regressor" model_platform: "tensorflow" }}
}}
"""


@pytest.fixture(scope="module")
def polling_server(example_models: Path, tmp_path_factory) -> Iterator[tuple[RunningServer, Path]]:
    """tabular and regressor with version 1 only; the server polls every second. (A model with
    no version at all would hold the server's start, as TF Serving waits for every model.)"""
    root = tmp_path_factory.mktemp("swap-models")
    shutil.copytree(example_models / "tabular" / "1", root / "tabular" / "1")
    shutil.copytree(example_models / "regressor" / "1", root / "regressor" / "1")
    config = root / "models.config"
    config.write_text(CONFIG.format(root=root))
    flags = [f"--model_config_file={config}", "--file_system_poll_wait_seconds=1"]
    with start_server(flags, root) as server:
        yield server, root


def test_a_swap_under_load_reports_each_phase_and_the_first_requests(
    polling_server: tuple[RunningServer, Path], example_models: Path, tmp_path: Path
) -> None:
    server, root = polling_server
    report = tmp_path / "swap"
    run = run_cli(
        "swap",
        *("--host", server.rest, "--model", "tabular", "--models-root", str(root)),
        *("--rate", "20", "--run-time", "12s", "--report-dir", str(report)),
        *("--base-path", str(root / "tabular"), "--new-version", str(example_models / "tabular" / "2")),
        *("--second-model", "regressor", "--second-base-path", str(root / "regressor")),
        *("--second-version", str(example_models / "regressor" / "1")),
        "--max-p99-ratio", "1000",
        timeout=300,
    )  # fmt: skip
    assert run.code == 0, run.stdout + run.stderr[-3000:]
    first, second = json.loads((report / "swap.json").read_text())
    assert first["version"] == 2 and second["version"] == 2
    for swap in (first, second):
        phases = {p["phase"]: p for p in swap["phases"]}
        assert list(phases) == ["before", "during", "after"]
        assert phases["before"]["count"] > 0 and phases["during"]["count"] > 0
        assert all(p["failures"] == 0 for p in phases.values())
        assert swap["load_seconds"] > 0 and swap["passed"]
    assert first["first_request_ms"] > 0 and first["first_request_without_warmup_ms"] > 0
    assert second["first_request_ms"] is None
    assert sorted(p.name for p in (root / "tabular").iterdir()) == ["1", "2", "3"]  # 3: no warmup
    assert "first request to the new version" in run.stdout


def test_a_strict_ratio_fails_the_gate_and_says_why(
    polling_server: tuple[RunningServer, Path], example_models: Path, tmp_path: Path
) -> None:
    server, root = polling_server
    run = run_cli(
        "swap",
        *("--host", server.rest, "--model", "tabular", "--models-root", str(root)),
        *("--rate", "20", "--run-time", "12s", "--report-dir", str(tmp_path / "swap")),
        *("--base-path", str(root / "tabular"), "--new-version", str(example_models / "tabular" / "1")),
        "--max-p99-ratio", "0.001",
        timeout=300,
    )  # fmt: skip
    assert run.code == 1, run.stdout + run.stderr[-3000:]
    assert "SWAP BREACH: p99 during the swap" in run.stdout
