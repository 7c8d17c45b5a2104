"""The tuner's search against a server whose batch cost is known: a fixed cost per model call
plus a cost per row. Every trial is scored by capacity-search's own search (rising steps,
bisection) over a deterministic model of that server, so the best point of the grid is known
from an exhaustive sweep, and the tuner must come close to it with a fraction of the trials."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from loadtest.search.steps import SearchLimits, Step, search
from loadtest.tune.grid import AXES, BatchingConfig, Grid, allowed_sizes, default_grid
from loadtest.tune.search import Measured, Trial, pareto_front, tune


@dataclass(frozen=True)
class CostModel:
    """A model call costs fixed_ms + row_ms per row it runs (padding rows included), plus
    shape_ms when batches come in every size (no allowed_batch_sizes: each new shape costs).
    Threads beyond the cores share them, so each call is that much slower."""

    fixed_ms: float
    row_ms: float
    cores: int
    shape_ms: float = 0.0

    def run_ms(self, config: BatchingConfig, rows: int) -> float:
        sizes = config.allowed_batch_sizes
        padded = next((s for s in sizes if s >= rows), rows)
        extra = 0.0 if sizes else self.shape_ms
        slower = max(1.0, config.num_batch_threads / self.cores)
        return (self.fixed_ms + extra + self.row_ms * padded) * slower

    def step(self, config: BatchingConfig, rate: float) -> Step:
        """One open-loop step at rate req/s of one row each. A batch closes when the timeout
        ends or it is full; while every thread is busy, the rows that arrive meanwhile wait,
        so batches grow until one run's worth of arrivals fits into a batch (self-clocking).
        p99: the wait for the batch, the batch in front, and its own run."""
        per_ms = rate / 1000.0
        threads, timeout_ms = config.num_batch_threads, config.batch_timeout_micros / 1000.0
        top = config.max_batch_size
        clocked = next(
            (b for b in range(1, top + 1) if per_ms * self.run_ms(config, b) <= threads * b),
            None,
        )
        if clocked is None:  # even full batches cannot keep up: the server falls behind
            capacity = 1000 * threads * top / self.run_ms(config, top)
            return Step(rate, capacity, 1e4, 1e5, 0.0, "server-bound")
        rows = max(clocked, min(top, max(1, math.floor(per_ms * timeout_ms))))
        run = self.run_ms(config, rows)
        load = per_ms * run / (threads * rows)
        if load > 1:  # the rows a timeout gathers, padded, cost more than the threads have
            return Step(rate, rate / load, 1e4, 1e5, 0.0, "server-bound")
        p99 = min(timeout_ms, rows / per_ms) + run * (1 + 2 * load)
        # A queue of one batch per thread turns bursts away (UNAVAILABLE) once busy.
        errors = 0.01 if config.max_enqueued_batches < 2 * threads and load > 0.7 else 0.0
        return Step(rate, rate, p99 / 2, p99, errors)


def scorer(
    model: CostModel, slo_ms: float, calls: list[BatchingConfig]
) -> Callable[[int, BatchingConfig], Measured]:
    """measure(number, config) for the tuner: capacity-search's search over the model."""
    limits = SearchLimits(p99_ms=slo_ms, start_rps=10.0, max_rps=1e6, precision=0.02, repeats=0)

    def measure(number: int, config: BatchingConfig) -> Measured:
        calls.append(config)
        result = search(lambda rate: model.step(config, rate), limits)
        at_max = [s.p99_ms for s in result.steps if s.target_rps == result.max_rps]
        return Measured(result.max_rps, max(at_max) if at_max else None, result.outcome)

    return measure


MODELS = [
    pytest.param(CostModel(1.0, 0.05, cores=2, shape_ms=0.3), 25.0, "cpu", id="cpu-25ms"),
    pytest.param(CostModel(0.5, 0.2, cores=2), 5.0, "cpu", id="cpu-tight-5ms"),
    pytest.param(CostModel(8.0, 0.01, cores=4, shape_ms=2.0), 60.0, "gpu", id="gpu-60ms"),
    pytest.param(CostModel(4.0, 0.02, cores=8, shape_ms=1.0), 30.0, "gpu", id="gpu-8cores-30ms"),
]


@functools.cache
def sweep_best(model: CostModel, slo_ms: float) -> float:
    """The exhaustive sweep: every point of the grid, scored the same way; its best rate."""
    grid = default_grid(cores=model.cores)
    calls: list[BatchingConfig] = []
    measure = scorer(model, slo_ms, calls)
    best = max(measure(0, grid.config(point)).max_rps or 0.0 for point in grid.points())
    assert len(calls) == grid.size and best > 0
    return best


