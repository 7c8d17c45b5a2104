"""Replay a version's warmup requests before it becomes AVAILABLE (TF Serving's model warmup)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from server import inference
from server.errors import Code, ServingError
from server.servable import Servable
from server.tensors import to_numpy

log = logging.getLogger(__name__)

WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"
MAX_RECORDS = 1000


def _replay(servable: Servable, record: prediction_log_pb2.PredictionLog) -> None:
    kind = record.WhichOneof("log_type")
    signatures, run = servable.signature_defs, servable.run
    if kind is None:
        return
    if kind == "predict_log":
        request = record.predict_log.request
        inputs = {k: to_numpy(v) for k, v in request.inputs.items()}
        inference.predict(
            signatures, run, request.model_spec.signature_name, inputs, request.output_filter
        )
    elif kind in ("classify_log", "regress_log"):
        request = getattr(record, kind).request
        examples = inference.serialized_examples(request.input)
        call = inference.classify if kind == "classify_log" else inference.regress
        call(signatures, run, request.model_spec.signature_name, examples)
    elif kind == "multi_inference_log":
        request = record.multi_inference_log.request
        examples = inference.serialized_examples(request.input)
        for task in request.tasks:
            call = (
                inference.classify if task.method_name.endswith("classify") else inference.regress
            )
            call(signatures, run, task.model_spec.signature_name, examples)
    else:
        raise ServingError(Code.UNIMPLEMENTED, f"Unsupported log_type for warmup: {kind}")


def run_warmup(servable: Servable, iterations: int = 1) -> tuple[int, float]:
    """Replay every record `iterations` times; returns (records read, seconds taken).

    Raises:
        ServingError: a record does not parse, is of an unsupported kind, fails to run, or
            there are more than 1000 records: the version must then fail to load.
    """
    path = servable.path / WARMUP_FILE
    if not path.exists():
        return 0, 0.0
    started = time.perf_counter()
    count = 0
    try:
        for raw in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
            record = prediction_log_pb2.PredictionLog()
            try:
                record.ParseFromString(raw)
            except Exception as err:  # protobuf's DecodeError
                raise ServingError(
                    Code.INVALID_ARGUMENT, f"Failed to parse warmup record: {err}"
                ) from err
            for _ in range(max(iterations, 1)):
                _replay(servable, record)
            count += 1
            if count > MAX_RECORDS:
                raise ServingError(
                    Code.INVALID_ARGUMENT,
                    f"Number of warmup records exceeds the maximum ({MAX_RECORDS}) at {path}",
                )
    except tf.errors.DataLossError as err:
        raise ServingError(
            Code.DATA_LOSS, f"{err.message}. Please verify your warmup data is in TFRecord format."
        ) from err
    seconds = time.perf_counter() - started
    log.info(
        "warmup of %s version %d: %d records in %.3fs",
        servable.name,
        servable.version,
        count,
        seconds,
    )
    return count, seconds
