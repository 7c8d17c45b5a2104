"""Open loop is the default: a server stall shows in p99 and fails the gate; closed loop says
what it hides."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from loadtest.settings import CLOSED_LOOP_NOTE, DEFAULT_RATE
from tests.loadtest.cli_runs import run_cli
from tests.loadtest.load_flow import start_run, tabular_requests, wait_for_load
from tests.serverproc import RunningServer

pytestmark = pytest.mark.slow  # end to end: Locust runs against a live server


def _freeze_for_a_second(server: RunningServer) -> None:
    pid = server.process.pid  # type: ignore[attr-defined]
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(1.0)
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_one_second_stall_shows_in_the_default_runs_p99_and_fails_the_gate(
    metered_server: RunningServer, example_models: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    before = tabular_requests(metered_server)
    run = start_run(
        metered_server, example_models, report, "--run-time", "8s", "--slo-p99-ms", "250"
    )
    try:
        wait_for_load(metered_server, before)
        time.sleep(0.5)
        _freeze_for_a_second(metered_server)
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
    metered_server: RunningServer, example_models: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    run = run_cli(
        "run",
        *(
            "--host",
            metered_server.rest,
            "--model",
            "tabular",
            "--models-root",
            str(example_models),
        ),
        *("--closed-loop", "--users", "2", "--run-time", "2s", "--report-dir", str(report)),
    )
    assert run.code == 0, run.stderr[-3000:]
    summary = json.loads((report / "summary.json").read_text())
    assert summary["settings"]["mode"] == "closed loop"
    assert summary["settings"]["latency_from"] == CLOSED_LOOP_NOTE
    assert summary["pacing"] is None
    assert CLOSED_LOOP_NOTE in run.stdout


def test_a_rate_with_closed_loop_is_refused(metered_server: RunningServer) -> None:
    run = run_cli("run", "--host", metered_server.rest, "--closed-loop", "--rate", "10")
    assert run.code == 2
    assert "give a rate or closed loop, not both" in run.stderr
