"""What drift and accuracy checks compare with: an exported version's reference data, read by
the exported package (card, training sample, test split) without TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from exported import ExportedError as ReferenceError  # the name monitoring's callers catch
from exported import held_out_path, read_card, read_reference_sample, read_test_split

__all__ = ["ModelReference", "ReferenceError", "load_reference"]

SERVING_DEFAULT = "serving_default"


@dataclass(frozen=True)
class ModelReference:
    """What drift and accuracy checks compare live traffic with, for one exported version.

    `train_sample` and `test_inputs` are serving_default inputs (name -> array, batch first);
    `test_labels` holds the label of each test row, in the same order. `train_outputs` holds
    the model's serving_default outputs on the training sample (empty for exports that did not
    store them), the reference for prediction drift.
    """

    name: str
    version: int
    version_dir: Path
    card: dict[str, Any]
    task: str
    class_names: list[str] | None
    signature: str
    train_sample: dict[str, np.ndarray]
    test_inputs: dict[str, np.ndarray]
    test_labels: np.ndarray
    test_metrics: dict[str, float]
    train_outputs: dict[str, np.ndarray] = field(default_factory=dict)

    def num_test_rows(self) -> int:
        return len(next(iter(self.test_inputs.values())))


def load_reference(version_dir: Path) -> ModelReference:
    """Read the card, training sample and test split of one exported version.

    Raises:
        ReferenceError: (exported.ExportedError) a file is missing or corrupt (the message
            names it), or the test labels do not match the test split.
    """
    version_dir = Path(version_dir)
    card = read_card(version_dir)
    train_sample, train_outputs = read_reference_sample(version_dir)
    test_inputs = read_test_split(version_dir)
    test_rows = len(next(iter(test_inputs.values())))
    labels = card.test_labels
    if labels is not None and len(labels) != test_rows:
        raise ReferenceError(
            f"{card.path} has {len(labels)} test_labels for {test_rows} rows"
            f" in {held_out_path(version_dir)}"
        )
    return ModelReference(
        name=card.name,
        version=card.version,
        version_dir=version_dir,
        card=card.data,
        task=card.task or "generic",
        class_names=card.class_names,
        signature=SERVING_DEFAULT,
        train_sample=train_sample,
        test_inputs=test_inputs,
        test_labels=np.asarray(labels if labels is not None else []),
        test_metrics=card.test_metrics,
        train_outputs=train_outputs,
    )
