"""The rollout check verifies the canary against its own export: a tampered canary (a model that
answers class 0 for every row, shipped with the real version's card and test split) fails the
verification's card check, on top of disagreeing with stable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.rollout.cli import EXIT_BREACH, main
from tests.serverproc import RunningServer

pytestmark = pytest.mark.slow  # end to end: a rollout check under load on tampered models

# Short load, loose latency ratios: latency is not what this test is about.
LOAD = ["--users", "2", "--run-time", "2s", "--rounds", "1"]
LOOSE = ["--max-p50-ratio", "100", "--max-p99-ratio", "100"]
# The tampered canary has no classify signature, a breaking change that would stop the check
# before the verification this test is about; it is accepted, so the check goes on.
ACCEPT = ["--accept-breaking", "classify"]


@pytest.fixture(scope="module")
def models(tampered_models: Path) -> Path:
    return tampered_models


@pytest.fixture(scope="module")
def server(tampered_server: RunningServer) -> RunningServer:
    return tampered_server


def test_a_tampered_canary_fails_its_verification(server, models, tmp_path, capsys) -> None:
    args = ["--model", "tabular", "--transport", "grpc", "--host", server.grpc]
    args += ["--models-root", str(models), "--reports", str(tmp_path), *LOAD, *LOOSE, *ACCEPT]
    code = main(args)
    out = capsys.readouterr().out
    assert code == EXIT_BREACH, out
    assert "verify canary (version 2, 114 test rows)" in out
    assert "note: breaking change accepted: classify: signature: signature removed" in out
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
