"""A run's summary: rates, errors and HDR percentiles per request name, next to Locust's own numbers."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtest.hdr import LatencyRecorder, LatencyStats, latency_stats, new_histogram

__all__ = ["AGGREGATED", "RequestSummary", "RunSummary", "read_locust_csv", "request_summaries"]

AGGREGATED = "Aggregated"  # Locust's name for the all-requests row, and ours


@dataclass(frozen=True)
class RequestSummary:
    """One request name's (or all requests') numbers; latencies are HDR, in milliseconds.

    latency is from the intended send time in paced runs; service_time (paced runs only) is
    the calls' own duration. locust holds Locust's numbers for the same requests (its
    percentiles are rounded to whole ms below 100 ms).
    """

    request_type: str
    name: str
    count: int
    failures: int
    rps: float
    latency: LatencyStats
    service_time: LatencyStats | None = None
    locust: dict[str, float] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.failures / self.count if self.count else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.request_type,
            "name": self.name,
            "count": self.count,
            "failures": self.failures,
            "error_rate": self.error_rate,
            "rps": self.rps,
            "latency_ms": self.latency.to_dict(),
            "service_time_ms": self.service_time.to_dict() if self.service_time else None,
            "locust": self.locust,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestSummary:
        service = data.get("service_time_ms")
        return cls(
            data["type"],
            data["name"],
            data["count"],
            data["failures"],
            data["rps"],
            LatencyStats.from_dict(data["latency_ms"]),
            LatencyStats.from_dict(service) if service else None,
            data.get("locust", {}),
        )


@dataclass(frozen=True)
class RunSummary:
    """Everything a run reports; summary.json is its to_dict()."""

    report_dir: Path
    started: str
    duration_s: float
    settings: dict[str, Any]
    model: dict[str, Any]
    workload: dict[str, Any]
    requests: dict[str, RequestSummary]
    total: RequestSummary
    errors: list[dict[str, Any]]
    pacing: dict[str, Any] | None
    generator: dict[str, Any]
    slo: dict[str, Any] | None = None
    server: dict[str, Any] | None = None  # the server's own mean times (its metrics page)

    @property
    def served_version(self) -> int | None:
        """The model version that answered (asked before the run)."""
        return self.model.get("served_version")

    @property
    def passed(self) -> bool:
        """No SLO breach (True when no SLO was checked)."""
        return not (self.slo or {}).get("breaches")

    def to_dict(self) -> dict[str, Any]:
        return {
            "report_dir": str(self.report_dir),
            "started": self.started,
            "duration_s": self.duration_s,
            "settings": self.settings,
            "model": self.model,
            "workload": self.workload,
            "requests": {key: r.to_dict() for key, r in self.requests.items()},
            "total": self.total.to_dict(),
            "errors": self.errors,
            "pacing": self.pacing,
            "generator": self.generator,
            "slo": self.slo,
            "server": self.server,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        return cls(
            Path(data["report_dir"]),
            data["started"],
            data["duration_s"],
            data["settings"],
            data["model"],
            data["workload"],
            {key: RequestSummary.from_dict(r) for key, r in data["requests"].items()},
            RequestSummary.from_dict(data["total"]),
            data["errors"],
            data["pacing"],
            data["generator"],
            data.get("slo"),
            data.get("server"),
        )

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> RunSummary:
        """Read a summary.json.

        Raises:
            OSError: the file cannot be read.
            ValueError: it is not a summary (KeyError and JSON errors are reported as such).
        """
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path} is not a load test summary: missing {err}") from err


def read_locust_csv(path: Path) -> list[dict[str, str]]:
    """The rows of one of Locust's CSV files ([] when it was not written)."""
    if not Path(path).is_file():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _locust_numbers(row: dict[str, str] | None) -> dict[str, float]:
    if row is None:
        return {}
    return {
        "count": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "median_ms": float(row["Median Response Time"]),
        "average_ms": float(row["Average Response Time"]),
        "max_ms": float(row["Max Response Time"]),
        "rps": float(row["Requests/s"]),
    }


def request_summaries(
    recorder: LatencyRecorder, locust_rows: list[dict[str, str]], duration: float
) -> tuple[dict[str, RequestSummary], RequestSummary]:
    """Per request name and in total: HDR latency, Locust's counts of requests and failures."""
    rows = {(r["Type"], r["Name"]): r for r in locust_rows}
    summaries = {}
    total_latency, total_service = new_histogram(), new_histogram()
    for key, (request_type, name) in sorted(recorder.names.items()):
        latency = recorder.latency[key]
        service = recorder.service.get(key)
        total_latency.add(latency)
        if service is not None:
            total_service.add(service)
        row = rows.get((request_type, name))
        count = latency.get_total_count()
        summaries[key] = RequestSummary(
            request_type,
            name,
            count,
            int(row["Failure Count"]) if row else 0,
            count / duration if duration else 0.0,
            latency_stats(latency),
            latency_stats(service) if service is not None else None,
            _locust_numbers(row),
        )
    count = total_latency.get_total_count()
    total = RequestSummary(
        "",
        AGGREGATED,
        count,
        sum(s.failures for s in summaries.values()),
        count / duration if duration else 0.0,
        latency_stats(total_latency),
        latency_stats(total_service) if total_service.get_total_count() else None,
        _locust_numbers(rows.get(("", AGGREGATED))),
    )
    return summaries, total
