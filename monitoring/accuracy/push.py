"""The accuracy job's Prometheus samples: one push per model, grouped by model."""

from __future__ import annotations

import time
from typing import Any

from monitoring import metric_names as names
from monitoring.accuracy.report import ALL_DAYS, DEGRADED, AccuracyReport

__all__ = ["push_report"]


def _samples(report: AccuracyReport, model: str, sample: Any) -> list[Any]:
    samples = []
    passed = 1.0
    for group in report.groups:
        if group.model != model or group.period != ALL_DAYS:
            continue
        version = "unknown" if group.version is None else str(group.version)
        labels = {"model": model, "version": version}
        samples.append(sample(names.LABELLED_REQUESTS, float(group.labelled), labels))
        for j in group.judgements:
            metric_labels = {**labels, "metric": j.metric}
            samples.append(sample(names.QUALITY_METRIC, j.value, metric_labels))
            if j.baseline is not None:
                samples.append(sample(names.QUALITY_BASELINE, j.baseline, metric_labels))
            samples.append(sample(names.QUALITY_DEGRADED, float(j.degraded), metric_labels))
        if group.status == DEGRADED:
            passed = 0.0
    samples.append(sample(names.LAST_RUN, time.time(), {"model": model}))
    samples.append(sample(names.LAST_RUN_PASSED, passed, {"model": model}))
    return samples


def push_report(report: AccuracyReport, gateway: str, timeout: float = 10.0) -> list[str]:
    """Push each model's samples (over all days) to the Pushgateway; the models pushed.

    Raises:
        PushError: the Pushgateway refused a push or did not answer.
    """
    from monitoring.push import Sample, push_samples

    models = sorted({group.model for group in report.groups})
    for model in models:
        samples = _samples(report, model, Sample)
        push_samples(gateway, names.JOBS["accuracy"], {"model": model}, samples, timeout=timeout)
    return models
