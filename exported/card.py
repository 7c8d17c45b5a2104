"""A version's model card (assets.extra/model_card.json), read without TensorFlow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exported.errors import ExportedError
from exported.layout import card_path

__all__ = ["ModelCard", "find_card", "read_card"]


@dataclass(frozen=True)
class ModelCard:
    """The card's JSON object (`data`) and the fields readers share, checked as they are read.

    Each property raises ExportedError (naming the card) when its field has the wrong type.
    """

    path: Path
    data: dict[str, Any]

    @property
    def version_dir(self) -> Path:
        """The version folder the card describes."""
        return self.path.parent.parent

    @property
    def name(self) -> str:
        """The model's name: the card's, else the model folder's."""
        return str(self.data.get("name", self.version_dir.parent.name))

    @property
    def version(self) -> int:
        """The version number: the card's, else the version folder's."""
        try:
            return int(self.data.get("version", self.version_dir.name))
        except (TypeError, ValueError) as err:
            raise ExportedError(f"{self.path} names no integer version") from err

    @property
    def task(self) -> str | None:
        """The task, e.g. "classifier", "regressor" or "generic" (None: the card names none)."""
        task = self.data.get("task")
        return None if task is None else str(task)

    @property
    def class_names(self) -> list[str] | None:
        """A classifier's class names, in class id order (None: none, or an empty list)."""
        names = self.data.get("class_names")
        if names is None:
            return None
        if not isinstance(names, list):
            raise ExportedError(f"{self.path}: class_names must be a list")
        return [str(n) for n in names] or None

    @property
    def test_metrics(self) -> dict[str, float]:
        """metrics.test: each metric measured on the held-out test split (empty: none)."""
        metrics = self.data.get("metrics", {})
        test = metrics.get("test", {}) if isinstance(metrics, dict) else None
        if not isinstance(test, dict) or not all(isinstance(v, int | float) for v in test.values()):
            raise ExportedError(f"{self.path}: metrics.test must map metric names to numbers")
        return {str(k): float(v) for k, v in test.items()}

    @property
    def test_labels(self) -> list[Any] | None:
        """The label of each row of the test split, in its order (None: the card has none)."""
        labels = self.data.get("test_labels")
        if labels is not None and not isinstance(labels, list):
            raise ExportedError(f"{self.path}: test_labels must be a list")
        return labels


def find_card(version_dir: Path) -> ModelCard | None:
    """The version's card, or None when it has no card file.

    Raises:
        ExportedError: the card file is not a readable JSON object.
    """
    path = card_path(version_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ExportedError(f"cannot read the model card {path}: {err}") from err
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ExportedError(f"{path} is not a readable JSON model card: {err}") from err
    if not isinstance(data, dict):
        raise ExportedError(f"{path} is not a JSON object")
    return ModelCard(path, data)


def read_card(version_dir: Path) -> ModelCard:
    """The version's card.

    Raises:
        ExportedError: the card is missing ("missing" and its path in the message), or it is
            not a readable JSON object.
    """
    card = find_card(version_dir)
    if card is None:
        raise ExportedError(f"{card_path(version_dir)} is missing: not an exported version")
    return card
