"""Payloads: warmup records read without TensorFlow equal what TensorFlow reads; inputs generated
from a signature have its names, dtypes and shapes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from clients.spec import ModelTarget
from exported import version_path, warmup_path
from loadtest.generated import generated_inputs, input_shape
from loadtest.heldout import held_out_examples
from loadtest.payloads import build_workload
from loadtest.served import describe_served_model
from loadtest.settings import LoadSettings
from wire.tensors import make_ndarray
from wire.tfrecord import masked_crc32c, read_tfrecords

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MODELS = [pytest.param(m, id=m) for m in ("tabular", "digits", "regressor")]


def _tf_records(path: Path) -> list:
    import tensorflow as tf  # the reference reader, in tests only

    return list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())


@pytest.mark.parametrize("model", MODELS)
def test_tfrecord_framing_matches_tensorflow(example_models, model) -> None:
    path = warmup_path(version_path(example_models, model, 1))
    assert list(read_tfrecords(path)) == _tf_records(path)


@pytest.mark.parametrize("model", MODELS)
def test_held_out_inputs_equal_what_tensorflow_reads(example_models, model) -> None:
    import tensorflow as tf

    from export.warmup import read_records

    directory = version_path(example_models, model, 1)
    logs = [r.predict_log.request for r in read_records(warmup_path(directory))]
    logs = [r for r in logs if r.inputs]
    expected = {
        name: np.concatenate([tf.make_ndarray(r.inputs[name]) for r in logs])
        for name in logs[0].inputs
    }
    held_out = held_out_examples(directory)
    assert held_out.kind == "predict"
    assert held_out.rows == len(next(iter(expected.values())))
    assert sorted(held_out.inputs) == sorted(expected)
    for name, array in expected.items():
        assert held_out.inputs[name].dtype == array.dtype or array.dtype == object
        assert held_out.inputs[name].tolist() == array.tolist(), name
    card = json.loads((directory / "assets.extra" / "model_card.json").read_text())
    assert held_out.labels == card["test_labels"][: held_out.rows]


def test_classify_examples_equal_what_tensorflow_reads(example_models) -> None:
    from export.warmup import read_records

    directory = version_path(example_models, "tabular", 1)
    expected = [
        {name: list(f.float_list.value) for name, f in example.features.feature.items()}
        for record in read_records(warmup_path(directory))
        if record.WhichOneof("log_type") == "classify_log"
        for example in record.classify_log.request.input.example_list.examples
    ]
    held_out = held_out_examples(directory, "classify")
    assert held_out.kind == "classify"
    assert held_out.examples == expected


def test_a_corrupt_warmup_file_is_refused(example_models, tmp_path) -> None:
    data = warmup_path(version_path(example_models, "tabular", 1)).read_bytes()
    flipped = bytearray(data)
    flipped[40] ^= 0xFF
    broken = tmp_path / "broken"
    broken.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="record 0 fails its checksum"):
        list(read_tfrecords(broken))
    broken.write_bytes(data[:-3])
    with pytest.raises(ValueError, match="truncated"):
        list(read_tfrecords(broken))


def test_masked_crc32c_matches_the_published_check_value() -> None:
    # CRC-32C("123456789") is 0xE3069283; TFRecord masks it as ((c >> 15 | c << 17) + 0xA282EAD8).
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


SIGNATURE = {
    "inputs": {
        "x": {"dtype": "DT_FLOAT", "shape": [-1, 3]},
        "ids": {"dtype": "DT_INT64", "shape": [-1]},
        "mask": {"dtype": "DT_BOOL", "shape": [-1, -1]},
        "image": {"dtype": "DT_STRING", "shape": [-1]},
        "anything": {"dtype": "DT_DOUBLE", "shape": None},
        "fixed": {"dtype": "DT_INT32", "shape": [2, 2]},
    },
    "outputs": {},
    "method_name": "tensorflow/serving/predict",
}


def test_generated_inputs_follow_the_signature() -> None:
    inputs = generated_inputs(SIGNATURE, batch_size=5)
    assert sorted(inputs) == sorted(SIGNATURE["inputs"])
    expected = {
        "x": (np.float32, (5, 3)),
        "ids": (np.int64, (5,)),
        "mask": (np.bool_, (5, 1)),
        "image": (object, (5,)),
        "anything": (np.float64, (5,)),
        "fixed": (np.int32, (2, 2)),
    }
    for name, (dtype, shape) in expected.items():
        assert inputs[name].dtype == np.dtype(dtype), name
        assert inputs[name].shape == shape, name
    assert all(png.startswith(PNG_MAGIC) for png in inputs["image"])
    assert input_shape([], 5) == ()


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_metadata_payloads_are_built_from_the_served_signature(example_server, transport) -> None:
    host = example_server.grpc if transport == "grpc" else example_server.rest
    settings = LoadSettings(
        model="digits", transport=transport, host=host, payload="metadata", batch_size=3
    )
    served = describe_served_model(transport, host, ModelTarget("digits"))
    workload = build_workload(settings, served)
    assert workload.kind == "predict" and workload.served_version == 1
    batch = workload.batches[0]
    if transport == "grpc":
        tensor = batch.grpc_request.inputs["image_bytes"]
        assert list(batch.grpc_request.inputs) == ["image_bytes"]
        images = make_ndarray(tensor)
    else:
        body = json.loads(batch.rest_body)
        assert list(body["inputs"]) == ["image_bytes"]
        images = [base64.b64decode(item["b64"]) for item in body["inputs"]["image_bytes"]]
    assert len(images) == 3 and all(bytes(png).startswith(PNG_MAGIC) for png in images)


def test_warmup_payloads_are_rebatched(example_server, example_models) -> None:
    settings = LoadSettings(
        model="tabular", host=example_server.rest, models_root=example_models, batch_size=4
    )
    served = describe_served_model("rest", example_server.rest, ModelTarget("tabular"))
    workload = build_workload(settings, served)
    assert [b.rows for b in workload.batches] == [4, 4, 4, 4]  # 15 rows, the last wraps around
    body = json.loads(workload.batches[0].rest_body)
    assert len(body["inputs"]) == 30
    assert all(len(values) == 4 for values in body["inputs"].values())
    held_out = held_out_examples(version_path(example_models, "tabular", served.version))
    assert body["inputs"]["mean_radius"] == held_out.inputs["mean_radius"][:4].tolist()
