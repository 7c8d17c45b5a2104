"""Kinds of Keras models built outside the examples, exported and then answered in TF Serving's
session path and by the embedded server over REST and gRPC, output by output, as Keras answers.

Each kind is small and trained a step; the subclassed one is exported as a user would, with
--custom-objects and --input-spec, and the Lambda one with --unsafe-deserialization. The
expected values are the Keras model's own outputs under the same names (a dict model's keys, a
list model's output layers), never the export's.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import requests
import tensorflow as tf

from clients import GrpcClient
from export.__main__ import main
from export.keras_loading import import_custom_objects
from runtime import load_bundle
from tests.serverproc import start_server

pytestmark = pytest.mark.slow  # end to end: trains, exports and serves nine model kinds

ROWS = 6


def _fit(model: keras.Model, x, y) -> keras.Model:
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, verbose=0, batch_size=ROWS)
    return model


def sequential(rng):
    """keras.Sequential without keras.Input: no input or output names of its own."""
    model = keras.Sequential(
        [keras.layers.Dense(4, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    x = rng.normal(size=(ROWS, 5)).astype("float32")
    return _fit(model, x, rng.normal(size=(ROWS, 3))), x


def multi_io(rng):
    """Two named inputs of different dtypes (one through an Embedding), two named outputs."""
    amount = keras.Input((3,), name="amount")
    category = keras.Input((1,), name="category", dtype="int32")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(10, 2)(category))
    both = keras.layers.Concatenate()([amount, embedded])
    # Declared in the order opposite to the sorted names, where a positional pairing fails.
    outputs = {
        "score": keras.layers.Dense(1, name="score_head")(both),
        "logits": keras.layers.Dense(4, name="logits_head")(both),
    }
    model = keras.Model({"amount": amount, "category": category}, outputs)
    x = {
        "amount": rng.normal(size=(ROWS, 3)).astype("float32"),
        "category": rng.integers(0, 10, (ROWS, 1)).astype("int32"),
    }
    return _fit(model, x, {"score": np.zeros((ROWS, 1)), "logits": np.zeros((ROWS, 4))}), x


def text_vectorization(rng):
    layer = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    layer.adapt(["red green blue", "green blue", "blue sky"])
    text = keras.Input((1,), dtype="string", name="text")
    ids = keras.ops.cast(layer(text), "float32")
    model = keras.Model(text, keras.layers.Dense(2, name="topic")(ids))
    return model, {"text": np.array([["red sky"], ["blue"], ["unseen words"]], dtype=object)}


def string_lookup(rng):
    color = keras.Input((1,), dtype="string", name="color")
    ids = keras.layers.StringLookup(vocabulary=["red", "green", "blue"], output_mode="one_hot")(
        color
    )
    model = keras.Model(color, keras.layers.Dense(1, name="price")(ids))
    return model, {"color": np.array([["green"], ["purple"], ["red"]], dtype=object)}


def list_inputs(rng):
    """A functional model whose inputs are a list, not a dict."""
    left, right = keras.Input((3,), name="left"), keras.Input((2,), name="right")
    both = keras.layers.Concatenate()([left, right])
    model = keras.Model([left, right], keras.layers.Dense(2, name="pair")(both))
    x = {
        "left": rng.normal(size=(ROWS, 3)).astype("float32"),
        "right": rng.normal(size=(ROWS, 2)).astype("float32"),
    }
    return _fit(model, [x["left"], x["right"]], np.zeros((ROWS, 2))), x


def lambda_layer(rng):
    """Python code in the file: exported only with --unsafe-deserialization."""
    inputs = keras.Input((3,), name="x")
    doubled = keras.layers.Lambda(lambda t: t * 2.0, name="double")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="y")(doubled))
    return model, rng.normal(size=(ROWS, 3)).astype("float32")


def column_regressor(rng):
    """One value per example in a (N, 1) column, exported with --regress."""
    inputs = keras.Input((3,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(1, name="price")(inputs))
    x = rng.normal(size=(ROWS, 3)).astype("float32")
    return _fit(model, x, rng.normal(size=(ROWS, 1))), x


def mobilenet(rng):
    model = keras.applications.MobileNetV2(
        weights=None, input_shape=(32, 32, 3), alpha=0.35, classes=3
    )
    x = rng.uniform(size=(2, 32, 32, 3)).astype("float32")
    return _fit(model, x, np.eye(3)[[0, 1]]), x


BUILDERS = {
    build.__name__: build
    for build in (
        sequential,
        multi_io,
        list_inputs,
        text_vectorization,
        string_lookup,
        lambda_layer,
        column_regressor,
        mobilenet,
    )
}
EXTRA_ARGS = {"lambda_layer": ["--unsafe-deserialization"], "column_regressor": ["--regress"]}
# A subclassed model as a user ships it: its class in a module passed with --custom-objects.
USER_MODULE = """
import keras


