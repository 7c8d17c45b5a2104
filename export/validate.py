"""Refuse to publish a SavedModel that does not reload or does not agree with the Keras model."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from export.warmup import MAX_RECORDS, read_records, warmup_path

log = logging.getLogger(__name__)

# Same float32 graph, same kernels: differences come only from op fusion and ordering.
RTOL = 1e-5
ATOL = 1e-6

Reference = Callable[[str, dict[str, tf.Tensor]], dict[str, tf.Tensor]]


class ValidationError(Exception):
    """The export is not fit to publish; the message says what failed."""


def _request_inputs(record: prediction_log_pb2.PredictionLog) -> tuple[str, dict[str, tf.Tensor]]:
    kind = record.WhichOneof("log_type")
    if kind == "predict_log":
        request = record.predict_log.request
        inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
        return request.model_spec.signature_name or "serving_default", inputs
    if kind in ("classify_log", "regress_log"):
        request = getattr(record, kind).request
        examples = request.input.example_list.examples
        serialized = tf.constant([e.SerializeToString() for e in examples])
        return request.model_spec.signature_name, {"inputs": serialized}
    raise ValidationError(f"warmup record of unsupported kind {kind!r}")


def _compare(signature: str, name: str, got: np.ndarray, want: np.ndarray) -> None:
    where = f"signature {signature!r}, output {name!r}"
    if got.shape != want.shape:
        raise ValidationError(f"{where}: shape {got.shape} after reload, {want.shape} in Keras")
    if np.issubdtype(want.dtype, np.floating):
        if not np.allclose(got, want, rtol=RTOL, atol=ATOL):
            worst = float(np.max(np.abs(got - want)))
            raise ValidationError(
                f"{where}: reloaded model differs from Keras by up to {worst:.3g} "
                f"(tolerance rtol={RTOL}, atol={ATOL})"
            )
    elif not np.array_equal(got, want):
        raise ValidationError(f"{where}: reloaded model gives different values than Keras")


def validate_export(version_dir: Path, expected_signatures: list[str], reference: Reference) -> int:
    """Reload `version_dir`, run every warmup request through it and compare with `reference`.

    Returns the number of warmup records checked.

    Raises:
        ValidationError: the model does not reload, a signature is missing, the warmup file
            does not parse or is too long, or an output differs from the reference.
    """
    try:
        loaded = tf.saved_model.load(str(version_dir))
    except Exception as err:
        raise ValidationError(f"SavedModel in {version_dir} does not reload: {err}") from err
    missing = sorted(set(expected_signatures) - set(loaded.signatures))
    if missing:
        raise ValidationError(f"signatures missing after reload: {', '.join(missing)}")
    try:
        records = read_records(warmup_path(version_dir))
    except (ValueError, tf.errors.OpError) as err:
        raise ValidationError(f"warmup file does not parse: {err}") from err
    if not 0 < len(records) <= MAX_RECORDS:
        raise ValidationError(f"warmup file has {len(records)} records; need 1 to {MAX_RECORDS}")
    covered = set()
    for record in records:
        signature, inputs = _request_inputs(record)
        try:
            got = loaded.signatures[signature](**inputs)
        except Exception as err:
            raise ValidationError(
                f"signature {signature!r} fails on a warmup request: {err}"
            ) from err
        want = reference(signature, inputs)
        if set(got) != set(want):
            raise ValidationError(
                f"signature {signature!r}: outputs {sorted(got)} != {sorted(want)}"
            )
        for name in want:
            _compare(signature, name, got[name].numpy(), np.asarray(want[name]))
        covered.add(signature)
    uncovered = sorted(set(expected_signatures) - covered)
    if uncovered:
        raise ValidationError(f"no warmup request covers signatures: {', '.join(uncovered)}")
    log.info("validated %d warmup requests against the Keras model", len(records))
    return len(records)
