"""Reference data in every export: the training sample and the whole test split, as requests."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from export.examples import data
from export.examples.digits import to_pixels
from export.keras_model import spec_from_keras
from export.pipeline import export_model
from export.reference_data import (
    MAX_REFERENCE_ROWS,
    REFERENCE_FILE,
    ROWS_PER_RECORD,
    TEST_SPLIT_FILE,
)
from export.spec import feature_name
from export.warmup import read_records
from exported import read_card

VERSIONS = [("tabular", 1), ("tabular", 2), ("digits", 1), ("regressor", 1)]


def splits_of(model: str) -> data.Splits:
    """The example's split, rebuilt the way its builder makes it (no training needed)."""
    if model == "digits":
        bunch = load_digits()
        return data.split(to_pixels(bunch.images), bunch.target.astype(np.int64))
    if model == "regressor":
        bunch = load_diabetes()
        return data.split(bunch.data.astype(np.float32), bunch.target, stratify=False)
    bunch = load_breast_cancer()
    return data.split(bunch.data.astype(np.float32), bunch.target.astype(np.int64))


def read_rows(path: Path) -> tuple[np.ndarray, list[int]]:
    """The stored inputs as one [rows, features] matrix (columns by input name), batch sizes."""
    columns: dict[str, list[np.ndarray]] = {}
    sizes = []
    for record in read_records(path):
        request = record.predict_log.request
        assert request.model_spec.signature_name == "serving_default"
        arrays = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        sizes.append(len(next(iter(arrays.values()))))
        for name, array in arrays.items():
            columns.setdefault(name, []).append(array)
    if list(columns) == ["image_bytes"]:
        images = np.concatenate(columns["image_bytes"])
        pixels = [tf.io.decode_png(png).numpy() for png in images]
        return np.stack(pixels).reshape(len(images), -1), sizes
    return np.stack([np.concatenate(columns[k]) for k in sorted(columns)], axis=1), sizes


def feature_order(model: str) -> np.ndarray:
    """Column permutation from the data set's order to sorted input names."""
    if model == "digits":
        return np.arange(64)
    bunch = load_diabetes() if model == "regressor" else load_breast_cancer()
    return np.argsort([feature_name(n) for n in bunch.feature_names])


@pytest.mark.parametrize(
    ("model", "version"), [pytest.param(m, v, id=f"{m}-v{v}") for m, v in VERSIONS]
)
def test_test_split_is_the_whole_held_out_split_in_order(
    example_models: Path, model: str, version: int
) -> None:
    root = example_models / model / str(version)
    rows, sizes = read_rows(root / "assets.extra" / TEST_SPLIT_FILE)
    splits = splits_of(model)
    expected = splits.x_test.reshape(len(splits.x_test), -1)[:, feature_order(model)]
    assert len(rows) == len(read_card(root).data["test_labels"]) == len(splits.y_test)
    np.testing.assert_allclose(rows, expected, rtol=1e-6)
    assert max(sizes) <= ROWS_PER_RECORD


@pytest.mark.parametrize(
    ("model", "expected_rows"),
    [
        pytest.param("tabular", 341, id="tabular-all-training-rows"),
        pytest.param("digits", MAX_REFERENCE_ROWS, id="digits-sampled"),
        pytest.param("regressor", 265, id="regressor-all-training-rows"),
    ],
)
def test_reference_sample_is_drawn_from_training_rows(
    example_models: Path, model: str, expected_rows: int
) -> None:
    rows, sizes = read_rows(example_models / model / "1" / "assets.extra" / REFERENCE_FILE)
    splits = splits_of(model)
    training = splits.x_train.reshape(len(splits.x_train), -1)[:, feature_order(model)]
    assert len(rows) == expected_rows <= MAX_REFERENCE_ROWS
    assert max(sizes) <= ROWS_PER_RECORD
    known = {row.astype(np.float32).tobytes() for row in training}
    assert all(row.astype(np.float32).tobytes() in known for row in rows)
    assert len({row.tobytes() for row in rows}) > 0.9 * len(rows)  # a sample, not one row


@pytest.fixture(scope="module")
def byo_model(tmp_path_factory) -> Path:
    """A small two-input regressor saved as .keras, with held-out and training inputs."""
    folder = tmp_path_factory.mktemp("byo")
    keras.utils.set_random_seed(3)
    size = keras.Input(shape=(), name="size")
    weight = keras.Input(shape=(), name="weight")
    both = keras.layers.Concatenate()(
        [keras.layers.Reshape((1,))(size), keras.layers.Reshape((1,))(weight)]
    )
    model = keras.Model([size, weight], keras.layers.Dense(1, name="value")(both))
    model.save(folder / "model.keras")
    rng = np.random.default_rng(0)
    for name, rows in (("held_out", 20), ("training", 700)):
        np.savez(
            folder / f"{name}.npz",
            size=rng.normal(size=rows).astype(np.float32),
            weight=rng.normal(size=rows).astype(np.float32),
        )
    np.save(folder / "labels.npy", rng.normal(size=20))
    return folder


def test_byo_export_writes_reference_data_when_given(byo_model: Path, tmp_path: Path) -> None:
    spec = spec_from_keras(
        byo_model / "model.keras",
        "byo",
        task="regressor",
        examples=byo_model / "held_out.npz",
        reference=byo_model / "training.npz",
        test_labels=byo_model / "labels.npy",
    )
    root = export_model(spec, tmp_path)
    sample, _ = read_rows(root / "assets.extra" / REFERENCE_FILE)
    test_split, _ = read_rows(root / "assets.extra" / TEST_SPLIT_FILE)
    assert len(sample) == MAX_REFERENCE_ROWS
    assert len(test_split) == len(read_card(root).data["test_labels"]) == 20


def test_byo_export_without_data_skips_reference_data_and_says_so(
    byo_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        spec = spec_from_keras(byo_model / "model.keras", "byo", task="regressor")
        root = export_model(spec, tmp_path)
    assert (root / "saved_model.pb").exists()
    assert not (root / "assets.extra" / REFERENCE_FILE).exists()
    assert not (root / "assets.extra" / TEST_SPLIT_FILE).exists()
    assert "no --reference given" in caplog.text
    assert f"{TEST_SPLIT_FILE} not written" in caplog.text


def test_byo_labels_must_match_the_held_out_rows(byo_model: Path) -> None:
    np.save(byo_model / "short.npy", np.zeros(3))
    with pytest.raises(ValueError, match="3 labels for 20 held-out examples"):
        spec_from_keras(
            byo_model / "model.keras",
            "byo",
            examples=byo_model / "held_out.npz",
            test_labels=byo_model / "short.npy",
        )
