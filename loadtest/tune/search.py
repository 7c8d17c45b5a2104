"""The tuner's search: coordinate descent over the grid from the guide's recipe, with a cache.

It asks `measure(number, config)` for one trial at a time, so it runs the same against real
server restarts and against a cost model in the tests. From the starting point it walks one
axis at a time: a step up the axis, then on while each step is better; failing that, the same
downwards. Sweeps over all axes repeat until one moves nothing (or the trial budget runs out).
A point is measured once (the cache), so revisits are free. Where nothing passes (max rate
None), there is no slope to follow: the whole axis is measured instead.

"Better" is a higher max rate by more than min_gain (the noise a real trial carries), or, at
an equal rate, a lower p99.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loadtest.tune.grid import AXES, BatchingConfig, Grid, Point

__all__ = ["Measured", "Trial", "TuneResult", "pareto_front", "tune"]


@dataclass(frozen=True)
class Measured:
    """What one trial found: capacity-search's max rate under the SLO and p99 at that rate."""

    max_rps: float | None
    p99_ms: float | None
    outcome: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Trial:
    number: int
    point: Point
    config: BatchingConfig
    measured: Measured

    @property
    def score(self) -> float:
        return self.measured.max_rps or 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "slug": self.config.slug,
            "parameters": self.config.to_dict(),
            "max_rps": self.measured.max_rps,
            "p99_ms": self.measured.p99_ms,
            "outcome": self.measured.outcome,
            **self.measured.detail,
        }


Measure = Callable[[int, BatchingConfig], Measured]


@dataclass
class TuneResult:
    grid: Grid
    start: Point
    trials: list[Trial] = field(default_factory=list)
    best: Trial | None = None
    stopped: str = ""

    @property
    def pareto(self) -> list[Trial]:
        return pareto_front(self.trials)


def pareto_front(trials: Sequence[Trial]) -> list[Trial]:
    """The trials no other beats on both max rate (higher) and p99 at that rate (lower)."""
    scored = [t for t in trials if t.measured.max_rps is not None and t.measured.p99_ms is not None]

    def dominates(a: Trial, b: Trial) -> bool:
        ra, rb = a.score, b.score
        pa, pb = a.measured.p99_ms or 0.0, b.measured.p99_ms or 0.0
        return ra >= rb and pa <= pb and (ra > rb or pa < pb)

    return [t for t in scored if not any(dominates(o, t) for o in scored if o is not t)]


class _BudgetSpent(Exception):
    pass


def _better(min_gain: float) -> Callable[[Trial, Trial], bool]:
    def better(a: Trial, b: Trial) -> bool:
        if a.score > b.score * (1 + min_gain) and a.score > b.score:
            return True
        if a.score == b.score and a.score > 0:
            return (a.measured.p99_ms or 0.0) < (b.measured.p99_ms or 0.0)
        return False

    return better


def _moved(point: Point, axis: int, index: int) -> Point:
    return point[:axis] + (index,) + point[axis + 1 :]


def tune(
    measure: Measure,
    grid: Grid,
    start: Point,
    *,
    first_axis: str = AXES[0],
    max_trials: int | None = None,
    min_gain: float = 0.0,
) -> TuneResult:
    """Coordinate descent from start (see the module's docstring); every trial, in the order
    run, with the best one.

    Raises:
        ValueError: start is not a point of grid, first_axis not an axis, max_trials < 1.
    """
    if len(start) != len(AXES) or any(
        not 0 <= i < n for i, n in zip(start, grid.shape, strict=True)
    ):
        raise ValueError(f"start {start} is not a point of a grid of shape {grid.shape}")
    if first_axis not in AXES or (max_trials is not None and max_trials < 1):
        raise ValueError(f"first_axis must be one of {AXES} and max_trials at least 1")
    result = TuneResult(grid, start)
    cache: dict[Point, Trial] = {}
    better = _better(min_gain)

    def evaluate(point: Point) -> Trial:
        if point in cache:
            return cache[point]
        if max_trials is not None and len(result.trials) >= max_trials:
            raise _BudgetSpent
        config = grid.config(point)
        trial = Trial(
            len(result.trials) + 1, point, config, measure(len(result.trials) + 1, config)
        )
        cache[point] = trial
        result.trials.append(trial)
        return trial

    order = [AXES.index(first_axis)] + [i for i in range(len(AXES)) if AXES[i] != first_axis]
    try:
        best = evaluate(start)
        moved = True
        while moved:
            moved = False
            for axis in order:
                found = _line_search(evaluate, better, best, axis, grid.shape[axis])
                if found is not best:
                    best, moved = found, True
        result.stopped = (
            f"converged: no single-axis step improves on the best ({len(cache)} trials)"
        )
    except _BudgetSpent:
        result.stopped = f"stopped at the budget of {max_trials} trials"
    result.best = _best_of(result.trials)
    return result


def _best_of(trials: list[Trial]) -> Trial | None:
    """The highest max rate measured; at equal rates, the lower p99."""
    scored = [t for t in trials if t.measured.max_rps is not None]
    return max(scored, key=lambda t: (t.score, -(t.measured.p99_ms or 0.0)), default=None)


def _line_search(
    evaluate: Callable[[Point], Trial],
    better: Callable[[Trial, Trial], bool],
    best: Trial,
    axis: int,
    length: int,
) -> Trial:
    """The best trial found along one axis from best (best itself when none is better)."""
    here = best.point[axis]
    if best.score == 0:
        found = best
        for index in range(length):
            trial = evaluate(_moved(best.point, axis, index))
            if better(trial, found) or (trial.score > 0 and found.score == 0):
                found = trial
        return found
    found = best
    for step in (1, -1):
        current, index = best, here + step
        while 0 <= index < length:
            trial = evaluate(_moved(current.point, axis, index))
            if better(current, trial):  # worse: the slope turned
                break
            if better(trial, found):
                found = trial
            current, index = trial, index + step
        if found is not best:
            return found
    return best