@pytest.mark.parametrize("start", ["recipe", "corner"])
@pytest.mark.parametrize(("model", "slo_ms", "device"), MODELS)
def test_the_tuner_comes_within_90_percent_of_the_sweep_in_a_quarter_of_its_trials(
    model: CostModel, slo_ms: float, device: str, start: str
) -> None:
    """From the guide's recipe, and from the grid's poorest corner (every axis at its
    smallest value), the tuner's best is at least 90% of the sweep's, in at most a quarter
    of the sweep's trials."""
    grid = default_grid(cores=model.cores)
    best_rate = sweep_best(model, slo_ms)
    calls: list[BatchingConfig] = []
    first = "max_batch_size" if device == "gpu" else "batch_timeout_micros"
    origin = grid.recipe(device, model.cores) if start == "recipe" else (0,) * len(AXES)  # type: ignore[arg-type]
    result = tune(scorer(model, slo_ms, calls), grid, origin, first_axis=first)
    assert result.best is not None and result.best.measured.max_rps is not None
    assert result.best.measured.max_rps >= 0.9 * best_rate, (result.best.config, best_rate)
    assert len(calls) == len(result.trials) <= grid.size // 4
    assert len(set(calls)) == len(calls)  # the cache: no point measured twice
    assert result.stopped.startswith("converged")
    if start == "corner":  # batches of at most 8 rows are far from the best: it had to move
        assert result.trials[0].score < 0.5 * result.best.score


def test_a_budget_stops_the_search_and_keeps_the_best_so_far() -> None:
    model, grid = CostModel(1.0, 0.05, cores=2, shape_ms=0.3), default_grid(cores=2)
    calls: list[BatchingConfig] = []
    result = tune(scorer(model, 25.0, calls), grid, grid.recipe("cpu", 2), max_trials=5)
    assert len(calls) == len(result.trials) == 5
    assert "budget of 5 trials" in result.stopped
    assert result.best is not None
    assert result.best.score == max(t.score for t in result.trials)


def test_where_nothing_passes_the_whole_axis_is_measured() -> None:
    """From a start where no rate meets the SLO (a 20 ms timeout against a 5 ms SLO) there is
    no slope: the timeout axis is measured end to end, and the search finds passing points."""
    model, grid = CostModel(0.5, 0.2, cores=2), default_grid(cores=2)
    calls: list[BatchingConfig] = []
    start = grid.recipe("gpu", 2)  # the largest timeout
    result = tune(scorer(model, 5.0, calls), grid, start)
    assert result.trials[0].measured.max_rps is None
    timeouts = {c.batch_timeout_micros for c in calls[: len(grid.batch_timeout_micros)]}
    assert timeouts == set(grid.batch_timeout_micros)
    assert result.best is not None and result.best.score > 0


def test_the_recipes_follow_the_batching_guide() -> None:
    grid = default_grid(cores=4)
    cpu, gpu = grid.config(grid.recipe("cpu", 4)), grid.config(grid.recipe("gpu", 4))
    assert (cpu.num_batch_threads, gpu.num_batch_threads) == (4, 4)  # threads = cores
    assert cpu.batch_timeout_micros == 0 and gpu.batch_timeout_micros == 20000  # 0 / "infinity"
    assert cpu.max_batch_size == gpu.max_batch_size == max(grid.max_batch_size)
    assert cpu.max_enqueued_batches == 4 * max(grid.enqueued_per_thread)  # while experimenting
    assert cpu.allowed_batch_sizes == ()


@pytest.mark.parametrize(
    ("padding", "size", "sizes"),
    [
        pytest.param("none", 32, (), id="none"),
        pytest.param("pow2", 48, (1, 2, 4, 8, 16, 32, 48), id="pow2"),
        pytest.param("halves", 64, (16, 32, 64), id="halves"),
        pytest.param("halves", 2, (1, 2), id="halves-small"),
    ],
)
def test_allowed_batch_sizes_end_at_max_batch_size(
    padding: str, size: int, sizes: tuple[int, ...]
) -> None:
    assert allowed_sizes(padding, size) == sizes


def test_the_parameters_file_passes_serving_config_check() -> None:
    from serving_config.check import check_text

    grid = default_grid(cores=2)
    for point in [grid.recipe("cpu", 2), grid.recipe("gpu", 2), (3, 3, 1, 2, 1), (0, 0, 0, 0, 2)]:
        text = grid.config(point).text()
        assert check_text(text, "batching") == [], text


def test_a_grid_refuses_repeated_or_impossible_values() -> None:
    with pytest.raises(ValueError, match="distinct"):
        Grid((4, 4), (0,), (1,), (4,))
    with pytest.raises(ValueError, match="at least 1"):
        Grid((0, 4), (0,), (1,), (4,))


def test_the_pareto_front_keeps_the_trials_nothing_beats_on_both() -> None:
    config = BatchingConfig(8, 0, 1, 4)

    def trial(number: int, rate: float | None, p99: float | None) -> Trial:
        return Trial(number, (0,) * len(AXES), config, Measured(rate, p99))

    trials = [trial(1, 100, 10), trial(2, 200, 20), trial(3, 150, 30), trial(4, 50, 5)]
    trials.append(trial(5, None, None))
    assert [t.number for t in pareto_front(trials)] == [1, 2, 4]
