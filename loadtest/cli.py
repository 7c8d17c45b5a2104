"""`python -m loadtest run | report | gate | capacity | capacity-search | tune-batching | swap`:
see --help.

Exit status: 0 when the run met its SLOs (or had none), 1 when an SLO was breached (one
"SLO breach: ..." line each), 2 when the run could not happen.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from loadtest.gate import Slo, check_slo, load_slo
from loadtest.options import add_run_options, add_slo_options, env_default, local_server
from loadtest.search.cli import add_capacity_search
from loadtest.settings import (
    ENDPOINTS,
    METRICS_PATH,
    TRANSPORTS,
    LoadSettings,
    parse_duration,
)
from loadtest.swap.cli import add_swap
from loadtest.tune.cli import add_tune_batching

EXIT_OK, EXIT_BREACH, EXIT_ERROR = 0, 1, 2


def _slo(args: argparse.Namespace) -> Slo:
    base = load_slo(args.slo_config) if args.slo_config else Slo()
    return base.merged(Slo(args.slo_p99_ms, args.slo_p50_ms, args.slo_error_rate, args.slo_min_rps))


def _transports(args: argparse.Namespace) -> list[str]:
    """The transports to run, in order: the options, else LOADTEST_TRANSPORT (comma-separated)."""
    chosen = args.transport or (env_default("TRANSPORT") or "rest").split(",")
    unknown = sorted(set(chosen) - set(TRANSPORTS[:2]))
    if unknown:
        raise ValueError(f"unknown transport {unknown}: rest or grpc")
    if len(chosen) > 1 and (args.host or args.web or args.report_dir):
        raise ValueError("--host, --web and --report-dir take a single transport")
    return list(dict.fromkeys(chosen))


def _default_metrics_url(args: argparse.Namespace, transport: str) -> str | None:
    """A gRPC run reads the metrics of --rest-url's server, the same server unless --host
    points elsewhere; REST runs default to their own host's page (in LoadSettings)."""
    if transport != "grpc" or args.host or env_default("METRICS_URL"):
        return None
    return str(args.rest_url).rstrip("/") + METRICS_PATH


def settings_for(args: argparse.Namespace, transport: str) -> LoadSettings:
    processes = args.processes
    if processes is not None and processes < 0:
        processes = os.cpu_count() or 1
    default_host = args.grpc_target if transport == "grpc" else args.rest_url
    return LoadSettings.from_env(
        {k: v for k, v in os.environ.items() if k != "LOADTEST_TRANSPORT"},
        transport=transport,
        model=args.model,
        version=args.version,
        label=args.label,
        signature=args.signature,
        batch_size=args.batch_size,
        payload=args.payload,
        models_root=args.models_root,
        endpoint=args.endpoint,
        host=args.host or (None if env_default("HOST") else default_host),
        timeout=args.timeout,
        metrics_url=args.metrics_url or _default_metrics_url(args, transport),
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time=args.run_time,
        rate=args.rate,
        closed_loop=args.closed_loop,
        stages=args.stages,
        processes=processes,
    )


def _run(args: argparse.Namespace) -> int:
    from launcher import StartError

    try:
        runs = [settings_for(args, transport) for transport in _transports(args)]
        slo = _slo(args)
    except (ValueError, OSError) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR
    try:
        with local_server(args, args.rest_url, args.grpc_target, runs[0].model):
            return max(_run_one(args, settings, slo) for settings in runs)
    except StartError as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR


