"""Warmup requests: a TFRecord of PredictionLog protos that TF Serving replays before serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (
    classification_pb2,
    predict_pb2,
    prediction_log_pb2,
    regression_pb2,
)

from export.spec import CLASSIFY, REGRESS, SERVING_DEFAULT, InputSpec, ServingSpec
from exported.layout import warmup_path as warmup_path  # where the file goes in a version

MAX_RECORDS = 1000  # TF Serving refuses to load a version whose warmup file has more.
PREDICT_BATCH_SIZES = (1, 1, 1, 4, 8)


def to_example(spec: list[InputSpec], row: dict[str, np.ndarray]) -> tf.train.Example:
    """One example row (a dict of per-example values) as a tf.Example."""
    example = tf.train.Example()
    for item in spec:
        value = np.asarray(row[item.name])
        feature = example.features.feature[item.name]
        if item.dtype == "string":
            values = value.reshape(-1).tolist()
            feature.bytes_list.value.extend(
                v if isinstance(v, bytes) else v.encode() for v in values
            )
        elif np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_:
            feature.int64_list.value.extend(int(v) for v in value.reshape(-1))
        else:
            feature.float_list.value.extend(float(v) for v in value.reshape(-1))
    return example


def _slices(spec: ServingSpec, sizes: tuple[int, ...]) -> Iterator[dict[str, np.ndarray]]:
    start, total = 0, spec.num_examples()
    for size in sizes:
        if start + size > total:
            return
        yield {name: array[start : start + size] for name, array in spec.examples.items()}
        start += size


def build_records(spec: ServingSpec) -> list[prediction_log_pb2.PredictionLog]:
    """Real requests made from held-out examples, covering every signature."""
    records = []
    for batch in _slices(spec, PREDICT_BATCH_SIZES):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = spec.name
        request.model_spec.signature_name = SERVING_DEFAULT
        for name, array in batch.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(array))
        records.append(prediction_log_pb2.PredictionLog(predict_log={"request": request}))
    for signature in spec.signature_names():
        if signature not in (CLASSIFY, REGRESS):
            continue
        for batch in _slices(spec, (1, 4)):
            rows = [
                {k: v[i] for k, v in batch.items()} for i in range(len(next(iter(batch.values()))))
            ]
            examples = [to_example(spec.inputs, row) for row in rows]
            request_type = (
                classification_pb2.ClassificationRequest
                if signature == CLASSIFY
                else regression_pb2.RegressionRequest
            )
            request = request_type()
            request.model_spec.name = spec.name
            request.model_spec.signature_name = signature
            request.input.example_list.examples.extend(examples)
            field = "classify_log" if signature == CLASSIFY else "regress_log"
            records.append(prediction_log_pb2.PredictionLog(**{field: {"request": request}}))
    if len(records) > MAX_RECORDS:
        raise ValueError(f"{len(records)} warmup records; TF Serving accepts at most {MAX_RECORDS}")
    return records


def write_records(path: Path, records: list[prediction_log_pb2.PredictionLog]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record.SerializeToString())


def read_records(path: Path) -> list[prediction_log_pb2.PredictionLog]:
    """Parse every record; raises ValueError naming the record that does not parse."""
    records = []
    for index, raw in enumerate(tf.data.TFRecordDataset(str(path)).as_numpy_iterator()):
        record = prediction_log_pb2.PredictionLog()
        try:
            record.ParseFromString(raw)
        except Exception as err:  # protobuf raises DecodeError, a plain Exception subclass
            raise ValueError(f"warmup record {index} in {path} is not a PredictionLog") from err
        records.append(record)
    return records
