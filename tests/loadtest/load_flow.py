"""For tests that act on a run while it runs: start `python -m loadtest run`, see its requests
arrive at the server (its metrics page), find the Locust processes."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from tests.serverproc import ROOT, RunningServer

METRICS = "/monitoring/prometheus/metrics"
REQUESTS = re.compile(
    r'^:tensorflow:serving:request_count\{[^}]*model_name="tabular"[^}]*\} (\S+)$'
)


def tabular_requests(server: RunningServer) -> float:
    """The server's count of requests to the tabular model so far."""
    text = requests.get(server.rest + METRICS, timeout=10).text
    return sum(float(m.group(1)) for m in map(REQUESTS.match, text.splitlines()) if m)


def start_run(
    server: RunningServer, models: Path, report: Path, *args: str
) -> subprocess.Popen[bytes]:
    """`python -m loadtest run` against server's tabular model, writing into report."""
    command = [sys.executable, "-m", "loadtest", "run", "--host", server.rest]
    command += ["--model", "tabular", "--models-root", str(models), "--report-dir", str(report)]
    return subprocess.Popen(
        [*command, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def wait_for_load(server: RunningServer, before: float, timeout: float = 90.0) -> None:
    """Return once at least 5 of the run's requests have reached the server."""
    deadline = time.monotonic() + timeout
    while tabular_requests(server) < before + 5:
        assert time.monotonic() < deadline, "the load test never sent its requests"
        time.sleep(0.1)


def locust_processes(run: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The Locust processes a run started (its children running the locustfile)."""
    children = psutil.Process(run.pid).children(recursive=True)
    return [p for p in children if any("locust" in part for part in p.cmdline())]
