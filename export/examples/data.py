"""Splits, class weights and reference statistics shared by the example models."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from export.card import data_fingerprint, feature_statistics

SEED = 20261127


@dataclasses.dataclass
class Splits:
    """Train / validation / test arrays (the test split is used once, for reported metrics)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}


def split(x: np.ndarray, y: np.ndarray, seed: int = SEED, stratify: bool = True) -> Splits:
    """60 / 20 / 20 split with a fixed seed, stratified by class for classifiers."""
    x_train, x_rest, y_train, y_rest = train_test_split(
        x, y, test_size=0.4, random_state=seed, stratify=y if stratify else None
    )
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=0.5, random_state=seed, stratify=y_rest if stratify else None
    )
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test)


def class_weights(y: np.ndarray) -> dict[int, float]:
    """Inverse-frequency weights (sklearn's "balanced" rule) so each class counts equally."""
    classes, counts = np.unique(y, return_counts=True)
    weights = len(y) / (len(classes) * counts)
    return {int(c): float(w) for c, w in zip(classes, weights, strict=True)}


def class_balance(y: np.ndarray, names: list[str]) -> dict[str, int]:
    classes, counts = np.unique(y, return_counts=True)
    return {names[int(c)]: int(n) for c, n in zip(classes, counts, strict=True)}


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    predicted = probabilities.argmax(axis=1)
    return {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "f1_macro": float(f1_score(y_true, predicted, average="macro")),
        "log_loss": float(
            log_loss(y_true, probabilities, labels=list(range(probabilities.shape[1])))
        ),
    }


def regression_metrics(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "mae": float(mean_absolute_error(y_true, predicted)),
        "rmse": float(np.sqrt(mean_squared_error(y_true, predicted))),
        "r2": float(r2_score(y_true, predicted)),
    }


def data_card(
    splits: Splits, feature_names: list[str], source: str, **extra: Any
) -> dict[str, Any]:
    """The data half of a model card: source, split sizes, fingerprint, reference statistics."""
    x_train = splits.x_train.reshape(len(splits.x_train), -1)
    reference = (
        {n: feature_statistics(x_train[:, i]) for i, n in enumerate(feature_names)}
        if x_train.shape[1] == len(feature_names)
        else {feature_names[0]: feature_statistics(x_train)}
    )
    return {
        "data": {
            "source": source,
            "splits": splits.sizes(),
            "split_seed": SEED,
            "fingerprint": data_fingerprint(
                splits.x_train,
                splits.y_train,
                splits.x_val,
                splits.y_val,
                splits.x_test,
                splits.y_test,
            ),
            **extra,
        },
        "reference_statistics": reference,
    }
