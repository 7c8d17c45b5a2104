"""The rollout check verifies the canary against its own export: a tampered canary (a model that
answers class 0 for every row, shipped with the real version's card and test split) fails the
verification's card check, on top of disagreeing with stable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.rollout.cli import EXIT_BREACH, main
from tests.fixtures.tampered import tampered_models_root
from tests.serverproc import RunningServer, start_server

# Short load, loose latency ratios: latency is not what this test is about.
LOAD = ["--users", "2", "--run-time", "2s", "--rounds", "1"]
LOOSE = ["--max-p50-ratio", "100", "--max-p99-ratio", "100"]


@pytest.fixture(scope="module")
def models(example_models: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rollout-verify-models")
    tampered_models_root(example_models, root)
    return root


@pytest.fixture(scope="module")
def server(models: Path, tmp_path_factory) -> RunningServer:
    flags = [
        f"--model_config_file={models / 'models.config'}",
        "--allow_version_labels_for_unavailable_models",
    ]
    with start_server(flags, tmp_path_factory.mktemp("logs")) as running:
        yield running


def test_a_tampered_canary_fails_its_verification(server, models, tmp_path, capsys) -> None:
    args = ["--model", "tabular", "--transport", "grpc", "--host", server.grpc]
    args += ["--models-root", str(models), "--reports", str(tmp_path), *LOAD, *LOOSE]
    code = main(args)
    out = capsys.readouterr().out
    assert code == EXIT_BREACH, out
    assert "verify canary (version 2, 114 test rows)" in out
    breaches = [line for line in out.splitlines() if line.startswith("canary worse: verify: ")]
    assert len(breaches) == 1 and breaches[0].startswith(
        "canary worse: verify: metrics equal the card: card differs: accuracy"
    ), out
    (record,) = (tmp_path / "rollout").glob("*/rollout.json")
    sections = json.loads(record.read_text())["checks"]
    (verify_section,) = [checks for title, checks in sections.items() if title.startswith("verify")]
    passed = {check["name"]: check["passed"] for check in verify_section}
    assert passed == {
        "served version": True,
        "vs SavedModel": True,
        "vs model card": False,
        "p99 within SLO": True,
    }
