"""`python -m loadtest tune-batching`: the batching parameters under which one replica holds
the highest open-loop rate within its SLO, one server restart per trial."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from loadtest.options import add_run_options, env_default
from loadtest.settings import parse_duration
from loadtest.tune.grid import AXES, PADDINGS, Grid, default_grid

if TYPE_CHECKING:
    from loadtest.tune.launchers import ServerLauncher

__all__ = ["add_tune_batching"]

EXIT_OK, EXIT_NO_RESULT, EXIT_ERROR = 0, 1, 2
LAUNCHERS = ("embedded", "docker", "kubernetes")


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _paddings(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_tune_batching(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "tune-batching",
        help="search max_batch_size, batch_timeout_micros, num_batch_threads,"
        " max_enqueued_batches and allowed_batch_sizes from the batching guide's CPU or GPU"
        " recipe, restarting the server per trial and scoring each by capacity-search's max"
        " rate within the SLO; writes the trials, a plot and the best batching_parameters.txt"
        " (exit 1 when no trial held a rate)",
    )
    add_run_options(parser)
    slo = parser.add_argument_group("the SLO and each trial's capacity search")
    slo.add_argument(
        "--slo-p99-ms",
        type=float,
        default=env_default("SLO_P99_MS"),
        required=env_default("SLO_P99_MS") is None,
    )
    slo.add_argument(
        "--slo-error-rate", type=float, default=float(env_default("SLO_ERROR_RATE", "0"))
    )
    slo.add_argument("--start-rate", type=float, default=20.0, help="first step, req/s (20)")
    slo.add_argument("--max-rate", type=float, default=5000.0, help="highest step, req/s (5000)")
    slo.add_argument("--growth", type=float, default=2.0, help="rate factor per rising step (2)")
    slo.add_argument("--precision", type=float, default=0.1, help="bisect to this fraction (0.1)")
    slo.add_argument("--repeats", type=int, default=1, help="runs again of the final rate (1)")
    slo.add_argument(
        "--step-time", type=parse_duration, default=5.0, help="each step's run time (5s)"
    )
    tune = parser.add_argument_group(
        "the tuner (the embedded server takes --start-server's models.config and --server-args)"
    )
    tune.add_argument("--launcher", choices=LAUNCHERS, default="embedded")
    tune.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="the recipe (cpu)")
    tune.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="(this machine's)")
    tune.add_argument("--max-trials", type=int, default=12, help="trial budget (12)")
    tune.add_argument(
        "--start-timeout",
        type=parse_duration,
        default=300.0,
        help="a trial's server must serve the model within this, else the trial fails (300s)",
    )
    tune.add_argument(
        "--min-gain",
        type=float,
        default=0.05,
        help="a move must raise the max rate by this fraction, above a trial's noise (0.05)",
    )
    grid = parser.add_argument_group("the grid (comma-separated values; defaults: default_grid)")
    grid.add_argument("--max-batch-sizes", type=_ints)
    grid.add_argument("--timeouts-us", type=_ints)
    grid.add_argument("--threads", type=_ints)
    grid.add_argument("--enqueued-per-thread", type=_ints, help="max_enqueued_batches / threads")
    grid.add_argument("--paddings", type=_paddings, help=f"of {', '.join(PADDINGS)}")
    where = parser.add_argument_group("Docker and Kubernetes launchers")
    where.add_argument(
        "--image", help="docker: default the pinned tensorflow/serving; k8s: make image's"
    )
    where.add_argument("--namespace", default="default", help="kubernetes (default)")
    where.add_argument("--kubectl", default="kubectl")
    where.add_argument("--docker", default="docker")
    parser.set_defaults(handler=_tune_batching)


def _grid(args: argparse.Namespace) -> Grid:
    """default_grid for --cores, with the axes the options give instead; max_batch_size
    values below --batch-size are left out (the server refuses such requests).

    Raises:
        ValueError: an axis with repeated or impossible values, or none left.
    """
    given = {
        "max_batch_size": args.max_batch_sizes,
        "batch_timeout_micros": args.timeouts_us,
        "num_batch_threads": args.threads,
        "enqueued_per_thread": args.enqueued_per_thread,
    }
    axes = {name: tuple(sorted(values)) for name, values in given.items() if values}
    if args.paddings:
        axes["padding"] = args.paddings
    grid = dataclasses.replace(default_grid(args.cores), **axes)
    sizes = tuple(s for s in grid.max_batch_size if s >= (args.batch_size or 1))
    if not sizes:
        raise ValueError(f"no max_batch_size of {grid.max_batch_size} fits --batch-size")
    return dataclasses.replace(grid, max_batch_size=sizes)


def _launcher(args: argparse.Namespace, model: str) -> ServerLauncher:
    """The launcher --launcher names, from the options.

    Raises:
        ValueError: the options it needs are missing.
        OSError: the pinned release cannot be read.
    """
    from loadtest.tune.kubernetes import KubernetesLauncher
    from loadtest.tune.launchers import DockerLauncher, EmbeddedLauncher

    if args.launcher == "embedded":
        if not args.start_server:
            raise ValueError("the embedded launcher needs --start-server MODELS_CONFIG")
        return EmbeddedLauncher(
            args.start_server,
            model,
            shlex.split(args.server_args),
            start_timeout=args.start_timeout,
        )
    if args.launcher == "docker":
        root = args.models_root or Path("models")
        return DockerLauncher(
            root,
            model,
            gpu=args.device == "gpu",
            image=args.image or "",
            docker=args.docker,
            start_timeout=args.start_timeout,
        )
    if not args.image:
        raise ValueError("--launcher kubernetes needs --image (make image's, with the models)")
    return KubernetesLauncher(args.image, model, namespace=args.namespace, kubectl=args.kubectl)


def _tune_batching(args: argparse.Namespace) -> int:
    from launcher import StartError
    from loadtest.cli import settings_for
    from loadtest.runner import LoadTestError
    from loadtest.search.cli import search_limits
    from loadtest.tune.report import format_table, machine_load, write_outputs
    from loadtest.tune.search import tune
    from loadtest.tune.trials import trial_runner

    try:
        settings = settings_for(args, (args.transport or ["rest"])[0])
        limits = search_limits(args)
        grid = _grid(args)
        launcher = _launcher(args, settings.model)
        start = grid.recipe(args.device, args.cores)
    except (ValueError, OSError) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR
    folder = args.report_dir or Path(args.reports) / time.strftime("%Y%m%d-%H%M%S-tune-batching")
    context = {
        "model": settings.model,
        "transport": settings.transport,
        "launcher": launcher.name,
        "device": args.device,
        "recipe": grid.config(start).to_dict(),
        "slo": {"p99_ms": limits.p99_ms, "max_error_rate": limits.max_error_rate},
        "step_seconds": args.step_time,
        "max_trials": args.max_trials,
        "machine_before": machine_load(),
    }
    measure = trial_runner(launcher, settings, limits, args.step_time, folder)
    first = "max_batch_size" if args.device == "gpu" else AXES[0]
    try:
        result = tune(
            measure,
            grid,
            start,
            first_axis=first,
            max_trials=args.max_trials,
            min_gain=args.min_gain,
        )
    except (LoadTestError, StartError, ValueError) as err:
        print(f"loadtest: {err}", file=sys.stderr)
        return EXIT_ERROR
    context["machine_after"] = machine_load()
    paths, problems = write_outputs(result, folder, context)
    print(format_table(result))
    if result.best is not None:
        verdict = "; ".join(str(p) for p in problems) or "passes serving_config check"
        print(f"best batching_parameters.txt ({verdict}):\n{result.best.config.text()}", end="")
    print("wrote " + ", ".join(str(p) for p in paths))
    if problems:
        return EXIT_ERROR
    return EXIT_OK if result.best is not None else EXIT_NO_RESULT
