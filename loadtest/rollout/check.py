"""One rollout check: resolve the sides, compare held-out answers, verify the canary, load, judge.

from loadtest.rollout import Side, run_rollout_check
result = run_rollout_check(
    LoadSettings(model="tabular", transport="grpc"),
    {"canary": Side("canary", label="canary"), "stable": Side("stable", label="stable")},
    folder=Path("reports/rollout/now"),
)
result.passed, result.breaches, print(result.text())
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtest.rollout.compare import Check, breaches, load_checks, prediction_checks
from loadtest.rollout.load import CANARY, STABLE, LoadResult, run_interleaved, run_order
from loadtest.rollout.predictions import PredictionComparison, compare_predictions, load_held_out
from loadtest.rollout.sides import Side, served_version
from loadtest.rollout.table import format_table, verdict_lines
from loadtest.rollout.tolerances import DEFAULT_TOLERANCES, Tolerances
from loadtest.rollout.verify_canary import verify_canary
from loadtest.settings import LoadSettings

__all__ = ["RolloutError", "RolloutResult", "run_rollout_check"]

RESULT_FILE = "rollout.json"


class RolloutError(Exception):
    """The stable side answered no request of the load: nothing to compare against."""


@dataclass(frozen=True)
class RolloutResult:
    """What a check found: the loads, the prediction comparison, the table's checks."""

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

    @property
    def breaches(self) -> list[str]:
        """One "canary worse: ..." line per exceeded tolerance, in table order."""
        return breaches([check for checks in self.sections.values() for check in checks])

    @property
    def passed(self) -> bool:
        return not self.breaches

    def header(self) -> list[str]:
        settings, per_run = self.settings, self.settings.run_time / self.rounds
        sides = ", ".join(
            f"{name}: {self.sides[name].describe()} -> version {self.versions[name]}"
            for name in (STABLE, CANARY)
        )
        return [
            f"rollout check: {settings.model} over {settings.transport} ({settings.target_host})",
            f"  {sides}",
            f"  load: {settings.total_users} users, {self.rounds} run(s) of {per_run:g}s per "
            f"side, in the order {', '.join(run_order(self.rounds))}",
        ]

    def text(self) -> str:
        """The header, the side-by-side table, notes, and the verdict lines."""
        lines = [*self.header(), "", format_table(self.sections), ""]
        lines += [f"note: {note}" for note in self.notes]
        lines += [f"report: {self.folder}", *verdict_lines(self.breaches)]
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
            "order": run_order(self.rounds),
            "tolerances": self.tolerances.to_dict(),
            "load": {name: load.to_dict() for name, load in self.loads.items()},
            "predictions": self.comparison.to_dict() if self.comparison else None,
            "checks": {t: [c.to_dict() for c in checks] for t, checks in self.sections.items()},
            "notes": self.notes,
            "breaches": self.breaches,
            "passed": self.passed,
        }


def _client(settings: LoadSettings) -> Any:
    from clients import connect

    transport = "grpc" if settings.transport == "grpc" else "rest"  # rest-httpuser is REST
    return connect(transport, settings.target_host, timeout=settings.timeout)


def _predictions(
    settings: LoadSettings, sides: dict[str, Side], versions: dict[str, int], tol: Tolerances
) -> tuple[PredictionComparison | None, list[str]]:
    """The held-out comparison, or None and a note saying why there is none."""
    if settings.models_root is None:
        return None, ["predictions not compared: no models root for held-out examples"]
    try:
        held_out, path, notes = load_held_out(
            settings.models_root, settings.model, versions, settings.signature
        )
    except ValueError as err:
        return None, [f"predictions not compared: {err}"]
    source = f"{held_out.rows} held-out examples from {path}"
    client = _client(settings)
    try:
        comparison = compare_predictions(
            client,
            settings.model,
            sides[CANARY],
            sides[STABLE],
            held_out,
            tol.regression_rtol,
            source,
        )
    finally:
        client.close()
    return comparison, notes


def _load_notes(versions: dict[str, int], loads: dict[str, LoadResult]) -> list[str]:
    notes = []
    if versions[CANARY] == versions[STABLE]:
        notes.append(f"canary and stable are the same version ({versions[CANARY]})")
    for name, load in loads.items():
        notes += [f"{name}: load generator bottleneck: {reason}" for reason in load.bottleneck]
        notes += [f"{name}: error {error}" for error in load.errors[:3]]
    return notes


def run_rollout_check(
    settings: LoadSettings,
    sides: dict[str, Side],
    *,
    folder: Path,
    rounds: int = 2,
    tolerances: Tolerances = DEFAULT_TOLERANCES,
) -> RolloutResult:
    """Compare the canary with the stable side: held-out predictions first (which also warms
    both up), then settings' load in ABBA order, settings.run_time per side in all. Each run's
    report goes to folder/<nn>-<side>/, the result to folder/rollout.json.

    Raises:
        ServingClientError: (a subclass) a side's version could not be resolved, or the stable
            side refused the held-out requests.
        LoadTestError: a run could not start or Locust failed.
        RolloutError: no request to the stable side completed.
        ValueError: rounds below 1, or the stable's answers have nothing to compare.
        OSError: a run's histograms or the result file could not be read or written.
    """
    versions = {name: served_version(settings, side) for name, side in sides.items()}
    comparison, notes = _predictions(settings, sides, versions, tolerances)
    verify_title, verify_checks, verify_notes = verify_canary(
        settings, sides[CANARY], settings.models_root, tolerances.verify_slo_p99_ms
    )
    loads = run_interleaved(settings, sides, rounds, folder)
    if loads[STABLE].count == 0:
        raise RolloutError(f"no request to the stable side ({sides[STABLE].describe()}) completed")
    sections = {"load": load_checks(loads[CANARY], loads[STABLE], tolerances)}
    if comparison is not None:
        sections[f"predictions ({comparison.source})"] = prediction_checks(comparison, tolerances)
    if verify_title is not None:
        sections[verify_title] = verify_checks
    result = RolloutResult(
        settings,
        sides,
        versions,
        rounds,
        tolerances,
        loads,
        comparison,
        sections,
        Path(folder),
        notes + verify_notes + _load_notes(versions, loads),
    )
    (result.folder / RESULT_FILE).write_text(
        json.dumps(result.to_dict(), indent=2, default=str) + "\n"
    )
    return result
