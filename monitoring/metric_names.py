"""The Prometheus metrics the model-quality jobs push: names and labels, in one place.

Dashboards and alert rules (deploy/) refer to these names; a job pushes under its own job name
(`JOBS`) grouped by model, so a drift run never deletes the accuracy job's series.
"""

from __future__ import annotations

PREFIX = "tfserving_model_"

# Drift: one score per feature and method (PSI, KS statistic, chi-square statistic, ...).
DRIFT_SCORE = PREFIX + "drift_score"  # labels: model, version, feature, method
DRIFT_DETECTED = PREFIX + "drift_detected"  # labels: model, version, feature; 1 drifted, 0 not
DRIFT_SHARE = PREFIX + "drift_share"  # labels: model, version; share of drifted features
PREDICTION_DRIFT_SCORE = PREFIX + "prediction_drift_score"  # labels: model, version, method
LOGGED_REQUESTS = PREFIX + "logged_requests"  # labels: model, version; rows the job read

# Accuracy with delayed labels.
QUALITY_METRIC = PREFIX + "quality_metric"  # labels: model, version, metric (accuracy, mae...)
QUALITY_BASELINE = PREFIX + "quality_baseline"  # labels: model, version, metric (card's test)
QUALITY_DEGRADED = PREFIX + "quality_degraded"  # labels: model, version, metric; 1 degraded
LABELLED_REQUESTS = PREFIX + "labelled_requests"  # labels: model, version

# Every job: when it last finished, and whether it passed (1) or found a problem (0).
LAST_RUN = PREFIX + "quality_job_last_run_timestamp_seconds"  # labels: model
LAST_RUN_PASSED = PREFIX + "quality_job_passed"  # labels: model

JOBS = {"drift": "model_drift", "accuracy": "model_accuracy"}
