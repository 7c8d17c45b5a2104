"""`tabular`: a breast-cancer classifier with one named input per feature."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.datasets import load_breast_cancer

from export.examples import data, training
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

    inputs, normalized, normalizer = training.normalized_features(names, splits.x_train)
    hidden = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(normalized)
    hidden = keras.layers.Dropout(0.1, name="dropout")(hidden)
    probabilities = keras.layers.Dense(
        len(class_names), activation="softmax", name="probabilities"
    )(hidden)
    model = keras.Model(inputs, probabilities, name="tabular")
    facts, test_probabilities = training.fit_classifier(
        model, splits, lambda x: training.columns(x, names), 1e-2, epochs, verbose
    )
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
    weights = {class_names[k]: v for k, v in facts.pop("class_weights").items()}
    card["training"] = {
        "seed": seed,
        "hidden_units": hidden_units,
        "class_weights": weights,
        **facts,
    }
    card["test_labels"] = splits.y_test.tolist()
    return ServingSpec(
        name="tabular",
        model=model,
        inputs=[InputSpec(n, "float32") for n in names],
        task="classifier",
        class_names=class_names,
        examples=training.columns(splits.x_test, names),
        reference=training.columns(splits.x_train, names),
        card=card,
        tracked={
            "normalization_mean": normalizer.adapt_mean.value,
            "normalization_variance": normalizer.adapt_variance.value,
        },
    )
