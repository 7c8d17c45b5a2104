"""What one rollout check found, as the text it prints and the rollout.json it writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exported.signature_specs import Change
from loadtest.rollout.compare import Check, breaches
from loadtest.rollout.load import CANARY, STABLE, LoadResult, run_order
from loadtest.rollout.predictions import PredictionComparison
from loadtest.rollout.replay import ReplayResult
from loadtest.rollout.sides import Side
from loadtest.rollout.table import format_table, verdict_lines
from loadtest.rollout.tolerances import Tolerances
from loadtest.settings import LoadSettings

__all__ = ["RolloutResult"]


@dataclass(frozen=True)
class RolloutResult:
    """What a check found: the signature changes, the replay, the loads, the prediction
    comparison, the table's checks. stopped says why the check ended before the load (a
    breaking signature change, a replayed request refused); loads are then empty."""

    settings: LoadSettings
    sides: dict[str, Side]
    versions: dict[str, int]
    rounds: int
    tolerances: Tolerances
    loads: dict[str, LoadResult]
    comparison: PredictionComparison | None
    sections: dict[str, list[Check]]
    folder: Path
    notes: list[str] = field(default_factory=list)
    signature_changes: tuple[Change, ...] = ()
    replay: ReplayResult | None = None
    stopped: str | None = None

    @property
    def breaches(self) -> list[str]:
        """One "canary worse: ..." line per failed check, in table order."""
        return breaches([check for checks in self.sections.values() for check in checks])

    @property
    def passed(self) -> bool:
        return not self.breaches and self.stopped is None

    def header(self) -> list[str]:
        settings, per_run = self.settings, self.settings.run_time / self.rounds
        sides = ", ".join(
            f"{name}: {self.sides[name].describe()} -> version {self.versions[name]}"
            for name in (STABLE, CANARY)
        )
        if self.stopped is not None:
            load = "  load: not run (the check stopped before it)"
        else:
            load = (
                f"  load: {settings.total_users} users, {self.rounds} run(s) of {per_run:g}s per "
                f"side, in the order {', '.join(run_order(self.rounds))}"
            )
        return [
            f"rollout check: {settings.model} over {settings.transport} ({settings.target_host})",
            f"  {sides}",
            load,
        ]

    def text(self) -> str:
        """The header, the side-by-side table, refused replays, notes, and the verdict lines."""
        lines = [*self.header(), "", format_table(self.sections), ""]
        if self.replay is not None and self.replay.refused:
            lines += [f"replay: {self.replay.source}", *self.replay.lines(), ""]
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"report: {self.folder}")
        if self.stopped is not None:
            lines += [*self.breaches, f"FAIL: {self.stopped}"]
        else:
            lines += verdict_lines(self.breaches)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """What rollout.json holds: everything the table shows, and the runs' report folders."""
        sides = self.sides
        return {
            "model": self.settings.model,
            "transport": self.settings.transport,
            "host": self.settings.target_host,
            "sides": {
                n: {"target": sides[n].describe(), "version": self.versions[n]} for n in sides
            },
            "order": [] if self.stopped else run_order(self.rounds),
            "tolerances": self.tolerances.to_dict(),
            "signature_changes": [change.to_dict() for change in self.signature_changes],
            "replay": self.replay.to_dict() if self.replay else None,
            "load": {name: load.to_dict() for name, load in self.loads.items()},
            "predictions": self.comparison.to_dict() if self.comparison else None,
            "checks": {t: [c.to_dict() for c in checks] for t, checks in self.sections.items()},
            "notes": self.notes,
            "breaches": self.breaches,
            "stopped": self.stopped,
            "passed": self.passed,
        }
