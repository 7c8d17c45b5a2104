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

from monitoring.__main__ import main
from tests.monitoring.accuracy_logs import (
    BATCH,
    Logged,
    all_labels,
    worse_outputs,
    write_example_logs,
    write_labels,
)


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
