"""The bottleneck verdict from its evidence: generator CPU and run-queue wait, rate, lag, service."""

from __future__ import annotations

import os
import time

import pytest

from loadtest.cpu import CpuWatch, run_queue_wait_seconds
from loadtest.hdr import LatencyStats
from loadtest.server_times import server_times
from loadtest.verdict import decide


def _stats(p50: float, p99: float, low: float) -> LatencyStats:
    return LatencyStats(100, p50, p50 * 1.2, p99, p99, p99, low, p50)


def _process(cpu: float, wait: float | None) -> dict[str, object]:
    runnable = None if wait is None else cpu + wait
    return {
        "role": "local",
        "pid": 7,
        "mean_percent": cpu,
        "wait_percent": wait,
        "runnable_percent": runnable,
    }


HEALTHY_SERVICE = _stats(3.0, 6.0, 2.0)
QUEUED_SERVICE = _stats(300.0, 900.0, 2.5)
NO_LAG = _stats(0.1, 0.5, 0.0)
LAGGING = _stats(80.0, 400.0, 0.0)


@pytest.mark.parametrize(
    ("process", "service", "achieved", "lag", "kind", "words"),
    [
        pytest.param(_process(12, 1), HEALTHY_SERVICE, 100.0, NO_LAG, "none", [], id="healthy"),
        pytest.param(
            _process(52, 41), HEALTHY_SERVICE, 60.0, LAGGING, "generator-bound",
            ["waited for a CPU 41% (runnable 93%)", "--processes", "below the target 100.0"],
            id="starved-on-the-run-queue",
        ),
        pytest.param(
            _process(6, 60),
            HEALTHY_SERVICE,
            60.0,
            LAGGING,
            "generator-bound",
            ["waited for a CPU 60%", "cores of its own"],
            id="queued-behind-other-work",
        ),
        pytest.param(
            _process(97, None), HEALTHY_SERVICE, 100.0, NO_LAG, "generator-bound",
            ["on a core 97% of the run"], id="busy-core-without-schedstat",
        ),
        pytest.param(
            _process(12, 2), QUEUED_SERVICE, 70.0, LAGGING, "server-bound",
            ["grew to p50 300.00 ms", "12% CPU, 14% runnable", "below the target"],
            id="saturated-server-not-more-users",
        ),
        pytest.param(
            _process(12, 2), HEALTHY_SERVICE, 70.0, LAGGING, "users-bound",
            ["add --users", "sends were late by p50 80.0 ms"], id="too-few-users",
        ),
    ],
)  # fmt: skip
def test_verdicts(process, service, achieved, lag, kind, words) -> None:
    verdict = decide([process], target_rps=100.0, achieved_rps=achieved, service=service, lag=lag)
    assert verdict.kind == kind
    assert verdict.bottleneck == (kind != "none")
    text = "\n".join(verdict.reasons)
    for word in words:
        assert word in text


def test_a_server_bound_verdict_names_the_servers_own_times() -> None:
    before = {"request": (1_000.0, 10.0), "run": (500.0, 10.0), "batch_queue": (0.0, 0.0)}
    after = {"request": (301_000.0, 110.0), "run": (30_500.0, 110.0), "batch_queue": (0.0, 0.0)}
    times = server_times(before, after)
    assert times is not None
    assert (times.requests, times.request_ms, times.run_ms) == (100, 3.0, 0.3)
    assert times.batch_queue_ms is None and times.outside_run_ms == pytest.approx(2.7)
    verdict = decide(
        [_process(10, 1)],
        target_rps=100.0,
        achieved_rps=80.0,
        service=QUEUED_SERVICE,
        lag=LAGGING,
        server=times,
    )
    assert "in the server: 100 requests, mean time in the server 3.00 ms" in verdict.reasons[0]


@pytest.mark.skipif(run_queue_wait_seconds() is None, reason="needs Linux's schedstat")
def test_the_cpu_watch_sees_time_on_a_core() -> None:
    watch = CpuWatch("local")
    watch.start()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    watch.sample()
    watch.stop()
    usage = watch.usage
    assert usage is not None and usage.pid == os.getpid()
    # psutil reads the kernel's user and system times in clock ticks, each rounded down at
    # both samples: the difference may fall short of the 0.3 s spent by up to two ticks.
    tick = 1.0 / os.sysconf("SC_CLK_TCK")
    assert usage.cpu_seconds >= 0.3 - 2 * tick - 1e-9
    assert usage.wait_seconds is not None and usage.wait_seconds >= 0
    assert usage.runnable_percent is not None and usage.runnable_percent >= usage.mean_percent


def test_one_user_cannot_queue_in_the_server_so_a_slow_run_needs_users() -> None:
    """Service times that grew (a busy machine) with a single user: its calls never overlap."""
    args = {"target_rps": 100.0, "achieved_rps": 70.0, "service": QUEUED_SERVICE, "lag": LAGGING}
    assert decide([_process(12, 2)], users=1, **args).kind == "users-bound"
    assert decide([_process(12, 2)], users=5, **args).kind == "server-bound"
