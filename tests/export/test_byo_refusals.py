"""`python -m export keras` on files a user may bring that cannot be exported as they are:
each is refused with a message that says what to do, or exported once the option is given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from export.__main__ import main

pytestmark = pytest.mark.slow  # end to end: runs the export CLI on each refused model

ROOT = Path(__file__).resolve().parents[2]
UNKNOWN_CLASS = """
import keras


@keras.saving.register_keras_serializable(package="elsewhere")
class Hidden(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 3.0
"""


def export(path: Path, base: Path, *extra: str) -> int:
    return main(["keras", str(path), "--name", "m", "--base-dir", str(base), *extra])


def test_lambda_layer_needs_unsafe_deserialization(tmp_path: Path, capsys) -> None:
    inputs = keras.Input((2,), name="x")
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t + 1.0)(inputs))
    model.save(tmp_path / "lambda.keras")
    assert export(tmp_path / "lambda.keras", tmp_path / "models") == 1
    assert "pass --unsafe-deserialization" in capsys.readouterr().err
    assert not (tmp_path / "models").exists()
    assert export(tmp_path / "lambda.keras", tmp_path / "models", "--unsafe-deserialization") == 0


def test_unknown_class_asks_for_custom_objects(tmp_path: Path) -> None:
    """In a fresh process, as a user runs it, the class is unknown until its module is named."""
    module = tmp_path / "hidden_layers.py"
    module.write_text(UNKNOWN_CLASS)
    namespace: dict = {}
    exec(compile(UNKNOWN_CLASS, str(module), "exec"), namespace)
    inputs = keras.Input((2,), name="x")
    keras.Model(inputs, namespace["Hidden"]()(inputs)).save(tmp_path / "hidden.keras")
    command = [sys.executable, "-m", "export", "keras", str(tmp_path / "hidden.keras")]
    command += ["--name", "m", "--base-dir", str(tmp_path / "models")]
    refused = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1
    assert "pass --custom-objects" in refused.stderr
    done = subprocess.run(
        [*command, "--custom-objects", str(module)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "models" / "m" / "1" / "saved_model.pb").exists()


def test_subclassed_model_without_input_spec_is_refused(tmp_path: Path, capsys) -> None:
    @keras.saving.register_keras_serializable(package="refusals")
    class Wrapped(keras.Model):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    wrapped = Wrapped()
    wrapped(np.zeros((1, 3), np.float32))
    wrapped.save(tmp_path / "sub.keras")
    assert export(tmp_path / "sub.keras", tmp_path / "models") == 1
    assert "pass --input-spec name:dtype:shape" in capsys.readouterr().err
    assert export(tmp_path / "sub.keras", tmp_path / "models", "--input-spec", "x:float32:3") == 0


def test_legacy_h5_with_compiled_metrics_exports(tmp_path: Path) -> None:
    inputs = keras.Input((3,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(1, name="y")(inputs))
    model.compile("adam", "mse", metrics=["mse"])
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "legacy.h5")
    assert export(tmp_path / "legacy.h5", tmp_path / "models") == 0


def test_unreadable_h5_says_to_resave_as_keras(tmp_path: Path, capsys) -> None:
    (tmp_path / "broken.h5").write_bytes(b"not an HDF5 file")
    assert export(tmp_path / "broken.h5", tmp_path / "models") == 1
    assert "re-save it with model.save('model.keras')" in capsys.readouterr().err


def test_input_without_a_batch_axis_is_refused(tmp_path: Path, capsys) -> None:
    """The whole (4,) vector is one example: a batch of three would still give one row."""
    inputs = keras.Input(batch_shape=(4,), name="readings")
    total = keras.ops.sum(inputs, keepdims=True)
    keras.Model(inputs, total).save(tmp_path / "nobatch.keras")
    assert export(tmp_path / "nobatch.keras", tmp_path / "models") == 1
    message = capsys.readouterr().err
    assert "input 'readings' has shape (4,)" in message
    assert "not a batch axis" in message


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(lambda: keras.layers.Dense(1), id="one-unit-linear"),
        pytest.param(lambda: keras.layers.Dense(3), id="logits-not-probabilities"),
    ],
)
def test_classify_needs_probabilities(tmp_path: Path, capsys, head) -> None:
    inputs = keras.Input((3,), name="x")
    keras.Model(inputs, head()(inputs)).save(tmp_path / "head.keras")
    assert export(tmp_path / "head.keras", tmp_path / "models", "--classify") == 1
    assert "--classify needs a probability vector" in capsys.readouterr().err
