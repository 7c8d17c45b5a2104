"""The load generator's own capacity: requests per CPU-second of each user class, one process each.

Each user class runs closed-loop in one Locust process against a cheap endpoint (model status
by default), and the process's CPU time during the test is measured. Requests per CPU-second
is what one core of load generator can send, whether or not the server (which may share the
machine) kept it busy: compare generator_cpu_percent to see how busy it was.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from loadtest.runner import run_load
from loadtest.settings import LoadSettings

__all__ = ["USER_LABELS", "CapacityResult", "format_capacity", "measure_capacity"]

logger = logging.getLogger(__name__)

USER_LABELS = {
    "rest": "REST user (lean keep-alive client)",
    "grpc": "gRPC user (clients.GrpcClient)",
    "rest-httpuser": "plain Locust HttpUser (REST)",
}


@dataclass(frozen=True)
class CapacityResult:
    """One user class's throughput and the CPU its Locust process used to send it."""

    transport: str
    user: str
    endpoint: str
    requests: int
    failures: int
    rps: float
    cpu_seconds: float
    generator_cpu_percent: float
    rps_per_core: float  # requests per CPU-second of the generator process
    p50_ms: float
    p99_ms: float
    report_dir: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_capacity(
    rest_url: str,
    grpc_target: str,
    *,
    model: str = "tabular",
    endpoint: Literal["status", "inference"] = "status",
    users: int = 8,
    run_time: float = 5.0,
    reports_root: Path = Path("reports/capacity"),
    transports: Sequence[str] = ("rest", "grpc", "rest-httpuser"),
    models_root: Path | None = Path("models"),
) -> list[CapacityResult]:
    """Run each user class for run_time seconds with users users; one result per transport.

    endpoint "status" asks the model's status (REST GET /v1/models/M, gRPC GetModelStatus);
    "inference" sends the model's held-out examples (or generated inputs), batch size 1.

    Raises:
        LoadTestError: a run could not start (no server at the address, unknown model).
    """
    results = []
    for transport in transports:
        host = grpc_target if transport == "grpc" else rest_url
        settings = LoadSettings(
            model=model,
            transport=transport,  # type: ignore[arg-type]
            endpoint=endpoint,
            host=host,
            users=users,
            spawn_rate=float(users),
            closed_loop=True,  # as fast as the users go: the generator's own ceiling
            run_time=run_time,
            models_root=models_root,
        )
        summary = run_load(settings, reports_root=reports_root)
        processes = summary.generator["processes"]
        cpu_seconds = sum(p["cpu_seconds"] for p in processes)
        wall = sum(p["wall_seconds"] for p in processes)
        total = summary.total
        results.append(
            CapacityResult(
                transport=transport,
                user=USER_LABELS[transport],
                endpoint=endpoint,
                requests=total.count,
                failures=total.failures,
                rps=round(total.rps, 1),
                cpu_seconds=round(cpu_seconds, 3),
                generator_cpu_percent=round(100.0 * cpu_seconds / wall, 1) if wall else 0.0,
                rps_per_core=round(total.count / cpu_seconds, 1) if cpu_seconds else 0.0,
                p50_ms=total.latency.p50,
                p99_ms=total.latency.p99,
                report_dir=str(summary.report_dir),
            )
        )
        logger.info("%s: %.0f req/s per core", USER_LABELS[transport], results[-1].rps_per_core)
    return results


def format_capacity(results: Sequence[CapacityResult]) -> str:
    """A text table of the results."""
    lines = [
        f"{'user':34} {'req/s':>8} {'gen CPU %':>9} {'req/s per core':>15} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'fails':>6}"
    ]
    for r in results:
        lines.append(
            f"{r.user:34} {r.rps:>8.1f} {r.generator_cpu_percent:>9.1f} {r.rps_per_core:>15.1f} "
            f"{r.p50_ms:>8.3f} {r.p99_ms:>8.3f} {r.failures:>6}"
        )
    return "\n".join(lines)


def write_capacity(results: Sequence[CapacityResult], path: Path) -> None:
    Path(path).write_text(json.dumps([r.to_dict() for r in results], indent=2) + "\n")
