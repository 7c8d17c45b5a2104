"""Drifted serving inputs made from a version's held-out test split (numpy and Pillow only)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import numpy as np

from monitoring.reference import ModelReference

log = logging.getLogger(__name__)

# kind -> default strength: shift in training standard deviations (images: in quarters of
# full brightness), scale as the factor minus 1, missing as the share of values lost,
# category_swap as the share of rows of the "low" classes replaced by "high" ones.
DEFAULT_STRENGTH = {"none": 0.0, "shift": 1.0, "scale": 1.0, "missing": 0.3, "category_swap": 1.0}
KINDS = tuple(DEFAULT_STRENGTH)


class SimulationError(ValueError):
    """The drift cannot be simulated as asked (unknown kind, bad strength or row count)."""


def _is_images(values: np.ndarray) -> bool:
    return values.dtype == object and bool(len(values)) and bytes(values[0]).startswith(b"\x89PNG")


def _decode(png: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("L"), dtype=np.float64)


def _encode(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="L").save(buffer, "PNG")
    return buffer.getvalue()


def _images(values: np.ndarray, change: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return np.asarray([_encode(change(_decode(bytes(png)))) for png in values], dtype=object)


def _drift_input(
    values: np.ndarray, train: np.ndarray, kind: str, strength: float, rng: np.random.Generator
) -> np.ndarray:
    if _is_images(values):
        if kind == "shift":
            return _images(values, lambda p: p + strength * 64.0)
        if kind == "scale":
            return _images(values, lambda p: p * (1.0 + strength))
        if kind == "missing":
            return _images(values, lambda p: np.where(rng.random(p.shape) < strength, 0.0, p))
        return values
    if values.dtype == object or values.dtype.kind in "SU":
        log.info("%s drift leaves string inputs unchanged", kind)
        return values
    drifted = values.astype(np.float64)
    if kind == "shift":
        drifted = drifted + strength * train.astype(np.float64).std(axis=0)
    elif kind == "scale":
        drifted = drifted * (1.0 + strength)
    elif kind == "missing":
        drifted[rng.random(drifted.shape) < strength] = np.nan
    return drifted.astype(values.dtype)


def _low_group(labels: np.ndarray, task: str, classes: int) -> np.ndarray:
    """Rows of the lower half of classes (classifiers) or below the median label."""
    if task == "classifier":
        return labels.astype(np.int64) < max(classes // 2, 1)
    low: np.ndarray = labels < np.median(labels)
    return low


def pick_rows(
    reference: ModelReference, kind: str, rows: int, strength: float, rng: np.random.Generator
) -> np.ndarray:
    """Row indices into the test split: without replacement while there are enough rows.

    For category_swap, each row of the low group is swapped, with probability `strength`, for
    a random row of the high group: the class mix (and for digits, which digits appear)
    changes while each row stays a real held-out example.
    """
    total = len(next(iter(reference.test_inputs.values())))
    chosen = rng.choice(total, size=rows, replace=rows > total)
    if kind != "category_swap":
        return chosen
    low = _low_group(reference.test_labels, reference.task, len(reference.class_names or []))
    high_rows = np.flatnonzero(~low)
    swap = low[chosen] & (rng.random(rows) < strength)
    chosen[swap] = rng.choice(high_rows, size=int(swap.sum()), replace=True)
    return chosen


def drifted_inputs(
    reference: ModelReference, kind: str, rows: int, seed: int, strength: float | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(serving inputs, their labels) of `rows` held-out rows with `kind` drift applied.

    Raises:
        SimulationError: unknown kind, a negative strength or a missing share above 1, or
            fewer than one row.
    """
    if kind not in DEFAULT_STRENGTH:
        raise SimulationError(f"unknown drift kind {kind!r}; choose one of {', '.join(KINDS)}")
    strength = DEFAULT_STRENGTH[kind] if strength is None else strength
    if strength < 0 or (kind in ("missing", "category_swap") and strength > 1):
        raise SimulationError(f"{kind} strength {strength} is out of range")
    if rows < 1:
        raise SimulationError(f"rows must be at least 1, not {rows}")
    labelled = len(reference.test_labels) == reference.num_test_rows()
    if kind == "category_swap" and not labelled:
        raise SimulationError(f"category_swap needs test labels; {reference.name}'s card has none")
    rng = np.random.default_rng(seed)
    chosen = pick_rows(reference, kind, rows, strength, rng)
    inputs = {}
    for name, values in reference.test_inputs.items():
        picked = values[chosen]
        if kind in ("shift", "scale", "missing"):
            picked = _drift_input(picked, reference.train_sample[name], kind, strength, rng)
        inputs[name] = picked
    return inputs, reference.test_labels[chosen] if labelled else np.empty(0)
