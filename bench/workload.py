"""The benchmark's request: a real held-out example, read from the model's warmup file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from wire.tfrecord import read_tfrecords

WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"


class WorkloadError(RuntimeError):
    """The models folder has no version or no batch-1 predict request to benchmark with."""


@dataclass(frozen=True)
class Workload:
    """One batch-1 Predict request, as a gRPC message and as a REST body."""

    model: str
    version_dir: Path
    request: predict_pb2.PredictRequest
    rest_body: bytes

    @property
    def rest_path(self) -> str:
        return f"/v1/models/{self.model}:predict"


def latest_version(model_dir: Path) -> Path:
    """The highest numbered version folder, the one a `latest` policy serves.

    Raises:
        WorkloadError: there is no numbered version folder.
    """
    versions = [p for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    if not versions:
        raise WorkloadError(f"no numbered version under {model_dir}")
    return max(versions, key=lambda p: int(p.name))


def _json_value(value: np.generic) -> object:
    # str() of a float32 is its shortest round-trip form: 15.1, not 15.100000381469727.
    if isinstance(value, np.floating):
        return float(str(value))
    if isinstance(value, np.bytes_ | bytes):
        return value.decode()
    return value.item()


def _rest_body(request: predict_pb2.PredictRequest) -> bytes:
    instance = {
        name: _json_value(tf.make_ndarray(tensor).reshape(-1)[0])
        for name, tensor in sorted(request.inputs.items())
    }
    return json.dumps({"instances": [instance]}).encode()


def load_workload(models_root: Path, model: str = "tabular") -> Workload:
    """The first batch-1 Predict request of the newest version's warmup file.

    Raises:
        WorkloadError: the model, its versions or a batch-1 predict record are missing.
    """
    model_dir = models_root / model
    if not model_dir.is_dir():
        raise WorkloadError(
            f"{model_dir} does not exist; export it with "
            f"`python -m export examples --base-dir {models_root}`"
        )
    version_dir = latest_version(model_dir)
    warmup = version_dir / WARMUP_FILE
    if not warmup.exists():
        raise WorkloadError(f"{warmup} does not exist")
    for record in read_tfrecords(warmup):
        entry = prediction_log_pb2.PredictionLog.FromString(record)
        if entry.WhichOneof("log_type") != "predict_log":
            continue
        request = entry.predict_log.request
        if all(t.tensor_shape.dim[0].size == 1 for t in request.inputs.values()):
            request.model_spec.name = model
            request.model_spec.ClearField("version")
            return Workload(model, version_dir, request, _rest_body(request))
    raise WorkloadError(f"{warmup} holds no batch-1 predict request")
