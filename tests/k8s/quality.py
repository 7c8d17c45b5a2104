"""What the model-quality jobs would push for one model, so rules and panels have data.

The drift and accuracy jobs (python -m monitoring) take minutes and real request logs; the
data checks need only their output, pushed with the same push_samples and metric names.
The values are faults: input and prediction drift, degraded quality, and a drift job whose
last run is three hours old, so every model-quality alert has something to fire on.
"""

from __future__ import annotations

import time

from monitoring import metric_names as names
from monitoring.push import Sample, push_samples

MODEL = "tabular"
# What the data checks expect to fire, as (alertname, model).
EXPECTED_ALERTS = {
    ("ModelInputDrift", MODEL),
    ("ModelPredictionDrift", MODEL),
    ("ModelQualityDegraded", MODEL),
    ("ModelQualityJobStale", MODEL),
}


def drift_run(model: str, finished: float) -> list[Sample]:
    """A drift run that found two of three features and the predictions drifted."""
    labels = {"model": model, "version": "1"}
    scores = {"age": 0.41, "income": 0.27, "city": 0.02}
    return [
        *(
            Sample(names.DRIFT_SCORE, score, {**labels, "feature": feature, "method": "psi"})
            for feature, score in scores.items()
        ),
        *(
            Sample(names.DRIFT_DETECTED, float(score > 0.2), {**labels, "feature": feature})
            for feature, score in scores.items()
        ),
        Sample(names.DRIFT_SHARE, 2 / 3, labels),
        Sample(names.PREDICTION_DRIFT_SCORE, 0.31, {**labels, "method": "psi"}),
        Sample(names.LOGGED_REQUESTS, 5000, labels),
        Sample(names.LAST_RUN, finished, {"model": model}),
        Sample(names.LAST_RUN_PASSED, 0, {"model": model}),
    ]


def accuracy_run(model: str, finished: float) -> list[Sample]:
    """An accuracy run whose accuracy fell below the model card's."""
    labels = {"model": model, "version": "1", "metric": "accuracy"}
    return [
        Sample(names.QUALITY_METRIC, 0.71, labels),
        Sample(names.QUALITY_BASELINE, 0.86, labels),
        Sample(names.QUALITY_DEGRADED, 1, labels),
        Sample(names.LABELLED_REQUESTS, 1200, {"model": model, "version": "1"}),
        Sample(names.LAST_RUN, finished, {"model": model}),
        Sample(names.LAST_RUN_PASSED, 0, {"model": model}),
    ]


def push_quality_runs(gateway: str, model: str = MODEL) -> None:
    """Push both jobs' latest runs for model; the drift run is three hours old (stale).

    Raises:
        PushError: the gateway refused or is unreachable.
    """
    now = time.time()
    group = {"model": model}
    push_samples(gateway, names.JOBS["drift"], group, drift_run(model, now - 3 * 3600))
    push_samples(gateway, names.JOBS["accuracy"], group, accuracy_run(model, now))
