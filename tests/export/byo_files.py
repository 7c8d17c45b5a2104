"""A small bring-your-own Keras model on disk, and the version folders of an export."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

__all__ = ["keras_file", "versions"]


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory) -> Path:
    """A small two-input classifier saved as .keras, plus held-out examples as .npz."""
    keras.utils.set_random_seed(1)
    size = keras.Input(shape=(), name="size")
    weight = keras.Input(shape=(), name="weight")
    both = keras.layers.Concatenate()(
        [keras.layers.Reshape((1,))(size), keras.layers.Reshape((1,))(weight)]
    )
    out = keras.layers.Dense(3, activation="softmax", name="species")(
        keras.layers.Dense(4, activation="tanh")(both)
    )
    model = keras.Model({"size": size, "weight": weight}, out)
    folder = tmp_path_factory.mktemp("byo")
    model.save(folder / "model.keras")
    rng = np.random.default_rng(0)
    np.savez(
        folder / "examples.npz",
        size=rng.normal(size=16).astype("float32"),
        weight=rng.normal(size=16).astype("float32"),
    )
    return folder / "model.keras"


def versions(base: Path, name: str = "byo") -> list[str]:
    return sorted(p.name for p in (base / name).iterdir()) if (base / name).exists() else []
