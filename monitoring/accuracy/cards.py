"""The model card of each logged version: the task, the class names and the test metrics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from exported import ExportedError, find_card, version_path

__all__ = ["CardError", "CardIndex", "VersionCard"]

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
        try:
            card = find_card(version_path(self.models_root, model, version))
            if card is None:
                return VersionCard(None, None, {}, None)
            task, class_names, metrics = card.task, card.class_names, card.test_metrics
        except ExportedError as err:
            raise CardError(str(err)) from err
        if task not in TASKS:
            raise CardError(f"{card.path}: task must be one of {', '.join(TASKS)}, not {task!r}")
        return VersionCard(task, class_names, metrics, card.path)
