"""One rollout check: resolve the sides, diff their signatures, replay stable's requests against
the canary, compare held-out answers, verify the canary, load, judge.

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
from collections.abc import Collection
from pathlib import Path

from loadtest.rollout.compare import load_checks, prediction_checks
from loadtest.rollout.gates import run_gates
from loadtest.rollout.load import CANARY, STABLE, LoadResult, run_interleaved
from loadtest.rollout.predictions import PredictionComparison, compare_predictions, load_held_out
from loadtest.rollout.replay import DEFAULT_REPLAY_LIMIT
from loadtest.rollout.result import RolloutResult
from loadtest.rollout.sides import Side, connect_client
from loadtest.rollout.tolerances import DEFAULT_TOLERANCES, Tolerances
from loadtest.rollout.verify_canary import verify_canary
from loadtest.settings import LoadSettings

__all__ = ["RolloutError", "RolloutResult", "run_rollout_check"]

RESULT_FILE = "rollout.json"


class RolloutError(Exception):
    """The stable side answered no request of the load: nothing to compare against."""


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
    client = connect_client(settings)
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


def _write(result: RolloutResult) -> RolloutResult:
    result.folder.mkdir(parents=True, exist_ok=True)
    (result.folder / RESULT_FILE).write_text(
        json.dumps(result.to_dict(), indent=2, default=str) + "\n"
    )
    return result


def run_rollout_check(
    settings: LoadSettings,
    sides: dict[str, Side],
    *,
    folder: Path,
    rounds: int = 2,
    tolerances: Tolerances = DEFAULT_TOLERANCES,
    request_logs: Path | None = None,
    replay_limit: int = DEFAULT_REPLAY_LIMIT,
    accept_breaking: Collection[str] = (),
) -> RolloutResult:
    """Compare the canary with the stable side. First the gates: the signatures the server
    reports for both (a breaking change stops the check), then the stable's requests replayed
    against the canary (request_logs' calls of the stable version, else its warmup requests;
    a refused one stops the check). Then held-out predictions (which also warm both up), the
    canary's verification, and settings' load in ABBA order, settings.run_time per side in all.
    Breaking changes to the signatures in accept_breaking are shown and noted, not gated.
    Each run's report goes to folder/<nn>-<side>/, the result to folder/rollout.json.

    Raises:
        ServingClientError: (a subclass) a side's version could not be resolved, or the stable
            side refused the held-out requests.
        LoadTestError: a run could not start or Locust failed.
        RolloutError: no request to the stable side completed.
        ValueError: rounds below 1, the stable's answers have nothing to compare, or the
            request logs or warmup file to replay are corrupt.
        OSError: the requests to replay, a run's histograms or the result file could not be
            read or written.
    """
    versions, gates = run_gates(settings, sides, request_logs, replay_limit, accept_breaking)
    if gates.stopped is not None:
        return _write(
            RolloutResult(
                settings,
                sides,
                versions,
                rounds,
                tolerances,
                {},
                None,
                gates.sections,
                Path(folder),
                gates.notes,
                tuple(gates.changes),
                gates.replay,
                gates.stopped,
            )
        )
    comparison, notes = _predictions(settings, sides, versions, tolerances)
    verify_title, verify_checks, verify_notes = verify_canary(
        settings, sides[CANARY], settings.models_root, tolerances.verify_slo_p99_ms
    )
    loads = run_interleaved(settings, sides, rounds, folder)
    if loads[STABLE].count == 0:
        raise RolloutError(f"no request to the stable side ({sides[STABLE].describe()}) completed")
    sections = {**gates.sections, "load": load_checks(loads[CANARY], loads[STABLE], tolerances)}
    if comparison is not None:
        sections[f"predictions ({comparison.source})"] = prediction_checks(comparison, tolerances)
    if verify_title is not None:
        sections[verify_title] = verify_checks
    return _write(
        RolloutResult(
            settings,
            sides,
            versions,
            rounds,
            tolerances,
            loads,
            comparison,
            sections,
            Path(folder),
            gates.notes + notes + verify_notes + _load_notes(versions, loads),
            tuple(gates.changes),
            gates.replay,
        )
    )
