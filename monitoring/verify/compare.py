"""Served outputs against the in-process SavedModel's, and the card's metrics recomputed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["OutputComparison", "card_metrics", "compare_outputs"]

SCORE_OUTPUTS = ("probabilities", "scores")


@dataclass(frozen=True)
class OutputComparison:
    """Rows where any output differs: floats beyond rtol/atol, integers and strings at all."""

    rows: int
    mismatched_rows: int
    worst_abs_diff: float
    problems: list[str]

    @property
    def matches(self) -> bool:
        return self.mismatched_rows == 0 and not self.problems


def _as_rows(array: np.ndarray, rows: int) -> np.ndarray:
    return np.asarray(array).reshape(rows, -1)


def compare_outputs(
    served: dict[str, np.ndarray], local: dict[str, np.ndarray], rtol: float, atol: float
) -> OutputComparison:
    """Compare every output of local (the SavedModel) with served, row by row."""
    rows = len(next(iter(local.values())))
    problems = []
    if sorted(served) != sorted(local):
        problems.append(f"served outputs {sorted(served)} != SavedModel outputs {sorted(local)}")
    bad = np.zeros(rows, dtype=bool)
    worst = 0.0
    for name in sorted(set(served) & set(local)):
        s, expected = np.asarray(served[name]), np.asarray(local[name])
        if s.size != expected.size or len(s) != rows:
            problems.append(f"{name}: served shape {s.shape} != SavedModel shape {expected.shape}")
            continue
        s, expected = _as_rows(s, rows), _as_rows(expected, rows)
        if expected.dtype.kind == "f":
            s = s.astype(np.float64)
            diff = np.abs(s - expected.astype(np.float64))
            worst = max(worst, float(np.nanmax(diff)) if diff.size else 0.0)
            bad |= ~np.all(np.isclose(s, expected, rtol=rtol, atol=atol), axis=1)
        else:
            if expected.dtype.kind in "SO":
                s = np.vectorize(_text, otypes=[object])(s)
                expected = np.vectorize(_text, otypes=[object])(expected)
            bad |= ~np.all(s == expected, axis=1)
    return OutputComparison(rows, int(bad.sum()), worst, problems)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _probabilities(outputs: dict[str, np.ndarray]) -> np.ndarray:
    for name in SCORE_OUTPUTS:
        if name in outputs and np.asarray(outputs[name]).ndim == 2:
            return np.asarray(outputs[name])
    raise ValueError(f"no class probabilities among the outputs {sorted(outputs)}")


def _values(outputs: dict[str, np.ndarray]) -> np.ndarray:
    numeric = [n for n in sorted(outputs) if np.asarray(outputs[n]).dtype.kind == "f"]
    if len(numeric) != 1:
        raise ValueError(f"no single numeric output among the outputs {sorted(outputs)}")
    return np.asarray(outputs[numeric[0]], dtype=np.float64).reshape(-1)


def card_metrics(task: str, outputs: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, float]:
    """The model card's test metrics computed from outputs, as export computes them (sklearn).

    Raises:
        ValueError: a task with no card metrics, or outputs without what the task needs.
    """
    from sklearn import metrics

    if task == "classifier":
        probabilities = _probabilities(outputs)
        predicted = probabilities.argmax(axis=1)
        classes = list(range(probabilities.shape[1]))
        return {
            "accuracy": float(metrics.accuracy_score(labels, predicted)),
            "f1_macro": float(metrics.f1_score(labels, predicted, average="macro")),
            "log_loss": float(metrics.log_loss(labels, probabilities, labels=classes)),
        }
    if task == "regressor":
        values = _values(outputs)
        return {
            "mae": float(metrics.mean_absolute_error(labels, values)),
            "rmse": float(np.sqrt(metrics.mean_squared_error(labels, values))),
            "r2": float(metrics.r2_score(labels, values)),
        }
    raise ValueError(f"the card's metrics are known for classifiers and regressors, not {task!r}")
