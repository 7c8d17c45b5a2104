"""The model card of each logged version: the task, the class names and the test metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CardError", "CardIndex", "VersionCard"]

CARD_PATH = Path("assets.extra") / "model_card.json"
TASKS = ("classifier", "regressor")


class CardError(ValueError):
    """A model card exists but cannot be read or lacks what the judgement needs."""


@dataclass(frozen=True)
class VersionCard:
    """What accuracy monitoring takes from a card (`path` None: no card was found)."""

    task: str | None
    class_names: list[str] | None
    test_metrics: dict[str, float]
    path: Path | None


class CardIndex:
    """Cards under models_root/<model>/<version>/assets.extra/model_card.json, read once each."""

    def __init__(self, models_root: Path) -> None:
        self.models_root = Path(models_root)
        self._cards: dict[tuple[str, int | None], VersionCard] = {}

    def card(self, model: str, version: int | None) -> VersionCard:
        """The version's card, or an empty one (no task, no metrics) when there is none.

        Raises:
            CardError: the card file is not JSON, or has an unknown task or bad metrics.
        """
        key = (model, version)
        if key not in self._cards:
            self._cards[key] = self._read(model, version)
        return self._cards[key]

    def _read(self, model: str, version: int | None) -> VersionCard:
        if version is None:
            return VersionCard(None, None, {}, None)
        path = self.models_root / model / str(version) / CARD_PATH
        if not path.is_file():
            return VersionCard(None, None, {}, None)
        try:
            card: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise CardError(f"cannot read the model card {path}: {err}") from err
        task = card.get("task")
        if task not in TASKS:
            raise CardError(f"{path}: task must be one of {', '.join(TASKS)}, not {task!r}")
        metrics = card.get("metrics", {}).get("test", {})
        if not isinstance(metrics, dict) or not all(
            isinstance(v, int | float) for v in metrics.values()
        ):
            raise CardError(f"{path}: metrics.test must map metric names to numbers")
        names = card.get("class_names")
        return VersionCard(task, [str(n) for n in names] if names else None, dict(metrics), path)
