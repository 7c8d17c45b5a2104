"""`python -m loadtest swap`: steady open-loop load while a new version (and another model) loads."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from loadtest.options import add_run_options
from loadtest.swap.run import SwapReport

__all__ = ["add_swap", "format_reports"]

EXIT_OK, EXIT_BREACH, EXIT_ERROR = 0, 1, 2


def add_swap(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "swap",
        help="open-loop load on MODEL while a new version of it is published into its base path"
        " (and, separately, another model): p50/p99 and errors before, during and after, and the"
        " new version's first request with and without its warmup file; exit 1 on any failed"
        " request or a during/before p99 ratio over --max-p99-ratio",
    )
    add_run_options(parser)
    swap = parser.add_argument_group(
        "the swap (the server must poll: --file_system_poll_wait_seconds)"
    )
    swap.add_argument("--base-path", type=Path, required=True, help="MODEL's base path, as served")
    swap.add_argument(
        "--new-version", type=Path, required=True, help="a SavedModel version folder to publish"
    )
    swap.add_argument("--second-model", help="another model in the server's config, loaded next")
    swap.add_argument("--second-base-path", type=Path, help="its base path")
    swap.add_argument("--second-version", type=Path, help="the version folder to publish for it")
    swap.add_argument("--max-p99-ratio", type=float, default=3.0, help="during / before p99 (3)")
    parser.set_defaults(handler=_swap)


def format_reports(reports: list[SwapReport]) -> str:
    lines = []
    for report in reports:
        lines.append(f"{report.event}: AVAILABLE {report.load_seconds:.2f}s after publishing")
        lines.append(f"  {'phase':<8} {'requests':>9} {'failed':>7} {'p50 ms':>9} {'p99 ms':>9}")
        for phase in report.phases:
            p50 = "-" if phase.p50_ms is None else f"{phase.p50_ms:.2f}"
            p99 = "-" if phase.p99_ms is None else f"{phase.p99_ms:.2f}"
            lines.append(
                f"  {phase.name:<8} {phase.count:>9} {phase.failures:>7} {p50:>9} {p99:>9}"
            )
        if report.first_request_ms is not None:
            lines.append(
                f"  first request to the new version: {report.first_request_ms:.1f} ms with its "
                f"warmup file, {report.first_request_without_warmup_ms:.1f} ms without"
            )
        lines.extend(f"  SWAP BREACH: {b}" for b in report.breaches)
    return "\n".join(lines)


def _swap(args: argparse.Namespace) -> int:
    from loadtest.cli import settings_for
    from loadtest.runner import LoadTestError
    from loadtest.swap.publishing import SwapError
    from loadtest.swap.run import Swap, run_swap

    try:
        settings = settings_for(args, (args.transport or ["rest"])[0])
    except (ValueError, OSError) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR
    if settings.transport != "rest":
        print("loadtest swap: --transport rest (it watches versions over REST)", file=sys.stderr)
        return EXIT_ERROR
    folder = args.report_dir or Path(args.reports) / time.strftime("%Y%m%d-%H%M%S-swap")
    swaps = [(Swap(settings.model, args.base_path, args.new_version), True)]
    if args.second_model:
        if not (args.second_base_path and args.second_version):
            print(
                "loadtest swap: --second-model needs --second-base-path and --second-version",
                file=sys.stderr,
            )
            return EXIT_ERROR
        swaps.append((Swap(args.second_model, args.second_base_path, args.second_version), False))
    reports = []
    try:
        for number, (swap, time_first) in enumerate(swaps, 1):
            reports.append(
                run_swap(
                    settings,
                    swap,
                    folder / f"swap-{number}",
                    max_ratio=args.max_p99_ratio,
                    time_first=time_first,
                )
            )
    except (SwapError, LoadTestError) as err:
        print(f"loadtest swap: {err}", file=sys.stderr)
        return EXIT_ERROR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "swap.json").write_text(json.dumps([r.to_dict() for r in reports], indent=2) + "\n")
    print(format_reports(reports))
    print(f"report: {folder / 'swap.json'}")
    return EXIT_OK if all(r.passed for r in reports) else EXIT_BREACH
