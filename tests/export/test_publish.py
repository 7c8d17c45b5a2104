"""Bring-your-own export, atomic publish, crashes, overwrites, pruning and refusal to publish."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from export import pipeline
from export.__main__ import main
from export.keras_model import spec_from_keras
from export.publish import PublishError
from export.validate import ValidationError
from exported import list_versions
from tests.export.byo_files import keras_file, versions

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["keras_file"]  # a fixture: used by name


def test_bring_your_own_model_matches_keras(keras_file: Path, tmp_path: Path) -> None:
    examples = keras_file.parent / "examples.npz"
    argv = [
        "keras",
        str(keras_file),
        "--name",
        "byo",
        "--base-dir",
        str(tmp_path),
        "--classify",
        "--class-names",
        "setosa,versicolor,virginica",
        "--examples",
        str(examples),
    ]
    assert main(argv) == 0
    loaded = tf.saved_model.load(str(tmp_path / "byo" / "1"))
    assert set(loaded.signatures) >= {"serving_default", "classify"}
    data = dict(np.load(examples))
    got = loaded.signatures["serving_default"](**data)
    want = keras.saving.load_model(keras_file).predict(data, verbose=0)
    np.testing.assert_allclose(got["probabilities"].numpy(), want, rtol=1e-5, atol=1e-6)
    names = got["class_names"].numpy().astype(str)
    assert set(names) <= {"setosa", "versicolor", "virginica"}
    # The next export takes the next number.
    assert main(argv) == 0
    assert versions(tmp_path) == ["1", "2"]


def test_generic_export_names_outputs_after_the_model(keras_file: Path, tmp_path: Path) -> None:
    assert main(["keras", str(keras_file), "--name", "byo", "--base-dir", str(tmp_path)]) == 0
    loaded = tf.saved_model.load(str(tmp_path / "byo" / "1"))
    outputs = loaded.signatures["serving_default"].structured_outputs
    assert list(outputs) == ["species"]


def test_existing_version_is_never_overwritten(keras_file: Path, tmp_path: Path, capsys) -> None:
    argv = [
        "keras",
        str(keras_file),
        "--name",
        "byo",
        "--base-dir",
        str(tmp_path),
        "--version",
        "7",
    ]
    assert main(argv) == 0
    marker = tmp_path / "byo" / "7" / "saved_model.pb"
    before = marker.stat().st_mtime_ns
    assert main(argv) == 1
    assert "exists already" in capsys.readouterr().err
    assert marker.stat().st_mtime_ns == before
    assert versions(tmp_path) == ["7"]


def test_failure_mid_write_leaves_no_version(keras_file: Path, tmp_path: Path, monkeypatch) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("disk full while writing warmup requests")

    monkeypatch.setattr(pipeline.warmup, "write_records", explode)
    spec = spec_from_keras(keras_file, "byo")
    with pytest.raises(RuntimeError, match="disk full"):
        pipeline.export_model(spec, tmp_path)
    assert versions(tmp_path) == []


def test_validation_failure_refuses_to_publish(
    keras_file: Path, tmp_path: Path, monkeypatch
) -> None:
    real = pipeline.eager_reference

    def drifting_reference(functions):
        reference = real(functions)
        return lambda sig, inputs: {k: v + 1e-3 for k, v in reference(sig, inputs).items()}

    monkeypatch.setattr(pipeline, "eager_reference", drifting_reference)
    with pytest.raises(ValidationError, match="differs from Keras by up to 0.001"):
        pipeline.export_model(spec_from_keras(keras_file, "byo"), tmp_path)
    assert versions(tmp_path) == []


KILLED_EXPORT = """
import sys, time
from pathlib import Path
import export.pipeline as pipeline
def hang(*args, **kwargs):
    Path(sys.argv[2]).touch()
    time.sleep(120)
pipeline.validate_export = hang
from export.__main__ import main
main(["keras", sys.argv[1], "--name", "byo", "--base-dir", sys.argv[3]])
"""


def test_killed_export_leaves_no_numeric_folder(keras_file: Path, tmp_path: Path) -> None:
    marker = tmp_path / "saved"
    base = tmp_path / "models"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_EXPORT, str(keras_file), str(marker), str(base)], cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "export died before it wrote the SavedModel"
            assert time.monotonic() < deadline, "export did not reach validation in time"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    left = versions(base)
    assert left and all(not name.isdigit() for name in left), left
    assert list_versions(base / "byo") == []
    # The next export cleans up what the crash left and publishes version 1.
    assert main(["keras", str(keras_file), "--name", "byo", "--base-dir", str(base)]) == 0
    assert versions(base) == ["1"]


def test_keep_prunes_old_versions(keras_file: Path, tmp_path: Path) -> None:
    for _ in range(3):
        assert (
            main(
                [
                    "keras",
                    str(keras_file),
                    "--name",
                    "byo",
                    "--base-dir",
                    str(tmp_path),
                    "--keep",
                    "2",
                ]
            )
            == 0
        )
    assert versions(tmp_path) == ["2", "3"]


def test_examples_plan_skips_existing_versions(example_models: Path, capsys) -> None:
    assert main(["examples", "--base-dir", str(example_models)]) == 0
    out = capsys.readouterr().out
    assert "tabular version 1: exists, skipping" in out and "published" not in out


def test_wrong_class_names_is_a_clear_error(keras_file: Path, tmp_path: Path, capsys) -> None:
    argv = [
        "keras",
        str(keras_file),
        "--name",
        "byo",
        "--base-dir",
        str(tmp_path),
        "--classify",
        "--class-names",
        "a,b",
    ]
    assert main(argv) == 1
    assert "2 class names for 3 model outputs" in capsys.readouterr().err


def test_publish_error_type_for_library_users(keras_file: Path, tmp_path: Path) -> None:
    spec = spec_from_keras(keras_file, "byo")
    pipeline.export_model(spec, tmp_path, version=1)
    with pytest.raises(PublishError):
        pipeline.export_model(spec, tmp_path, version=1)


def test_list_shows_every_published_version(example_models: Path, capsys) -> None:
    assert main(["list", "--base-dir", str(example_models)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["digits", "v1"],
        ["regressor", "v1"],
        ["tabular", "v1"],
        ["tabular", "v2"],
    ]
    assert "accuracy=" in lines[0] and "rmse=" in lines[1]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("../escaped", id="parent"),
        pytest.param("team/price", id="slash"),
        pytest.param("my price model", id="spaces"),
        pytest.param("..", id="dot-dot"),
        pytest.param("", id="empty"),
    ],
)
def test_model_name_outside_the_url_rule_is_refused(
    keras_file: Path, tmp_path: Path, capsys, name: str
) -> None:
    base = tmp_path / "base"
    assert main(["keras", str(keras_file), "--name", name, "--base-dir", str(base)]) == 1
    assert "is not allowed: use letters, digits, '-', '_' and '.'" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, not even base/


def test_model_name_with_dots_dashes_and_underscores_is_published(
    keras_file: Path, tmp_path: Path
) -> None:
    name = "price-model_v2.1"
    assert main(["keras", str(keras_file), "--name", name, "--base-dir", str(tmp_path)]) == 0
    assert versions(tmp_path, name) == ["1"]
