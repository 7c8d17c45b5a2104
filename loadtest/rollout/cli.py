"""`python -m loadtest.rollout`: can the canary take the stable version's place?

Before any load, two gates, each of which stops the check (exit 1) when the canary fails it:
the signatures the server reports for both sides are diffed (a breaking change, as `python -m
export diff` judges it, is listed and stops the check), then the stable version's own requests
(its calls in --request-logs, else its warmup requests) are replayed against the canary, which
must answer every one (a refused one is listed with its error).

Then sends the same load to the canary and the stable version (labels `canary` and `stable` by
default, or version numbers) in interleaved runs, asks both for the held-out examples in the
exported version's warmup file, prints a side-by-side table and writes
REPORTS/rollout/<timestamp>/rollout.json next to each run's own report.

Exit status: 0 when the canary is within every tolerance, 1 when it is worse beyond one (a
"canary worse: ..." line each) or stopped at a gate, 2 when the check could not run."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import overload

from clients.errors import ServingClientError
from launcher import add_local_server_arguments
from loadtest.report import new_report_dir
from loadtest.rollout.check import RolloutError, run_rollout_check
from loadtest.rollout.load import CANARY, STABLE
from loadtest.rollout.replay import DEFAULT_REPLAY_LIMIT
from loadtest.rollout.sides import Side
from loadtest.rollout.tolerances import DEFAULT_TOLERANCES, UNITS, Tolerances, load_tolerances
from loadtest.runner import LoadTestError
from loadtest.settings import (
    DEFAULT_HOSTS,
    ENV_PREFIX,
    PAYLOADS,
    TRANSPORTS,
    LoadSettings,
    parse_duration,
)

__all__ = ["main", "parser"]

EXIT_OK, EXIT_BREACH, EXIT_ERROR = 0, 1, 2
DEFAULT_RUN_TIME = 10.0  # seconds of load per side, split over the rounds
DEFAULT_ROUNDS = 2  # canary, stable, stable, canary


def _add_side(parser: argparse.ArgumentParser, name: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(f"--{name}-label", help=f"default: the label {name!r}")
    group.add_argument(f"--{name}-version", type=int)


def _add_tolerances(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "tolerances (defaults in loadtest/rollout/tolerances.py; options win over --tolerances)"
    )
    group.add_argument("--tolerances", type=Path, help="JSON, TOML or YAML file of tolerances")
    for name, value in DEFAULT_TOLERANCES.to_dict().items():
        flag = "--" + name.replace("_", "-")
        group.add_argument(
            flag, dest=name, type=float, metavar="X", help=f"{UNITS[name]} (default {value:g})"
        )


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m loadtest.rollout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    main.add_argument("--model", help="default tabular (or LOADTEST_MODEL)")
    _add_side(main, CANARY)
    _add_side(main, STABLE)
    what = main.add_argument_group("the load (the same for both sides)")
    what.add_argument("--transport", choices=TRANSPORTS[:2], help="default rest")
    what.add_argument("--host", help="REST URL or gRPC host:port (default: the two below)")
    what.add_argument("--rest-url", default=_env("REST_URL", DEFAULT_HOSTS["rest"]))
    what.add_argument("--grpc-target", default=_env("GRPC_TARGET", DEFAULT_HOSTS["grpc"]))
    what.add_argument("--signature", help="default serving_default")
    what.add_argument("--batch-size", type=int)
    what.add_argument("--payload", choices=PAYLOADS, help="auto: warmup records when found")
    what.add_argument("--models-root", type=Path, help="exported models (default: models)")
    what.add_argument("--timeout", type=float, help="per request, seconds")
    what.add_argument("--users", type=int, help="default 4")
    what.add_argument("--spawn-rate", type=float, help="default: every user at once")
    what.add_argument(
        "--run-time",
        type=parse_duration,
        default=DEFAULT_RUN_TIME,
        help=f"load per side, split over the rounds (default {DEFAULT_RUN_TIME:g}s)",
    )
    what.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help="runs per side, alternating canary, stable, stable, canary, ... (default 2)",
    )
    gates = main.add_argument_group("before the load")
    gates.add_argument(
        "--request-logs",
        type=Path,
        help="request log file or folder: the stable version's calls in it are replayed against"
        " the canary (default, or when it logs none: the stable version's warmup requests)",
    )
    gates.add_argument(
        "--accept-breaking",
        action="append",
        default=[],
        metavar="SIGNATURE",
        help="let breaking changes to this signature through, e.g. one retired on purpose:"
        " shown and noted, not gated (repeatable)",
    )
    gates.add_argument(
        "--replay-limit",
        type=int,
        default=DEFAULT_REPLAY_LIMIT,
        help=f"replay at most this many requests, the newest (default {DEFAULT_REPLAY_LIMIT})",
    )
    _add_tolerances(main)
    out = main.add_argument_group("reports")
    out.add_argument("--reports", type=Path, default=Path(_env("REPORTS", "reports")))
    out.add_argument("--report-dir", type=Path, help="default: REPORTS/rollout/<timestamp>")
    add_local_server_arguments(
        main, rest_option="--rest-url", grpc_option="--grpc-target", used_for="the check"
    )
    return main


def _side(args: argparse.Namespace, name: str) -> Side:
    version = getattr(args, f"{name}_version")
    label = getattr(args, f"{name}_label")
    return Side(name, version, None) if version is not None else Side(name, None, label or name)


def _tolerances(args: argparse.Namespace) -> Tolerances:
    base = load_tolerances(args.tolerances) if args.tolerances else DEFAULT_TOLERANCES
    return base.merged({name: getattr(args, name) for name in DEFAULT_TOLERANCES.to_dict()})


@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: str | None = None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"{ENV_PREFIX}{name}", default)


def _settings(args: argparse.Namespace) -> LoadSettings:
    # LOADTEST_TRANSPORT may list two transports for `python -m loadtest run`; a rollout check
    # compares over one.
    transport = args.transport or (_env("TRANSPORT") or "rest")
    if transport not in TRANSPORTS[:2]:
        raise ValueError(
            f"a rollout check runs over one transport, rest or grpc, not {transport!r}"
        )
    default_host = args.grpc_target if transport == "grpc" else args.rest_url
    settings = LoadSettings.from_env(
        {k: v for k, v in os.environ.items() if k != f"{ENV_PREFIX}TRANSPORT"},
        model=args.model,
        transport=transport,
        host=args.host or (None if _env("HOST") else default_host),
        signature=args.signature,
        batch_size=args.batch_size,
        payload=args.payload,
        models_root=args.models_root,
        timeout=args.timeout,
        users=args.users,
        run_time=args.run_time,
    )
    if args.rounds < 1:
        raise ValueError(f"--rounds must be at least 1, not {args.rounds}")
    if args.replay_limit < 1:
        raise ValueError(f"--replay-limit must be at least 1, not {args.replay_limit}")
    # Short runs: start every user at once, so the runs measure full load, not the ramp. A
    # LOADTEST_STAGES left over from `make loadtest` would replace --run-time in every run.
    return settings.replace(spawn_rate=args.spawn_rate or float(settings.total_users), stages=None)


def _check(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        sides = {name: _side(args, name) for name in (CANARY, STABLE)}
        tolerances = _tolerances(args)
    except (ValueError, OSError) as err:
        print(f"rollout: {err}", file=sys.stderr)
        return EXIT_ERROR
    folder = Path(args.report_dir or new_report_dir(args.reports / "rollout"))
    try:
        result = run_rollout_check(
            settings,
            sides,
            folder=folder,
            rounds=args.rounds,
            tolerances=tolerances,
            request_logs=args.request_logs,
            replay_limit=args.replay_limit,
            accept_breaking=args.accept_breaking,
        )
    except (ServingClientError, LoadTestError, RolloutError, ValueError, OSError) as err:
        print(f"rollout: cannot compare: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(result.text())
    return EXIT_OK if result.passed else EXIT_BREACH


def main(argv: list[str] | None = None) -> int:
    from launcher import StartError, ensure_server

    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.start_server is None:
        return _check(args)
    server = ensure_server(
        args.rest_url,
        args.grpc_target,
        args.start_server,
        model=args.model or _env("MODEL"),
        server_args=args.server_args,
        log_path=args.server_log,
    )
    try:
        with server:
            return _check(args)
    except StartError as err:
        print(f"rollout: {err}", file=sys.stderr)
        return EXIT_ERROR
