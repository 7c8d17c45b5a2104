"""Every request's latency in HDR histograms (microseconds), mergeable across load generator processes.

Locust rounds response times under 100 ms to whole milliseconds in its statistics, so a
sub-millisecond server shows as "0 ms" or "1 ms". These histograms keep 3 significant digits
(a 1.234 ms call is recorded as 1234 us), per request name, plus a coarser one per second of
wall-clock time for the latency-over-time plot.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from hdrh.histogram import HdrHistogram

__all__ = ["PERCENTILES", "LatencyRecorder", "LatencyStats", "latency_stats", "new_histogram"]

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour: anything slower is recorded as one hour
DIGITS = 3
TIMELINE_DIGITS = 2  # 1% resolution per second is plenty for a plot, and 8x smaller
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}


def new_histogram(digits: int = DIGITS) -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, digits)


def _micros(milliseconds: float) -> int:
    return min(HIGHEST_US, max(0, round(milliseconds * 1000.0)))


@dataclass(frozen=True)
class LatencyStats:
    """Percentiles of one histogram in milliseconds (microsecond resolution)."""

    count: int
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    min: float
    mean: float

    def to_dict(self) -> dict[str, float]:
        return {
            "count": self.count,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "p99.9": self.p999,
            "max": self.max,
            "min": self.min,
            "mean": self.mean,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencyStats:
        return cls(
            int(data["count"]),
            data["p50"],
            data["p90"],
            data["p99"],
            data["p99.9"],
            data["max"],
            data["min"],
            data["mean"],
        )


def latency_stats(histogram: HdrHistogram) -> LatencyStats:
    """p50/p90/p99/p99.9/max/min/mean in ms; all zero for an empty histogram."""
    count = histogram.get_total_count()
    if not count:
        return LatencyStats(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    values = histogram.get_percentile_to_value_dict(list(PERCENTILES.values()))
    ms = {key: values[p] / 1000.0 for key, p in PERCENTILES.items()}
    return LatencyStats(
        count,
        ms["p50"],
        ms["p90"],
        ms["p99"],
        ms["p99.9"],
        histogram.get_max_value() / 1000.0,
        histogram.get_min_value() / 1000.0,
        histogram.get_mean_value() / 1000.0,
    )


def _encode(histograms: dict[Any, HdrHistogram]) -> dict[str, str]:
    return {str(k): h.encode().decode("ascii") for k, h in histograms.items() if h.total_count}


class LatencyRecorder:
    """Histograms of latency per (request type, name), of service time in paced runs, and of
    latency per wall-clock second over all names.

    `latency` is what a caller waited: in a paced run, from the request's intended send time
    (coordinated omission corrected); otherwise the same as `service`, the call's own duration.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.latency: dict[str, HdrHistogram] = defaultdict(new_histogram)
        self.service: dict[str, HdrHistogram] = defaultdict(new_histogram)
        self.timeline: dict[int, HdrHistogram] = defaultdict(lambda: new_histogram(TIMELINE_DIGITS))
        self.lag = new_histogram()  # open loop: how late each request was sent, all names
        self.failures: dict[int, int] = defaultdict(int)  # failed requests per wall-clock second
        self.names: dict[str, tuple[str, str]] = {}
        self.first_start = math.inf
        self.last_end = 0.0

    @staticmethod
    def key(request_type: str, name: str) -> str:
        """The key of a request name, as Locust's CSV shows it: "<Type> <Name>"."""
        return f"{request_type} {name}"

    def record(
        self,
        request_type: str,
        name: str,
        response_time_ms: float,
        start_time: float,
        lag_ms: float | None = None,
        failed: bool = False,
    ) -> None:
        """One request: its duration, wall-clock start, in paced runs how late it was sent, and
        whether it failed."""
        key = self.key(request_type, name)
        self.names.setdefault(key, (request_type, name))
        waited = response_time_ms if lag_ms is None else response_time_ms + max(0.0, lag_ms)
        micros = _micros(waited)
        self.latency[key].record_value(micros)
        if lag_ms is not None:
            self.service[key].record_value(_micros(response_time_ms))
            self.lag.record_value(_micros(max(0.0, lag_ms)))
        self.timeline[int(start_time)].record_value(micros)
        if failed:
            self.failures[int(start_time)] += 1
        self.first_start = min(self.first_start, start_time)
        self.last_end = max(self.last_end, start_time + response_time_ms / 1000.0)

    def count(self) -> int:
        return sum(h.get_total_count() for h in self.latency.values())

    def to_dict(self) -> dict[str, Any]:
        """Everything recorded, histograms as base64 HdrHistogram V2 blobs (readable by any HDR tool)."""
        return {
            "names": {k: list(v) for k, v in self.names.items()},
            "latency": _encode(self.latency),
            "service": _encode(self.service),
            "timeline": _encode(self.timeline),
            "lag": self.lag.encode().decode("ascii") if self.lag.get_total_count() else None,
            "failures": {str(second): count for second, count in self.failures.items()},
            "first_start": self.first_start if self.first_start != math.inf else None,
            "last_end": self.last_end or None,
        }

    def drain(self) -> dict[str, Any]:
        """to_dict(), then start afresh: what a worker sends its master at each report."""
        data = self.to_dict()
        self._reset()
        return data

    def merge(self, data: dict[str, Any]) -> None:
        """Add what another recorder's to_dict() or drain() returned."""
        for key, names in data["names"].items():
            self.names.setdefault(key, tuple(names))
        for field in ("latency", "service"):
            target = getattr(self, field)
            for key, blob in data[field].items():
                target[key].decode_and_add(blob)
        for second, blob in data["timeline"].items():
            self.timeline[int(second)].decode_and_add(blob)
        if data.get("lag"):
            self.lag.decode_and_add(data["lag"])
        for second, count in (data.get("failures") or {}).items():
            self.failures[int(second)] += count
        if data.get("first_start") is not None:
            self.first_start = min(self.first_start, data["first_start"])
        if data.get("last_end") is not None:
            self.last_end = max(self.last_end, data["last_end"])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencyRecorder:
        recorder = cls()
        recorder.merge(data)
        return recorder
