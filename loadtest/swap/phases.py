"""Split a run's per-second record at the swap's moments: before, during and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loadtest.hdr import LatencyRecorder, new_histogram

__all__ = ["Phase", "split_phases"]

SETTLE_S = 1.0  # "during" lasts until this long after the new version answered AVAILABLE


@dataclass(frozen=True)
class Phase:
    """One phase's requests: how many, how many failed, p50 and p99 (ms)."""

    name: str
    count: int
    failures: int
    p50_ms: float | None
    p99_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.name,
            "count": self.count,
            "failures": self.failures,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
        }


def _phase(recorder: LatencyRecorder, name: str, seconds: list[int]) -> Phase:
    merged = new_histogram()
    for second in seconds:
        merged.add(recorder.timeline[second])
    count = merged.get_total_count()
    failures = sum(recorder.failures.get(second, 0) for second in seconds)
    if not count:
        return Phase(name, 0, failures, None, None)
    p50, p99 = (merged.get_value_at_percentile(p) / 1000.0 for p in (50.0, 99.0))
    return Phase(name, count, failures, p50, p99)


def split_phases(recorder: LatencyRecorder, published: float, available: float) -> list[Phase]:
    """before: requests started before the new version was published; during: from then until
    SETTLE_S after it was AVAILABLE; after: the rest (wall-clock seconds, whole)."""
    seconds = sorted(set(recorder.timeline) | set(recorder.failures))
    start, end = int(published), int(available + SETTLE_S)
    return [
        _phase(recorder, "before", [s for s in seconds if s < start]),
        _phase(recorder, "during", [s for s in seconds if start <= s <= end]),
        _phase(recorder, "after", [s for s in seconds if s > end]),
    ]
