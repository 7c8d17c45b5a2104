"""The same load against canary and stable, in interleaved runs, merged per side.

Runs alternate canary, stable, stable, canary, ... (an ABBA order): each side runs as often
early as late, so a trend over the check (the server warming up, a noisy neighbour arriving)
weighs on both sides alike instead of on whichever ran second. Runs are one at a time, never
concurrent: both sides usually share one server, and a slow canary burning CPU would slow the
stable side too and hide its own regression.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtest.hdr import LatencyRecorder, LatencyStats, latency_stats, new_histogram
from loadtest.report import ReportFiles
from loadtest.rollout.sides import Side
from loadtest.runner import run_load
from loadtest.settings import LoadSettings
from loadtest.summary import RunSummary

__all__ = ["LoadResult", "merge_runs", "run_interleaved", "run_order"]

logger = logging.getLogger(__name__)

CANARY, STABLE = "canary", "stable"


@dataclass(frozen=True)
class LoadResult:
    """One side's runs merged: request counts summed, HDR histograms added."""

    side: str
    count: int
    failures: int
    duration_s: float
    latency: LatencyStats
    served_versions: tuple[int, ...]
    runs: tuple[Path, ...]
    errors: tuple[str, ...] = ()
    bottleneck: tuple[str, ...] = ()

    @property
    def error_rate(self) -> float:
        return self.failures / self.count if self.count else 0.0

    @property
    def rps(self) -> float:
        return self.count / self.duration_s if self.duration_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "count": self.count,
            "failures": self.failures,
            "error_rate": self.error_rate,
            "rps": self.rps,
            "duration_s": self.duration_s,
            "latency_ms": self.latency.to_dict(),
            "served_versions": list(self.served_versions),
            "runs": [str(run) for run in self.runs],
            "errors": list(self.errors),
            "bottleneck": list(self.bottleneck),
        }


def run_order(rounds: int) -> list[str]:
    """canary, stable, stable, canary, canary, stable, ...: 2 x rounds runs.

    Raises:
        ValueError: rounds below 1.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, not {rounds}")
    pairs = [(CANARY, STABLE) if i % 2 == 0 else (STABLE, CANARY) for i in range(rounds)]
    return [side for pair in pairs for side in pair]


def merge_runs(side: str, summaries: list[RunSummary]) -> LoadResult:
    """side's runs as one: counts summed, latency from the runs' HDR histograms added.

    Raises:
        OSError: a run's hdr_histograms.json cannot be read.
        ValueError: it is not JSON.
    """
    recorder = LatencyRecorder()
    for summary in summaries:
        results = json.loads(ReportFiles(summary.report_dir).hdr_json.read_text())
        recorder.merge(results["recorder"])
    total = new_histogram()
    for histogram in recorder.latency.values():
        total.add(histogram)
    errors = sorted(
        {f"{error['error']} (x{error['count']})" for s in summaries for error in s.errors}
    )
    return LoadResult(
        side=side,
        count=sum(s.total.count for s in summaries),
        failures=sum(s.total.failures for s in summaries),
        duration_s=sum(s.duration_s for s in summaries),
        latency=latency_stats(total),
        served_versions=tuple(sorted({s.served_version for s in summaries if s.served_version})),
        runs=tuple(s.report_dir for s in summaries),
        errors=tuple(errors),
        bottleneck=tuple(r for s in summaries for r in s.generator.get("reasons", [])),
    )


def run_interleaved(
    base: LoadSettings, sides: dict[str, Side], rounds: int, folder: Path
) -> dict[str, LoadResult]:
    """Run base's load against each side rounds times in ABBA order, base.run_time per side
    in all; each run's report goes to folder/<nn>-<side>/.

    Raises:
        LoadTestError: a run could not start or Locust failed.
        OSError: a run's histograms cannot be read.
    """
    per_run = base.run_time / rounds
    summaries: dict[str, list[RunSummary]] = {CANARY: [], STABLE: []}
    for number, name in enumerate(run_order(rounds), start=1):
        settings = sides[name].settings(base).replace(run_time=per_run)
        logger.info("run %d: %s (%s), %.0fs", number, name, sides[name].describe(), per_run)
        summary = run_load(settings, report_dir=folder / f"{number:02d}-{name}")
        summaries[name].append(summary)
    return {name: merge_runs(name, runs) for name, runs in summaries.items()}
