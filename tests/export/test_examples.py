"""The exported example models: tree, signatures, warmup, card and the leak check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from export.warmup import read_records, warmup_path
from exported import read_card

VERSIONS = {"tabular": [1, 2], "digits": [1], "regressor": [1]}


def signature_defs(version_dir: Path):
    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((version_dir / "saved_model.pb").read_bytes())
    return saved.meta_graphs[0].signature_def


def test_documented_tree(example_models: Path) -> None:
    for name, versions in VERSIONS.items():
        children = sorted(p.name for p in (example_models / name).iterdir())
        assert children == [str(v) for v in versions], f"{name}: {children}"
        for version in versions:
            root = example_models / name / str(version)
            for part in [
                "saved_model.pb",
                "variables",
                "assets.extra/tf_serving_warmup_requests",
                "assets.extra/model_card.json",
            ]:
                assert (root / part).exists(), f"{root}/{part} missing"


def tensor(info) -> tuple[str, list[int]]:
    return tf.dtypes.as_dtype(info.dtype).name, [d.size for d in info.tensor_shape.dim]


@pytest.mark.parametrize(
    ("model", "signature", "method", "inputs", "outputs"),
    [
        pytest.param(
            "tabular",
            "serving_default",
            "tensorflow/serving/predict",
            {"mean_radius": ("float32", [-1]), "worst_fractal_dimension": ("float32", [-1])},
            {
                "class_ids": ("int64", [-1]),
                "class_names": ("string", [-1]),
                "probabilities": ("float32", [-1, 2]),
            },
            id="tabular-predict",
        ),
        pytest.param(
            "tabular",
            "classify",
            "tensorflow/serving/classify",
            {"inputs": ("string", [-1])},
            {"classes": ("string", [-1, 2]), "scores": ("float32", [-1, 2])},
            id="tabular-classify",
        ),
        pytest.param(
            "digits",
            "serving_default",
            "tensorflow/serving/predict",
            {"image_bytes": ("string", [-1])},
            {
                "class_ids": ("int64", [-1]),
                "class_names": ("string", [-1]),
                "probabilities": ("float32", [-1, 10]),
            },
            id="digits-predict",
        ),
        pytest.param(
            "digits",
            "classify",
            "tensorflow/serving/classify",
            {"inputs": ("string", [-1])},
            {"classes": ("string", [-1, 10]), "scores": ("float32", [-1, 10])},
            id="digits-classify",
        ),
        pytest.param(
            "regressor",
            "serving_default",
            "tensorflow/serving/predict",
            {"age": ("float32", [-1]), "bmi": ("float32", [-1]), "s6": ("float32", [-1])},
            {"progression": ("float32", [-1])},
            id="regressor-predict",
        ),
        pytest.param(
            "regressor",
            "regress",
            "tensorflow/serving/regress",
            {"inputs": ("string", [-1])},
            {"outputs": ("float32", [-1])},
            id="regressor-regress",
        ),
    ],
)
def test_signatures(example_models: Path, model, signature, method, inputs, outputs) -> None:
    sig = signature_defs(example_models / model / "1")[signature]
    assert sig.method_name == method
    got_inputs = {k: tensor(v) for k, v in sig.inputs.items()}
    for name, expected in inputs.items():
        assert got_inputs[name] == expected
    assert {k: tensor(v) for k, v in sig.outputs.items()} == outputs


def test_tabular_has_one_input_per_feature(example_models: Path) -> None:
    from sklearn.datasets import load_breast_cancer

    sig = signature_defs(example_models / "tabular" / "1")["serving_default"]
    assert len(sig.inputs) == len(load_breast_cancer().feature_names) == 30


@pytest.mark.parametrize("model", ["tabular", "digits", "regressor"])
def test_warmup_records_parse_and_run(example_models: Path, model: str) -> None:
    version_dir = example_models / model / "1"
    records = read_records(warmup_path(version_dir))
    assert 0 < len(records) <= 1000
    loaded = tf.saved_model.load(str(version_dir))
    kinds = set()
    for record in records:
        kind = record.WhichOneof("log_type")
        kinds.add(kind)
        if kind == "predict_log":
            request = record.predict_log.request
            assert request.model_spec.name == model
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            out = loaded.signatures["serving_default"](**inputs)
            batch = len(next(iter(inputs.values())))
        else:
            request = getattr(record, kind).request
            examples = [e.SerializeToString() for e in request.input.example_list.examples]
            out = loaded.signatures[request.model_spec.signature_name](inputs=tf.constant(examples))
            batch = len(examples)
        assert all(t.shape[0] == batch for t in out.values())
    expected = {"predict_log", "regress_log" if model == "regressor" else "classify_log"}
    assert kinds == expected


def test_tabular_normalization_uses_training_split_only(example_models: Path) -> None:
    from sklearn.datasets import load_breast_cancer

    from export.examples.data import split

    bunch = load_breast_cancer()
    splits = split(bunch.data.astype(np.float32), bunch.target)
    loaded = tf.saved_model.load(str(example_models / "tabular" / "1"))
    baked = loaded.tracked["normalization_mean"].numpy().reshape(-1)
    np.testing.assert_allclose(baked, splits.x_train.mean(axis=0), rtol=1e-4)
    full = bunch.data.mean(axis=0)
    assert not np.allclose(baked, full, rtol=1e-3), "normalization was adapted on the full data set"
    variance = loaded.tracked["normalization_variance"].numpy().reshape(-1)
    np.testing.assert_allclose(variance, splits.x_train.var(axis=0), rtol=1e-3)


@pytest.mark.parametrize("model", ["tabular", "digits", "regressor"])
def test_model_card(example_models: Path, model: str) -> None:
    card = read_card(example_models / model / "1").data
    assert card["name"] == model and card["version"] == 1
    assert card["data"]["fingerprint"].startswith("sha256:")
    sizes = card["data"]["splits"]
    assert sizes["train"] > sizes["validation"] > 0 and sizes["test"] > 0
    assert set(card["signatures"]) >= {"serving_default"}
    assert card["training"]["seed"] is not None
    assert card["reference_statistics"]
    for stats in card["reference_statistics"].values():
        assert stats["count"] > 0 and stats["min"] <= stats["mean"] <= stats["max"]
        assert sum(stats["histogram"]["counts"]) == stats["count"]
    metrics = card["metrics"]["test"]
    if model == "regressor":
        assert metrics["r2"] > 0.3
    else:
        assert metrics["accuracy"] > 0.85
        assert set(card["data"]["class_balance"]["train"]) == set(card["class_names"])


def test_digits_accepts_any_png(example_models: Path) -> None:
    """Clients send images: an upscaled RGB PNG decodes and classifies like the 8x8 original."""
    from sklearn.datasets import load_digits

    from export.examples.digits import encode_png, to_pixels

    images = to_pixels(load_digits().images[:20])
    small = encode_png(images)
    large = np.array(
        [
            tf.io.encode_png(tf.image.grayscale_to_rgb(tf.repeat(tf.repeat(i, 4, 0), 4, 1))).numpy()
            for i in images
        ],
        dtype=object,
    )
    loaded = tf.saved_model.load(str(example_models / "digits" / "1"))
    predict = loaded.signatures["serving_default"]
    small_ids = predict(image_bytes=tf.constant(list(small)))["class_ids"].numpy()
    large_ids = predict(image_bytes=tf.constant(list(large)))["class_ids"].numpy()
    assert (small_ids == load_digits().target[:20]).mean() >= 0.9
    assert (small_ids == large_ids).mean() >= 0.9
