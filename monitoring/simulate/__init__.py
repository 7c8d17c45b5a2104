"""Request logs of drifted held-out data, answered in process (`python -m monitoring simulate`).

The inputs come from the version's held-out test split (monitoring.drift.simulated applies the
drift); the outputs from running the version's SavedModel here, so the logs look like what
the server would have logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from monitoring.drift.simulated import drifted_inputs
from monitoring.reference import ModelReference
from requestlog.records import prediction_log
from wire import protos
from wire.tensors import make_tensor_proto
from wire.tfrecord import write_tfrecords

log = logging.getLogger(__name__)

Predictor = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
ROWS_PER_CALL = 8


def saved_model_predictor(path: Path) -> Predictor:
    """serving_default of the SavedModel at path, as numpy in, numpy out (TensorFlow here)."""
    import tflog

    tflog.quiet()
    import tensorflow as tf

    signature = tf.saved_model.load(str(path)).signatures["serving_default"]

    def predict(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        tensors = {name: tf.constant(values) for name, values in inputs.items()}
        return {name: tensor.numpy() for name, tensor in signature(**tensors).items()}

    return predict


def simulated_records(
    reference: ModelReference,
    inputs: dict[str, np.ndarray],
    predictor: Predictor,
    request_prefix: str,
    rows_per_call: int = ROWS_PER_CALL,
) -> list[bytes]:
    """Serialized PredictionLogs of predict calls of `rows_per_call` rows each."""
    rows = len(next(iter(inputs.values())))
    started = time.time()
    records = []
    for number, start in enumerate(range(0, rows, rows_per_call)):
        batch = {name: values[start : start + rows_per_call] for name, values in inputs.items()}
        request = protos.PredictRequest()
        request.model_spec.name = reference.name
        request.model_spec.signature_name = reference.signature
        for name, values in batch.items():
            request.inputs[name].CopyFrom(make_tensor_proto(values))
        response = protos.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        response.model_spec.version.value = reference.version
        for name, values in predictor(batch).items():
            response.outputs[name].CopyFrom(make_tensor_proto(values))
        record = prediction_log(
            "predict",
            request,
            response,
            request_id=f"{request_prefix}-{number}",
            timestamp=started + number,
            latency=0.0,
            transport="grpc",
            sampling_rate=1.0,
        )
        records.append(record.SerializeToString())
    return records


def simulate(
    reference: ModelReference,
    kind: str,
    out_dir: Path,
    rows: int | None = None,
    seed: int = 0,
    strength: float | None = None,
    predictor: Predictor | None = None,
) -> Path:
    """Write `<out_dir>/<model>-v<version>-<kind>-seed<seed>.tfrecord` and return its path.

    `rows` defaults to the size of the test split.

    Raises:
        SimulationError: the kind, strength or row count is invalid.
        OSError: the log file cannot be written.
    """
    rows = reference.num_test_rows() if rows is None else rows
    inputs, _ = drifted_inputs(reference, kind, rows, seed, strength)
    predictor = predictor or saved_model_predictor(reference.version_dir)
    name = f"{reference.name}-v{reference.version}-{kind}-seed{seed}"
    records = simulated_records(reference, inputs, predictor, name)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.tfrecord"
    write_tfrecords(path, records)
    log.info("wrote %d calls (%d rows) to %s", len(records), rows, path)
    return path
