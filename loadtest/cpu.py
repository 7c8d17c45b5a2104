"""How a load generator process spent the run: on a CPU, waiting for one, or idle.

CPU time alone cannot tell a starved generator from an idle one: a process that wants a core
but sits in the run queue behind other work shows little CPU while its sends slip. Linux
counts that wait per thread in /proc/<pid>/task/<tid>/schedstat (time on a CPU, time runnable
but waiting, in nanoseconds); the sum over the process's threads is what it waited in all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CpuUsage", "CpuWatch", "run_queue_wait_seconds"]


def run_queue_wait_seconds(pid: int | str = "self") -> float | None:
    """Seconds the process's threads have waited for a CPU while runnable (None off Linux)."""
    total = 0
    try:
        for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                total += int(stat.read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue  # a thread that ended while being read
    except OSError:
        return None
    return total / 1e9


@dataclass
class CpuUsage:
    """One load generator process during the test: CPU and run-queue wait, as % of the wall time.

    runnable_percent = CPU + wait: near 100 means the process always had work to do, whether
    or not it got a core for it.
    """

    role: str
    pid: int
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    max_percent: float = 0.0
    wait_seconds: float | None = None  # None where the kernel does not say
    max_runnable_percent: float = 0.0

    @property
    def mean_percent(self) -> float:
        return 100.0 * self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def wait_percent(self) -> float | None:
        if self.wait_seconds is None or not self.wall_seconds:
            return None
        return 100.0 * self.wait_seconds / self.wall_seconds

    @property
    def runnable_percent(self) -> float | None:
        wait = self.wait_percent
        return None if wait is None else self.mean_percent + wait

    def to_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "role": self.role,
            "pid": self.pid,
            "cpu_seconds": round(self.cpu_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "mean_percent": round(self.mean_percent, 1),
            "max_percent": round(self.max_percent, 1),
            "wait_seconds": None if self.wait_seconds is None else round(self.wait_seconds, 3),
            "wait_percent": rounded(self.wait_percent),
            "runnable_percent": rounded(self.runnable_percent),
            "max_runnable_percent": round(self.max_runnable_percent, 1),
        }


class CpuWatch:
    """Measures this process between start() and stop(), sampling each second for the peaks."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.usage: CpuUsage | None = None
        self._started: tuple[float, float, float | None] | None = None
        self._last: tuple[float, float, float | None] | None = None
        self._process: Any = None

    def start(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.usage = CpuUsage(self.role, self._process.pid)
        self._started = self._last = self._now()

    def sample(self) -> None:
        """Record the shares since the last sample (call about once a second)."""
        if self.usage is None or self._started is None or self._last is None:
            return
        now = self._now()
        (cpu0, wall0, wait0), (cpu1, wall1, wait1) = self._last, now
        if wall1 > wall0:
            self.usage.max_percent = max(
                self.usage.max_percent, 100 * (cpu1 - cpu0) / (wall1 - wall0)
            )
            if wait0 is not None and wait1 is not None:
                runnable = 100 * (cpu1 - cpu0 + max(0.0, wait1 - wait0)) / (wall1 - wall0)
                self.usage.max_runnable_percent = max(self.usage.max_runnable_percent, runnable)
        self._last = now
        self._update(now)

    def stop(self) -> None:
        if self._started is not None:
            self._update(self._now())
            self._started = None

    def _now(self) -> tuple[float, float, float | None]:
        times = self._process.cpu_times()
        cpu: float = times.user + times.system  # psutil is untyped; its CPU times are floats
        return cpu, time.monotonic(), run_queue_wait_seconds()

    def _update(self, now: tuple[float, float, float | None]) -> None:
        assert self.usage is not None and self._started is not None
        (cpu0, wall0, wait0), (cpu1, wall1, wait1) = self._started, now
        self.usage.cpu_seconds = cpu1 - cpu0
        self.usage.wall_seconds = wall1 - wall0
        if wait0 is not None and wait1 is not None:
            # A thread that ended takes its wait out of the sum: never below zero.
            self.usage.wait_seconds = max(0.0, wait1 - wait0)
