"""Per version and per UTC day: labelled rows, metrics against the card, and the verdict."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitoring.accuracy.cards import CardIndex
from monitoring.accuracy.join import JoinResult
from monitoring.accuracy.labels import LabelSet
from monitoring.accuracy.metrics import Judgement, judge, quality_metrics

__all__ = ["AccuracyReport", "GroupReport", "build_report"]

ALL_DAYS = "all days"
OK, DEGRADED, INSUFFICIENT, NO_BASELINE = "ok", "DEGRADED", "insufficient data", "no baseline"


@dataclass(frozen=True)
class GroupReport:
    """One model version over all days, or over one UTC day."""

    model: str
    version: int | None
    period: str
    task: str
    labelled: int
    status: str
    judgements: list[Judgement]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "period": self.period,
            "task": self.task,
            "labelled": self.labelled,
            "status": self.status,
            "metrics": {
                j.metric: {
                    "value": j.value,
                    "baseline": j.baseline,
                    "tolerance": j.tolerance.describe(),
                    "degraded": j.degraded,
                }
                for j in self.judgements
            },
        }


@dataclass
class AccuracyReport:
    """Every group, and the counts of what did not join."""

    groups: list[GroupReport]
    counts: dict[str, int]
    conflicts: list[tuple[str, int]] = field(default_factory=list)

    @property
    def degraded(self) -> list[GroupReport]:
        return [group for group in self.groups if group.status == DEGRADED]

    def text(self) -> str:
        header = f"{'model':<12} {'version':>7} {'period':<10} {'rows':>5}  {'metric':<9} "
        header += f"{'value':>9} {'card':>9} {'change':>8}  {'tolerance':<16} status"
        lines = [header]
        for g in self.groups:
            version = "?" if g.version is None else str(g.version)
            judgements: Sequence[Judgement | None] = g.judgements or [None]
            for j in judgements:
                cells = ["", "", "", "", ""]
                if j is not None:
                    base = "" if j.baseline is None else f"{j.baseline:.4f}"
                    cells = [j.metric, f"{j.value:.4f}", base, j.change, j.tolerance.describe()]
                status = g.status if j is None or j.degraded or g.status != DEGRADED else OK
                lines.append(
                    f"{g.model:<12} {version:>7} {g.period:<10} {g.labelled:>5}  {cells[0]:<9} "
                    f"{cells[1]:>9} {cells[2]:>9} {cells[3]:>8}  {cells[4]:<16} {status}"
                )
        lines.append(", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in self.counts.items()))
        if self.conflicts:
            shown = ", ".join(f"{rid} row {row}" for rid, row in self.conflicts[:5])
            lines.append(f"conflicting labels left out: {shown}")
        for g in self.degraded:
            bad = ", ".join(j.metric for j in g.judgements if j.degraded)
            lines.append(f"DEGRADED: {g.model} version {g.version} ({g.period}): {bad}")
        if not self.degraded:
            lines.append("PASS: no version is worse than its model card beyond the tolerances")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": [g.to_dict() for g in self.groups],
            "counts": self.counts,
            "conflicting_labels": [{"request_id": r, "row": n} for r, n in self.conflicts],
            "degraded": bool(self.degraded),
            "finished": time.time(),
        }


def _group(
    key: tuple[str, int | None],
    period: str,
    task: str,
    truth: list[float],
    answers: list[float],
    baseline: dict[str, float],
    min_rows: int,
    scale: float,
) -> GroupReport:
    model, version = key
    if len(truth) < min_rows:
        return GroupReport(model, version, period, task, len(truth), INSUFFICIENT, [])
    metrics = quality_metrics(task, np.asarray(truth), np.asarray(answers))
    judgements = judge(task, metrics, baseline, scale)
    if not baseline:
        status = NO_BASELINE
    else:
        status = DEGRADED if any(j.degraded for j in judgements) else OK
    return GroupReport(model, version, period, task, len(truth), status, judgements)


def build_report(
    joined: JoinResult, labels: LabelSet, cards: CardIndex, min_rows: int, scale: float = 1.0
) -> AccuracyReport:
    """Judge every (model, version) over all days and each day; groups with fewer than
    min_rows labelled rows are "insufficient data", never degraded.

    Raises:
        CardError: a model card cannot be read.
    """
    groups = []
    for key in sorted(joined.logged_rows, key=lambda k: (k[0], k[1] is None, k[1] or 0)):
        task = joined.tasks[key]
        baseline = cards.card(*key).test_metrics
        days = joined.truth.get(key, {})
        truth = [value for day in sorted(days) for value in days[day]]
        answers = [value for day in sorted(days) for value in joined.answers[key][day]]
        groups.append(_group(key, ALL_DAYS, task, truth, answers, baseline, min_rows, scale))
        for day in sorted(days):
            groups.append(
                _group(
                    key, day, task, days[day], joined.answers[key][day], baseline, min_rows, scale
                )
            )
    counts = {
        "labelled_rows": sum(len(v) for days in joined.truth.values() for v in days.values()),
        "unlabelled_rows": sum(joined.unlabelled.values()),
        "labels_without_prediction": joined.unmatched_labels,
        "duplicate_labels": labels.duplicates,
        "conflicting_labels": len(labels.conflicts),
        "repeated_calls": joined.repeated_calls,
    }
    return AccuracyReport(groups, counts, sorted(labels.conflicts))
