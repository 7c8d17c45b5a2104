"""Request logs -> the feature and prediction columns of one model version's calls."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from monitoring.drift.frames import Column, FeatureError, input_columns, prediction_column
from requestlog.records import LoggedCall, read_request_logs

log = logging.getLogger(__name__)


@dataclass
class LoggedRows:
    """What the logs hold for one version, and how many rows were set aside.

    `unknown_version` rows are compared too: their log names no version (a REST call asked
    by label or for the latest), so they may have been answered by the version compared.
    """

    features: dict[str, Column] = field(default_factory=dict)
    prediction: Column | None = None
    rows: int = 0
    calls: int = 0
    unknown_version: int = 0
    other_versions: dict[int, int] = field(default_factory=dict)
    other_models: int = 0


def _call_inputs(call: LoggedCall) -> dict[str, np.ndarray]:
    if call.inputs is not None:
        return call.inputs
    examples = call.examples or []
    names = sorted({name for row in examples for name in row})
    arrays = {}
    for name in names:
        values = [row.get(name, []) for row in examples]
        width = max(len(v) for v in values)
        if width == 0:
            continue
        if any(len(v) != width for v in values):
            raise FeatureError(f"call {call.request_id}: feature {name} varies in length")
        array = np.asarray(values, dtype=object if isinstance(values[0][0], bytes) else None)
        arrays[name] = array[:, 0] if width == 1 else array
    return arrays


def _rows(call: LoggedCall) -> int:
    if call.inputs:
        return len(next(iter(call.inputs.values())))
    return len(call.examples or [])


def _concatenate(parts: list[Column]) -> Column:
    values = np.concatenate([p.values for p in parts])
    return Column(values, parts[0].kind, parts[0].source)


def read_logged_rows(
    path: Path, model: str, version: int, task: str, class_names: list[str] | None
) -> LoggedRows:
    """The logged calls of `model` answered by `version` (or by an unnamed version).

    Raises:
        FileNotFoundError: no logs at path.
        ValueError: a log record is corrupt.
        FeatureError: the calls disagree on their features.
    """
    result = LoggedRows()
    features: dict[str, list[Column]] = {}
    predictions: list[Column | None] = []
    for call in read_request_logs(path):
        rows = _rows(call)
        if call.model != model:
            result.other_models += rows
            continue
        if call.version is not None and call.version != version:
            result.other_versions[call.version] = result.other_versions.get(call.version, 0) + rows
            continue
        result.unknown_version += rows if call.version is None else 0
        columns = input_columns(_call_inputs(call))
        if features and set(columns) != set(features):
            raise FeatureError(
                f"call {call.request_id} has features {sorted(columns)}, earlier calls"
                f" {sorted(features)}"
            )
        for name, column in columns.items():
            features.setdefault(name, []).append(column)
        predictions.append(prediction_column(call.outputs, task, class_names))
        result.rows += rows
        result.calls += 1
    result.features = {name: _concatenate(parts) for name, parts in features.items()}
    if predictions and all(p is not None for p in predictions):
        result.prediction = _concatenate([p for p in predictions if p is not None])
    elif predictions:
        log.warning("some logged calls hold no readable prediction: prediction drift skipped")
    return result


def describe_set_aside(rows: LoggedRows) -> list[str]:
    """One line per group of logged rows that were not compared (or compared with a caveat)."""
    lines: list[str] = []
    for other, count in sorted(rows.other_versions.items()):
        lines.append(f"{count} logged rows of version {other} left out")
    if rows.other_models:
        lines.append(f"{rows.other_models} logged rows of other models left out")
    if rows.unknown_version:
        lines.append(f"{rows.unknown_version} logged rows name no version; compared as this one")
    return lines


def summary_counts(rows: LoggedRows) -> dict[str, Any]:
    return {
        "compared": rows.rows,
        "calls": rows.calls,
        "unknown_version": rows.unknown_version,
        "other_versions": {str(k): v for k, v in sorted(rows.other_versions.items())},
        "other_models": rows.other_models,
    }
