"""Open loop is the default: a server stall shows in p99 and fails the gate; closed loop says
what it hides."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from loadtest.settings import CLOSED_LOOP_NOTE, DEFAULT_RATE
from tests.loadtest.cli_runs import run_cli
from tests.serverproc import ROOT, RunningServer, start_server

pytestmark = pytest.mark.slow  # end to end: Locust runs against a live server

METRICS = "/monitoring/prometheus/metrics"
REQUESTS = re.compile(
    r'^:tensorflow:serving:request_count\{[^}]*model_name="tabular"[^}]*\} (\S+)$'
)


@pytest.fixture(scope="module")
def own_server(example_models: Path, tmp_path_factory) -> Iterator[RunningServer]:
    """A server of this module's own: freezing it must not stall anyone else's tests."""
    from serving_config.model_config import render_local_text

    folder = tmp_path_factory.mktemp("open-loop")
    config = folder / "models.config"
    config.write_text(render_local_text(models_root=example_models))
    flags = [
        f"--model_config_file={config}",
        f"--monitoring_config_file={ROOT / 'serving_config' / 'monitoring.config'}",
        "--allow_version_labels_for_unavailable_models",
    ]
    with start_server(flags, folder) as server:
        yield server


def _tabular_requests(server: RunningServer) -> float:
    text = requests.get(server.rest + METRICS, timeout=10).text
    return sum(float(m.group(1)) for m in map(REQUESTS.match, text.splitlines()) if m)


def _freeze_once_load_flows(server: RunningServer, before: float, deadline: float) -> None:
    """SIGSTOP the server for 1 s once the run's requests have started arriving."""
    while _tabular_requests(server) < before + 5:
        assert time.monotonic() < deadline, "the load test never sent its requests"
        time.sleep(0.1)
    time.sleep(0.5)
    pid = server.process.pid  # type: ignore[attr-defined]
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(1.0)
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_one_second_stall_shows_in_the_default_runs_p99_and_fails_the_gate(
    own_server: RunningServer, example_models: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    before = _tabular_requests(own_server)
    command = [sys.executable, "-m", "loadtest", "run", "--host", own_server.rest]
    command += ["--model", "tabular", "--models-root", str(example_models)]
    command += ["--run-time", "8s", "--slo-p99-ms", "250", "--report-dir", str(report)]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _freeze_once_load_flows(own_server, before, time.monotonic() + 90)
        stdout, stderr = run.communicate(timeout=150)
    finally:
        run.kill()
    assert run.returncode == 1, stderr.decode()[-3000:]  # 1: an SLO breach
    summary = json.loads((report / "summary.json").read_text())
    assert summary["settings"]["mode"] == "open loop"
    assert summary["pacing"]["target_rps"] == DEFAULT_RATE
    # Requests due in the stall's first 0.3 s waited at least 0.7 s: 5% of them at 20 req/s.
    assert summary["total"]["latency_ms"]["p99"] >= 700
    assert summary["total"]["failures"] == 0
    assert "SLO breach: p99 latency" in stdout.decode()


def test_closed_loop_is_chosen_explicitly_and_labelled(
    own_server: RunningServer, example_models: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    run = run_cli(
        "run",
        *("--host", own_server.rest, "--model", "tabular", "--models-root", str(example_models)),
        *("--closed-loop", "--users", "2", "--run-time", "2s", "--report-dir", str(report)),
    )
    assert run.code == 0, run.stderr[-3000:]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["settings"]["mode"] == "closed loop"
    assert summary["settings"]["latency_from"] == CLOSED_LOOP_NOTE
    assert summary["pacing"] is None
    assert CLOSED_LOOP_NOTE in run.stdout


def test_a_rate_with_closed_loop_is_refused(own_server: RunningServer) -> None:
    run = run_cli("run", "--host", own_server.rest, "--closed-loop", "--rate", "10")
    assert run.code == 2
    assert "give a rate or closed loop, not both" in run.stderr
