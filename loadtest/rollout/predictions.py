"""Ask canary and stable for the same held-out examples and compare their answers.

Classifiers are compared on class ids (the `class_ids` output, else the argmax of
`probabilities` or `scores`, or of a classify signature's scores), everything else on its
numeric outputs within a relative tolerance. Where the model card has test labels for the
held-out rows, accuracy (classes) or mean absolute error (one value per row) is computed too.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from clients.errors import ServingClientError
from exported import version_path, warmup_path
from loadtest.heldout import HeldOut, held_out_examples
from loadtest.rollout.sides import Side

__all__ = [
    "Answers",
    "PredictionComparison",
    "ask",
    "compare_answers",
    "compare_predictions",
    "interpret_outputs",
    "load_held_out",
]

logger = logging.getLogger(__name__)

ROWS_PER_REQUEST = 64  # held-out sets can be large; keep each request small
CLASS_ID_OUTPUTS = ("class_ids",)
SCORE_OUTPUTS = ("probabilities", "scores")


@dataclass(frozen=True)
class Answers:
    """One side's answers: a class id per row, or a row of numbers per row."""

    kind: Literal["classes", "values"]
    values: np.ndarray


@dataclass(frozen=True)
class PredictionComparison:
    """How the canary's answers on the held-out rows compare with the stable's."""

    rows: int
    kind: Literal["classes", "values"]
    agreeing: int
    source: str
    improved: int | None = None  # changed answers that are right, or closer (labels known)
    canary_accuracy: float | None = None
    stable_accuracy: float | None = None
    canary_mae: float | None = None
    stable_mae: float | None = None
    max_relative_difference: float | None = None
    canary_error: str | None = None  # the canary refused or failed the held-out requests

    @property
    def agreement(self) -> float:
        """Rows where canary and stable answer alike."""
        return self.agreeing / self.rows if self.rows else 0.0

    @property
    def not_worse(self) -> float:
        """Rows answered alike, or changed for the better: what the agreement check gates."""
        return (self.agreeing + (self.improved or 0)) / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "agreement": self.agreement, "not_worse": self.not_worse}


def interpret_outputs(outputs: dict[str, np.ndarray], rows: int) -> Answers:
    """A predict response as class ids (when it names them or has scores) or as numbers.

    Raises:
        ValueError: the outputs do not have one entry per row, or none is numeric.
    """
    for name in CLASS_ID_OUTPUTS:
        if name in outputs:
            return Answers("classes", np.asarray(outputs[name]).reshape(rows, -1)[:, 0])
    for name in SCORE_OUTPUTS:
        scores = np.asarray(outputs.get(name, []))
        if scores.ndim == 2 and scores.shape[1] > 1:
            return Answers("classes", scores.reshape(rows, -1).argmax(axis=1))
    numeric = [
        np.asarray(outputs[name], dtype=np.float64).reshape(rows, -1)
        for name in sorted(outputs)
        if np.asarray(outputs[name]).dtype.kind in "biuf"
    ]
    if not numeric:
        raise ValueError(f"no numeric output to compare among {sorted(outputs)}")
    return Answers("values", np.concatenate(numeric, axis=1))


def _ask_rows(client: Any, model: str, side: Side, rows: HeldOut) -> Answers:
    where = {"version": side.version, "label": side.label, "signature": rows.signature}
    if rows.kind == "predict":
        return interpret_outputs(client.predict(model, rows.inputs, **where), rows.rows)
    if rows.kind == "classify":
        results = client.classify(model, rows.examples, **where)
        ids = [int(np.argmax([score for _, score in pairs])) for pairs in results]
        return Answers("classes", np.asarray(ids))
    values = client.regress(model, rows.examples, **where)
    return Answers("values", np.asarray(values, dtype=np.float64).reshape(-1, 1))


def ask(client: Any, model: str, side: Side, held_out: HeldOut) -> Answers:
    """side's answers for every held-out row, ROWS_PER_REQUEST rows per request.

    Raises:
        ServingClientError: (a subclass) the server refused or failed a request.
        ValueError: an answer without one entry per row, or nothing numeric to compare.
    """
    parts = []
    for start in range(0, held_out.rows, ROWS_PER_REQUEST):
        indices = np.arange(start, min(start + ROWS_PER_REQUEST, held_out.rows))
        parts.append(_ask_rows(client, model, side, held_out.take(indices)))
    kinds = {part.kind for part in parts}
    if len(kinds) != 1:
        raise ValueError(f"{side.name} answered with mixed kinds {sorted(kinds)}")
    return Answers(parts[0].kind, np.concatenate([part.values for part in parts]))


def _as_class_labels(labels: list[Any] | None) -> np.ndarray | None:
    if labels is None:
        return None
    array = np.asarray(labels)
    if array.dtype.kind not in "biuf" or not np.all(array == np.round(array)):
        return None  # class names or other labels: accuracy is not computed
    return array.astype(np.int64)


