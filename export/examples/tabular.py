"""`tabular`: a breast-cancer classifier with one named input per feature."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.datasets import load_breast_cancer

from export.examples import data
from export.spec import InputSpec, ServingSpec, feature_name


def build(
    seed: int = data.SEED, hidden_units: int = 16, epochs: int = 40, verbose: int = 0
) -> ServingSpec:
    """Train the classifier and describe how to serve it.

    Normalization is a layer inside the graph, adapted on the training split only.
    """
    bunch = load_breast_cancer()
    names = [feature_name(n) for n in bunch.feature_names]
    class_names = [str(n) for n in bunch.target_names]
    x = bunch.data.astype(np.float32)
    splits = data.split(x, bunch.target.astype(np.int64), seed=data.SEED)
    keras.utils.set_random_seed(seed)

    inputs = {n: keras.Input(shape=(), name=n, dtype="float32") for n in names}
    stacked = keras.layers.Concatenate(name="features")(
        [keras.layers.Reshape((1,), name=f"{n}_column")(inputs[n]) for n in names]
    )
    normalizer = keras.layers.Normalization(name="normalize")
    normalizer.adapt(splits.x_train)
    hidden = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(normalizer(stacked))
    hidden = keras.layers.Dropout(0.1, name="dropout")(hidden)
    probabilities = keras.layers.Dense(
        len(class_names), activation="softmax", name="probabilities"
    )(hidden)
    model = keras.Model(inputs, probabilities, name="tabular")
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )

    def columns(matrix: np.ndarray) -> dict[str, np.ndarray]:
        return {n: matrix[:, i] for i, n in enumerate(names)}

    weights = data.class_weights(splits.y_train)
    history = model.fit(
        columns(splits.x_train),
        splits.y_train,
        validation_data=(columns(splits.x_val), splits.y_val),
        epochs=epochs,
        batch_size=32,
        class_weight=weights,
        verbose=verbose,
    )
    test_probabilities = model.predict(columns(splits.x_test), verbose=0)
    card = data.data_card(
        splits,
        names,
        "sklearn.datasets.load_breast_cancer",
        class_balance={
            "train": data.class_balance(splits.y_train, class_names),
            "test": data.class_balance(splits.y_test, class_names),
        },
    )
    card["metrics"] = {"test": data.classification_metrics(splits.y_test, test_probabilities)}
    card["training"] = {
        "seed": seed,
        "epochs": epochs,
        "batch_size": 32,
        "optimizer": "adam",
        "learning_rate": 1e-2,
        "hidden_units": hidden_units,
        "class_weights": {class_names[k]: v for k, v in weights.items()},
        "final_validation_accuracy": float(history.history["val_accuracy"][-1]),
    }
    card["test_labels"] = splits.y_test.tolist()
    return ServingSpec(
        name="tabular",
        model=model,
        inputs=[InputSpec(n, "float32") for n in names],
        task="classifier",
        class_names=class_names,
        examples=columns(splits.x_test),
        card=card,
        tracked={
            "normalization_mean": normalizer.adapt_mean.value,
            "normalization_variance": normalizer.adapt_variance.value,
        },
    )
