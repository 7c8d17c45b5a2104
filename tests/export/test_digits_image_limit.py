"""The digits serving graph's pixel limit: image headers are read before decoding."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from export.examples.digits import IMAGE_INPUT, MAX_PIXELS, decode_images, image_size


def _png(height: int, width: int) -> bytes:
    return tf.io.encode_png(np.zeros((height, width, 1), np.uint8)).numpy()


def _jpeg(height: int, width: int) -> bytes:
    return tf.io.encode_jpeg(np.zeros((height, width, 1), np.uint8)).numpy()


@tf.function
def _decode(images: tf.Tensor) -> tf.Tensor:
    return decode_images({IMAGE_INPUT: images})


@pytest.mark.parametrize(
    ("data", "size"),
    [
        pytest.param(_png(5, 7), (5, 7), id="png"),
        pytest.param(_jpeg(20, 60), (20, 60), id="jpeg"),
        pytest.param(b"not an image", (0, 0), id="other"),
        pytest.param(_png(5, 7)[:20], (0, 0), id="png-too-short-for-its-header"),
    ],
)
def test_image_size_reads_the_header(data: bytes, size: tuple[int, int]) -> None:
    height, width = image_size(tf.constant(data))
    assert (int(height), int(width)) == size


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_png(1024, 1024), id="png-at-the-limit"),
        pytest.param(_png(28, 20), id="small-png"),
        pytest.param(_jpeg(1024, 1024), id="jpeg-at-the-limit"),
    ],
)
def test_images_up_to_the_limit_decode(data: bytes) -> None:
    assert MAX_PIXELS == 1024 * 1024
    assert _decode(tf.constant([data])).shape == (1, 8, 8, 1)


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        pytest.param(_png(1025, 1024), "1025x1024", id="png-one-row-over"),
        pytest.param(_png(2, 600_000), "2x600000", id="png-two-long-rows"),
        pytest.param(_jpeg(2000, 600), "2000x600", id="jpeg"),
    ],
)
def test_images_over_the_limit_are_invalid_argument(data: bytes, shown: str) -> None:
    with pytest.raises(tf.errors.InvalidArgumentError) as caught:
        _decode(tf.constant([_png(5, 5), data]))
    assert (
        f"{IMAGE_INPUT} holds an image of {shown} pixels (height x width); this model decodes "
        f"images of at most {MAX_PIXELS} pixels"
    ) in caught.value.message


def test_a_forged_header_is_refused_before_decoding() -> None:
    """A PNG whose IHDR claims 2^31 x 2^31 pixels (the product overflows nothing)."""
    data = bytearray(_png(4, 4))
    data[16:24] = (2**31).to_bytes(4, "big") * 2
    with pytest.raises(tf.errors.InvalidArgumentError) as caught:
        _decode(tf.constant([bytes(data)]))
    assert "holds an image of 2147483648x2147483648 pixels" in caught.value.message
