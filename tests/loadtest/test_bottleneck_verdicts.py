"""The verdict in the two situations it must tell apart, made for real on this machine's two
CPUs: a generator starved of CPU (a busy sibling on its core, the generator at nice 19) and a
server starved the same way while the generator has a core to itself."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.loadtest.load_flow import locust_processes, start_run, tabular_requests, wait_for_load
from tests.serverproc import RunningServer

pytestmark = [
    pytest.mark.slow,  # end to end: Locust runs against a live server
    pytest.mark.skipif(
        len(psutil.Process().cpu_affinity()) < 2, reason="needs two CPUs to starve one side"
    ),
]
GENERATOR_CPU, SERVER_CPU = 0, 1
ALL_CPUS = os.sched_getaffinity(0)
STARVED_S = 5.0


def _threads(processes: list[psutil.Process]) -> list[int]:
    """Every thread of processes: affinity and nice are per thread on Linux."""
    return [t.id for p in processes for t in p.threads()]


def _place(threads: list[int], cpus: set[int], nice: int | None = None) -> None:
    for tid in threads:
        with contextlib.suppress(OSError):  # a thread that has ended
            os.sched_setaffinity(tid, cpus)
            if nice is not None:
                os.setpriority(os.PRIO_PROCESS, tid, nice)


@contextlib.contextmanager
def _starved(processes: list[psutil.Process], cpu: int) -> Iterator[None]:
    """Pin processes to cpu at nice 19 beside a busy loop at nice 0; undo after."""
    sibling = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    threads = _threads(processes)
    try:
        os.sched_setaffinity(sibling.pid, {cpu})
        _place(threads, {cpu}, 19)
        yield
    finally:
        sibling.kill()
        sibling.wait()
        _place(threads, ALL_CPUS, 0)  # back down from nice 19 needs root, which CI has


def _run_starving(
    server: RunningServer, models: Path, report: Path, starve: str
) -> dict[str, object]:
    before = tabular_requests(server)
    run = start_run(server, models, report, "--rate", "100", "--run-time", "8s")
    try:
        wait_for_load(server, before)
        generator = locust_processes(run)
        assert generator, "no Locust process found"
        server_process = psutil.Process(server.process.pid)  # type: ignore[attr-defined]
        starved, other = (
            (generator, [server_process])
            if starve == "generator"
            else ([server_process], generator)
        )
        free_cpu = SERVER_CPU if starve == "generator" else GENERATOR_CPU
        _place(_threads(other), {free_cpu})
        with _starved(starved, GENERATOR_CPU if starve == "generator" else SERVER_CPU):
            time.sleep(STARVED_S)
        stdout, stderr = run.communicate(timeout=150)
    finally:
        run.kill()
        _place(_threads([psutil.Process(server.process.pid)]), ALL_CPUS)  # type: ignore[attr-defined]
    assert run.returncode == 0, stderr.decode()[-3000:]
    summary: dict[str, object] = json.loads((report / "summary.json").read_text())
    summary["stdout"] = stdout.decode()
    return summary


def test_a_generator_short_of_cpu_is_named_though_its_cpu_share_is_low(
    metered_server: RunningServer, example_models: Path, tmp_path: Path
) -> None:
    summary = _run_starving(metered_server, example_models, tmp_path / "report", "generator")
    generator = summary["generator"]
    assert isinstance(generator, dict)
    assert generator["verdict"] == "generator-bound", generator
    (process,) = generator["processes"]
    assert process["wait_percent"] >= 20  # waited in the run queue, whatever its CPU share
    assert "was short of CPU" in generator["reasons"][0]
    assert "LOAD GENERATOR BOTTLENECK" in str(summary["stdout"])


def test_a_slow_server_is_named_not_the_generator(
    metered_server: RunningServer, example_models: Path, tmp_path: Path
) -> None:
    summary = _run_starving(metered_server, example_models, tmp_path / "report", "server")
    generator = summary["generator"]
    assert isinstance(generator, dict)
    assert generator["verdict"] == "server-bound", generator
    assert "requests queued in the server" in generator["reasons"][0]
    server = summary["server"]
    assert isinstance(server, dict) and server["requests"] > 0  # its own times, from its page
    assert "SERVER BOTTLENECK" in str(summary["stdout"])
