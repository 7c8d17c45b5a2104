"""One trial: a server restarted with the trial's batching parameters, scored by the capacity
search (loadtest/search) against it; the search's report kept in the trial's folder."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from pathlib import Path

import requests

from launcher import StartError
from loadtest.search.report import write_outputs
from loadtest.search.runs import step_runner
from loadtest.search.steps import SearchLimits, SearchResult, passes, search
from loadtest.settings import METRICS_PATH, LoadSettings
from loadtest.tune.grid import BatchingConfig
from loadtest.tune.launchers import ServerLauncher
from loadtest.tune.search import Measure, Measured

__all__ = ["executed_batch_sizes", "p99_at_max", "score", "trial_runner"]

log = logging.getLogger(__name__)

# TF Serving's padding_size histogram has one series per batch size it executed (padded).
_EXECUTED = re.compile(r'padding_size_count\{[^}]*execution_batch_size="(\d+)"[^}]*\}\s+(\S+)')


def executed_batch_sizes(metrics_text: str) -> list[int]:
    """The batch sizes a server ran (after padding), from its Prometheus page."""
    return sorted({int(size) for size, count in _EXECUTED.findall(metrics_text) if float(count)})


def p99_at_max(result: SearchResult) -> float | None:
    """The worst p99 over the runs at the max rate (the step and its repeats)."""
    spread = result.p99_spread_ms
    return spread[1] if spread and result.max_rps is not None else None


def score(result: SearchResult) -> Measured:
    """A trial's score from its capacity search: the max rate and the p99 there.

    A search the load generator cut short has no max rate, yet the server did hold every
    passing rate below that step: the trial scores the highest of them, marked as a lower
    bound (the search's own outcome says why it stopped), so that one loaded moment does not
    rank a trial below every other. A max rate at the search's cap is a lower bound too.
    """
    if result.max_rps is not None:
        capped = result.first_failing_rps is None  # every rate up to --max-rate held
        detail = {"lower_bound": True} if capped else {}
        return Measured(result.max_rps, p99_at_max(result), result.outcome, detail)
    held = [s for s in result.steps if passes(s, result.limits)]
    if not held or result.steps[-1].verdict != "generator-bound":
        return Measured(None, None, result.outcome)
    best = max(held, key=lambda s: s.target_rps)
    outcome = f"at least {best.target_rps:g} req/s (a lower bound): {result.outcome}"
    return Measured(best.target_rps, best.p99_ms, outcome, {"lower_bound": True})


def trial_runner(
    launcher: ServerLauncher,
    settings: LoadSettings,
    limits: SearchLimits,
    step_seconds: float,
    folder: Path,
) -> Measure:
    """measure(number, config) for the tuner: a server of config's parameters, the capacity
    search against it (steps of step_seconds), the server stopped; folder/trials/NN-slug/ holds
    the parameters file, the server's log and the search's report.

    A server that does not start fails its trial (no rate); on the first trial it ends the
    tuning instead, since then nothing would start.

    Raises (from measure):
        StartError: the first trial's server did not start.
        LoadTestError: a step could not run.
    """

    def measure(number: int, config: BatchingConfig) -> Measured:
        trial_dir = folder / "trials" / f"{number:02d}-{config.slug}"
        started = time.monotonic()
        detail: dict[str, object] = {"trial_dir": str(trial_dir), "launcher": launcher.name}
        log.info("trial %d: %s (%s)", number, config.slug, launcher.name)
        try:
            with launcher.serve(config, trial_dir) as server:
                metrics = server.rest + METRICS_PATH
                host = server.grpc if settings.transport == "grpc" else server.rest
                run = settings.replace(host=host, metrics_url=metrics)
                result = search(step_runner(run, step_seconds, trial_dir), limits)
                detail["server_pid"] = getattr(server.process, "pid", None)
                detail["server_log"] = str(server.log_path) if server.log_path else None
                detail["executed_batch_sizes"] = _executed(metrics)
        except StartError as err:
            if number == 1:
                raise
            outcome = f"the server did not start: {str(err).splitlines()[0]}"
            log.warning("trial %d: %s", number, outcome)
            return Measured(None, None, outcome, detail)
        write_outputs(result, trial_dir)
        detail["steps"] = len(result.steps) + len(result.repeats)
        detail["seconds"] = round(time.monotonic() - started, 1)
        scored = score(result)
        log.info("trial %d: %s", number, scored.outcome)
        return dataclasses.replace(scored, detail=scored.detail | detail)

    return measure


def _executed(metrics_url: str) -> list[int] | None:
    try:
        response = requests.get(metrics_url, timeout=10)
    except requests.RequestException:
        return None
    return executed_batch_sizes(response.text) if response.ok else None
