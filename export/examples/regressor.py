"""`regressor`: disease progression from scikit-learn's diabetes data."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.datasets import load_diabetes

from export.examples import data, training
from export.spec import InputSpec, ServingSpec, feature_name

OUTPUT = "progression"


def build(seed: int = data.SEED, epochs: int = 150, verbose: int = 0) -> ServingSpec:
    bunch = load_diabetes()
    names = [feature_name(n) for n in bunch.feature_names]
    x = bunch.data.astype(np.float32)
    y = bunch.target.astype(np.float32)
    splits = data.split(x, y, seed=data.SEED, stratify=False)
    keras.utils.set_random_seed(seed)

    inputs, normalized, _ = training.normalized_features(names, splits.x_train)
    hidden = keras.layers.Dense(32, activation="relu", name="hidden")(normalized)
    # The target is in the hundreds: predict it in units of its training mean and std.
    raw = keras.layers.Dense(1, name="scaled")(hidden)
    mean, std = float(splits.y_train.mean()), float(splits.y_train.std())
    rescaled = keras.layers.Rescaling(std, offset=mean, name="rescaled")(raw)
    # One value per example, as the target is: the model answers (N,), and so does serving.
    output = keras.layers.Reshape((), name=OUTPUT)(rescaled)
    model = keras.Model(inputs, output, name="regressor")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", metrics=["mae"])

    def columns(matrix: np.ndarray) -> dict[str, np.ndarray]:
        return training.columns(matrix, names)

    history = model.fit(
        columns(splits.x_train),
        splits.y_train,
        validation_data=(columns(splits.x_val), splits.y_val),
        epochs=epochs,
        batch_size=32,
        verbose=verbose,
        callbacks=[keras.callbacks.EarlyStopping(patience=15, restore_best_weights=True)],
    )
    predicted = model.predict(columns(splits.x_test), verbose=0).reshape(-1)
    card = data.data_card(
        splits, names, "sklearn.datasets.load_diabetes", target={"mean": mean, "std": std}
    )
    card["metrics"] = {"test": data.regression_metrics(splits.y_test, predicted)}
    card["training"] = {
        "seed": seed,
        "epochs_run": len(history.history["loss"]),
        "max_epochs": epochs,
        "batch_size": 32,
        "optimizer": "adam",
        "learning_rate": 1e-2,
        "early_stopping_patience": 15,
    }
    card["test_labels"] = splits.y_test.tolist()
    return ServingSpec(
        name="regressor",
        model=model,
        inputs=[InputSpec(n, "float32") for n in names],
        task="regressor",
        output_names=[OUTPUT],
        examples=columns(splits.x_test),
        reference=columns(splits.x_train),
        card=card,
    )
