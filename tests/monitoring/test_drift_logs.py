"""Request logs as a client writes them (classify and predict calls, versions named or not)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clients.grpc_messages import examples_request, predict_request
from clients.spec import ModelTarget
from monitoring.drift.frames import FeatureError
from monitoring.drift.logged import describe_set_aside, read_logged_rows
from requestlog.records import prediction_log
from wire import protos
from wire.tensors import make_tensor_proto
from wire.tfrecord import write_tfrecords

CLASSES = ["malignant", "benign"]


def classify_call(rows: list[dict[str, float]], version: int, winner: str) -> bytes:
    request = examples_request(
        protos.ClassificationRequest, ModelTarget("tabular", signature="classify"), rows, None
    )
    response = protos.ClassificationResponse()
    response.model_spec.name = "tabular"
    response.model_spec.version.value = version
    for _ in rows:
        group = response.result.classifications.add()
        for name in CLASSES:
            group.classes.add(label=name, score=0.9 if name == winner else 0.1)
    return _record("classify", request, response)


def predict_call(model: str, values: dict[str, list[float]], class_ids: list[int]) -> bytes:
    request = predict_request(ModelTarget(model), values, None)
    response = protos.PredictResponse()  # as over REST: no version named
    response.outputs["class_ids"].CopyFrom(make_tensor_proto(np.asarray(class_ids)))
    return _record("predict", request, response)


def _record(kind: str, request, response) -> bytes:
    log = prediction_log(
        kind, request, response, request_id="r", timestamp=1.7e9, latency=0.01,
        transport="grpc", sampling_rate=1.0,
    )  # fmt: skip
    return log.SerializeToString()


@pytest.fixture
def mixed_logs(tmp_path: Path) -> Path:
    write_tfrecords(
        tmp_path / "a.tfrecord",
        [
            classify_call([{"x": 1.0, "y": 2.0}, {"x": 3.0, "y": 4.0}], 2, "benign"),
            classify_call([{"x": 5.0, "y": 6.0}], 1, "malignant"),
            predict_call("tabular", {"x": [7.0, 8.0, 9.0], "y": [0.0, 0.0, 0.0]}, [0, 1, 0]),
            predict_call("digits", {"image_bytes": [b"\x89PNG"]}, [3]),
        ],
    )
    return tmp_path


def test_classify_and_predict_calls_of_one_version(mixed_logs: Path) -> None:
    rows = read_logged_rows(mixed_logs, "tabular", 2, "classifier", CLASSES)
    assert (rows.rows, rows.calls, rows.unknown_version) == (5, 2, 3)
    assert rows.other_versions == {1: 1} and rows.other_models == 1
    np.testing.assert_array_equal(rows.features["x"].values, [1, 3, 7, 8, 9])
    assert rows.prediction is not None
    assert rows.prediction.values.tolist() == [
        "benign",
        "benign",
        "malignant",
        "benign",
        "malignant",
    ]
    assert describe_set_aside(rows) == [
        "1 logged rows of version 1 left out",
        "1 logged rows of other models left out",
        "3 logged rows name no version; compared as this one",
    ]


def test_calls_with_other_features_are_refused(tmp_path: Path) -> None:
    write_tfrecords(
        tmp_path / "a.tfrecord",
        [
            predict_call("tabular", {"x": [1.0]}, [0]),
            predict_call("tabular", {"z": [1.0]}, [0]),
        ],
    )
    with pytest.raises(FeatureError, match=r"features \['z'\], earlier calls \['x'\]"):
        read_logged_rows(tmp_path, "tabular", 1, "classifier", CLASSES)
