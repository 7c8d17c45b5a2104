"""Each step of the search is one open-loop `run_load`, its report kept under the search's folder."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from loadtest.runner import run_load
from loadtest.search.steps import Step
from loadtest.settings import LoadSettings

__all__ = ["step_runner"]

logger = logging.getLogger(__name__)


def step_runner(
    settings: LoadSettings, step_seconds: float, folder: Path
) -> Callable[[float], Step]:
    """measure(rate) for the search: settings at that rate for step_seconds, open loop.

    Raises (from measure):
        LoadTestError: a step could not run (no server, Locust failed).
    """
    count = 0

    def measure(rate: float) -> Step:
        nonlocal count
        count += 1
        report = folder / "steps" / f"{count:02d}-{rate:g}rps"
        run = settings.replace(rate=rate, run_time=step_seconds, closed_loop=False, stages=None)
        summary = run_load(run, report_dir=report)
        total = summary.total
        step = Step(
            target_rps=rate,
            achieved_rps=round(total.rps, 1),
            p50_ms=total.latency.p50,
            p99_ms=total.latency.p99,
            error_rate=total.error_rate,
            verdict=summary.generator.get("verdict", "none"),
            reasons=tuple(summary.generator.get("reasons", [])),
            server=summary.server,
            report_dir=str(report),
        )
        logger.info(
            "step %d: %g req/s -> achieved %.1f, p99 %.2f ms, errors %.2f%%, %s",
            count,
            rate,
            step.achieved_rps,
            step.p99_ms,
            100 * step.error_rate,
            step.verdict,
        )
        return step

    return measure
