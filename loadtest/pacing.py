"""Paced mode: a fixed send schedule per user, and the checks that say who was the bottleneck.

Locust's constant_throughput(r) waits 1/r minus the last task's duration, restarting its clock
after every task: when a call stalls, the sends it held up are never made and the stall is
recorded once, so the percentiles hide it (coordinated omission). Pacer keeps a fixed schedule
at the same rate instead: a late user sends at once until it is back on schedule, and each
request's latency is measured from when it should have been sent, as wrk2 does.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BOTTLENECK_CPU_PERCENT",
    "RATE_SHORTFALL",
    "CpuUsage",
    "CpuWatch",
    "Pacer",
    "bottleneck_reasons",
]

BOTTLENECK_CPU_PERCENT = 90.0
RATE_SHORTFALL = 0.95  # achieved below 95% of the target rate counts as falling short


class Pacer:
    """The intended send times of one user sending `rate` requests per second.

    The first send is at a random phase within one interval, so users started together do
    not send in bursts.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.perf_counter) -> None:
        if rate <= 0:
            raise ValueError(f"a paced rate must be positive, not {rate}")
        self.interval = 1.0 / rate
        self._clock = clock
        self._next = clock() + random.uniform(0.0, self.interval)

    def wait_time(self) -> float:
        """Seconds until the next intended send (0 when behind): a Locust wait_time value."""
        return max(0.0, self._next - self._clock())

    def take(self) -> float:
        """The next intended send time (perf_counter seconds); moves the schedule on."""
        intended = self._next
        self._next += self.interval
        return intended


@dataclass
class CpuUsage:
    """One load generator process's CPU during the test: mean and busiest second, % of a core."""

    role: str
    pid: int
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    max_percent: float = 0.0

    @property
    def mean_percent(self) -> float:
        return 100.0 * self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "pid": self.pid,
            "cpu_seconds": round(self.cpu_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "mean_percent": round(self.mean_percent, 1),
            "max_percent": round(self.max_percent, 1),
        }


class CpuWatch:
    """Measures this process's CPU between start() and stop(), sampling each second for the peak."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.usage: CpuUsage | None = None
        self._started: tuple[float, float] | None = None
        self._process: Any = None

    def start(self) -> None:
        import psutil

        self._process = psutil.Process()
        self._process.cpu_percent(None)  # primes the per-second samples
        self.usage = CpuUsage(self.role, self._process.pid)
        self._started = (self._cpu(), time.monotonic())

    def sample(self) -> None:
        """Record the CPU share since the last sample (call about once a second)."""
        if self.usage is not None and self._started is not None:
            percent = self._process.cpu_percent(None)
            self.usage.max_percent = max(self.usage.max_percent, percent)
            self._update()

    def stop(self) -> None:
        if self._started is not None:
            self._update()
            self._started = None

    def _cpu(self) -> float:
        times = self._process.cpu_times()
        seconds: float = times.user + times.system  # psutil is untyped; its CPU times are floats
        return seconds

    def _update(self) -> None:
        assert self.usage is not None and self._started is not None
        cpu0, wall0 = self._started
        self.usage.cpu_seconds = self._cpu() - cpu0
        self.usage.wall_seconds = time.monotonic() - wall0


def bottleneck_reasons(
    processes: list[dict[str, Any]], target_rps: float | None, achieved_rps: float
) -> list[str]:
    """Why the load generator, not the server, may have limited the run (empty when it did not).

    processes are CpuUsage.to_dict() of the processes that ran users.
    """
    reasons = []
    for usage in processes:
        if usage["mean_percent"] > BOTTLENECK_CPU_PERCENT:
            reasons.append(
                f"load generator {usage['role']} (pid {usage['pid']}) used "
                f"{usage['mean_percent']:.0f}% of a core (over {BOTTLENECK_CPU_PERCENT:.0f}%): "
                "add processes (--processes) or machines"
            )
    if target_rps and achieved_rps < RATE_SHORTFALL * target_rps:
        reasons.append(
            f"achieved {achieved_rps:.1f} req/s, below the target {target_rps:.1f} req/s: "
            "the users were busy waiting for answers (add --users) or the generator was short "
            "of CPU; the latencies include the time requests waited to be sent"
        )
    return reasons