@keras.saving.register_keras_serializable(package="user")
class UserScorer(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(5, activation="relu")
        self.out = keras.layers.Dense(2)

    def call(self, inputs):
        return self.out(self.hidden(inputs))
"""
KEYS = list(BUILDERS)


def keras_outputs(model: keras.Model, x, names: list[str]) -> dict[str, np.ndarray]:
    raw = model(x, training=False)
    if isinstance(raw, dict):
        return {k: np.asarray(v) for k, v in raw.items()}
    assert len(names) == 1
    return {names[0]: np.asarray(raw)}


def export_cli(folder: Path, name: str, *extra: str) -> int:
    return main(
        [
            "keras",
            str(folder / f"{name}.keras"),
            "--name",
            name,
            "--base-dir",
            str(folder / "models"),
            "--examples",
            str(folder / f"{name}.npz"),
            *extra,
        ]
    )


def save_examples(folder: Path, name: str, arrays: dict[str, np.ndarray]) -> None:
    # Text goes into the .npz as str arrays (object arrays would need pickle).
    np.savez(
        folder / f"{name}.npz",
        **{k: v.astype(str) if v.dtype == object else v for k, v in arrays.items()},
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every kind saved as .keras and exported with `python -m export keras`, plus the Keras
    models to compare with."""
    folder = tmp_path_factory.mktemp("kinds")
    rng = np.random.default_rng(3)
    keras.utils.set_random_seed(3)
    kinds = {}
    for name, build in BUILDERS.items():
        built, x = build(rng)
        built.save(folder / f"{name}.keras")
        # The saved file is the user's model; its inputs are named as loading names them.
        model = keras.saving.load_model(folder / f"{name}.keras", safe_mode=False)
        arrays = x if isinstance(x, dict) else {model.inputs[0].name: x}
        save_examples(folder, name, arrays)
        assert export_cli(folder, name, *EXTRA_ARGS.get(name, [])) == 0, name
        kinds[name] = (model, arrays)
    module = folder / "user_layers.py"
    module.write_text(USER_MODULE)
    import_custom_objects([str(module)])
    scorer = keras.saving.get_registered_object("user>UserScorer")()
    x = rng.normal(size=(ROWS, 4)).astype("float32")
    _fit(scorer, x, rng.normal(size=(ROWS, 2))).save(folder / "subclassed.keras")
    save_examples(folder, "subclassed", {"features": x})
    args = ["--custom-objects", str(module), "--input-spec", "features:float32:4"]
    assert export_cli(folder, "subclassed", *args) == 0
    kinds["subclassed"] = (scorer, {"features": x})
    return folder / "models", kinds


def expected(kinds, name: str, aliases: list[str]) -> dict[str, np.ndarray]:
    """The Keras model's own answer to the exported inputs, keyed as it names its outputs."""
    model, arrays = kinds[name]
    values = {k: tf.constant(v.astype(str)) if v.dtype == object else v for k, v in arrays.items()}
    if name == "list_inputs":
        return keras_outputs(model, [values["left"], values["right"]], aliases)
    x = values if len(values) > 1 else next(iter(values.values()))
    return keras_outputs(model, x, aliases)


@pytest.mark.parametrize("name", [*KEYS, "subclassed"])
def test_session_path_answers_as_keras(exported, name: str) -> None:
    """The TF1 loader and Session.run by tensor name, as tensorflow/serving runs a version."""
    root, kinds = exported
    bundle = load_bundle(root / name / "1", ["serve"])
    try:
        signature = bundle.signature_defs["serving_default"]
        got = bundle.run("serving_default", kinds[name][1])
        want = expected(kinds, name, sorted(signature.outputs))
        assert sorted(got) == sorted(want)
        for alias, value in want.items():
            np.testing.assert_allclose(got[alias], value, rtol=1e-5, atol=1e-5, err_msg=alias)
    finally:
        bundle.close()


@pytest.fixture(scope="module")
def kinds_server(exported, tmp_path_factory):
    root, kinds = exported
    body = "".join(
        f'  config {{ name: "{name}" base_path: "{root / name}" model_platform: "tensorflow" }}\n'
        for name in kinds
    )
    config = root / "models.config"
    config.write_text(f"model_config_list {{\n{body}}}\n")
    with start_server([f"--model_config_file={config}"], tmp_path_factory.mktemp("logs")) as s:
        yield s


@pytest.mark.parametrize("name", [*KEYS, "subclassed"])
def test_served_over_rest_and_grpc_as_keras(exported, kinds_server, name: str) -> None:
    _, kinds = exported
    inputs = kinds[name][1]
    with GrpcClient(kinds_server.grpc) as client:
        got = client.predict(name, inputs)
    want = expected(kinds, name, sorted(got))
    assert sorted(got) == sorted(want)
    columns = {
        k: v.astype(str).tolist() if v.dtype == object else v.tolist() for k, v in inputs.items()
    }
    response = requests.post(
        f"{kinds_server.rest}/v1/models/{name}:predict", json={"inputs": columns}, timeout=60
    )
    assert response.status_code == 200, response.text
    outputs = response.json()["outputs"]
    outputs = outputs if isinstance(outputs, dict) else {next(iter(want)): outputs}
    for alias, value in want.items():
        np.testing.assert_allclose(got[alias], value, rtol=1e-5, atol=1e-5, err_msg=alias)
        np.testing.assert_allclose(outputs[alias], value, rtol=1e-5, atol=1e-5, err_msg=alias)


@pytest.mark.parametrize("name", [*KEYS, "subclassed"])
def test_only_the_serving_state_is_saved(exported, name: str) -> None:
    """The checkpoint holds the model's weights and nothing else: no optimizer slots (the
    trained kinds' .keras files carry them) and no training-only state."""
    root, kinds = exported
    model = kinds[name][0]
    checkpoint = root / name / "1" / "variables" / "variables"
    stored = sum(
        int(np.prod(shape))
        for key, shape in tf.train.list_variables(str(checkpoint))
        if key != "_CHECKPOINTABLE_OBJECT_GRAPH"
    )
    weights = sum(int(np.prod(weight.shape)) for weight in model.weights)
    assert stored == weights
    card = json.loads((root / name / "1" / "assets.extra" / "model_card.json").read_text())
    assert card["saved_state"]["values"] == weights
    assert card["saved_state"]["variables_bytes"] > 0


def test_regress_flattens_while_predict_keeps_the_model_shape(exported, kinds_server) -> None:
    """serving_default answers (N, 1) as the model does; the regress signature one value each."""
    _, kinds = exported
    model, arrays = kinds["column_regressor"]
    want = np.asarray(model(arrays["x"], training=False))
    assert want.shape == (ROWS, 1)
    url = f"{kinds_server.rest}/v1/models/column_regressor"
    predicted = requests.post(
        f"{url}:predict", json={"instances": arrays["x"].tolist()}, timeout=60
    ).json()["predictions"]
    np.testing.assert_allclose(predicted, want, rtol=1e-5, atol=1e-5)
    examples = [{"x": row} for row in arrays["x"].tolist()]
    body = {"signature_name": "regress", "examples": examples}
    regressed = requests.post(f"{url}:regress", json=body, timeout=60).json()
    np.testing.assert_allclose(regressed["results"], want[:, 0], rtol=1e-5, atol=1e-5)
