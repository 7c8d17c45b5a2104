"""exported: the layout export writes, and reading it back without TensorFlow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import exported
from exported import ExportedError
from wire.tensors import make_ndarray

ROOT = Path(__file__).resolve().parents[1]
MODELS = [pytest.param(m, id=m) for m in ("tabular", "digits", "regressor")]
# The request kinds each example's warmup file holds, beside serving_default's predicts.
EXAMPLE_KINDS = {"tabular": "classify", "digits": "classify", "regressor": "regress"}


def test_importing_exported_imports_no_tensorflow() -> None:
    code = (
        "import sys, exported\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_export_writes_with_the_layout_names() -> None:
    from export import pipeline, reference_data, warmup

    assert pipeline.card_path is exported.card_path
    assert exported.CARD_FILE == "model_card.json"
    assert reference_data.REFERENCE_FILE == exported.REFERENCE_FILE
    assert reference_data.TEST_SPLIT_FILE == exported.TEST_SPLIT_FILE
    assert warmup.warmup_path is exported.warmup_path
    # The name TF Serving looks for, and where.
    assert exported.warmup_path(Path("v")) == Path("v/assets.extra/tf_serving_warmup_requests")


@pytest.mark.parametrize("model", MODELS)
def test_every_file_of_the_layout_is_written(example_models: Path, model: str) -> None:
    version = exported.version_dir(example_models, model, 1)
    assert (version / "saved_model.pb").is_file()
    assert sorted(p.name for p in exported.assets_dir(version).iterdir()) == sorted(
        [
            exported.WARMUP_FILE,
            exported.CARD_FILE,
            exported.REFERENCE_FILE,
            exported.TEST_SPLIT_FILE,
        ]
    )
    for path in (
        exported.warmup_path(version),
        exported.card_path(version),
        exported.reference_path(version),
        exported.held_out_path(version),
    ):
        assert path.is_file(), path


def test_versions_are_the_numbered_folders(example_models: Path, tmp_path: Path) -> None:
    assert exported.list_versions(example_models / "tabular") == [1, 2]
    assert exported.latest_version_dir(example_models, "tabular") == example_models / "tabular/2"
    assert exported.version_dir(example_models, "tabular") == example_models / "tabular/2"
    assert exported.version_dir(example_models, "tabular", 1) == example_models / "tabular/1"
    # version_path only says where a version goes; it need not exist.
    assert exported.version_path(tmp_path, "m", 7) == tmp_path / "m" / "7"

    for name in ("3", "10", "not-a-version", "-1", ".10.staging"):
        (tmp_path / "m" / name).mkdir(parents=True)
    (tmp_path / "m" / "11").write_text("a file, not a version")
    assert exported.list_versions(tmp_path / "m") == [3, 10]
    assert exported.list_versions(tmp_path / "nosuch") == []
    assert exported.latest_version_dir(tmp_path, "m") == tmp_path / "m" / "10"


@pytest.mark.parametrize(
    ("model", "version", "message"),
    [
        pytest.param("nosuch", None, "no model 'nosuch'", id="no-model"),
        pytest.param("empty", None, "holds no exported version", id="no-versions"),
        pytest.param("empty", 4, "empty version 4 is not exported", id="no-such-version"),
    ],
)
def test_missing_versions_are_named(
    tmp_path: Path, model: str, version: int | None, message: str
) -> None:
    (tmp_path / "empty" / "not-a-version").mkdir(parents=True)
    with pytest.raises(ExportedError, match=message):
        exported.version_dir(tmp_path, model, version)


@pytest.mark.parametrize("model", MODELS)
def test_card_as_export_wrote_it(example_models: Path, model: str) -> None:
    version = example_models / model / "1"
    card = exported.read_card(version)
    raw = json.loads((version / "assets.extra" / "model_card.json").read_text())
    assert card.data == raw
    assert card.path == exported.card_path(version)
    assert card.version_dir == version
    assert (card.name, card.version, card.task) == (model, 1, raw["task"])
    assert card.test_metrics == raw["metrics"]["test"]
    assert card.test_labels == raw["test_labels"]
    assert len(card.test_labels) == len(next(iter(exported.read_test_split(version).values())))
    if model == "regressor":
        assert (card.task, card.class_names) == ("regressor", None)
    else:
        assert card.task == "classifier"
        assert card.class_names == [str(name) for name in raw["class_names"]]


def _bad_card(tmp_path: Path, text: str) -> Path:
    version = tmp_path / "m" / "1"
    exported.card_path(version).parent.mkdir(parents=True)
    exported.card_path(version).write_text(text)
    return version


def test_card_errors_name_the_card(tmp_path: Path) -> None:
    assert exported.find_card(tmp_path / "m" / "1") is None
    with pytest.raises(ExportedError, match="model_card.json is missing"):
        exported.read_card(tmp_path / "m" / "1")
    with pytest.raises(ExportedError, match="not a readable JSON model card"):
        exported.find_card(_bad_card(tmp_path / "a", "{not json"))
    with pytest.raises(ExportedError, match="is not a JSON object"):
        exported.read_card(_bad_card(tmp_path / "b", "[1, 2]"))

    card = exported.read_card(
        _bad_card(tmp_path / "c", '{"version": "one", "metrics": {"test": {"mae": "low"}}}')
    )
    assert (card.name, card.task, card.class_names, card.test_labels) == ("m", None, None, None)
    with pytest.raises(ExportedError, match="names no integer version"):
        _ = card.version
    with pytest.raises(ExportedError, match="metrics.test must map metric names to numbers"):
        _ = card.test_metrics
    # Without the fields, the folders name the model and version.
    card = exported.read_card(_bad_card(tmp_path / "d", "{}"))
    assert (card.name, card.version, card.test_metrics) == ("m", 1, {})


@pytest.mark.parametrize("model", MODELS)
def test_warmup_records_equal_what_tensorflow_reads(example_models: Path, model: str) -> None:
    from export.warmup import read_records  # TensorFlow's reader, in tests only

    version = example_models / model / "1"
    logs = exported.read_warmup_logs(version)
    expected = read_records(exported.warmup_path(version))
    assert [log.SerializeToString() for log in logs] == [
        record.SerializeToString() for record in expected
    ]

    requests = exported.read_warmup_requests(version)
    assert len(requests) == len(logs)
    kinds = [(r.kind, r.signature_name) for r in requests]
    predicts = [k for k in kinds if k[0] == "predict"]
    assert predicts and set(predicts) == {("predict", "serving_default")}
    assert set(kinds) - set(predicts) == {(EXAMPLE_KINDS[model], EXAMPLE_KINDS[model])}
    first = requests[0].request
    assert first.model_spec.name == model
    assert sorted(first.inputs) == sorted(exported.read_test_split(version))


def test_corrupt_warmup_records_are_named(example_models: Path, tmp_path: Path) -> None:
    version = tmp_path / "tabular" / "1"
    shutil.copytree(example_models / "tabular" / "1" / "assets.extra", version / "assets.extra")
    path = exported.warmup_path(version)
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ExportedError, match="record 0"):
        exported.read_warmup_requests(version)
    path.unlink()
    with pytest.raises(OSError):
        exported.read_warmup_logs(version)


@pytest.mark.parametrize("model", MODELS)
def test_reference_data_as_export_wrote_it(example_models: Path, model: str) -> None:
    version = example_models / model / "1"
    card = exported.read_card(version)
    first = exported.read_warmup_requests(version)[0].request  # a serving_default predict
    inputs = set(first.inputs)
    outputs = set(card.data["signatures"]["serving_default"]["outputs"])

    sample, predictions = exported.read_reference_sample(version)
    assert set(sample) == inputs
    assert set(predictions) == outputs
    rows = {len(a) for a in sample.values()}
    assert len(rows) == 1 and 0 < rows.pop() <= 500
    assert {len(a) for a in predictions.values()} == {len(next(iter(sample.values())))}

    test_split = exported.read_test_split(version)
    assert set(test_split) == inputs
    assert {len(a) for a in test_split.values()} == {len(card.test_labels or [])}
    # The warmup file's first predict request is the test split's first row.
    for name in sorted(inputs):
        assert make_ndarray(first.inputs[name]).tolist() == test_split[name][:1].tolist(), name


def test_missing_and_corrupt_reference_data_are_named(example_models: Path, tmp_path: Path) -> None:
    version = tmp_path / "tabular" / "1"
    shutil.copytree(example_models / "tabular" / "1" / "assets.extra", version / "assets.extra")
    split = exported.held_out_path(version)
    split.write_bytes(split.read_bytes()[:-7])
    with pytest.raises(ExportedError, match="test_split.tfrecord is corrupt"):
        exported.read_test_split(version)
    exported.reference_path(version).unlink()
    with pytest.raises(ExportedError, match="reference_sample.tfrecord is missing"):
        exported.read_reference_sample(version)
