"""One drift check: an exported version's reference against the request logs of that version."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from monitoring.drift.compare import DriftDataError, DriftResult, compare_columns
from monitoring.drift.frames import Column, input_columns, prediction_column
from monitoring.drift.logged import LoggedRows, describe_set_aside, read_logged_rows
from monitoring.drift.thresholds import Thresholds
from monitoring.reference import ModelReference

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftCheck:
    """The columns compared and the verdict (kept together for the HTML report)."""

    reference: ModelReference
    logged: LoggedRows
    reference_features: dict[str, Column]
    reference_prediction: Column | None
    result: DriftResult


def reference_columns(reference: ModelReference) -> tuple[dict[str, Column], Column | None]:
    """The training sample's feature columns and the model's predictions on it (if stored)."""
    features = input_columns(reference.train_sample)
    prediction = None
    if reference.train_outputs:
        prediction = prediction_column(
            reference.train_outputs, reference.task, reference.class_names
        )
    else:
        log.warning("%s has no reference predictions: prediction drift skipped", reference.name)
    return features, prediction


def check_drift(reference: ModelReference, logs: Path, thresholds: Thresholds) -> DriftCheck:
    """Compare the logged calls of reference's model and version with its training sample.

    Raises:
        FileNotFoundError: no logs at `logs`.
        ValueError: a log record is corrupt, the logs hold too few rows of this version, or
            their features differ from the reference's (DriftDataError, FeatureError).
    """
    logged = read_logged_rows(
        logs, reference.name, reference.version, reference.task, reference.class_names
    )
    if not logged.rows:
        elsewhere = "; ".join(describe_set_aside(logged)) or "the logs are empty"
        raise DriftDataError(
            f"no logged calls of {reference.name} version {reference.version} in {logs}"
            f" ({elsewhere})"
        )
    features, prediction = reference_columns(reference)
    result = compare_columns(
        features,
        logged.features,
        thresholds,
        prediction,
        logged.prediction if prediction is not None else None,
    )
    return DriftCheck(reference, logged, features, prediction, result)
