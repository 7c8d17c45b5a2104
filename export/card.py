"""The model card: what the model is, how it was trained, and reference data statistics."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from export.spec import ServingSpec

HISTOGRAM_BINS = 10


def data_fingerprint(*arrays: np.ndarray) -> str:
    """sha256 over the arrays' dtypes, shapes and bytes: changes when the data changes."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return f"sha256:{digest.hexdigest()}"


def feature_statistics(values: np.ndarray) -> dict[str, Any]:
    """Reference statistics of one numeric feature over the training split (for drift checks)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    quantiles = np.quantile(values, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
    return {
        "count": int(values.size),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
        "quantiles": dict(
            zip(
                ["p01", "p05", "p25", "p50", "p75", "p95", "p99"],
                map(float, quantiles),
                strict=True,
            )
        ),
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }


def signature_summary(saved_signatures: dict[str, Any]) -> dict[str, Any]:
    """Inputs and outputs (dtype and shape) of each saved concrete function."""
    summary = {}
    for name, function in saved_signatures.items():
        inputs = function.structured_input_signature[1]
        outputs = function.structured_outputs
        summary[name] = {
            "inputs": {
                k: {"dtype": v.dtype.name, "shape": v.shape.as_list()} for k, v in inputs.items()
            },
            "outputs": {
                k: {"dtype": v.dtype.name, "shape": v.shape.as_list()} for k, v in outputs.items()
            },
        }
    return summary


def saved_state(version_dir: Path, variables: list[Any]) -> dict[str, int]:
    """What the SavedModel stores: its variables, their values, and bytes on disk."""
    files = (version_dir / "variables").glob("*")
    return {
        "variables": len(variables),
        "values": sum(int(np.prod(v.shape)) for v in variables),
        "variables_bytes": sum(f.stat().st_size for f in files if f.is_file()),
    }


def exported_with() -> dict[str, str]:
    """The TensorFlow and Keras versions doing the export: a TF Serving release older than
    this TensorFlow may lack ops the version uses (`python -m export check-serving`)."""
    import keras
    import tensorflow as tf

    return {"tensorflow": str(tf.__version__), "keras": str(keras.__version__)}


def build_card(
    spec: ServingSpec,
    version: int,
    saved_signatures: dict[str, Any],
    state: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The card of `spec` exported as `version`: what it is, its signatures, its state, what
    exported it, and the spec's own entries (metrics, reference statistics)."""
    card = {
        "name": spec.name,
        "version": version,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "task": spec.task,
        "class_names": spec.class_names,
        "signatures": signature_summary(saved_signatures),
        "saved_state": state,
        "exported_with": exported_with(),
    }
    card.update(spec.card)
    return card


def write_card(path: Path, card: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
