"""The exported example models through both clients: PNG images to digits, classify and regress."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from export.spec import feature_name

ROWS = 12


def png(pixels: np.ndarray) -> bytes:
    """A grayscale 8-bit PNG of a 2-D uint8 array (each row with filter type 0)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    height, width = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    scanlines = b"".join(b"\x00" + row.tobytes() for row in pixels.astype(np.uint8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def digit_images() -> tuple[list[bytes], np.ndarray]:
    bunch = load_digits()
    pixels = np.rint(bunch.images[:ROWS] * (255.0 / 16.0)).astype(np.uint8)
    return [png(image) for image in pixels], bunch.target[:ROWS]


def test_png_images_to_digits(client, digit_images) -> None:
    images, labels = digit_images
    outputs = client.predict("digits", {"image_bytes": images})
    assert outputs["probabilities"].shape == (ROWS, 10)
    assert outputs["class_ids"].dtype == np.int64
    correct = np.mean(outputs["class_ids"] == labels)
    assert correct >= 0.8, f"{correct:.0%} of digits recognised"
    assert outputs["class_names"].tolist() == [str(c).encode() for c in outputs["class_ids"]]


def test_classify_digits_from_png_examples(client, digit_images) -> None:
    images, labels = digit_images
    examples = [{"image_bytes": image} for image in images]
    results = client.classify("digits", examples, signature="classify")
    best = [max(pairs, key=lambda pair: pair[1])[0] for pairs in results]
    assert np.mean([b == str(label) for b, label in zip(best, labels, strict=True)]) >= 0.8
    assert {label for label, _ in results[0]} == {str(n) for n in range(10)}


def _columns(bunch) -> dict[str, np.ndarray]:
    names = [feature_name(n) for n in bunch.feature_names]
    data = bunch.data[:ROWS].astype(np.float32)
    return {name: data[:, i] for i, name in enumerate(names)}


def test_tabular_classify_matches_predict(client) -> None:
    columns = _columns(load_breast_cancer())
    probabilities = client.predict("tabular", columns, version=1)["probabilities"]
    examples = [{name: float(values[i]) for name, values in columns.items()} for i in range(ROWS)]
    results = client.classify("tabular", examples, version=1, signature="classify")
    scores = np.array([[score for _, score in pairs] for pairs in results])
    np.testing.assert_allclose(scores, probabilities, rtol=1e-5, atol=1e-6)
    assert [label for label, _ in results[0]] == ["malignant", "benign"]


def test_regressor_regress_matches_predict(client) -> None:
    columns = _columns(load_diabetes())
    progression = client.predict("regressor", columns)["progression"]
    examples = [{name: float(values[i]) for name, values in columns.items()} for i in range(ROWS)]
    values = client.regress("regressor", examples, signature="regress")
    np.testing.assert_allclose(values, progression, rtol=1e-5)
    assert 20 < float(np.mean(values)) < 350  # disease progression, roughly the target's range
