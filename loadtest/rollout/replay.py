"""The rollout's second gate: the stable version's own requests replayed against the canary.

The requests are the stable version's logged calls (request logs, when given and holding any),
else its warmup requests; each is sent once, as it was, to the canary, and every one must be
answered. The signature diff cannot see what the graph itself refuses (a batch size, a value
range, a feature a classify signature parses); the replay can.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clients.errors import ServingClientError
from exported import read_warmup_logs, version_path, warmup_path
from loadtest.rollout.compare import BREACH, Check
from loadtest.rollout.sides import Side
from requestlog.records import LoggedCall, decode_logged_call, read_request_logs

__all__ = ["DEFAULT_REPLAY_LIMIT", "Refusal", "ReplayResult", "replay", "replay_checks"]

logger = logging.getLogger(__name__)

DEFAULT_REPLAY_LIMIT = 200  # the newest logged calls; a warmup file holds at most 1000
SHOWN_REFUSALS = 5


@dataclass(frozen=True)
class Refusal:
    """One replayed request the canary did not answer, and its error."""

    index: int
    kind: str
    signature: str
    rows: int
    error: str

    def describe(self) -> str:
        return (
            f"request {self.index} ({self.kind} {self.signature}, {self.rows} rows): {self.error}"
        )


@dataclass(frozen=True)
class ReplayResult:
    """What was replayed (where from) and what the canary refused."""

    source: str
    sent: int
    refused: tuple[Refusal, ...]

    @property
    def answered(self) -> int:
        return self.sent - len(self.refused)

    def lines(self) -> list[str]:
        """The refused requests, SHOWN_REFUSALS of them, for the report's text."""
        shown = [f"  refused {refusal.describe()}" for refusal in self.refused[:SHOWN_REFUSALS]]
        more = len(self.refused) - SHOWN_REFUSALS
        return shown + ([f"  ... and {more} more"] if more > 0 else [])

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "sent": self.sent, "answered": self.answered} | {
            "refused": [asdict(refusal) for refusal in self.refused]
        }


def _logged_calls(path: Path, model: str, version: int, limit: int) -> tuple[list[LoggedCall], int]:
    """The newest limit calls of model answered by version, or naming none (a REST call by
    label or for the latest may have been), and how many there were in all.

    Raises:
        FileNotFoundError, OSError, ValueError: as read_request_logs.
    """
    kept: deque[LoggedCall] = deque(maxlen=limit)
    total = 0
    for call in read_request_logs(path):
        if call.model == model and call.version in (version, None):
            kept.append(call)
            total += 1
    return list(kept), total


def _warmup_calls(version_dir: Path, limit: int) -> list[LoggedCall]:
    """The version's warmup requests as calls. A warmup record has no log metadata, so the
    signature its request names is copied there, where a request log keeps it.

    Raises:
        OSError: the warmup file cannot be read.
        ExportedError: a record is corrupt.
        ValueError: a record holds no predict, classify or regress request.
    """
    calls = []
    for log in read_warmup_logs(version_dir)[:limit]:
        which = log.WhichOneof("log_type")
        if which is not None:
            log.log_metadata.model_spec.CopyFrom(getattr(log, which).request.model_spec)
        calls.append(decode_logged_call(log))
    return calls


def stable_requests(
    models_root: Path | None, model: str, version: int, request_logs: Path | None, limit: int
) -> tuple[list[LoggedCall], str, list[str]]:
    """The stable version's requests to replay, where they come from, and notes (why none, or
    why the warmup file stands in for the logs).

    Raises:
        OSError, ValueError: the request logs or the warmup file cannot be read.
    """
    notes: list[str] = []
    if request_logs is not None:
        calls, total = _logged_calls(request_logs, model, version, limit)
        if calls:
            newest = f"the newest {len(calls)} of " if total > len(calls) else ""
            return calls, f"{newest}{total} logged calls of version {version}", notes
        notes.append(f"{request_logs} logs no call of {model} version {version}")
    if models_root is None:
        return [], "", [*notes, "requests not replayed: no request logs, no models root"]
    folder = version_path(models_root, model, version)
    if not warmup_path(folder).is_file():
        return [], "", [*notes, f"requests not replayed: no {warmup_path(folder)}"]
    calls = _warmup_calls(folder, limit)
    return calls, f"{len(calls)} warmup requests of version {version}", notes


def _rows(call: LoggedCall) -> int:
    if call.inputs:
        first = next(iter(call.inputs.values()))
        return int(first.shape[0]) if first.ndim else 1
    return len(call.examples or [])


def replay(
    client: Any, model: str, canary: Side, calls: list[LoggedCall], source: str
) -> ReplayResult:
    """Send each call to the canary as it was sent before (same signature, inputs, examples).

    A request the canary refuses or fails is recorded with its error, not raised.
    """
    refused = []
    for index, call in enumerate(calls):
        where = {"version": canary.version, "label": canary.label, "signature": call.signature}
        try:
            if call.kind == "predict":
                client.predict(model, call.inputs, **where)
            elif call.kind == "classify":
                client.classify(model, call.examples or [], **where)
            else:
                client.regress(model, call.examples or [], **where)
        except (ServingClientError, ValueError) as err:
            error = f"{type(err).__name__}: {err}"
            refused.append(Refusal(index, call.kind, call.signature, _rows(call), error))
    if refused:
        logger.warning("the canary refused %d of %d replayed requests", len(refused), len(calls))
    return ReplayResult(source, len(calls), tuple(refused))


def replay_checks(result: ReplayResult) -> list[Check]:
    """One row: how many replayed requests the canary answered; it fails on any refusal."""
    reason = None
    if result.refused:
        reason = (
            f"{BREACH}: refused {len(result.refused)} of {result.sent} replayed requests "
            f"({result.source}); first: {result.refused[0].describe()}"
        )
    answered = f"{result.answered}/{result.sent} answered"
    return [Check("replayed", "", "", answered, "every one", not result.refused, reason)]
