"""A run's report folder, reports/<timestamp>/, and the text table the CLI prints from a summary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from loadtest.hdr import LatencyRecorder
from loadtest.summary import RequestSummary, RunSummary

__all__ = ["LOCUST_DIR", "ReportFiles", "format_summary", "new_report_dir"]

LOCUST_DIR = "locust-service-times"
LOCUST_README = """Locust's own report and CSV files for this run.

Their response times are service times: each measured from the moment Locust actually sent
the call, rounded to whole milliseconds below 100 ms. In an open-loop run a request that
waited to be sent (a stalled server, a busy user) does not count that wait here, so these
numbers can be far below what callers saw. The run's report is ../report.html (the same
numbers as ../summary.json): latency from each request's intended send time, HDR histograms.
"""


def new_report_dir(root: Path) -> Path:
    """root/<YYYYmmdd-HHMMSS>, with -2, -3... when runs start within the same second."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, number = Path(root) / stamp, 1
    while candidate.exists():
        number += 1
        candidate = Path(root) / f"{stamp}-{number}"
    return candidate


@dataclass(frozen=True)
class ReportFiles:
    """The files of one report folder."""

    directory: Path

    @property
    def report_html(self) -> Path:
        """The run's own report: one self-contained page, the numbers of summary.json."""
        return self.directory / "report.html"

    @property
    def locust_dir(self) -> Path:
        """Locust's own HTML and CSV, apart: its times run from each call's actual send."""
        return self.directory / LOCUST_DIR

    @property
    def locust_html(self) -> Path:
        return self.locust_dir / "locust.html"

    @property
    def csv_prefix(self) -> Path:
        """Locust's --csv prefix: locust_stats.csv, locust_failures.csv, ..._history.csv."""
        return self.locust_dir / "locust"

    def _locust_csv(self, name: str) -> Path:
        # A distributed master run by hand may have written its CSV into the folder itself.
        inside = self.locust_dir / name
        return (
            inside
            if inside.is_file() or not (self.directory / name).is_file()
            else self.directory / name
        )

    @property
    def stats_csv(self) -> Path:
        return self._locust_csv("locust_stats.csv")

    @property
    def failures_csv(self) -> Path:
        return self._locust_csv("locust_failures.csv")

    def write_locust_readme(self) -> None:
        """Say, beside Locust's files, what their numbers are and where the report is."""
        self.locust_dir.mkdir(parents=True, exist_ok=True)
        (self.locust_dir / "README.txt").write_text(LOCUST_README)

    @property
    def locust_log(self) -> Path:
        return self.directory / "locust.log"

    @property
    def hdr_json(self) -> Path:
        """The merged HDR histograms (base64 V2 blobs), CPU and workload, from the locustfile."""
        return self.directory / "hdr_histograms.json"

    @property
    def summary_json(self) -> Path:
        return self.directory / "summary.json"

    @property
    def latency_png(self) -> Path:
        return self.directory / "latency.png"

    def plot(self, recorder: LatencyRecorder, title: str, target_rate: float | None = None) -> Path:
        from loadtest.plot import plot_latency  # matplotlib is imported only to draw

        return plot_latency(recorder, self.latency_png, title, target_rate)


def _row(key: str, request: RequestSummary) -> str:
    latency = request.latency
    return (
        f"{key[:44]:44} {request.count:>8} {request.failures:>6} {request.rps:>9.1f} "
        f"{latency.p50:>8.3f} {latency.p90:>8.3f} {latency.p99:>8.3f} "
        f"{latency.p999:>8.3f} {latency.max:>8.3f}"
    )


_VERDICT_LABELS = {
    "generator-bound": "LOAD GENERATOR BOTTLENECK",
    "server-bound": "SERVER BOTTLENECK",
    "users-bound": "TOO FEW USERS",
}


def format_summary(summary: RunSummary) -> str:
    """The summary as a few lines of text: per-request HDR percentiles, pacing, bottleneck, SLO."""
    header = (
        f"{'request':44} {'count':>8} {'fails':>6} {'req/s':>9} "
        f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99.9 ms':>8} {'max ms':>8}"
    )
    lines = [
        f"model {summary.model['name']} version {summary.served_version} "
        f"({summary.workload.get('source', '')})",
        header,
        *(_row(key, r) for key, r in summary.requests.items()),
    ]
    if len(summary.requests) > 1:
        lines.append(_row("all requests", summary.total))
    if summary.pacing:
        pacing = summary.pacing
        lines.append(
            f"paced: target {pacing['target_rps']:.1f} req/s, achieved "
            f"{pacing['achieved_rps']:.1f} req/s; latency from {pacing['latency_from']}"
        )
        service = summary.total.service_time
        if service is not None:
            lines.append(
                f"service time alone (from actual send): p50 {service.p50:.3f} ms, "
                f"p99 {service.p99:.3f} ms, max {service.max:.3f} ms"
            )
    if summary.settings.get("mode") == "closed loop":
        lines.append(f"{summary.settings['latency_from']}: a stalled server delays the requests")
    verdict = summary.generator.get("verdict", "none")
    label = _VERDICT_LABELS.get(verdict, verdict)
    for reason in summary.generator.get("reasons", []):
        lines.append(f"!!! {label}: {reason}")
    if summary.server:
        server = summary.server
        lines.append(
            f"server's own times: {server['requests']} requests, mean in the server "
            f"{server['mean_request_ms']} ms, of which model run {server['mean_run_ms']} ms"
        )
    for error in summary.errors[:5]:
        lines.append(f"error x{error['count']}: {error['name']}: {error['error'][:160]}")
    if summary.slo:
        lines.extend(summary.slo["breaches"] or ["SLO: all objectives met"])
    lines.append(f"report: {summary.report_dir}")
    return "\n".join(lines)
