"""Turn what Locust left in a report folder into summary.json and latency.png.

run_load does this after each local run; `python -m loadtest report DIR` does it for a folder a
distributed master (--master, LOADTEST_RESULTS=DIR/hdr_histograms.json) wrote.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from loadtest.gate import Slo, slo_section
from loadtest.hdr import LatencyRecorder, latency_stats
from loadtest.html_report import write_report
from loadtest.report import ReportFiles
from loadtest.server_times import ServerTimes
from loadtest.settings import CLOSED_LOOP_NOTE, LoadSettings
from loadtest.summary import RunSummary, read_locust_csv, request_summaries
from loadtest.verdict import decide

__all__ = ["read_results", "summarize"]

logger = logging.getLogger(__name__)

CO_CORRECTED = "each request's intended send time (coordinated omission corrected)"


def read_results(files: ReportFiles) -> dict[str, Any]:
    """The locustfile's hdr_histograms.json.

    Raises:
        OSError: it cannot be read (Locust did not get to write it).
        ValueError: it is not JSON.
    """
    results: dict[str, Any] = json.loads(files.hdr_json.read_text())  # the locustfile's dict
    return results


def _settings_record(settings: LoadSettings) -> dict[str, Any]:
    record = {
        k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(settings).items()
    }
    record.update(
        host=settings.target_host,
        users=None if settings.stages else settings.total_users,
        spawn_rate=None if settings.stages else settings.total_spawn_rate,
        mode=settings.mode,
        target_rate=settings.target_rate,
        latency_from=CLOSED_LOOP_NOTE if settings.is_closed_loop else CO_CORRECTED,
    )
    return record


def summarize(
    settings: LoadSettings,
    files: ReportFiles,
    results: dict[str, Any],
    *,
    started: str,
    served_version: int | None,
    served_version_after: int | None = None,
    slo: Slo | None = None,
    wall_seconds: float | None = None,
    server: ServerTimes | None = None,
) -> RunSummary:
    """The run's summary, written to summary.json with latency.png beside it."""
    recorder = LatencyRecorder.from_dict(results["recorder"])
    duration = max(0.0, recorder.last_end - recorder.first_start) if recorder.count() else 0.0
    requests, total = request_summaries(recorder, read_locust_csv(files.stats_csv), duration)
    lag = latency_stats(recorder.lag) if recorder.lag.get_total_count() else None
    verdict = decide(
        results["processes"],
        target_rps=settings.target_rate,
        achieved_rps=total.rps,
        service=total.service_time or total.latency,
        lag=lag,
        server=server,
        users=None if settings.stages else settings.total_users,
    )
    for reason in verdict.reasons:
        logger.warning("%s: %s", verdict.kind, reason)
    workload = results.get("workload") or {}
    summary = RunSummary(
        report_dir=files.directory,
        started=started,
        duration_s=round(duration, 3),
        settings=_settings_record(settings),
        model={
            "name": settings.model,
            "version": settings.version,
            "label": settings.label,
            "signature": settings.signature or "serving_default",
            "served_version": served_version,
            "served_version_after": served_version_after,
        },
        workload=workload,
        requests=requests,
        total=total,
        errors=[
            {
                "type": row["Method"],
                "name": row["Name"],
                "error": row["Error"],
                "count": int(row["Occurrences"]),
            }
            for row in read_locust_csv(files.failures_csv)
        ],
        pacing=None
        if settings.target_rate is None
        else {
            "target_rps": settings.target_rate,
            "achieved_rps": round(total.rps, 3),
            "user_rate": results.get("user_rate"),
            "latency_from": CO_CORRECTED,
        },
        generator={
            "processes": results["processes"],
            "verdict": verdict.kind,
            "bottleneck": verdict.bottleneck,
            "reasons": verdict.reasons,
            "send_lag_ms": lag.to_dict() if lag else None,
            "wall_seconds": wall_seconds,
        },
        server=server.to_dict() if server else None,
    )
    if slo is not None and not slo.empty:
        summary = dataclasses.replace(summary, slo=slo_section(summary, slo))
    title = f"{workload.get('request_name', settings.model)} over {settings.transport}, " + (
        CLOSED_LOOP_NOTE
        if settings.is_closed_loop
        else f"open loop at {settings.target_rate:g} req/s (achieved {total.rps:.1f}), "
        "latency from each request's intended send time"
    )
    files.plot(recorder, title, settings.target_rate)
    summary.write(files.summary_json)
    write_report(summary, files.report_html, files.latency_png)
    logger.info("report: %s", files.directory)
    return summary
