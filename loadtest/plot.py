"""The report's PNG: latency percentiles and throughput over time, and the latency distribution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loadtest.hdr import PERCENTILES, LatencyRecorder

__all__ = ["plot_latency"]

# Distribution plot: percentiles spaced as 1 / (1 - p), HdrHistogram's usual x axis.
DISTRIBUTION = [0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0]


def plot_latency(
    recorder: LatencyRecorder, path: Path, title: str, target_rate: float | None = None
) -> Path:
    """Write the PNG to path and return it; title says the mode and rates, target_rate (open
    loop) is drawn over the requests started per second.

    Raises:
        OSError: the file cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    from matplotlib import pyplot as plt

    figure, (over_time, distribution) = plt.subplots(2, 1, figsize=(12.5, 8.5))
    figure.suptitle(title)
    _plot_over_time(recorder, over_time, target_rate)
    _plot_distribution(recorder, distribution)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _plot_over_time(recorder: LatencyRecorder, axes: Any, target_rate: float | None) -> None:
    seconds = sorted(recorder.timeline)
    start = seconds[0] if seconds else 0
    x = [s - start for s in seconds]
    for label, percentile in PERCENTILES.items():
        y = [recorder.timeline[s].get_value_at_percentile(percentile) / 1000 for s in seconds]
        axes.plot(x, y, marker=".", label=label)
    peak = [recorder.timeline[s].get_max_value() / 1000 for s in seconds]
    axes.plot(x, peak, linestyle=":", color="grey", label="max")
    axes.set_yscale("log")
    axes.set_xlabel("seconds since the first request")
    axes.set_ylabel("latency (ms)")
    axes.set_title("Latency percentiles per second (all requests)")
    axes.grid(True, which="both", alpha=0.3)
    rate = axes.twinx()
    counts = [recorder.timeline[s].get_total_count() for s in seconds]
    rate.bar(x, counts, width=0.8, alpha=0.15, color="black", label="requests/s")
    if target_rate:
        rate.axhline(target_rate, color="black", linestyle="--", linewidth=1, label="target rate")
    rate.set_ylabel("requests started per second")
    lines, labels = axes.get_legend_handles_labels()
    bars, bar_labels = rate.get_legend_handles_labels()
    # Outside the axes, so that no series (max, p50, the first seconds) hides behind it.
    axes.legend(
        lines + bars,
        labels + bar_labels,
        loc="upper left",
        bbox_to_anchor=(1.08, 1.0),
        fontsize="small",
    )


def _plot_distribution(recorder: LatencyRecorder, axes: Any) -> None:
    for key, histogram in sorted(recorder.latency.items()):
        if not histogram.get_total_count():
            continue
        values = histogram.get_percentile_to_value_dict(DISTRIBUTION)
        x = [1.0 / (1.0 - p / 100.0) if p < 100.0 else 1e6 for p in DISTRIBUTION]
        y = [values[p] / 1000 for p in DISTRIBUTION]
        axes.plot(x, y, marker="o", label=f"{key} (n={histogram.get_total_count()})")
    axes.set_xscale("log")
    shown = (0.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 99.999)
    axes.set_xticks([1.0 / (1.0 - p / 100.0) for p in shown] + [1e6])
    axes.set_xticklabels([f"{p:g}%" for p in shown] + ["max"])
    axes.set_yscale("log")
    axes.set_xlabel("percentile")
    axes.set_ylabel("latency (ms)")
    axes.set_title("Latency distribution (HDR histogram)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize="small")
