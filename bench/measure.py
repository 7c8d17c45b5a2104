"""Time calls one at a time, in interleaved rounds or from many threads; summarize percentiles."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import numpy as np

Call = Callable[[], object]


@dataclass(frozen=True)
class Latency:
    """Percentiles of one series of timed calls, in milliseconds."""

    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float

    @classmethod
    def from_seconds(cls, seconds: list[float]) -> Latency:
        """Summarize per-call durations given in seconds.

        Raises:
            ValueError: `seconds` is empty.
        """
        if not seconds:
            raise ValueError("no timed calls to summarize")
        ms = np.asarray(seconds) * 1e3
        p50, p99 = np.percentile(ms, [50, 99])
        return cls(len(ms), float(p50), float(p99), float(ms.mean()), float(ms.min()))

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class ConcurrentRun:
    """Per-call durations (seconds) of concurrent clients and the wall time they took."""

    clients: int
    durations: list[float]
    seconds: float


@dataclass(frozen=True)
class Throughput:
    """Requests completed by concurrent clients, over the wall time they took."""

    clients: int
    requests: int
    seconds: float
    latency: Latency

    @classmethod
    def from_runs(cls, runs: list[ConcurrentRun]) -> Throughput:
        """Pool runs of the same clients: total requests over total wall time.

        Raises:
            ValueError: `runs` is empty.
        """
        if not runs:
            raise ValueError("no concurrent runs to summarize")
        durations = [d for run in runs for d in run.durations]
        seconds = sum(run.seconds for run in runs)
        return cls(runs[0].clients, len(durations), seconds, Latency.from_seconds(durations))

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    def as_dict(self) -> dict[str, object]:
        return {
            "clients": self.clients,
            "requests": self.requests,
            "seconds": self.seconds,
            "requests_per_second": self.requests_per_second,
            "latency": self.latency.as_dict(),
        }


def timed_series(call: Call, requests: int) -> list[float]:
    """Durations in seconds of `requests` calls, one after another."""
    durations = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def time_calls(call: Call, requests: int, warmup: int) -> Latency:
    """Run `call` `warmup` times untimed, then `requests` times, each timed on its own."""
    for _ in range(warmup):
        call()
    return Latency.from_seconds(timed_series(call, requests))


def time_interleaved(
    calls: Mapping[str, Call],
    requests: Mapping[str, int],
    warmup: Mapping[str, int],
    rounds: int,
) -> dict[str, Latency]:
    """Time every call in turn, a slice of its requests per round.

    Interleaving spreads any drift in background load over all paths alike, so their ratios
    stay fair on a shared machine.
    """
    for name, call in calls.items():
        for _ in range(warmup[name]):
            call()
    series: dict[str, list[float]] = {name: [] for name in calls}
    for index in range(rounds):
        for name, call in calls.items():
            # Spread the remainder over the first rounds so the totals are exact.
            share = requests[name] // rounds + (1 if index < requests[name] % rounds else 0)
            series[name].extend(timed_series(call, share))
    return {name: Latency.from_seconds(durations) for name, durations in series.items()}


def run_concurrent(
    make_call: Callable[[], Call], clients: int, requests_per_client: int, warmup: int = 0
) -> ConcurrentRun:
    """`clients` threads, each with its own call from `make_call()`, released together.

    Each thread first makes `warmup` untimed calls; the wall time runs from the common start
    to the last thread's last call.

    Raises:
        Exception: the first error any client thread hit.
    """
    calls = [make_call() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    durations: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []

    def client(index: int) -> None:
        try:
            for _ in range(warmup):
                calls[index]()
        except Exception as err:  # reported by the caller after join
            errors.append(err)
        start.wait()
        if errors:
            return
        try:
            durations[index] = timed_series(calls[index], requests_per_client)
        except Exception as err:  # reported by the caller after join
            errors.append(err)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return ConcurrentRun(clients, [d for series in durations for d in series], elapsed)
