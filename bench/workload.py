"""The benchmark's request: a real held-out example, read from the model's warmup file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from exported import ExportedError, latest_version_dir, read_warmup_logs, warmup_path


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
    try:
        version_dir = latest_version_dir(models_root, model)
    except ExportedError as err:
        raise WorkloadError(str(err)) from err
    warmup = warmup_path(version_dir)
    if not warmup.exists():
        raise WorkloadError(f"{warmup} does not exist")
    try:
        logs = read_warmup_logs(version_dir)
    except (ExportedError, OSError) as err:
        raise WorkloadError(f"cannot read {warmup}: {err}") from err
    for entry in logs:
        if entry.WhichOneof("log_type") != "predict_log":
            continue
        # As TF Serving's own message class: its gRPC stub and tf.make_ndarray take it.
        request = predict_pb2.PredictRequest.FromString(
            entry.predict_log.request.SerializeToString()
        )
        if all(t.tensor_shape.dim[0].size == 1 for t in request.inputs.values()):
            request.model_spec.name = model
            request.model_spec.ClearField("version")
            return Workload(model, version_dir, request, _rest_body(request))
    raise WorkloadError(f"{warmup} holds no batch-1 predict request")
