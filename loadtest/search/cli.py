"""`python -m loadtest capacity-search`: the max open-loop rate one replica holds within its SLO."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from loadtest.options import add_run_options, env_default, local_server
from loadtest.settings import parse_duration

if TYPE_CHECKING:
    from loadtest.search.steps import SearchLimits

__all__ = ["add_capacity_search"]

EXIT_OK, EXIT_NO_RESULT, EXIT_ERROR = 0, 1, 2


def add_capacity_search(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "capacity-search",
        help="open-loop steps at rising rates, then a bisection, to the highest rate whose p99"
        " and error rate meet the SLO (exit 1 when no result can be called)",
    )
    add_run_options(parser)
    search = parser.add_argument_group("the search")
    search.add_argument(
        "--slo-p99-ms",
        type=float,
        default=env_default("SLO_P99_MS"),
        required=env_default("SLO_P99_MS") is None,
    )
    search.add_argument(
        "--slo-error-rate", type=float, default=float(env_default("SLO_ERROR_RATE", "0"))
    )
    search.add_argument("--start-rate", type=float, default=20.0, help="first step, req/s (20)")
    search.add_argument("--max-rate", type=float, default=5000.0, help="highest step, req/s (5000)")
    search.add_argument("--growth", type=float, default=2.0, help="rate factor per rising step (2)")
    search.add_argument(
        "--precision", type=float, default=0.1, help="bisect to this fraction (0.1)"
    )
    search.add_argument("--repeats", type=int, default=2, help="runs again of the final rate (2)")
    search.add_argument(
        "--step-time", type=parse_duration, default=10.0, help="each step's run time (10s)"
    )
    parser.set_defaults(handler=_capacity_search)


def search_limits(args: argparse.Namespace) -> SearchLimits:
    """The SLO and the search's steps from the command line (capacity-search, tune-batching)."""
    from loadtest.search.steps import SearchLimits

    return SearchLimits(
        p99_ms=float(args.slo_p99_ms),
        max_error_rate=args.slo_error_rate,
        start_rps=args.start_rate,
        max_rps=args.max_rate,
        growth=args.growth,
        precision=args.precision,
        repeats=args.repeats,
    )


def _capacity_search(args: argparse.Namespace) -> int:
    from launcher import StartError
    from loadtest.cli import settings_for
    from loadtest.runner import LoadTestError
    from loadtest.search.report import format_table, write_outputs
    from loadtest.search.runs import step_runner
    from loadtest.search.steps import search

    try:
        settings = settings_for(args, (args.transport or ["rest"])[0])
        limits = search_limits(args)
    except (ValueError, OSError) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR
    folder = args.report_dir or Path(args.reports) / time.strftime("%Y%m%d-%H%M%S-capacity")
    try:
        with local_server(args, args.rest_url, args.grpc_target, settings.model):
            result = search(step_runner(settings, args.step_time, folder), limits)
    except (LoadTestError, StartError) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR
    paths = write_outputs(result, folder)
    print(format_table(result))
    print("wrote " + ", ".join(str(p) for p in paths))
    return EXIT_OK if result.max_rps is not None else EXIT_NO_RESULT
