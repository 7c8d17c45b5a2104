"""Request logs of the exported example models' held-out splits, and their labels, for the
accuracy tests: answered by the SavedModel in process, in requests of BATCH rows, the first half
on DAY_ONE and the rest on DAY_TWO."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from clients.request_log import prediction_log
from clients.request_messages import examples_request, predict_request
from clients.spec import ModelTarget
from wire import protos
from wire.tensors import make_tensor_proto
from wire.tfrecord import write_tfrecords

BATCH = 8
DAY_ONE = 1_795_000_000.0  # 2026-11-18 UTC
DAY_TWO = DAY_ONE + 86_400.0
VERSION = 1


class Logged:
    """One model's held-out split, its SavedModel's answers and labels, written as logs."""

    def __init__(self, model: str, models_root: Path) -> None:
        from monitoring.reference import load_reference
        from monitoring.verify.savedmodel import run_saved_model

        reference = load_reference(models_root / model / str(VERSION))
        self.model, self.reference = model, reference
        self.inputs = reference.test_inputs
        self.outputs = run_saved_model(reference.version_dir, reference.signature, self.inputs, 64)
        self.rows = len(reference.test_labels)

    def answers(self) -> np.ndarray:
        if self.reference.task == "classifier":
            return np.asarray(self.outputs["class_ids"])
        return np.asarray(self.outputs["progression"], dtype=np.float64)

    def request_ids(self) -> list[str]:
        return [f"{self.model}-{start}" for start in range(0, self.rows, BATCH)]

    def keys(self) -> list[tuple[str, int]]:
        """(request id, row) of every held-out row, in order."""
        return [(f"{self.model}-{i - i % BATCH}", i % BATCH) for i in range(self.rows)]

    def write_logs(self, path: Path, outputs: dict[str, np.ndarray] | None = None) -> Path:
        outputs = self.outputs if outputs is None else outputs
        records = []
        for start in range(0, self.rows, BATCH):
            part = slice(start, start + BATCH)
            request = predict_request(
                ModelTarget(self.model, VERSION), {k: v[part] for k, v in self.inputs.items()}, None
            )
            response = protos.PredictResponse()
            response.model_spec.name = self.model
            response.model_spec.version.value = VERSION
            for name, array in outputs.items():
                response.outputs[name].CopyFrom(make_tensor_proto(array[part], protos.TensorProto))
            day = DAY_ONE if start < self.rows // 2 else DAY_TWO
            log = prediction_log(
                "predict",
                request,
                response,
                request_id=f"{self.model}-{start}",
                timestamp=day + start,
                latency=0.002,
                transport="grpc",
                sampling_rate=1.0,
            )
            records.append(log.SerializeToString())
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tfrecords(path, records)
        return path

    def label_texts(self) -> list[str]:
        """The truth of each row: class names (classifiers), numbers (regressors)."""
        names = self.reference.class_names
        if names:
            return [names[int(label)] for label in self.reference.test_labels]
        return [repr(float(label)) for label in self.reference.test_labels]


def write_labels(path: Path, rows: list[tuple[str, int, str]]) -> Path:
    lines = ["request_id,row,label"] + [f"{rid},{row},{label}" for rid, row, label in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def all_labels(logged: Logged) -> list[tuple[str, int, str]]:
    return [
        (rid, row, t) for (rid, row), t in zip(logged.keys(), logged.label_texts(), strict=True)
    ]


def worse_outputs(logged: Logged, rows: slice = slice(None)) -> dict[str, np.ndarray]:
    """Every third row's class flipped (classifier), or every value 60 higher (regressor)."""
    outputs = {name: np.array(array) for name, array in logged.outputs.items()}
    index = np.arange(logged.rows)[rows]
    if "class_ids" in outputs:
        flipped = index[::3]
        outputs["class_ids"][flipped] = 1 - outputs["class_ids"][flipped]
        outputs["probabilities"][flipped] = outputs["probabilities"][flipped][:, ::-1]
    else:
        outputs["progression"][index] += 60.0
    return outputs


def write_example_logs(data: Logged, path: Path) -> Path:
    """The held-out rows as classify (classifier) or regress calls of one example each, answered
    with the SavedModel's scores or values, under the request ids example-<row>."""
    classifier = data.reference.task == "classifier"
    kind = "classify" if classifier else "regress"
    request_class = protos.ClassificationRequest if classifier else protos.RegressionRequest
    records = []
    for row in range(data.rows):
        features = {name: float(values[row]) for name, values in data.inputs.items()}
        request = examples_request(
            request_class, ModelTarget(data.model, VERSION), [features], None
        )
        if classifier:
            response = protos.ClassificationResponse()
            scores = data.outputs["probabilities"][row]
            classes = response.result.classifications.add().classes
            for name, score in zip(data.reference.class_names, scores, strict=True):
                classes.add(label=name, score=float(score))
        else:
            response = protos.RegressionResponse()
            response.result.regressions.add(value=float(data.outputs["progression"][row]))
        response.model_spec.name, response.model_spec.version.value = data.model, VERSION
        log = prediction_log(
            kind,
            request,
            response,
            request_id=f"example-{row}",
            timestamp=DAY_ONE + row,
            latency=0.002,
            transport="rest",
            sampling_rate=1.0,
        )
        records.append(log.SerializeToString())
    write_tfrecords(path, records)
    return path
