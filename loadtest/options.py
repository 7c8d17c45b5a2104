"""The command line's options; each defaults to a LOADTEST_* environment variable."""

from __future__ import annotations

import argparse
import contextlib
import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import overload

from launcher import add_local_server_arguments
from loadtest.settings import (
    CLOSED_LOOP_NOTE,
    DEFAULT_HOSTS,
    DEFAULT_RATE,
    ENDPOINTS,
    PAYLOADS,
    TRANSPORTS,
    parse_duration,
)

__all__ = ["add_run_options", "add_slo_options", "env_default", "local_server"]


@overload
def env_default(name: str, default: str) -> str: ...
@overload
def env_default(name: str, default: str | None = None) -> str | None: ...
def env_default(name: str, default: str | None = None) -> str | None:
    """The value of LOADTEST_<name>, else default."""
    return os.environ.get(f"LOADTEST_{name}", default)


def local_server(
    args: argparse.Namespace, rest_url: str, grpc_target: str, model: str
) -> AbstractContextManager[object]:
    """With --start-server, a local server on rest_url and grpc_target while the block runs
    (when none answers there already); otherwise nothing.

    Raises (on entering):
        StartError: the server did not start.
    """
    if not args.start_server:
        return contextlib.nullcontext()
    from launcher import ensure_server

    return ensure_server(
        rest_url,
        grpc_target,
        args.start_server,
        model=model,
        server_args=args.server_args,
        log_path=args.server_log,
    )


def add_slo_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("SLO gate (env LOADTEST_SLO_*)")
    group.add_argument("--slo-p99-ms", type=float, default=env_default("SLO_P99_MS"))
    group.add_argument("--slo-p50-ms", type=float, default=env_default("SLO_P50_MS"))
    group.add_argument(
        "--slo-error-rate",
        type=float,
        default=env_default("SLO_ERROR_RATE"),
        help="highest failed fraction, e.g. 0.001",
    )
    group.add_argument("--slo-min-rps", type=float, default=env_default("SLO_MIN_RPS"))
    group.add_argument(
        "--slo-config",
        type=Path,
        default=env_default("SLO_CONFIG"),
        help="JSON, TOML or YAML file of p99_ms, p50_ms, max_error_rate, min_rps; options win",
    )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("what to send (env LOADTEST_<OPTION>, e.g. LOADTEST_MODEL)")
    what.add_argument(
        "--transport",
        action="append",
        choices=TRANSPORTS[:2],
        help="rest or grpc; twice (or LOADTEST_TRANSPORT=rest,grpc) runs one after the other",
    )
    what.add_argument("--model")
    target = what.add_mutually_exclusive_group()
    target.add_argument("--version", type=int)
    target.add_argument("--label")
    what.add_argument("--signature", help="default serving_default")
    what.add_argument("--batch-size", type=int)
    what.add_argument("--payload", choices=PAYLOADS, help="auto: warmup records when found")
    what.add_argument("--models-root", type=Path, help="exported models, for warmup records")
    what.add_argument("--endpoint", choices=ENDPOINTS, help="status: the cheap status call")
    what.add_argument("--host", help="REST URL or gRPC host:port, for a single transport")
    what.add_argument("--rest-url", default=env_default("REST_URL", DEFAULT_HOSTS["rest"]))
    what.add_argument("--grpc-target", default=env_default("GRPC_TARGET", DEFAULT_HOSTS["grpc"]))
    what.add_argument("--timeout", type=float, help="per request, seconds")
    what.add_argument(
        "--metrics-url",
        help="the server's Prometheus page, read before and after each run for its own request"
        " and model-run times (default: --rest-url's /monitoring/prometheus/metrics)",
    )
    load = parser.add_argument_group(
        "how hard: open loop by default (a rate, latency from each request's intended send time)"
    )
    load.add_argument(
        "--rate",
        type=float,
        help=f"open loop: total requests per second (default {DEFAULT_RATE:g})",
    )
    load.add_argument(
        "--closed-loop",
        action="store_true",
        default=None,
        help=f"users send back to back instead of at a rate ({CLOSED_LOOP_NOTE})",
    )
    load.add_argument(
        "--users",
        type=int,
        help="Locust users (default: one per 20 req/s in open loop, 4 in closed loop)",
    )
    load.add_argument("--spawn-rate", type=float)
    load.add_argument("--run-time", type=parse_duration, help="e.g. 10s, 1m30s")
    load.add_argument(
        "--stages", type=Path, help="stages file of user counts (JSON, TOML, YAML): closed loop"
    )
    load.add_argument("--processes", type=int, help="Locust worker processes; -1: one per core")
    out = parser.add_argument_group("reports")
    out.add_argument("--reports", type=Path, default=Path(env_default("REPORTS", "reports")))
    out.add_argument("--report-dir", type=Path, help="exact folder (default: REPORTS/<timestamp>)")
    out.add_argument("--web", action="store_true", help="Locust's web UI instead of headless")
    out.add_argument("--web-port", type=int, default=8089)
    add_local_server_arguments(
        parser, rest_option="--rest-url", grpc_option="--grpc-target", used_for="the runs"
    )
