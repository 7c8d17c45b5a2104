"""The model card's quality metrics, and when a drop from the card's test metrics is degradation.

Classifiers: accuracy and macro F1, judged on their absolute drop. Regressors: MAE and RMSE,
judged on their relative increase. Fewer labelled rows than MIN_LABELLED_ROWS are not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "MIN_LABELLED_ROWS",
    "TOLERANCES",
    "Judgement",
    "Tolerance",
    "judge",
    "quality_metrics",
]

MIN_LABELLED_ROWS = 30


@dataclass(frozen=True)
class Tolerance:
    """How far a metric may move the wrong way from its baseline before it is degraded.

    "drop": higher is better, degraded when baseline - value > limit (absolute).
    "increase": lower is better, degraded when value > baseline * (1 + limit) (relative).
    """

    direction: Literal["drop", "increase"]
    limit: float

    def describe(self) -> str:
        if self.direction == "drop":
            return f"drop <= {self.limit:g}"
        return f"increase <= {self.limit:.0%}"


# The one place the tolerances live: the CLI can only scale them with --tolerance-scale.
TOLERANCES: dict[str, dict[str, Tolerance]] = {
    "classifier": {"accuracy": Tolerance("drop", 0.05), "f1_macro": Tolerance("drop", 0.05)},
    "regressor": {"mae": Tolerance("increase", 0.25), "rmse": Tolerance("increase", 0.25)},
}


def quality_metrics(task: str, truth: np.ndarray, answers: np.ndarray) -> dict[str, float]:
    """The judged metrics of answers against truth, as export computed them (sklearn).

    Raises:
        ValueError: an unknown task, or no rows.
    """
    if task not in TOLERANCES:
        raise ValueError(f"task must be one of {', '.join(TOLERANCES)}, not {task!r}")
    if len(truth) == 0:
        raise ValueError("no labelled rows")
    if task == "classifier":
        from sklearn.metrics import accuracy_score, f1_score

        truth, answers = np.asarray(truth, np.int64), np.asarray(answers, np.int64)
        return {
            "accuracy": float(accuracy_score(truth, answers)),
            "f1_macro": float(f1_score(truth, answers, average="macro")),
        }
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    return {
        "mae": float(mean_absolute_error(truth, answers)),
        "rmse": float(np.sqrt(mean_squared_error(truth, answers))),
    }


@dataclass(frozen=True)
class Judgement:
    """One metric against its baseline (None: the card does not have it)."""

    metric: str
    value: float
    baseline: float | None
    tolerance: Tolerance
    degraded: bool

    @property
    def change(self) -> str:
        if self.baseline is None:
            return ""
        if self.tolerance.direction == "drop":
            return f"{self.value - self.baseline:+.4f}"
        if self.baseline == 0:
            return "n/a"
        return f"{self.value / self.baseline - 1:+.1%}"


def judge(
    task: str, metrics: dict[str, float], baseline: dict[str, float], scale: float = 1.0
) -> list[Judgement]:
    """Each metric against the card's test metric, the tolerance multiplied by scale.

    Raises:
        KeyError: an unknown task.
    """
    judged = []
    for name, tolerance in TOLERANCES[task].items():
        value, base = metrics[name], baseline.get(name)
        limit = tolerance.limit * scale
        if base is None:
            degraded = False
        elif tolerance.direction == "drop":
            degraded = base - value > limit + 1e-12
        else:
            degraded = value > base * (1 + limit) + 1e-12
        judged.append(Judgement(name, value, base, Tolerance(tolerance.direction, limit), degraded))
    return judged
