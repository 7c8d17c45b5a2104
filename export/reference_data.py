"""Reference data beside each version: a training sample and the held-out test split as requests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from export.spec import SERVING_DEFAULT, ServingSpec
from exported.layout import REFERENCE_FILE, TEST_SPLIT_FILE

log = logging.getLogger(__name__)

MAX_REFERENCE_ROWS = 500
ROWS_PER_RECORD = 64
SAMPLE_SEED = 20261127


def num_rows(arrays: dict[str, np.ndarray]) -> int:
    """The common batch size of named arrays (0 for none).

    Raises:
        ValueError: the arrays disagree on their number of rows.
    """
    sizes = {name: len(array) for name, array in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"inputs have different numbers of rows: {sizes}")
    return next(iter(sizes.values()), 0)


def sample_rows(
    arrays: dict[str, np.ndarray], max_rows: int = MAX_REFERENCE_ROWS, seed: int = SAMPLE_SEED
) -> dict[str, np.ndarray]:
    """At most `max_rows` rows drawn without replacement (all rows, in order, when fewer).

    Raises:
        ValueError: the arrays disagree on their number of rows.
    """
    total = num_rows(arrays)
    if total <= max_rows:
        return dict(arrays)
    chosen = np.sort(np.random.default_rng(seed).choice(total, size=max_rows, replace=False))
    return {name: np.asarray(array)[chosen] for name, array in arrays.items()}


def input_records(
    model_name: str,
    arrays: dict[str, np.ndarray],
    serving_default: Callable[..., dict[str, Any]] | None = None,
    rows_per_record: int = ROWS_PER_RECORD,
) -> list[prediction_log_pb2.PredictionLog]:
    """The rows as serving_default PredictRequests of at most `rows_per_record` rows, in order.

    With `serving_default` (the saved signature function) each record also holds its
    PredictResponse: the model's own predictions on those rows, a reference for prediction
    drift.

    Raises:
        ValueError: the arrays disagree on their number of rows.
    """
    records = []
    total = num_rows(arrays)
    for start in range(0, total, rows_per_record):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model_name
        request.model_spec.signature_name = SERVING_DEFAULT
        for name, array in arrays.items():
            batch = np.asarray(array[start : start + rows_per_record])
            request.inputs[name].CopyFrom(tf.make_tensor_proto(batch))
        record = prediction_log_pb2.PredictionLog(predict_log={"request": request})
        if serving_default is not None:
            response = record.predict_log.response
            response.model_spec.CopyFrom(request.model_spec)
            inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
            for name, tensor in serving_default(**inputs).items():
                response.outputs[name].CopyFrom(tf.make_tensor_proto(tensor.numpy()))
        records.append(record)
    return records


def _write(path: Path, records: list[prediction_log_pb2.PredictionLog]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record.SerializeToString())


def write_reference_data(
    spec: ServingSpec,
    assets_dir: Path,
    serving_default: Callable[..., dict[str, Any]] | None = None,
) -> list[Path]:
    """Write the training sample and the test split that `spec` carries; return the files.

    The training sample's records hold `serving_default`'s outputs too, when it is given.

    A spec without a training sample (or without real held-out examples) gets no such file:
    drift checks and verification then say the version has no reference data.

    Raises:
        ValueError: a set of inputs disagrees on its number of rows, or lacks a serving input.
    """
    written = []
    expected = {item.name for item in spec.inputs}
    for file_name, arrays, what in (
        (REFERENCE_FILE, sample_rows(spec.reference), "training sample"),
        (TEST_SPLIT_FILE, spec.examples if spec.examples_are_data else {}, "test split"),
    ):
        if not arrays:
            log.info("no %s given: %s not written", what, file_name)
            continue
        missing = sorted(expected - set(arrays))
        if missing:
            raise ValueError(f"the {what} lacks serving inputs: {', '.join(missing)}")
        records = input_records(
            spec.name,
            {name: arrays[name] for name in sorted(expected)},
            serving_default if file_name == REFERENCE_FILE else None,
        )
        _write(assets_dir / file_name, records)
        log.info("wrote %s: %d rows of %s", file_name, num_rows(arrays), what)
        written.append(assets_dir / file_name)
    return written
