"""A drift result as summary.json, a readable table, and Prometheus samples."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from monitoring import metric_names
from monitoring.drift.compare import DriftResult, FeatureDrift

SUMMARY_FILE = "summary.json"
SCHEMA = "drift-summary/v1"


def summary_dict(
    result: DriftResult, model: str, version: int, logs: str, rows: dict[str, Any]
) -> dict[str, Any]:
    """The project's drift summary: per feature, the predictions, and the data set verdict."""
    return {
        "schema": SCHEMA,
        "model": model,
        "version": version,
        "logs": logs,
        "rows": {"reference": result.reference_rows, **rows},
        "thresholds": result.thresholds.as_dict(),
        "features": [f.as_dict() for f in result.features],
        "prediction": result.prediction.as_dict() if result.prediction else None,
        "drifted_features": result.drifted_features,
        "drift_share": result.drift_share,
        "prediction_drift": result.prediction_drifted,
        "drift_detected": result.drift_detected,
    }


def write_summary(path: Path, summary: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path


def _number(value: float, digits: str) -> str:
    return "-" if math.isnan(value) else format(value, digits)


def _row(drift: FeatureDrift) -> str:
    verdict = "DRIFT" if drift.drifted else "ok"
    missing = f"{drift.missing_current:.0%}" if drift.missing_current else ""
    return (
        f"{drift.feature:<36} {drift.method:<9} {_number(drift.psi, '8.3f')}"
        f" {_number(drift.statistic, '9.3f')} {drift.p_value:10.2e} {missing:>7}  {verdict}"
    )


def format_table(result: DriftResult, only_drifted: bool = False) -> str:
    """Features (all, or the drifted ones) and the predictions, one line each, then the verdict."""
    header = f"{'feature':<36} {'method':<9} {'psi':>8} {'statistic':>9} {'p-value':>10} {'missing':>7}  verdict"
    shown = [f for f in result.features if f.drifted or not only_drifted]
    lines = [header, *(_row(f) for f in shown)]
    if result.prediction is not None:
        lines.append(_row(result.prediction))
    t = result.thresholds
    lines.append(
        f"{len(result.drifted_features)} of {len(result.features)} features drifted"
        f" (PSI > {t.psi} and p < {t.feature_alpha(len(result.features)):.2g});"
        f" predictions {'drifted' if result.prediction_drifted else 'stable' if result.prediction else 'not compared'}"
        f": {'DRIFT' if result.drift_detected else 'no drift'}"
    )
    return "\n".join(lines)


HELP = {
    metric_names.DRIFT_SCORE: "Drift score of one input feature (method: psi, ks or chi2)",
    metric_names.DRIFT_DETECTED: "1 if the last drift run judged the feature drifted",
    metric_names.DRIFT_SHARE: "Share of input features judged drifted",
    metric_names.PREDICTION_DRIFT_SCORE: "Drift score of the predictions (method: psi, ks, chi2)",
    metric_names.LOGGED_REQUESTS: "Logged rows of this version the drift run compared",
    metric_names.LAST_RUN: "When the drift job last finished (Unix seconds)",
    metric_names.LAST_RUN_PASSED: "1 if the last drift run found no drift",
}


def metric_samples(result: DriftResult, model: str, version: int) -> list[Any]:
    """The pushed gauges (monitoring.metric_names) of one run.

    Raises:
        ImportError: monitoring.push is not available.
    """
    from monitoring.push import Sample

    base = {"model": model, "version": str(version)}
    samples = []
    for drift in result.features:
        labels = {**base, "feature": drift.feature}
        samples.append(Sample(metric_names.DRIFT_SCORE, drift.psi, {**labels, "method": "psi"}))
        if not math.isnan(drift.statistic):
            method = drift.method.split("+")[-1]
            samples.append(
                Sample(metric_names.DRIFT_SCORE, drift.statistic, {**labels, "method": method})
            )
        samples.append(Sample(metric_names.DRIFT_DETECTED, float(drift.drifted), labels))
    samples.append(Sample(metric_names.DRIFT_SHARE, result.drift_share, base))
    if result.prediction is not None:
        prediction = result.prediction
        samples.append(
            Sample(metric_names.PREDICTION_DRIFT_SCORE, prediction.psi, {**base, "method": "psi"})
        )
        samples.append(
            Sample(
                metric_names.PREDICTION_DRIFT_SCORE,
                prediction.statistic,
                {**base, "method": prediction.method.split("+")[-1]},
            )
        )
    samples.append(Sample(metric_names.LOGGED_REQUESTS, float(result.current_rows), base))
    samples.append(Sample(metric_names.LAST_RUN, time.time(), {"model": model}))
    samples.append(
        Sample(metric_names.LAST_RUN_PASSED, float(not result.drift_detected), {"model": model})
    )
    return [Sample(s.name, s.value, s.labels, HELP[s.name]) for s in samples]
