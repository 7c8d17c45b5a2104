"""The checks before the load: the signature diff, then stable's requests replayed to the canary."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from exported.signature_specs import Change
from loadtest.rollout.compare import Check
from loadtest.rollout.load import CANARY, STABLE
from loadtest.rollout.replay import ReplayResult, replay, replay_checks, stable_requests
from loadtest.rollout.sides import Side, connect_client, served_model
from loadtest.rollout.signatures import (
    accepted_notes,
    signature_changes,
    signature_checks,
    signature_title,
    stops,
)
from loadtest.settings import LoadSettings

__all__ = ["Gates", "run_gates"]


@dataclass
class Gates:
    """What the checks before the load found, and why the check stops there, if it does."""

    sections: dict[str, list[Check]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    replay: ReplayResult | None = None
    notes: list[str] = field(default_factory=list)
    stopped: str | None = None


def run_gates(
    settings: LoadSettings,
    sides: dict[str, Side],
    request_logs: Path | None,
    replay_limit: int,
    accept_breaking: Collection[str],
) -> tuple[dict[str, int], Gates]:
    """The sides' versions, then the signature diff and the replay, each stopping the check
    when the canary fails it: no load is worth running against a canary that refuses stable's
    clients.

    Raises:
        ServingClientError: (a subclass) a side's version could not be resolved.
        OSError, ValueError: the request logs or the stable's warmup file cannot be read.
    """
    served = {name: served_model(settings, side) for name, side in sides.items()}
    versions = {name: model.version for name, model in served.items()}
    gates = Gates(changes=signature_changes(served[STABLE], served[CANARY]))
    title = signature_title(served[STABLE], served[CANARY])
    gates.sections[title] = signature_checks(gates.changes, accept_breaking)
    gates.notes = accepted_notes(gates.changes, accept_breaking)
    if stops(gates.changes, accept_breaking):
        gates.stopped = "the canary's signatures break stable's clients; nothing was replayed"
        return versions, gates
    calls, source, replay_notes = stable_requests(
        settings.models_root, settings.model, versions[STABLE], request_logs, replay_limit
    )
    gates.notes += replay_notes
    # Requests to a signature whose breaking change was accepted would fail by design.
    waived = {c.signature for c in gates.changes if c.breaking and c.signature in accept_breaking}
    skipped = sum(call.signature in waived for call in calls)
    if skipped:
        calls = [call for call in calls if call.signature not in waived]
        waived_names = ", ".join(sorted(waived))
        gates.notes.append(f"{skipped} requests to {waived_names} not replayed (accepted)")
    if not calls:
        return versions, gates
    client = connect_client(settings)
    try:
        gates.replay = replay(client, settings.model, sides[CANARY], calls, source)
    finally:
        client.close()
    gates.sections[f"replay ({source})"] = replay_checks(gates.replay)
    if gates.replay.refused:
        gates.stopped = "the canary refused requests the stable version answered"
    return versions, gates
