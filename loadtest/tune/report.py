"""The tuner's outputs: a table of trials (Pareto front marked), tune.json, tune.csv, a plot,
and the best batching_parameters.txt, checked by serving_config's checks.

The Pareto front is over (max rate under the SLO, higher; p99 at that rate, lower): the
trials no other trial beats on both. The best is the highest max rate (at equal rates, the
lower p99), always on the front.
"""

from __future__ import annotations

import csv
import json
import os
import textwrap
from pathlib import Path
from typing import Any

from loadtest.tune.search import Trial, TuneResult
from serving_config.check import Problem, check_file

__all__ = ["format_table", "machine_load", "write_outputs"]


def machine_load() -> dict[str, Any]:
    """The machine's cores and 1/5/15-minute load averages, as `uptime` shows them."""
    one, five, fifteen = os.getloadavg()
    return {"cores": os.cpu_count(), "load_average": [one, five, fifteen]}


def _allowed(trial: Trial) -> str:
    sizes = trial.config.allowed_batch_sizes
    return ",".join(str(s) for s in sizes) if len(sizes) <= 4 else f"{trial.config.padding}"


def format_table(result: TuneResult) -> str:
    """One line per trial in the order run; `*` marks the Pareto front, `best` the best."""
    front = {t.number for t in result.pareto}
    best = result.best.number if result.best else None
    lines = [
        f"{'trial':>5} {'max_batch':>9} {'timeout_us':>10} {'threads':>7} {'enqueued':>8} "
        f"{'allowed':>12} {'max req/s':>9} {'p99 ms':>8}  front"
    ]
    for trial in result.trials:
        config, measured = trial.config, trial.measured
        rate = "-" if measured.max_rps is None else f"{measured.max_rps:g}"
        if measured.detail.get("lower_bound"):
            rate = ">=" + rate
        p99 = "-" if measured.p99_ms is None else f"{measured.p99_ms:.2f}"
        mark = ("*" if trial.number in front else "") + (" best" if trial.number == best else "")
        lines.append(
            f"{trial.number:>5} {config.max_batch_size:>9} {config.batch_timeout_micros:>10} "
            f"{config.num_batch_threads:>7} {config.max_enqueued_batches:>8} "
            f"{_allowed(trial):>12} {rate:>9} {p99:>8}  {mark}"
        )
    lines.append(result.stopped)
    if result.best is None:
        lines.append("no trial held any rate within the SLO")
    else:
        lines.append(f"best: trial {result.best.number}, {result.best.measured.outcome}")
    return "\n".join(lines)


def write_outputs(
    result: TuneResult, folder: Path, context: dict[str, Any]
) -> tuple[list[Path], list[Problem]]:
    """tune.json, tune.csv, tune.png and, when a trial held a rate, batching_parameters.txt
    (the best's) in folder; returns the files and that file's problems per serving_config's
    checks (none expected).

    Raises:
        OSError: a file cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "tune.json", folder / "tune.csv", folder / "tune.png"]
    problems: list[Problem] = []
    if result.best is not None:
        paths.append(folder / "batching_parameters.txt")
        paths[3].write_text(result.best.config.text())
        problems = check_file(paths[3], kind="batching")
    front = {t.number for t in result.pareto}
    document = {
        **context,
        "grid": {
            name: list(result.grid.values(name))
            for name in ("max_batch_size", "batch_timeout_micros", "num_batch_threads")
        }
        | {
            "enqueued_per_thread": list(result.grid.enqueued_per_thread),
            "padding": list(result.grid.padding),
            "points": result.grid.size,
        },
        "stopped": result.stopped,
        "best": result.best.to_dict() if result.best else None,
        "pareto_front": sorted(front),
        "parameters_check": [str(p) for p in problems],
        "trials": [t.to_dict() | {"pareto": t.number in front} for t in result.trials],
    }
    paths[0].write_text(json.dumps(document, indent=2) + "\n")
    with open(paths[1], "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "trial",
                "max_batch_size",
                "batch_timeout_micros",
                "num_batch_threads",
                "max_enqueued_batches",
                "allowed_batch_sizes",
                "max_rps",
                "p99_ms",
                "pareto",
            ]
        )
        for trial in result.trials:
            config = trial.config
            writer.writerow(
                [
                    trial.number,
                    config.max_batch_size,
                    config.batch_timeout_micros,
                    config.num_batch_threads,
                    config.max_enqueued_batches,
                    " ".join(str(s) for s in config.allowed_batch_sizes),
                    trial.measured.max_rps,
                    trial.measured.p99_ms,
                    trial.number in front,
                ]
            )
    _plot(result, paths[2], context)
    return paths, problems


def _plot(result: TuneResult, path: Path, context: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 6))
    scored = [t for t in result.trials if t.measured.max_rps is not None]
    front = sorted(result.pareto, key=lambda t: t.score)
    for bound, label in ((False, "trial"), (True, "trial, a lower bound (>=)")):
        shown = [t for t in scored if bool(t.measured.detail.get("lower_bound")) == bound]
        if shown:
            axes.scatter(
                [t.score for t in shown],
                [t.measured.p99_ms or 0.0 for t in shown],
                edgecolors="grey",
                facecolors="none" if bound else "grey",
                label=label,
            )
    for trial in scored:
        axes.annotate(
            str(trial.number),
            (trial.score, trial.measured.p99_ms or 0.0),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize="small",
        )
    if front:
        axes.plot(
            [t.score for t in front],
            [t.measured.p99_ms or 0.0 for t in front],
            color="tab:blue",
            marker="o",
            label="Pareto front",
        )
    if result.best is not None:
        axes.scatter(
            [result.best.score],
            [result.best.measured.p99_ms or 0.0],
            marker="*",
            s=250,
            color="tab:green",
            zorder=3,
            label=f"best: {result.best.config.slug}",
        )
    slo = context.get("slo", {}).get("p99_ms")
    if slo:
        axes.axhline(slo, color="red", linestyle="--", label="SLO p99")
    failed = len(result.trials) - len(scored)
    axes.set_xlabel("max open-loop rate within the SLO (req/s)")
    axes.set_ylabel("p99 at that rate (ms)")
    title = f"Batching trials ({len(result.trials)} run, {failed} held no rate): {result.stopped}"
    axes.set_title("\n".join(textwrap.wrap(title, 100)))
    axes.grid(True, alpha=0.3)
    if axes.get_legend_handles_labels()[0]:  # none when no trial held a rate and no SLO line
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