def compare_answers(
    canary: Answers, stable: Answers, labels: list[Any] | None, rtol: float, source: str
) -> PredictionComparison:
    """Agreement of canary with stable, and accuracy or MAE against labels where known.

    Values agree in a row when every one is within rtol of the stable's, relative to the
    larger of its size and the stable's mean absolute output (so outputs near zero do not
    need to match to the last digit). With labels, a changed answer that is right (a class)
    or closer to the label (one value per row) counts as improved.

    Raises:
        ValueError: the two sides answered differently shaped or different kinds of outputs.
    """
    if canary.kind != stable.kind or canary.values.shape != stable.values.shape:
        raise ValueError(
            f"canary answers {canary.kind} {canary.values.shape}, "
            f"stable answers {stable.kind} {stable.values.shape}: not the same outputs"
        )
    rows = len(stable.values)
    if canary.kind == "classes":
        same = canary.values == stable.values
        truth = _as_class_labels(labels)
        if truth is None or len(truth) != rows:
            return PredictionComparison(rows, "classes", int(same.sum()), source)
        return PredictionComparison(
            rows,
            "classes",
            int(same.sum()),
            source,
            improved=int(np.sum(~same & (canary.values == truth))),
            canary_accuracy=float(np.mean(canary.values == truth)),
            stable_accuracy=float(np.mean(stable.values == truth)),
        )
    scale = np.maximum(np.abs(stable.values), max(float(np.mean(np.abs(stable.values))), 1e-12))
    relative = np.abs(canary.values - stable.values) / scale
    same = np.all(relative <= rtol, axis=1)
    extra: dict[str, Any] = {}
    if labels is not None and len(labels) == rows and stable.values.shape[1] == 1:
        truth = np.asarray(labels, dtype=np.float64)
        canary_error = np.abs(canary.values[:, 0] - truth)
        stable_error = np.abs(stable.values[:, 0] - truth)
        extra = {
            "improved": int(np.sum(~same & (canary_error <= stable_error))),
            "canary_mae": float(canary_error.mean()),
            "stable_mae": float(stable_error.mean()),
        }
    return PredictionComparison(
        rows,
        "values",
        int(same.sum()),
        source,
        max_relative_difference=float(relative.max()) if relative.size else 0.0,
        **extra,
    )


def compare_predictions(
    client: Any, model: str, canary: Side, stable: Side, held_out: HeldOut, rtol: float, source: str
) -> PredictionComparison:
    """Ask both sides for the held-out rows and compare; a canary that fails is reported.

    Raises:
        ServingClientError: (a subclass) the stable side refused or failed.
        ValueError: the stable's answers have nothing to compare.
    """
    stable_answers = ask(client, model, stable, held_out)
    try:
        canary_answers = ask(client, model, canary, held_out)
        return compare_answers(canary_answers, stable_answers, held_out.labels, rtol, source)
    except (ServingClientError, ValueError) as err:
        logger.warning("the canary failed the held-out requests: %s", err)
        return PredictionComparison(
            held_out.rows, stable_answers.kind, 0, source, canary_error=str(err)
        )


def _same_rows(a: HeldOut, b: HeldOut) -> bool:
    if a.kind != b.kind or a.rows != b.rows:
        return False
    if a.inputs is not None and b.inputs is not None:
        return sorted(a.inputs) == sorted(b.inputs) and all(
            np.array_equal(a.inputs[name], b.inputs[name]) for name in a.inputs
        )
    return a.examples == b.examples


def load_held_out(
    models_root: Path, model: str, versions: dict[str, int], signature: str | None
) -> tuple[HeldOut, Path, list[str]]:
    """The stable version's held-out examples (else the canary's), their file, and notes.

    A note says when the two versions' warmup files hold different examples: each side's
    load replays its own version's file, so the two loads then differ in their inputs.

    Raises:
        ValueError: neither version has held-out examples for the signature.
    """
    found: dict[str, HeldOut] = {}
    problems = []
    for side in ("stable", "canary"):
        directory = version_path(models_root, model, versions[side])
        try:
            found[side] = held_out_examples(directory, signature)
        except (OSError, ValueError) as err:
            problems.append(f"{side}: {err}")
    if not found:
        raise ValueError("no held-out examples: " + "; ".join(problems))
    side = "stable" if "stable" in found else "canary"
    notes = []
    if len(found) == 2 and not _same_rows(found["stable"], found["canary"]):
        notes.append(
            "the two versions' warmup files hold different examples: each side's load "
            "replays its own, so the loads differ in their inputs"
        )
    return found[side], warmup_path(version_path(models_root, model, versions[side])), notes
