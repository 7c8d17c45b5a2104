"""The search itself: open-loop steps at rising rates, a bisection, and a stability rule.

It asks `measure(rate)` for one step at a time, so it runs the same against Locust runs and
against a model of a server in the tests. A step passes when the run achieved its rate (95%),
its p99 met the SLO and its error rate did too. A step whose load generator was the bottleneck
ends the search without a result: its numbers say nothing about the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SearchLimits", "SearchResult", "Step", "passes", "search"]

RATE_SHORTFALL = 0.95


@dataclass(frozen=True)
class Step:
    """One open-loop run at a target rate, as the search needs it."""

    target_rps: float
    achieved_rps: float
    p50_ms: float
    p99_ms: float
    error_rate: float
    verdict: str = "none"
    reasons: tuple[str, ...] = ()
    server: dict[str, Any] | None = None
    report_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_rps": self.target_rps,
            "achieved_rps": self.achieved_rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "error_rate": self.error_rate,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "server": self.server,
            "report_dir": self.report_dir,
        }


@dataclass(frozen=True)
class SearchLimits:
    """The SLO and how the search moves: start, cap, growth per step, bisection precision."""

    p99_ms: float
    max_error_rate: float = 0.0
    start_rps: float = 20.0
    max_rps: float = 5000.0
    growth: float = 2.0
    precision: float = 0.1  # bisect until (fail - pass) / pass is below this
    repeats: int = 2  # the final rate is run again this many times

    def __post_init__(self) -> None:
        if not (self.p99_ms > 0 and self.start_rps > 0 and self.max_rps >= self.start_rps):
            raise ValueError("need p99_ms > 0 and 0 < start_rps <= max_rps")
        if not (self.growth > 1 and 0 < self.precision < 1 and self.repeats >= 0):
            raise ValueError("need growth > 1, 0 < precision < 1 and repeats >= 0")


def passes(step: Step, limits: SearchLimits) -> bool:
    """The step held its rate within the SLO."""
    return (
        step.achieved_rps >= RATE_SHORTFALL * step.target_rps
        and step.p99_ms <= limits.p99_ms
        and step.error_rate <= limits.max_error_rate
    )


@dataclass
class SearchResult:
    """What the search found. max_rps is None when no result can be called (see outcome)."""

    limits: SearchLimits
    steps: list[Step] = field(default_factory=list)
    repeats: list[Step] = field(default_factory=list)
    max_rps: float | None = None
    first_failing_rps: float | None = None
    outcome: str = ""

    @property
    def p99_spread_ms(self) -> tuple[float, float] | None:
        """min and max p99 over the final rate's runs (the step and its repeats)."""
        runs = [s for s in self.steps if s.target_rps == self.max_rps] + self.repeats
        return (min(s.p99_ms for s in runs), max(s.p99_ms for s in runs)) if runs else None

    def to_dict(self) -> dict[str, Any]:
        spread = self.p99_spread_ms
        return {
            "slo": {"p99_ms": self.limits.p99_ms, "max_error_rate": self.limits.max_error_rate},
            "max_rps": self.max_rps,
            "first_failing_rps": self.first_failing_rps,
            "outcome": self.outcome,
            "p99_spread_ms": list(spread) if spread else None,
            "steps": [s.to_dict() for s in self.steps],
            "repeats": [s.to_dict() for s in self.repeats],
        }


class _GeneratorBound(Exception):
    def __init__(self, step: Step) -> None:
        super().__init__(step.target_rps)
        self.step = step


def _measured(measure: Callable[[float], Step], rate: float, into: list[Step]) -> Step:
    step = measure(round(rate, 1))
    into.append(step)
    if step.verdict == "generator-bound":
        raise _GeneratorBound(step)
    return step


def search(measure: Callable[[float], Step], limits: SearchLimits) -> SearchResult:
    """Rising steps (x growth) to the first failure, a bisection to `precision`, then the best
    passing rate run `repeats` more times; a repeat that fails moves the answer down to the
    next passing rate measured."""
    result = SearchResult(limits)
    passing: list[float] = []
    try:
        rate = limits.start_rps
        while rate <= limits.max_rps:
            if not passes(_measured(measure, rate, result.steps), limits):
                result.first_failing_rps = rate
                break
            passing.append(rate)
            if rate >= limits.max_rps:
                break
            rate = min(rate * limits.growth, limits.max_rps)
        while passing and result.first_failing_rps is not None:
            low, high = max(passing), result.first_failing_rps
            if (high - low) / low <= limits.precision:
                break
            middle = (low + high) / 2
            if passes(_measured(measure, middle, result.steps), limits):
                passing.append(middle)
            else:
                result.first_failing_rps = middle
        while passing:
            best = round(max(passing), 1)
            repeats = [_measured(measure, best, result.repeats) for _ in range(limits.repeats)]
            if all(passes(step, limits) for step in repeats):
                result.max_rps = best
                break
            passing.remove(max(passing))  # not stable there: the next one down
            result.first_failing_rps = best
    except _GeneratorBound as bound:
        result.max_rps = None
        result.outcome = (
            f"no result: the load generator was the bottleneck at {bound.step.target_rps:g} "
            f"req/s, so the server's limit is unknown. {' '.join(bound.step.reasons)}"
        )
        return result
    result.outcome = _outcome(result)
    return result


def _outcome(result: SearchResult) -> str:
    limits = result.limits
    slo = f"p99 <= {limits.p99_ms:g} ms, errors <= {limits.max_error_rate:.2%}"
    if result.max_rps is None:
        return f"no rate from {limits.start_rps:g} req/s up met the SLO ({slo})"
    if result.first_failing_rps is None:
        return (
            f"every rate up to the cap {limits.max_rps:g} req/s met the SLO ({slo}): the "
            "server's limit is above it (raise --max-rate)"
        )
    return (
        f"max rate within the SLO ({slo}): {result.max_rps:g} req/s "
        f"({result.first_failing_rps:g} req/s did not hold)"
    )
