"""The server's own account of a run: request and Session-run times from its metrics page.

TF Serving (and the embedded server) exports, in microseconds, `request_latency` (a request's
whole time in the server), `runtime_latency` (the model run alone) and, with batching,
`batching_session:queuing_latency` (time waiting for a batch). Read before and after a run,
their differences say where the server spent the run's requests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["ServerTimes", "read_counters", "server_times"]

logger = logging.getLogger(__name__)

_SERVING = ":tensorflow:serving:"
_HISTOGRAMS = {
    "request": (_SERVING + "request_latency", "model_name"),
    "run": (_SERVING + "runtime_latency", "model_name"),
    "batch_queue": (_SERVING + "batching_session:queuing_latency", None),
}

Counters = dict[str, tuple[float, float]]  # histogram -> (sum in us, count)


def read_counters(metrics_url: str, model: str, timeout: float = 5.0) -> Counters | None:
    """The histograms' sums and counts for model now (None when the page cannot be read)."""
    try:
        response = requests.get(metrics_url, timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as err:
        logger.info("no server metrics at %s: %s", metrics_url, err)
        return None
    totals: dict[str, list[float]] = {key: [0.0, 0.0] for key in _HISTOGRAMS}
    by_name = {name: (key, label) for key, (name, label) in _HISTOGRAMS.items()}
    for family in text_string_to_metric_families(response.text):
        if family.name not in by_name:
            continue
        key, label = by_name[family.name]
        for sample in family.samples:
            if label is not None and sample.labels.get(label) != model:
                continue
            if sample.name.endswith("_sum"):
                totals[key][0] += sample.value
            elif sample.name.endswith("_count"):
                totals[key][1] += sample.value
    return {key: (total, count) for key, (total, count) in totals.items()}


@dataclass(frozen=True)
class ServerTimes:
    """Mean times per request in the server over one run, in milliseconds."""

    requests: int
    request_ms: float | None
    run_ms: float | None
    batch_queue_ms: float | None

    @property
    def outside_run_ms(self) -> float | None:
        """Time in the server outside the model run: queues, decoding, encoding."""
        if self.request_ms is None or self.run_ms is None:
            return None
        return max(0.0, self.request_ms - self.run_ms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "mean_request_ms": self.request_ms,
            "mean_run_ms": self.run_ms,
            "mean_outside_run_ms": self.outside_run_ms,
            "mean_batch_queue_ms": self.batch_queue_ms,
        }

    def describe(self) -> str:
        parts = [f"{self.requests} requests"]
        for label, value in (
            ("mean time in the server", self.request_ms),
            ("of which model run", self.run_ms),
            ("waiting for a batch", self.batch_queue_ms),
        ):
            if value is not None:
                parts.append(f"{label} {value:.2f} ms")
        return ", ".join(parts)


def server_times(before: Counters | None, after: Counters | None) -> ServerTimes | None:
    """The means between two readings (None when either is missing or nothing was served)."""
    if before is None or after is None:
        return None

    def mean(key: str) -> float | None:
        total = after[key][0] - before[key][0]
        count = after[key][1] - before[key][1]
        return round(total / count / 1000.0, 3) if count > 0 else None

    requests_served = int(after["request"][1] - before["request"][1])
    if requests_served <= 0:
        return None
    return ServerTimes(requests_served, mean("request"), mean("run"), mean("batch_queue"))
