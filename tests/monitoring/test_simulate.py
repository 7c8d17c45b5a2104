"""The drift simulator: what each kind does to held-out rows, and the logs it writes."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monitoring.drift.simulated import SimulationError, drifted_inputs
from requestlog.records import read_request_logs


def test_none_draws_real_held_out_rows_without_repeats(reference_regressor) -> None:
    inputs, labels = drifted_inputs(reference_regressor, "none", 60, seed=1)
    names = sorted(inputs)
    test_rows = np.stack([reference_regressor.test_inputs[n] for n in names], axis=1)
    drawn = np.stack([inputs[n] for n in names], axis=1)
    positions = [int(np.flatnonzero((test_rows == row).all(axis=1))[0]) for row in drawn]
    assert len(set(positions)) == 60
    np.testing.assert_array_equal(labels, reference_regressor.test_labels[positions])
    again, _ = drifted_inputs(reference_regressor, "none", 60, seed=1)
    np.testing.assert_array_equal(again["bmi"], inputs["bmi"])


@pytest.mark.parametrize(
    ("kind", "strength"),
    [pytest.param("shift", 0.5, id="shift"), pytest.param("scale", 0.5, id="scale")],
)
def test_shift_and_scale_move_numbers(reference_regressor, kind: str, strength: float) -> None:
    plain, _ = drifted_inputs(reference_regressor, "none", 80, seed=2)
    moved, _ = drifted_inputs(reference_regressor, kind, 80, seed=2, strength=strength)
    train_std = reference_regressor.train_sample["bmi"].std()
    if kind == "shift":
        np.testing.assert_allclose(moved["bmi"] - plain["bmi"], 0.5 * train_std, rtol=1e-4)
    else:
        np.testing.assert_allclose(moved["bmi"], 1.5 * plain["bmi"], rtol=1e-5)


def test_missing_blanks_a_share_of_values(reference_tabular) -> None:
    inputs, _ = drifted_inputs(reference_tabular, "missing", 114, seed=3, strength=0.4)
    share = np.mean([np.isnan(v).mean() for v in inputs.values()])
    assert 0.35 < share < 0.45


def mean_intensity(pngs: np.ndarray) -> float:
    return float(np.mean([np.asarray(Image.open(io.BytesIO(bytes(p)))) for p in pngs]))


@pytest.mark.parametrize(
    ("kind", "direction"),
    [
        pytest.param("shift", 1, id="brighter"),
        pytest.param("scale", 1, id="more-contrast"),
        pytest.param("missing", -1, id="blanked-pixels"),
    ],
)
def test_image_drift_changes_the_pixels(reference_digits, kind: str, direction: int) -> None:
    plain, _ = drifted_inputs(reference_digits, "none", 40, seed=4)
    drifted, _ = drifted_inputs(reference_digits, kind, 40, seed=4)
    assert drifted["image_bytes"][0].startswith(b"\x89PNG")
    change = mean_intensity(drifted["image_bytes"]) - mean_intensity(plain["image_bytes"])
    assert change * direction > 10


@pytest.mark.parametrize(
    ("model", "low_share"),
    [
        pytest.param("digits", 0.0, id="digits-5-to-9-only"),
        pytest.param("tabular", 0.0, id="tabular"),
    ],
)
def test_category_swap_changes_the_class_mix(
    model: str, low_share: float, request: pytest.FixtureRequest
) -> None:
    reference = request.getfixturevalue(f"reference_{model}")
    classes = len(reference.class_names)
    _, labels = drifted_inputs(reference, "category_swap", 200, seed=5, strength=1.0)
    assert np.mean(labels < max(classes // 2, 1)) == low_share
    _, half = drifted_inputs(reference, "category_swap", 200, seed=5, strength=0.5)
    assert 0.05 < np.mean(half < max(classes // 2, 1)) < 0.4


@pytest.mark.parametrize(
    ("kind", "rows", "strength", "message"),
    [
        pytest.param("tilt", 10, None, "unknown drift kind 'tilt'", id="kind"),
        pytest.param("missing", 10, 1.5, "missing strength 1.5 is out of range", id="share"),
        pytest.param("shift", 10, -1.0, "shift strength -1.0", id="negative"),
        pytest.param("shift", 0, None, "rows must be at least 1", id="rows"),
    ],
)
def test_bad_requests_are_named(
    reference_regressor, kind: str, rows: int, strength: float | None, message: str
) -> None:
    with pytest.raises(SimulationError, match=message):
        drifted_inputs(reference_regressor, kind, rows, seed=0, strength=strength)


def test_cli_writes_logs_the_request_log_reader_reads(
    example_models: Path, tmp_path: Path, capsys
) -> None:
    from monitoring.__main__ import main

    code = main(
        ["simulate", "--model", "digits", "--kind", "category_swap", "--rows", "20",
         "--seed", "6", "--out", str(tmp_path), "--models-root", str(example_models)]
    )  # fmt: skip
    assert code == 0
    path = tmp_path / "digits-v1-category_swap-seed6.tfrecord"
    assert f"wrote {path}" in capsys.readouterr().out
    calls = list(read_request_logs(path))
    assert sum(len(c.inputs["image_bytes"]) for c in calls) == 20
    assert {(c.model, c.version, c.kind, c.signature) for c in calls} == {
        ("digits", 1, "predict", "serving_default")
    }
    predicted = np.concatenate([c.outputs["class_ids"] for c in calls])
    assert np.mean(predicted >= 5) > 0.8  # the model sees mostly digits 5-9


def test_cli_unknown_model_exits_2(example_models: Path, tmp_path: Path, capsys) -> None:
    from monitoring.__main__ import main

    code = main(
        ["simulate", "--model", "nosuch", "--kind", "shift", "--out", str(tmp_path),
         "--models-root", str(example_models)]
    )  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.strip() == f"simulate: no model 'nosuch' under {example_models}"


def test_a_version_without_test_labels_cannot_swap_classes(reference_regressor) -> None:
    unlabelled = dataclasses.replace(reference_regressor, test_labels=np.empty(0))
    inputs, labels = drifted_inputs(unlabelled, "shift", 30, seed=7)
    assert len(inputs["bmi"]) == 30 and labels.size == 0
    with pytest.raises(SimulationError, match="category_swap needs test labels"):
        drifted_inputs(unlabelled, "category_swap", 30, seed=7)
