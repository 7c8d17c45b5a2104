"""One swap under steady open-loop load: publish, wait for AVAILABLE, split the run at those moments."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtest.hdr import LatencyRecorder
from loadtest.runner import prepare, run_load
from loadtest.settings import LoadSettings
from loadtest.summary import RunSummary
from loadtest.swap.phases import Phase, split_phases
from loadtest.swap.publishing import first_request_ms, publish_copy, wait_available

__all__ = ["Swap", "SwapReport", "run_swap"]

LEAD = 0.4  # publish this far into the run: Locust's start-up plus a steady "before"


@dataclass(frozen=True)
class Swap:
    """What to publish during the load: source copied into model's base path as a new version."""

    model: str
    base_path: Path
    source: Path


@dataclass
class SwapReport:
    """The outcome of one swap, and its gate."""

    event: str
    version: int
    load_seconds: float
    phases: list[Phase]
    first_request_ms: float | None = None
    first_request_without_warmup_ms: float | None = None
    breaches: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.breaches

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "version": self.version,
            "load_seconds": self.load_seconds,
            "phases": [p.to_dict() for p in self.phases],
            "first_request_ms": self.first_request_ms,
            "first_request_without_warmup_ms": self.first_request_without_warmup_ms,
            "breaches": self.breaches,
            "passed": self.passed,
        }


def _gate(phases: list[Phase], max_ratio: float) -> list[str]:
    breaches = [f"{p.failures} failed requests {p.name} the swap" for p in phases if p.failures]
    before, during = phases[0], phases[1]
    if before.p99_ms and during.p99_ms and during.p99_ms > max_ratio * before.p99_ms:
        breaches.append(
            f"p99 during the swap {during.p99_ms:.2f} ms > {max_ratio:g} x before "
            f"({before.p99_ms:.2f} ms)"
        )
    if not (before.count and during.count):
        breaches.append("no requests before or during the swap: lengthen --run-time")
    return breaches


def run_swap(
    settings: LoadSettings, swap: Swap, report_dir: Path, *, max_ratio: float, time_first: bool
) -> SwapReport:
    """Load settings' model, publish swap at LEAD of the run, report the phases; with
    time_first, also time the first request to the new version, and to one more published
    without its warmup file after the run.

    Raises:
        SwapError: a version did not publish or load.
        LoadTestError: the load could not run.
    """
    _, workload = prepare(settings)
    body = workload.batches[0].rest_body or b""
    outcome: dict[str, Any] = {}

    def load() -> None:
        try:
            outcome["summary"] = run_load(settings, report_dir=report_dir / "load")
        except Exception as err:  # handed to the caller's thread below
            outcome["error"] = err

    thread = threading.Thread(target=load, name="swap-load")
    thread.start()
    thread.join(timeout=settings.run_time * LEAD + 3.0)  # Locust's start, then the lead
    published = time.time()
    version = publish_copy(swap.source, swap.base_path)
    available = wait_available(settings.target_host, swap.model, version)
    first = (
        first_request_ms(settings.target_host, swap.model, version, body) if time_first else None
    )
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    summary: RunSummary = outcome["summary"]
    recorder = LatencyRecorder.from_dict(
        json.loads((summary.report_dir / "hdr_histograms.json").read_text())["recorder"]
    )
    phases = split_phases(recorder, published, available)
    report = SwapReport(
        event=f"version {version} of {swap.model} published from {swap.source}",
        version=version,
        load_seconds=round(available - published, 3),
        phases=phases,
        first_request_ms=first,
        breaches=_gate(phases, max_ratio),
    )
    if time_first:
        bare = publish_copy(swap.source, swap.base_path, warmup=False)
        wait_available(settings.target_host, swap.model, bare)
        report.first_request_without_warmup_ms = first_request_ms(
            settings.target_host, swap.model, bare, body
        )
    return report
