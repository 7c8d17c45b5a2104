"""The search's outputs: a latency-throughput table, capacity.json, capacity.csv and a plot."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

from loadtest.search.steps import SearchResult, Step, passes

__all__ = ["format_table", "knee_rps", "write_outputs"]

KNEE_GROWTH = 2.0  # the knee: the first step whose p50 is twice the lowest p50 seen


def knee_rps(steps: list[Step]) -> float | None:
    """The achieved rate where the median starts to climb, requests queueing (None with fewer
    than two steps or no climb): the median, since one slow request moves a short step's p99."""
    ordered = sorted(steps, key=lambda s: s.achieved_rps)
    if len(ordered) < 2:
        return None
    lowest = min(s.p50_ms for s in ordered)
    climbing = [s for s in ordered if s.p50_ms >= KNEE_GROWTH * lowest]
    return climbing[0].achieved_rps if climbing else None


def _server_cells(step: Step) -> tuple[str, str]:
    """The server's own mean time outside the model run (queues, decoding) and in it."""
    server = step.server or {}

    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return shown(server.get("mean_outside_run_ms")), shown(server.get("mean_run_ms"))


def format_table(result: SearchResult) -> str:
    """One line per step in the order run, then the repeats, then the outcome."""
    lines = [
        f"{'step':>4} {'target':>8} {'achieved':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7} "
        f"{'queue+io ms':>11} {'run ms':>7}  verdict",
    ]
    rows = [("", s) for s in result.steps] + [("again", s) for s in result.repeats]
    for number, (label, step) in enumerate(rows, 1):
        queue, run = _server_cells(step)
        mark = "pass" if passes(step, result.limits) else "FAIL"
        lines.append(
            f"{label or number:>4} {step.target_rps:>8g} {step.achieved_rps:>9.1f} "
            f"{step.p50_ms:>9.2f} {step.p99_ms:>9.2f} {step.error_rate:>7.2%} {queue:>11} "
            f"{run:>7}  {mark} {step.verdict}"
        )
    spread = result.p99_spread_ms
    if spread is not None:
        lines.append(f"p99 over the final rate's runs: {spread[0]:.2f} .. {spread[1]:.2f} ms")
    lines.append(result.outcome)
    return "\n".join(lines)


def write_outputs(result: SearchResult, folder: Path) -> list[Path]:
    """capacity.json, capacity.csv and capacity.png in folder; returns them.

    Raises:
        OSError: a file cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    document = result.to_dict() | {"knee_rps": knee_rps(result.steps)}
    paths = [folder / "capacity.json", folder / "capacity.csv", folder / "capacity.png"]
    paths[0].write_text(json.dumps(document, indent=2) + "\n")
    with open(paths[1], "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["target_rps", "achieved_rps", "p50_ms", "p99_ms", "error_rate", "verdict"])
        for step in result.steps + result.repeats:
            writer.writerow(
                [
                    step.target_rps,
                    step.achieved_rps,
                    step.p50_ms,
                    step.p99_ms,
                    step.error_rate,
                    step.verdict,
                ]
            )
    _plot(result, paths[2])
    return paths


def _plot(result: SearchResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = sorted(result.steps + result.repeats, key=lambda s: s.achieved_rps)
    figure, axes = plt.subplots(figsize=(11, 6))
    x = [s.achieved_rps for s in steps]
    axes.plot(x, [s.p50_ms for s in steps], marker="o", label="p50")
    axes.plot(x, [s.p99_ms for s in steps], marker="o", label="p99")
    axes.axhline(result.limits.p99_ms, color="red", linestyle="--", label="SLO p99")
    if result.max_rps is not None:
        axes.axvline(
            result.max_rps, color="green", linestyle=":", label=f"max {result.max_rps:g} req/s"
        )
    knee = knee_rps(result.steps)
    if knee is not None:
        axes.axvline(knee, color="grey", linestyle="-.", label=f"knee {knee:g} req/s")
    axes.set_yscale("log")
    axes.set_xlabel("achieved rate (req/s), open loop")
    axes.set_ylabel("latency from intended send (ms)")
    axes.set_title("\n".join(textwrap.wrap(f"Latency against throughput: {result.outcome}", 100)))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
