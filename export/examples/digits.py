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


def to_pixels(images: np.ndarray) -> np.ndarray:
    """0..16 intensities -> uint8 grayscale pixels, shape [n, 8, 8, 1]."""
    pixels = np.rint(images.reshape(-1, SIDE, SIDE, 1) * (255.0 / DIGITS_MAX))
    return pixels.astype(np.uint8)


def encode_png(pixels: np.ndarray) -> np.ndarray:
    """uint8 images [n, h, w, 1] -> object array of PNG bytes."""
    return np.array([tf.io.encode_png(image).numpy() for image in pixels], dtype=object)


def decode_images(features: dict[str, tf.Tensor]) -> tf.Tensor:
    """PNG bytes [batch] -> float images [batch, 8, 8, 1] in 0..1, any size or colour accepted."""

    def decode_one(png: tf.Tensor) -> tf.Tensor:
        image = tf.io.decode_png(png, channels=1)
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
        image={"height": SIDE, "width": SIDE, "channels": 1, "encoding": "png"},
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
