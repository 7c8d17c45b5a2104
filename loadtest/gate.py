"""The SLO gate: thresholds on latency, error rate and throughput; one line per breach.

A config file (JSON, TOML or YAML) holds the same keys as the options, at the top level or in
an [slo] table:

    [slo]
    p99_ms = 50          # p99 latency of all requests, HDR, ms
    p50_ms = 10          # optional
    max_error_rate = 0.001
    min_rps = 100
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from loadtest.config_files import read_config
from loadtest.summary import RunSummary

__all__ = ["Objective", "Slo", "check_slo", "load_slo", "objectives", "slo_section"]


@dataclass(frozen=True)
class Slo:
    """Service level objectives for one run, each optional: None means not checked.

    Raises:
        ValueError: a threshold that is negative, or an error rate above 1.
    """

    p99_ms: float | None = None
    p50_ms: float | None = None
    max_error_rate: float | None = None
    min_rps: float | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and value < 0:
                raise ValueError(f"SLO {item.name} cannot be negative ({value})")
        if self.max_error_rate is not None and self.max_error_rate > 1:
            raise ValueError(
                f"SLO max_error_rate is a fraction (0.01 = 1%), not {self.max_error_rate}"
            )

    @property
    def empty(self) -> bool:
        return all(getattr(self, item.name) is None for item in fields(self))

    def merged(self, overrides: Slo) -> Slo:
        """These thresholds with every threshold set in overrides replacing them."""
        values = asdict(self)
        values.update({k: v for k, v in asdict(overrides).items() if v is not None})
        return Slo(**values)

    def to_dict(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def load_slo(path: Path) -> Slo:
    """Read SLO thresholds from a config file.

    Raises:
        OSError: the file cannot be read.
        ValueError: it does not parse, holds unknown keys, or values that are not numbers.
    """
    data = read_config(path)
    if isinstance(data, dict) and isinstance(data.get("slo"), dict):
        data = data["slo"]
    if not isinstance(data, dict):
        raise ValueError(f"{path}: an SLO file holds a table of thresholds")
    known = {item.name for item in fields(Slo)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown SLO keys {unknown}; known: {sorted(known)}")
    try:
        return Slo(**{key: float(value) for key, value in data.items()})
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from err


@dataclass(frozen=True)
class Objective:
    """One objective's outcome: what was asked, what the run did, and the breach line."""

    name: str
    threshold: float
    actual: float
    breached: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "threshold": self.threshold,
            "actual": self.actual,
            "passed": not self.breached,
            "message": self.message,
        }


def objectives(summary: RunSummary, slo: Slo) -> list[Objective]:
    """Each objective of slo checked over all requests of the run ([] when none is set)."""
    total = summary.total
    latency = total.latency
    scope = f"{total.count} requests"
    found: list[Objective] = []
    if slo.p99_ms is not None:
        found.append(
            Objective(
                "p99 latency (ms)",
                slo.p99_ms,
                latency.p99,
                latency.p99 > slo.p99_ms,
                f"p99 latency {latency.p99:.3f} ms > {slo.p99_ms:g} ms ({scope})",
            )
        )
    if slo.p50_ms is not None:
        found.append(
            Objective(
                "p50 latency (ms)",
                slo.p50_ms,
                latency.p50,
                latency.p50 > slo.p50_ms,
                f"p50 latency {latency.p50:.3f} ms > {slo.p50_ms:g} ms ({scope})",
            )
        )
    if slo.max_error_rate is not None:
        found.append(
            Objective(
                "error rate",
                slo.max_error_rate,
                total.error_rate,
                total.error_rate > slo.max_error_rate,
                f"error rate {total.error_rate:.4%} > {slo.max_error_rate:.4%} "
                f"({total.failures} of {total.count} requests failed)",
            )
        )
    if slo.min_rps is not None:
        found.append(
            Objective(
                "throughput (req/s)",
                slo.min_rps,
                total.rps,
                total.rps < slo.min_rps,
                f"throughput {total.rps:.1f} req/s < {slo.min_rps:g} req/s",
            )
        )
    return found


def check_slo(summary: RunSummary, slo: Slo) -> list[str]:
    """One line per breached objective, over all requests of the run ([] when all are met)."""
    if summary.total.count == 0:
        return ["SLO breach: no request completed"]
    return [f"SLO breach: {o.message}" for o in objectives(summary, slo) if o.breached]


def slo_section(summary: RunSummary, slo: Slo) -> dict[str, Any]:
    """The summary's "slo" entry: thresholds, each objective's outcome, the breach lines."""
    breaches = check_slo(summary, slo)
    return {
        "thresholds": slo.to_dict(),
        "objectives": [o.to_dict() for o in objectives(summary, slo)],
        "breaches": breaches,
        "passed": not breaches,
    }
