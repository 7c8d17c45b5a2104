"""Keras pieces shared by the example models: named feature inputs and classifier training."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from export.examples import data


def columns(matrix: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """A [n, features] matrix as one named column per feature (the serving inputs)."""
    return {name: matrix[:, i] for i, name in enumerate(names)}


def normalized_features(names: list[str], x_train: np.ndarray) -> tuple[dict[str, Any], Any, Any]:
    """One scalar float input per feature, stacked and normalized inside the graph.

    The Normalization layer is adapted on `x_train` only, so no statistic of the validation
    or test split leaks into the model. Returns (inputs, normalized tensor, the layer).
    """
    inputs = {n: keras.Input(shape=(), name=n, dtype="float32") for n in names}
    stacked = keras.layers.Concatenate(name="features")(
        [keras.layers.Reshape((1,), name=f"{n}_column")(inputs[n]) for n in names]
    )
    normalizer = keras.layers.Normalization(name="normalize")
    normalizer.adapt(x_train)
    return inputs, normalizer(stacked), normalizer


def fit_classifier(
    model: keras.Model,
    splits: data.Splits,
    prepare: Callable[[np.ndarray], Any],
    learning_rate: float,
    epochs: int,
    verbose: int,
) -> tuple[dict[str, Any], np.ndarray]:
    """Train with class weights; returns (training facts for the card, test probabilities).

    `prepare` turns a split's x into what the model takes.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    weights = data.class_weights(splits.y_train)
    history = model.fit(
        prepare(splits.x_train),
        splits.y_train,
        validation_data=(prepare(splits.x_val), splits.y_val),
        epochs=epochs,
        batch_size=32,
        class_weight=weights,
        verbose=verbose,
    )
    facts = {
        "epochs": epochs,
        "batch_size": 32,
        "optimizer": "adam",
        "learning_rate": learning_rate,
        "class_weights": weights,
        "final_validation_accuracy": float(history.history["val_accuracy"][-1]),
    }
    return facts, model.predict(prepare(splits.x_test), verbose=0)
