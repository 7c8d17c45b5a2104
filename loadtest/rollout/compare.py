"""Canary against stable, one Check per compared number; a failed check is one line of reason."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, TypedDict

from loadtest.rollout.load import LoadResult
from loadtest.rollout.predictions import PredictionComparison
from loadtest.rollout.tolerances import Tolerances

__all__ = ["Check", "breaches", "latency_checks", "load_checks", "prediction_checks"]

BREACH = "canary worse"


class _Shown(TypedDict):
    """The numbers side by side, for a Check's stable, canary and change."""

    stable: str
    canary: str
    change: str


@dataclass(frozen=True)
class Check:
    """One row of the side-by-side table. passed is None for numbers shown but not gated."""

    name: str
    stable: str
    canary: str
    change: str = ""
    tolerance: str = ""
    passed: bool | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(canary: float, stable: float) -> float:
    if stable > 0:
        return canary / stable
    return 1.0 if canary <= 0 else math.inf


def latency_checks(canary: LoadResult, stable: LoadResult, tol: Tolerances) -> list[Check]:
    """p50 and p99 gated on their ratio (beyond the absolute floor); p90, p99.9, max shown."""
    gated = {"p50": tol.max_p50_ratio, "p99": tol.max_p99_ratio}
    checks = []
    for key, label in (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9")):
        c, s = getattr(canary.latency, key), getattr(stable.latency, key)
        ratio = _ratio(c, s)
        limit = gated.get(key)
        common: _Shown = {"stable": f"{s:.3f}", "canary": f"{c:.3f}", "change": f"{ratio:.2f}x"}
        if limit is None:
            checks.append(Check(f"{label} ms", **common))
            continue
        passed = ratio <= limit or c - s <= tol.latency_floor_ms
        reason = None
        if not passed:
            reason = (
                f"{BREACH}: {label} latency {c:.3f} ms vs {s:.3f} ms stable "
                f"({ratio:.2f}x > {limit:g}x)"
            )
        tolerance = f"<= {limit:g}x or +{tol.latency_floor_ms:g} ms"
        checks.append(
            Check(f"{label} ms", **common, tolerance=tolerance, passed=passed, reason=reason)
        )
    c, s = canary.latency.max, stable.latency.max
    checks.append(Check("max ms", f"{s:.3f}", f"{c:.3f}", f"{_ratio(c, s):.2f}x"))
    return checks


def load_checks(canary: LoadResult, stable: LoadResult, tol: Tolerances) -> list[Check]:
    """Requests, throughput, error rate (gated on its increase) and latency."""
    checks = [
        Check("requests", str(stable.count), str(canary.count)),
        Check(
            "req/s",
            f"{stable.rps:.1f}",
            f"{canary.rps:.1f}",
            f"{_ratio(canary.rps, stable.rps):.2f}x",
        ),
    ]
    if canary.count == 0:
        reason: str | None = f"{BREACH}: no request to the canary completed"
        checks.append(Check("completed", "yes", "no", passed=False, reason=reason))
        return checks
    increase = canary.error_rate - stable.error_rate
    passed = increase <= tol.max_error_rate_increase
    reason = None
    if not passed:
        reason = (
            f"{BREACH}: error rate {canary.error_rate:.2%} vs {stable.error_rate:.2%} stable "
            f"(+{increase * 100:.2f} points > {tol.max_error_rate_increase * 100:g})"
        )
    checks.append(
        Check(
            "error rate",
            f"{stable.error_rate:.2%}",
            f"{canary.error_rate:.2%}",
            f"{increase * 100:+.2f} pts",
            f"<= +{tol.max_error_rate_increase * 100:g} pts",
            passed,
            reason,
        )
    )
    return checks + latency_checks(canary, stable, tol)


def _agreement(comparison: PredictionComparison, tol: Tolerances) -> Check:
    """Gated on the rows answered alike or changed for the better: a canary that fixes the
    stable's mistakes is not worse for it."""
    rows, improved = comparison.rows, comparison.improved or 0
    passed = comparison.not_worse >= tol.min_agreement
    what = (
        "class ids" if comparison.kind == "classes" else f"outputs within {tol.regression_rtol:g}"
    )
    reason = None
    if not passed:
        fixed = f", {improved} changed for the better" if improved else ""
        reason = (
            f"{BREACH}: agreement with stable {comparison.agreement:.1%} ({comparison.agreeing} "
            f"of {rows} held-out examples, {what}{fixed}) < {tol.min_agreement:.1%}"
        )
    change = f"{comparison.agreement:.1%} ({comparison.agreeing}/{rows})"
    if improved:
        change += f" +{improved} better"
    return Check("agreement", "", "", change, f">= {tol.min_agreement:.1%}", passed, reason)


def prediction_checks(comparison: PredictionComparison, tol: Tolerances) -> list[Check]:
    """Agreement, and accuracy (classes) or MAE (values) where the held-out labels are known."""
    if comparison.canary_error is not None:
        reason: str | None = f"{BREACH}: held-out predictions failed: {comparison.canary_error}"
        return [Check("predictions", "ok", "failed", passed=False, reason=reason)]
    checks = [_agreement(comparison, tol)]
    if comparison.kind == "values" and comparison.max_relative_difference is not None:
        diff = f"{comparison.max_relative_difference:.2%}"
        checks.append(Check("max relative diff", "", "", diff))
    c_acc, s_acc = comparison.canary_accuracy, comparison.stable_accuracy
    if c_acc is not None and s_acc is not None:
        drop = s_acc - c_acc
        passed = drop <= tol.max_accuracy_drop + 1e-12
        reason = None
        if not passed:
            reason = (
                f"{BREACH}: accuracy {c_acc:.1%} vs {s_acc:.1%} stable "
                f"(-{drop * 100:.1f} points > {tol.max_accuracy_drop * 100:g})"
            )
        change = f"{-drop * 100:+.1f} pts"
        limit = f"drop <= {tol.max_accuracy_drop * 100:g} pts"
        checks.append(
            Check("accuracy", f"{s_acc:.1%}", f"{c_acc:.1%}", change, limit, passed, reason)
        )
    c_mae, s_mae = comparison.canary_mae, comparison.stable_mae
    if c_mae is not None and s_mae is not None:
        increase = _ratio(c_mae, s_mae) - 1.0
        passed = increase <= tol.max_mae_increase
        reason = None
        if not passed:
            reason = (
                f"{BREACH}: MAE {c_mae:.4g} vs {s_mae:.4g} stable "
                f"(+{increase:.1%} > {tol.max_mae_increase:.1%})"
            )
        change, limit = f"{increase:+.1%}", f"<= +{tol.max_mae_increase:.1%}"
        checks.append(Check("MAE", f"{s_mae:.4g}", f"{c_mae:.4g}", change, limit, passed, reason))
    return checks


def breaches(checks: list[Check]) -> list[str]:
    """The one-line reason of every failed check, in table order."""
    return [check.reason for check in checks if check.passed is False and check.reason]
