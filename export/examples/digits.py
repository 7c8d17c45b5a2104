"""`digits`: an image classifier whose signature takes encoded PNG bytes and decodes in-graph."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

from export.examples import data, training
from export.reference_data import sample_rows
from export.spec import InputSpec, ServingSpec

IMAGE_INPUT = "image_bytes"
SIDE = 8
DIGITS_MAX = 16.0  # scikit-learn's digits are 8x8 intensities in 0..16
# The largest image the serving graph decodes: its header is read first and a bigger image is
# refused (InvalidArgument) before any pixel is decoded, so a small compressed file cannot make
# the server allocate hundreds of MiB. 1024x1024 leaves room for photos of a digit.
MAX_PIXELS = 1024 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8"


def to_pixels(images: np.ndarray) -> np.ndarray:
    """0..16 intensities -> uint8 grayscale pixels, shape [n, 8, 8, 1]."""
    pixels = np.rint(images.reshape(-1, SIDE, SIDE, 1) * (255.0 / DIGITS_MAX))
    return pixels.astype(np.uint8)


def encode_png(pixels: np.ndarray) -> np.ndarray:
    """uint8 images [n, h, w, 1] -> object array of PNG bytes."""
    return np.array([tf.io.encode_png(image).numpy() for image in pixels], dtype=object)


def _big_endian(data: tf.Tensor, start: int) -> tf.Tensor:
    """The unsigned 32-bit big-endian number at byte `start` of a string scalar, as int64."""
    raw = tf.cast(tf.io.decode_raw(tf.strings.substr(data, start, 4), tf.uint8), tf.int64)
    return tf.reduce_sum(raw * tf.constant([1 << 24, 1 << 16, 1 << 8, 1], tf.int64))


def image_size(data: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(height, width) from a PNG's IHDR chunk or a JPEG's frame header, without decoding.

    Anything else, or a PNG too short to hold its header, gives (0, 0): decode_png then
    refuses it with its own message.
    """
    is_png = tf.logical_and(
        tf.strings.length(data) >= 24, tf.equal(tf.strings.substr(data, 0, 8), _PNG_SIGNATURE)
    )
    is_jpeg = tf.equal(tf.strings.substr(data, 0, 2), _JPEG_SIGNATURE)
    zero = tf.constant(0, tf.int64)

    def png() -> tuple[tf.Tensor, tf.Tensor]:
        return _big_endian(data, 20), _big_endian(data, 16)

    def jpeg() -> tuple[tf.Tensor, tf.Tensor]:
        shape = tf.image.extract_jpeg_shape(data, output_type=tf.int64)
        return shape[0], shape[1]

    def other() -> tuple[tf.Tensor, tf.Tensor]:
        size: tuple[tf.Tensor, tf.Tensor] = tf.cond(is_jpeg, jpeg, lambda: (zero, zero))
        return size

    size: tuple[tf.Tensor, tf.Tensor] = tf.cond(is_png, png, other)
    return size


def check_image_size(data: tf.Tensor) -> tf.Tensor:
    """The image bytes, once their header says the image has at most MAX_PIXELS pixels.

    Raises (when the graph runs):
        InvalidArgumentError: naming the input, the image's size and the limit.
    """
    height, width = image_size(data)
    # Each side is checked first: the product of two 32-bit sides could overflow int64.
    fits = tf.logical_and(
        tf.logical_and(height <= MAX_PIXELS, width <= MAX_PIXELS), height * width <= MAX_PIXELS
    )
    message = tf.strings.format(
        f"{IMAGE_INPUT} holds an image of {{}}x{{}} pixels (height x width); this model "
        f"decodes images of at most {MAX_PIXELS} pixels",
        (height, width),
    )
    with tf.control_dependencies([tf.debugging.Assert(fits, [message])]):
        return tf.identity(data)


def decode_images(features: dict[str, tf.Tensor]) -> tf.Tensor:
    """PNG (or JPEG) bytes [batch] -> float images [batch, 8, 8, 1] in 0..1, any size or colour
    accepted up to MAX_PIXELS pixels."""

    def decode_one(png: tf.Tensor) -> tf.Tensor:
        image = tf.io.decode_png(check_image_size(png), channels=1)
        image = tf.image.resize(tf.cast(image, tf.float32), [SIDE, SIDE])
        return image / 255.0

    return tf.map_fn(
        decode_one,
        features[IMAGE_INPUT],
        fn_output_signature=tf.TensorSpec([SIDE, SIDE, 1], tf.float32),
    )


def build(seed: int = data.SEED, epochs: int = 25, verbose: int = 0) -> ServingSpec:
    bunch = load_digits()
    class_names = [str(n) for n in bunch.target_names]
    pixels = to_pixels(bunch.images)
    splits = data.split(pixels, bunch.target.astype(np.int64), seed=data.SEED)
    keras.utils.set_random_seed(seed)

    def scaled(batch: np.ndarray) -> np.ndarray:
        return batch.astype(np.float32) / 255.0

    model = keras.Sequential(
        [
            keras.Input(shape=(SIDE, SIDE, 1), name="image"),
            keras.layers.Conv2D(16, 3, activation="relu", padding="same", name="conv"),
            keras.layers.MaxPooling2D(2, name="pool"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(64, activation="relu", name="hidden"),
            keras.layers.Dense(len(class_names), activation="softmax", name="probabilities"),
        ],
        name="digits",
    )
    facts, test_probabilities = training.fit_classifier(
        model, splits, scaled, 3e-3, epochs, verbose
    )
    card = data.data_card(
        splits,
        [IMAGE_INPUT],
        "sklearn.datasets.load_digits",
        image={
            "height": SIDE,
            "width": SIDE,
            "channels": 1,
            "encoding": "png",
            "max_pixels": MAX_PIXELS,
        },
        class_balance={"train": data.class_balance(splits.y_train, class_names)},
    )
    card["metrics"] = {"test": data.classification_metrics(splits.y_test, test_probabilities)}
    weights = {class_names[k]: v for k, v in facts.pop("class_weights").items()}
    card["training"] = {"seed": seed, "class_weights": weights, **facts}
    card["test_labels"] = splits.y_test.tolist()
    return ServingSpec(
        name="digits",
        model=model,
        inputs=[InputSpec(IMAGE_INPUT, "string")],
        task="classifier",
        class_names=class_names,
        preprocess=decode_images,
        examples={IMAGE_INPUT: encode_png(splits.x_test)},
        reference={IMAGE_INPUT: encode_png(sample_rows({"x": splits.x_train})["x"])},
        card=card,
    )
