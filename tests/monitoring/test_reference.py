"""Reading an exported version's reference data without TensorFlow, and its errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from exported import latest_version_dir, version_dir
from monitoring.reference import ReferenceError, load_reference


@pytest.mark.parametrize(
    ("model", "version", "train_rows", "inputs"),
    [
        pytest.param("tabular", 1, 341, 30, id="tabular"),
        pytest.param("digits", 1, 500, 1, id="digits"),
        pytest.param("regressor", 1, 265, 10, id="regressor"),
    ],
)
def test_load_reference_of_each_example(
    example_models: Path, model: str, version: int, train_rows: int, inputs: int
) -> None:
    reference = load_reference(example_models / model / str(version))
    assert (reference.name, reference.version, reference.signature) == (
        model,
        version,
        "serving_default",
    )
    assert len(reference.train_sample) == len(reference.test_inputs) == inputs
    assert {len(a) for a in reference.train_sample.values()} == {train_rows}
    assert {len(a) for a in reference.test_inputs.values()} == {len(reference.test_labels)}
    assert reference.test_metrics == reference.card["metrics"]["test"]
    assert {len(a) for a in reference.train_outputs.values()} == {train_rows}
    if model == "digits":
        assert reference.task == "classifier"
        assert reference.class_names == [str(d) for d in range(10)]
        assert reference.test_inputs["image_bytes"][0].startswith(b"\x89PNG")
    outputs = reference.train_outputs
    if reference.task == "classifier":
        np.testing.assert_array_equal(outputs["probabilities"].argmax(axis=1), outputs["class_ids"])
        assert set(outputs["class_ids"].tolist()) == set(range(len(reference.class_names)))
    else:
        progression = outputs["progression"].reshape(-1)
        assert 50 < progression.mean() < 250  # disease progression, in the target's units


def test_latest_version_is_the_highest_number(example_models: Path) -> None:
    assert latest_version_dir(example_models, "tabular") == example_models / "tabular" / "2"
    assert version_dir(example_models, "tabular", 1) == example_models / "tabular" / "1"
    assert version_dir(example_models, "tabular", None) == example_models / "tabular" / "2"


@pytest.fixture
def copied_version(example_models: Path, tmp_path: Path) -> Path:
    target = tmp_path / "tabular" / "1"
    shutil.copytree(example_models / "tabular" / "1" / "assets.extra", target / "assets.extra")
    return target


def drop_file(version: Path, name: str) -> None:
    (version / "assets.extra" / name).unlink()


def truncate_file(version: Path, name: str) -> None:
    path = version / "assets.extra" / name
    path.write_bytes(path.read_bytes()[:-7])


def flip_byte(version: Path, name: str) -> None:
    path = version / "assets.extra" / name
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))


def short_labels(version: Path, name: str) -> None:
    path = version / "assets.extra" / name
    card = json.loads(path.read_text())
    card["test_labels"] = card["test_labels"][:-1]
    path.write_text(json.dumps(card))


@pytest.mark.parametrize(
    ("damage", "file_name", "message"),
    [
        pytest.param(drop_file, "reference_sample.tfrecord", "missing", id="no-sample"),
        pytest.param(drop_file, "test_split.tfrecord", "missing", id="no-test-split"),
        pytest.param(drop_file, "model_card.json", "missing", id="no-card"),
        pytest.param(truncate_file, "test_split.tfrecord", "corrupt", id="truncated"),
        pytest.param(flip_byte, "reference_sample.tfrecord", "corrupt", id="bad-checksum"),
        pytest.param(short_labels, "model_card.json", "113 test_labels for 114", id="labels"),
    ],
)
def test_damaged_reference_data_is_named(
    copied_version: Path, damage, file_name: str, message: str
) -> None:
    assert load_reference(copied_version).num_test_rows() == 114
    damage(copied_version, file_name)
    with pytest.raises(ReferenceError, match=message) as caught:
        load_reference(copied_version)
    assert file_name in str(caught.value)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        pytest.param("nosuch", "no model 'nosuch'", id="no-model"),
        pytest.param("empty", "holds no exported version", id="no-versions"),
    ],
)
def test_latest_version_errors(tmp_path: Path, model: str, message: str) -> None:
    (tmp_path / "empty" / "not-a-version").mkdir(parents=True)
    with pytest.raises(ReferenceError, match=message):
        latest_version_dir(tmp_path, model)


def test_missing_version_is_named(example_models: Path) -> None:
    with pytest.raises(ReferenceError, match="tabular version 9 is not exported"):
        version_dir(example_models, "tabular", 9)