def _run_one(args: argparse.Namespace, settings: LoadSettings, slo: Slo) -> int:
    from loadtest.report import format_summary
    from loadtest.runner import LoadTestError, run_load

    try:
        summary = run_load(
            settings,
            slo=slo,
            report_dir=args.report_dir,
            reports_root=args.reports,
            web=args.web,
            web_port=args.web_port,
        )
    except LoadTestError as err:
        print(f"loadtest: {settings.transport}: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(f"== {settings.transport} ==")
    print(format_summary(summary))
    return EXIT_OK if summary.passed else EXIT_BREACH


def _report(args: argparse.Namespace) -> int:
    from loadtest.report import ReportFiles, format_summary
    from loadtest.results import read_results, summarize

    files = ReportFiles(args.directory)
    try:
        settings, slo = settings_for(args, _transports(args)[0]), _slo(args)
        results = read_results(files)
    except (ValueError, OSError) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR
    workload = results.get("workload") or {}
    summary = summarize(
        settings,
        files,
        results,
        started=results.get("started") or "",
        served_version=workload.get("served_version"),
        slo=slo,
    )
    print(format_summary(summary))
    return EXIT_OK if summary.passed else EXIT_BREACH


def _gate(args: argparse.Namespace) -> int:
    from loadtest.summary import RunSummary

    try:
        summary, slo = RunSummary.load(args.summary), _slo(args)
    except (ValueError, OSError) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR
    if slo.empty:
        print("loadtest gate: no SLO given (--slo-* or --slo-config)", file=sys.stderr)
        return EXIT_ERROR
    breaches = check_slo(summary, slo)
    print("\n".join(breaches) if breaches else f"SLO: all objectives met ({args.summary})")
    return EXIT_BREACH if breaches else EXIT_OK


def _capacity(args: argparse.Namespace) -> int:
    from launcher import StartError
    from loadtest.capacity import format_capacity, measure_capacity, write_capacity
    from loadtest.runner import LoadTestError

    try:
        with local_server(args, args.rest_host, args.grpc_host, args.model):
            results = measure_capacity(
                args.rest_host,
                args.grpc_host,
                model=args.model,
                endpoint=args.endpoint,
                users=args.users,
                run_time=args.run_time,
                reports_root=args.reports,
                models_root=args.models_root,
            )
    except (LoadTestError, StartError) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(format_capacity(results))
    if args.json:
        write_capacity(results, args.json)
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one load test, write reports/<timestamp>/")
    add_run_options(run)
    add_slo_options(run)
    run.set_defaults(handler=_run)
    report = commands.add_parser(
        "report",
        help="summarise a folder a distributed Locust master wrote (same LOADTEST_* settings)",
    )
    report.add_argument("directory", type=Path)
    add_run_options(report)
    add_slo_options(report)
    report.set_defaults(handler=_report)
    gate = commands.add_parser("gate", help="check a run's summary.json against SLOs")
    gate.add_argument("summary", type=Path)
    add_slo_options(gate)
    gate.set_defaults(handler=_gate)
    capacity = commands.add_parser("capacity", help="the load generator's req/s per core")
    capacity.add_argument("--rest-host", default=env_default("REST_HOST", "http://127.0.0.1:8501"))
    capacity.add_argument("--grpc-host", default=env_default("GRPC_HOST", "127.0.0.1:8500"))
    capacity.add_argument("--model", default=env_default("MODEL", "tabular"))
    capacity.add_argument("--endpoint", choices=ENDPOINTS[::-1], default="status")
    capacity.add_argument(
        "--models-root", type=Path, default=Path(env_default("MODELS_ROOT", "models"))
    )
    capacity.add_argument("--users", type=int, default=8)
    capacity.add_argument("--run-time", type=parse_duration, default=5.0)
    capacity.add_argument("--reports", type=Path, default=Path("reports/capacity"))
    capacity.add_argument("--json", type=Path, help="also write the results as JSON")
    capacity.add_argument("--start-server", type=Path, metavar="MODELS_CONFIG")
    capacity.add_argument("--server-args", default="")
    capacity.add_argument("--server-log", type=Path, default=Path("build/loadtest-server.log"))
    capacity.set_defaults(handler=_capacity)
    add_capacity_search(commands)
    add_tune_batching(commands)
    add_swap(commands)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    handler: Callable[[argparse.Namespace], int] = args.handler  # set_defaults(handler=...)
    return handler(args)
