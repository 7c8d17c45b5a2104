"""Turn server benchmark measurements into server.json, a markdown table and target verdicts."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.measure import Latency, Throughput
from bench.tables import Document, markdown

FLOOR_TARGET = 1.3  # our p50 at most this many times the floor's
BASELINE_TARGET = 20.0  # our REST p50 at least this many times faster than FastAPI's
PACKAGES = (
    "tensorflow",
    "tensorflow-serving-api",
    "keras",
    "grpcio",
    "numpy",
    "fastapi",
    "uvicorn",
)


@dataclass
class ServerBenchResult:
    """Every measurement of `python -m bench server`."""

    grpc: Latency
    rest: Latency
    grpc_echo: Latency
    http_echo: Latency
    # The echoes running the Session run per request: what composing the two costs, shown
    # beside the floor (which adds separately measured p50s, as the target defines it).
    grpc_composed: Latency
    http_composed: Latency
    signature_call: Latency  # the Session run the server does: the floor's compute
    tf2_signature_call: Latency  # the TF2 object loader's call, for comparison only
    fastapi: Latency
    batching_off: Throughput
    batching_on: Throughput
    settings: dict[str, object] = field(default_factory=dict)


def environment(command: str) -> dict[str, object]:
    """Where and when the benchmark ran: command, date, CPUs, Python and package versions."""
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions,
    }


def _floor(echo: Latency, call: Latency) -> dict[str, float]:
    return {"p50_ms": echo.p50_ms + call.p50_ms, "p99_ms": echo.p99_ms + call.p99_ms}


def _percentiles(latency: Latency) -> dict[str, float]:
    return {"p50_ms": latency.p50_ms, "p99_ms": latency.p99_ms}


def _ratio(ours: Latency, floor: dict[str, float]) -> dict[str, float]:
    return {"p50": ours.p50_ms / floor["p50_ms"], "p99": ours.p99_ms / floor["p99_ms"]}


def _target(name: str, value: float, limit: float, met: bool) -> dict[str, object]:
    return {"name": name, "value": value, "limit": limit, "met": met}


def to_document(result: ServerBenchResult, env: dict[str, object]) -> Document:
    """The JSON document: measurements, floors, ratios, throughput and target verdicts."""
    floors = {
        "grpc": _floor(result.grpc_echo, result.signature_call),
        "rest": _floor(result.http_echo, result.signature_call),
        "grpc_composed": _percentiles(result.grpc_composed),
        "rest_composed": _percentiles(result.http_composed),
    }
    ratios = {
        "grpc_vs_floor": _ratio(result.grpc, floors["grpc"]),
        "rest_vs_floor": _ratio(result.rest, floors["rest"]),
        "grpc_vs_composed_floor": _ratio(result.grpc, floors["grpc_composed"]),
        "rest_vs_composed_floor": _ratio(result.rest, floors["rest_composed"]),
        "fastapi_vs_rest": {
            "p50": result.fastapi.p50_ms / result.rest.p50_ms,
            "p99": result.fastapi.p99_ms / result.rest.p99_ms,
        },
    }
    batching_ratio = (
        result.batching_on.requests_per_second / result.batching_off.requests_per_second
    )
    targets = [
        _target(
            f"gRPC Predict p50 within {FLOOR_TARGET}x of the floor",
            ratios["grpc_vs_floor"]["p50"],
            FLOOR_TARGET,
            ratios["grpc_vs_floor"]["p50"] <= FLOOR_TARGET,
        ),
        _target(
            f"REST Predict p50 within {FLOOR_TARGET}x of the floor",
            ratios["rest_vs_floor"]["p50"],
            FLOOR_TARGET,
            ratios["rest_vs_floor"]["p50"] <= FLOOR_TARGET,
        ),
        _target(
            f"REST Predict p50 at least {BASELINE_TARGET:g}x faster than FastAPI",
            ratios["fastapi_vs_rest"]["p50"],
            BASELINE_TARGET,
            ratios["fastapi_vs_rest"]["p50"] >= BASELINE_TARGET,
        ),
    ]
    return {
        "benchmark": "server",
        "environment": env,
        "settings": result.settings,
        "latency_ms": {
            "grpc_predict": result.grpc.as_dict(),
            "rest_predict": result.rest.as_dict(),
            "grpc_echo": result.grpc_echo.as_dict(),
            "http_echo": result.http_echo.as_dict(),
            "grpc_echo_with_session": result.grpc_composed.as_dict(),
            "http_echo_with_session": result.http_composed.as_dict(),
            "signature_call": result.signature_call.as_dict(),
            "tf2_signature_call": result.tf2_signature_call.as_dict(),
            "fastapi_predict": result.fastapi.as_dict(),
        },
        "floor_ms": floors,
        "ratios": ratios,
        "throughput": {
            "batching_off": result.batching_off.as_dict(),
            "batching_on": result.batching_on.as_dict(),
            "batching_on_vs_off": batching_ratio,
        },
        "targets": targets,
    }


def write_files(document: dict[str, object], out: Path) -> tuple[Path, Path]:
    """Write server.json and server.md under `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "server.json", out / "server.md"
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    md_path.write_text(markdown(document))
    return json_path, md_path
