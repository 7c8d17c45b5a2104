"""Join labels to logged predictions by (request id, row), per model version and UTC day."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from monitoring.accuracy.cards import CardIndex, VersionCard
from monitoring.accuracy.labels import LabelSet
from requestlog import LoggedCall, read_request_logs

__all__ = ["JoinResult", "LabelValueError", "join_labels", "logged_answers"]

logger = logging.getLogger(__name__)

CLASS_ID_OUTPUT = "class_ids"
SCORE_OUTPUTS = ("probabilities", "scores")
GroupKey = tuple[str, int | None]  # (model, version)


class LabelValueError(ValueError):
    """A label is not a known class or not a number, or a logged call has no usable answer."""


@dataclass
class JoinResult:
    """Joined (truth, answer) pairs per (model, version) and day, and what could not join.

    `unlabelled`: logged rows with no label (not counted as wrong). `unmatched_labels`: labels
    whose (request id, row) no log holds. `repeated_calls`: calls logged again under a request
    id already seen (the first is kept).
    """

    truth: dict[GroupKey, dict[str, list[float]]] = field(default_factory=dict)
    answers: dict[GroupKey, dict[str, list[float]]] = field(default_factory=dict)
    tasks: dict[GroupKey, str] = field(default_factory=dict)
    unlabelled: Counter[GroupKey] = field(default_factory=Counter)
    logged_rows: Counter[GroupKey] = field(default_factory=Counter)
    unmatched_labels: int = 0
    repeated_calls: int = 0

    def add(self, key: GroupKey, day: str, truth: float, answer: float) -> None:
        self.truth.setdefault(key, {}).setdefault(day, []).append(truth)
        self.answers.setdefault(key, {}).setdefault(day, []).append(answer)


def _task(call: LoggedCall, card: VersionCard) -> str:
    if card.task:
        return card.task
    if call.kind == "classify" or CLASS_ID_OUTPUT in call.outputs:
        return "classifier"
    return "regressor"


def _class_index(name: str, card: VersionCard, what: str) -> int:
    if card.class_names and name in card.class_names:
        return card.class_names.index(name)
    try:
        return int(name)
    except ValueError as err:
        known = f" (classes: {', '.join(card.class_names)})" if card.class_names else ""
        raise LabelValueError(f"{what} {name!r} is not a class index or name{known}") from err


def logged_answers(call: LoggedCall, task: str, card: VersionCard) -> np.ndarray:
    """One answer per row of a logged call: a class index (classifier) or a value (regressor).

    Raises:
        LabelValueError: the call's outputs hold no class ids, scores or single value per row.
    """
    outputs = call.outputs
    if task == "classifier":
        if call.kind == "classify":
            names = [
                row[int(np.argmax(s))]
                for row, s in zip(outputs["classes"], outputs["scores"], strict=True)
            ]
            return np.asarray(
                [
                    _class_index(n.decode() if isinstance(n, bytes) else str(n), card, "class")
                    for n in names
                ]
            )
        if CLASS_ID_OUTPUT in outputs:
            return np.asarray(outputs[CLASS_ID_OUTPUT]).reshape(-1)
        for name in SCORE_OUTPUTS:
            if name in outputs and np.asarray(outputs[name]).ndim == 2:
                best: np.ndarray = np.asarray(outputs[name]).argmax(axis=1)
                return best
    else:
        numeric = [n for n in sorted(outputs) if np.asarray(outputs[n]).dtype.kind in "iuf"]
        if len(numeric) == 1:
            return np.asarray(outputs[numeric[0]], dtype=np.float64).reshape(-1)
    raise LabelValueError(
        f"request {call.request_id}: no {task} answer among the outputs {sorted(outputs)}"
    )


def _truth(text: str, task: str, card: VersionCard, key: tuple[str, int]) -> float:
    what = f"label of request {key[0]} row {key[1]}:"
    if task == "classifier":
        try:
            return float(_class_index(text, card, what))
        except LabelValueError as err:
            if card.path is None:
                raise LabelValueError(f"{err} (no model card under the models root)") from err
            raise
    try:
        return float(text)
    except ValueError as err:
        raise LabelValueError(f"{what} {text!r} is not a number") from err


def utc_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def join_labels(logs: Path, labels: LabelSet, cards: CardIndex) -> JoinResult:
    """Every logged row with a label, grouped by (model, version) and the call's UTC day.

    Raises:
        FileNotFoundError, OSError, ValueError: the logs cannot be read (read_request_logs).
        LabelValueError: a label or a logged answer cannot be interpreted.
        CardError: a model card cannot be read.
    """
    result = JoinResult()
    seen: set[str] = set()
    used: set[tuple[str, int]] = set()
    for call in read_request_logs(logs):
        if call.request_id in seen:
            result.repeated_calls += 1
            continue
        seen.add(call.request_id)
        card = cards.card(call.model, call.version)
        task = _task(call, card)
        group = (call.model, call.version)
        result.tasks.setdefault(group, task)
        answers = logged_answers(call, task, card)
        day = utc_day(call.timestamp)
        result.logged_rows[group] += len(answers)
        for row, answer in enumerate(answers):
            key = (call.request_id, row)
            if key not in labels.labels:
                result.unlabelled[group] += 1
                continue
            used.add(key)
            result.add(group, day, _truth(labels.labels[key], task, card, key), float(answer))
    result.unmatched_labels = len(labels.labels.keys() - used)
    if result.repeated_calls:
        logger.warning("%d call(s) logged again under a known request id", result.repeated_calls)
    return result
