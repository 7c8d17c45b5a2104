"""`python -m monitoring accuracy`: delayed labels joined to request logs of the real exported
models, judged against their model cards.

The logs hold each model's whole held-out test split, answered by its exported SavedModel (run
in process), in requests of BATCH rows: the first half on DAY_ONE, the rest on DAY_TWO. A
"worse model" is the same logs with perturbed answers (class ids flipped, values shifted).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from clients import protos
from clients.grpc_messages import predict_request
from clients.request_log import prediction_log
from clients.spec import ModelTarget
from clients.tensors import make_tensor_proto
from clients.tfrecord import write_tfrecords
from monitoring.__main__ import main

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


@pytest.fixture(scope="module")
def logged(example_models: Path) -> dict[str, Logged]:
    return {model: Logged(model, example_models) for model in ("tabular", "regressor")}


def run_accuracy(
    logs: Path, labels: Path, models_root: Path, tmp_path: Path, *extra: str
) -> tuple[int, dict]:
    summary = tmp_path / "accuracy.json"
    argv = ["accuracy", "--logs", str(logs), "--labels", str(labels)]
    argv += ["--models-root", str(models_root), "--json", str(summary), *extra]
    code = main(argv)
    return code, json.loads(summary.read_text()) if summary.exists() else {}


def groups(summary: dict) -> dict[str, dict]:
    return {group["period"]: group for group in summary["groups"]}


@pytest.mark.parametrize(
    "model", [pytest.param("tabular", id="classifier"), pytest.param("regressor", id="regressor")]
)
def test_the_exported_model_is_not_degraded(logged, example_models, tmp_path, model) -> None:
    """Every held-out row labelled: the metrics over all days are the card's own."""
    data = logged[model]
    logs = data.write_logs(tmp_path / "logs" / "requests.tfrecord")
    labels = write_labels(tmp_path / "labels.csv", all_labels(data))
    code, summary = run_accuracy(logs.parent, labels, example_models, tmp_path)
    assert code == 0, summary
    by_period = groups(summary)
    assert set(by_period) == {"all days", "2026-11-18", "2026-11-19"}
    everything = by_period["all days"]
    assert everything["labelled"] == data.rows and everything["status"] == "ok"
    card = data.reference.test_metrics
    for name, metric in everything["metrics"].items():
        assert metric["baseline"] == card[name]
        assert metric["value"] == pytest.approx(card[name], rel=1e-5), name
    days = [by_period["2026-11-18"], by_period["2026-11-19"]]
    assert sum(day["labelled"] for day in days) == data.rows
    assert summary["counts"]["unlabelled_rows"] == 0


@pytest.mark.parametrize(
    "model", [pytest.param("tabular", id="classifier"), pytest.param("regressor", id="regressor")]
)
def test_a_worse_model_is_degraded(logged, example_models, tmp_path, model, capsys) -> None:
    data = logged[model]
    logs = data.write_logs(tmp_path / "worse.tfrecord", worse_outputs(data))
    labels = write_labels(tmp_path / "labels.csv", all_labels(data))
    code, summary = run_accuracy(logs, labels, example_models, tmp_path)
    out = capsys.readouterr().out
    assert code == 1, out
    assert summary["degraded"] is True
    assert groups(summary)["all days"]["status"] == "DEGRADED"
    first_metric = "accuracy" if model == "tabular" else "mae"
    assert groups(summary)["all days"]["metrics"][first_metric]["degraded"] is True
    assert f"DEGRADED: {model} version 1 (all days): " in out


