"""Compare current feature and prediction columns with the reference, feature by feature."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from monitoring.drift.frames import Column
from monitoring.drift.stats import TestResult, compare_categorical, compare_numeric
from monitoring.drift.thresholds import Thresholds


class DriftDataError(ValueError):
    """The current data cannot be compared with the reference (too few rows, other features)."""


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's (or the predictions') drift: scores, test and verdict."""

    feature: str
    source: str
    kind: str
    method: str
    psi: float
    statistic: float
    p_value: float
    alpha: float
    missing_reference: float
    missing_current: float
    drifted: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


@dataclass(frozen=True)
class DriftResult:
    """The verdict over all features and the predictions."""

    features: list[FeatureDrift]
    prediction: FeatureDrift | None
    reference_rows: int
    current_rows: int
    thresholds: Thresholds

    @property
    def drifted_features(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    @property
    def drift_share(self) -> float:
        return len(self.drifted_features) / len(self.features) if self.features else 0.0

    @property
    def prediction_drifted(self) -> bool:
        return self.prediction is not None and self.prediction.drifted

    @property
    def drift_detected(self) -> bool:
        enough = len(self.drifted_features) >= self.thresholds.min_drifted_features
        return enough or self.prediction_drifted


def _compare(reference: Column, current: Column) -> TestResult:
    if reference.kind == "numeric":
        return compare_numeric(reference.values, current.values)
    return compare_categorical(reference.values, current.values)


def _feature_drift(
    name: str, reference: Column, current: Column, thresholds: Thresholds, alpha: float
) -> FeatureDrift:
    result = _compare(reference, current)
    return FeatureDrift(
        feature=name,
        source=reference.source,
        kind=reference.kind,
        method=result.method,
        psi=result.psi,
        statistic=result.statistic,
        p_value=result.p_value,
        alpha=alpha,
        missing_reference=result.missing_reference,
        missing_current=result.missing_current,
        drifted=thresholds.drifted(result.psi, result.p_value, alpha),
    )


def compare_columns(
    reference: dict[str, Column],
    current: dict[str, Column],
    thresholds: Thresholds,
    reference_prediction: Column | None = None,
    current_prediction: Column | None = None,
) -> DriftResult:
    """Test every reference feature, and the predictions when both sides have them.

    Raises:
        DriftDataError: the current data has fewer rows than thresholds.min_rows, or lacks
            (or adds) features the reference has.
    """
    if set(current) != set(reference):
        missing, extra = (
            sorted(set(reference) - set(current)),
            sorted(set(current) - set(reference)),
        )
        raise DriftDataError(
            f"logged features differ from the reference: missing {missing or 'none'},"
            f" unexpected {extra or 'none'}"
        )
    rows = len(next(iter(current.values())).values) if current else 0
    if rows < thresholds.min_rows:
        raise DriftDataError(
            f"{rows} logged rows to compare; at least {thresholds.min_rows} are needed"
        )
    alpha = thresholds.feature_alpha(len(reference))
    features = [
        _feature_drift(name, reference[name], current[name], thresholds, alpha)
        for name in sorted(reference)
    ]
    prediction = None
    if reference_prediction is not None and current_prediction is not None:
        prediction = _feature_drift(
            "prediction", reference_prediction, current_prediction, thresholds, thresholds.alpha
        )
    reference_rows = len(next(iter(reference.values())).values) if reference else 0
    return DriftResult(features, prediction, reference_rows, rows, thresholds)
