"""Classify, regress and error response bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence

from server.errors import invalid_argument
from server.rest_json.floats import format_float


def _label_text(label: str | bytes) -> str:
    if isinstance(label, bytes):
        label = label.decode("utf-8", "replace")  # keep the body valid JSON
    return json.dumps(label, ensure_ascii=False)


def encode_classify_response(classes: Sequence[Sequence[tuple[str | bytes, float]]]) -> bytes:
    """`{"results": [[[label, score], ...], ...]}`, one inner list per example.

    Scores are float32 values written with TF Serving's float formatter.

    Raises:
        ServingError: INVALID_ARGUMENT when there are no classifications at all.
    """
    if not classes:
        raise invalid_argument("Cannot convert empty ClassificationResults to JSON")
    per_example = (
        "["
        + ",".join(f"[{_label_text(label)},{format_float(score)}]" for label, score in pairs)
        + "]"
        for pairs in classes
    )
    return ('{"results":[' + ",".join(per_example) + "]}").encode("utf-8", "replace")


def encode_regress_response(values: list[float]) -> bytes:
    """`{"results": [v1, v2, ...]}` with float32 values written by the float formatter.

    Raises:
        ServingError: INVALID_ARGUMENT when there are no regressions.
    """
    if not len(values):
        raise invalid_argument("Cannot convert empty RegressionResults to JSON")
    return ('{"results":[' + ",".join(format_float(value) for value in values) + "]}").encode()


def encode_error(message: str) -> bytes:
    """`{"error": "<message>"}`, the body of every failed REST call."""
    return json.dumps({"error": message}, ensure_ascii=False).encode("utf-8", "replace")