def test_one_bad_day_is_degraded_on_that_day(logged, example_models, tmp_path) -> None:
    """The second day's answers are perturbed: that day is degraded, the first is not."""
    data = logged["regressor"]
    second_half = slice((data.rows // 2 + BATCH - 1) // BATCH * BATCH, None)
    logs = data.write_logs(tmp_path / "logs.tfrecord", worse_outputs(data, second_half))
    labels = write_labels(tmp_path / "labels.csv", all_labels(data))
    code, summary = run_accuracy(logs, labels, example_models, tmp_path)
    assert code == 1
    by_period = groups(summary)
    assert by_period["2026-11-18"]["status"] == "ok"
    assert by_period["2026-11-19"]["status"] == "DEGRADED"


def test_missing_duplicate_conflicting_and_orphan_labels(logged, example_models, tmp_path):
    """Missing labels are not wrong answers; agreeing duplicates count once; conflicting ones
    are left out; labels of requests no log holds, and a call logged twice, are counted."""
    data = logged["tabular"]
    logs = data.write_logs(tmp_path / "logs" / "a.tfrecord")
    data.write_logs(tmp_path / "logs" / "b.tfrecord")  # every call logged a second time
    rows = all_labels(data)
    kept = [row for i, row in enumerate(rows) if i % 3 != 0]  # a third of the labels missing
    conflicting = kept[:3]
    other = {
        name: data.reference.class_names[1 - i] for i, name in enumerate(data.reference.class_names)
    }
    extra = kept[5:9]  # agreeing duplicates
    extra += [(rid, row, other[label]) for rid, row, label in conflicting]
    extra += [(f"unknown-{i}", 0, "benign") for i in range(5)]
    labels = write_labels(tmp_path / "labels.csv", kept + extra)
    code, summary = run_accuracy(logs.parent, labels, example_models, tmp_path)
    assert code == 0
    counts = summary["counts"]
    assert counts == {
        "labelled_rows": len(kept) - 3,
        "unlabelled_rows": data.rows - len(kept) + 3,
        "labels_without_prediction": 5,
        "duplicate_labels": 4 + 3,
        "conflicting_labels": 3,
        "repeated_calls": len(data.request_ids()),
    }
    assert {(c["request_id"], c["row"]) for c in summary["conflicting_labels"]} == {
        (rid, row) for rid, row, _ in conflicting
    }
    used = [i for i in range(data.rows) if i % 3 != 0][3:]
    truth = data.reference.test_labels[used]
    accuracy = groups(summary)["all days"]["metrics"]["accuracy"]["value"]
    assert accuracy == pytest.approx(float(np.mean(data.answers()[used] == truth)))


def test_too_few_labels_are_not_judged(logged, example_models, tmp_path, capsys) -> None:
    data = logged["tabular"]
    logs = data.write_logs(tmp_path / "worse.tfrecord", worse_outputs(data))
    labels = write_labels(tmp_path / "labels.csv", all_labels(data)[:20])
    code, summary = run_accuracy(logs, labels, example_models, tmp_path, "--min-labelled", "30")
    assert code == 0, capsys.readouterr().out
    assert {g["status"] for g in summary["groups"]} == {"insufficient data"}


@pytest.mark.parametrize(
    ("labels_text", "message"),
    [
        pytest.param("request_id,truth\ntabular-0,1\n", "missing label", id="no-label-column"),
        pytest.param(
            "request_id,label\ntabular-0,tumour\n", "'tumour' is not a class", id="unknown-class"
        ),
        pytest.param(
            "request_id,row,label\ntabular-0,-1,1\n", "row must not be negative", id="negative-row"
        ),
    ],
)
def test_bad_labels_exit_2(logged, example_models, tmp_path, capsys, labels_text, message):
    logs = logged["tabular"].write_logs(tmp_path / "logs.tfrecord")
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_text)
    code, _ = run_accuracy(logs, labels, example_models, tmp_path)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    "model", [pytest.param("tabular", id="classifier"), pytest.param("regressor", id="regressor")]
)
def test_no_model_cards_exit_2(logged, tmp_path, capsys, model) -> None:
    """A wrong --models-root is an error, not a pass without baselines."""
    logs = logged[model].write_logs(tmp_path / "logs.tfrecord")
    labels = write_labels(tmp_path / "labels.csv", all_labels(logged[model]))
    code, _ = run_accuracy(logs, labels, tmp_path / "models", tmp_path)
    assert code == 2
    assert "no model card under" in capsys.readouterr().err


def test_missing_logs_exit_2(example_models, tmp_path, capsys) -> None:
    labels = write_labels(tmp_path / "labels.csv", [("a", 0, "1")])
    code, _ = run_accuracy(tmp_path / "nowhere", labels, example_models, tmp_path)
    assert code == 2 and "no request logs at" in capsys.readouterr().err


def test_a_degraded_version_is_pushed(logged, example_models, tmp_path, capsys) -> None:
    """The worse regressor's metrics, card baselines and verdicts reach a real Pushgateway."""
    from monitoring import metric_names as names
    from tests.k8s.pushgateway import gateway_series, run_pushgateway

    data = logged["regressor"]
    logs = data.write_logs(tmp_path / "worse.tfrecord", worse_outputs(data))
    labels = write_labels(tmp_path / "labels.csv", all_labels(data))
    with run_pushgateway(tmp_path) as gateway:
        code, _ = run_accuracy(logs, labels, example_models, tmp_path, "--pushgateway", gateway)
        series = gateway_series(gateway, names.PREFIX)
    assert code == 1, capsys.readouterr().err
    group = {"job": names.JOBS["accuracy"], "model": "regressor", "instance": ""}
    version = {**group, "version": "1"}

    def value(name: str, **labels: str) -> float:
        return series[(name, frozenset({**version, **labels}.items()))]

    card = data.reference.test_metrics
    assert value(names.LABELLED_REQUESTS) == data.rows
    assert value(names.QUALITY_BASELINE, metric="mae") == pytest.approx(card["mae"])
    assert value(names.QUALITY_METRIC, metric="mae") > card["mae"] * 1.25
    assert value(names.QUALITY_DEGRADED, metric="mae") == 1.0
    assert series[(names.LAST_RUN_PASSED, frozenset(group.items()))] == 0.0
    assert (names.LAST_RUN, frozenset(group.items())) in series


def write_example_logs(data: Logged, path: Path) -> Path:
    """The held-out rows as classify (classifier) or regress calls of one example each, answered
    with the SavedModel's scores or values, under the request ids example-<row>."""
    from clients.grpc_messages import examples_request

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


@pytest.mark.parametrize(
    "model", [pytest.param("tabular", id="classify"), pytest.param("regressor", id="regress")]
)
def test_classify_and_regress_calls_join(logged, example_models, tmp_path, model) -> None:
    """One example per call, labels without a row column (row 0), classes as indices."""
    data = logged[model]
    logs = write_example_logs(data, tmp_path / "examples.tfrecord")
    truth = [
        str(int(t)) if model == "tabular" else repr(float(t)) for t in data.reference.test_labels
    ]
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "request_id,label\n" + "".join(f"example-{i},{t}\n" for i, t in enumerate(truth))
    )
    code, summary = run_accuracy(logs, labels, example_models, tmp_path)
    assert code == 0
    everything = groups(summary)["all days"]
    assert everything["labelled"] == data.rows
    for name, metric in everything["metrics"].items():
        assert metric["value"] == pytest.approx(data.reference.test_metrics[name], rel=1e-5), name
