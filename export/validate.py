"""Refuse to publish a SavedModel that TF Serving's runtime path cannot run, or that disagrees
with the Keras model: warmup requests are replayed through runtime.SessionBundle."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from export.warmup import MAX_RECORDS, read_records, warmup_path
from runtime import SessionBundle, load_bundle

log = logging.getLogger(__name__)

# Same float32 graph, same kernels: differences come only from op fusion and ordering.
RTOL = 1e-5
ATOL = 1e-6

Reference = Callable[[str, dict[str, tf.Tensor]], dict[str, tf.Tensor]]


class ValidationError(Exception):
    """The export is not fit to publish; the message says what failed."""


def _request_inputs(record: prediction_log_pb2.PredictionLog) -> tuple[str, dict[str, np.ndarray]]:
    kind = record.WhichOneof("log_type")
    if kind == "predict_log":
        request = record.predict_log.request
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        return request.model_spec.signature_name or "serving_default", inputs
    if kind in ("classify_log", "regress_log"):
        request = getattr(record, kind).request
        examples = request.input.example_list.examples
        serialized = np.array([e.SerializeToString() for e in examples], dtype=object)
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


def _first_line(err: Exception) -> str:
    lines = [line for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0] if lines else ''}"


def validate_export(version_dir: Path, expected_signatures: list[str], reference: Reference) -> int:
    """Load `version_dir` as TF Serving does (SavedModelBundle), run every warmup request
    through Session.run by the SignatureDef's tensor names and compare with `reference`.

    Returns the number of warmup records checked.

    Raises:
        ValidationError: the model does not load, a signature is missing, the warmup file
            does not parse or is too long, a warmup request fails in the session (naming the
            signature and TensorFlow's error), or an output differs from the reference.
    """
    try:
        bundle = load_bundle(version_dir, ["serve"])
    except Exception as err:
        raise ValidationError(
            f"SavedModel in {version_dir} does not load as TF Serving loads it: {_first_line(err)}"
        ) from err
    try:
        return _replay_warmup(bundle, version_dir, expected_signatures, reference)
    finally:
        bundle.close()


def _replay_warmup(
    bundle: SessionBundle, version_dir: Path, expected_signatures: list[str], reference: Reference
) -> int:
    missing = sorted(set(expected_signatures) - set(bundle.signature_defs))
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
            got = bundle.run(signature, inputs)
        except Exception as err:
            raise ValidationError(
                f"signature {signature!r} fails in TF Serving's session path on a warmup"
                f" request: {_first_line(err)}"
            ) from err
        want = reference(signature, {k: tf.constant(v) for k, v in inputs.items()})
        if set(got) != set(want):
            raise ValidationError(
                f"signature {signature!r}: outputs {sorted(got)} != {sorted(want)}"
            )
        for name in want:
            _compare(signature, name, got[name], np.asarray(want[name]))
        covered.add(signature)
    uncovered = sorted(set(expected_signatures) - covered)
    if uncovered:
        raise ValidationError(f"no warmup request covers signatures: {', '.join(uncovered)}")
    log.info("validated %d warmup requests against the Keras model", len(records))
    return len(records)
