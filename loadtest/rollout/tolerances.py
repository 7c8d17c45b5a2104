"""How much worse than the stable version a canary may be: the rollout check's tolerances.

The defaults live here and only here. A config file (JSON, TOML or YAML) holds the same keys,
at the top level or in a [rollout] table; options given on the command line win over it:

    [rollout]
    max_p50_ratio = 1.20           # canary p50 / stable p50
    max_p99_ratio = 1.25           # canary p99 / stable p99
    latency_floor_ms = 1.0         # latency differences below this never fail
    max_error_rate_increase = 0.005  # 0.5 percentage points
    min_agreement = 0.95           # held-out examples where canary and stable agree
    max_accuracy_drop = 0.02       # 2 percentage points, where labels are known
    max_mae_increase = 0.05        # canary MAE at most 5% above stable's (regressors)
    regression_rtol = 0.01         # a regressor's outputs agree within 1% (relative)
    verify_slo_p99_ms = 250.0      # the canary's p99 while it answers its test split (verify)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from loadtest.config_files import read_config

__all__ = ["DEFAULT_TOLERANCES", "UNITS", "Tolerances", "load_tolerances"]

FRACTIONS = ("max_error_rate_increase", "min_agreement", "max_accuracy_drop")
UNITS = {
    "max_p50_ratio": "canary p50 / stable p50",
    "max_p99_ratio": "canary p99 / stable p99",
    "latency_floor_ms": "ms; smaller latency differences always pass",
    "max_error_rate_increase": "fraction: 0.005 = 0.5 percentage points",
    "min_agreement": "fraction of held-out examples answered alike",
    "max_accuracy_drop": "fraction: 0.02 = 2 percentage points",
    "max_mae_increase": "fraction of the stable's MAE",
    "regression_rtol": "relative difference within which numeric outputs agree",
    "verify_slo_p99_ms": "ms; the canary's p99 over its test split's requests (verify)",
}


@dataclass(frozen=True)
class Tolerances:
    """Each field bounds one comparison of canary against stable (fractions, not percent).

    Latency ratios compare HDR percentiles of the two sides' merged runs; a difference smaller
    than latency_floor_ms passes whatever the ratio, since sub-millisecond jitter on a fast
    model would otherwise read as a 50% regression.

    Raises:
        ValueError: a negative value, a ratio below 1, or a fraction above 1.
    """

    max_p50_ratio: float = 1.20
    max_p99_ratio: float = 1.25
    latency_floor_ms: float = 1.0
    max_error_rate_increase: float = 0.005
    min_agreement: float = 0.95
    max_accuracy_drop: float = 0.02
    max_mae_increase: float = 0.05
    regression_rtol: float = 0.01
    verify_slo_p99_ms: float = 250.0

    def __post_init__(self) -> None:
        problems = []
        for item in fields(self):
            value = getattr(self, item.name)
            if value < 0:
                problems.append(f"{item.name} cannot be negative ({value:g})")
            elif item.name in FRACTIONS and value > 1:
                problems.append(f"{item.name} is a fraction (0.02 = 2 points), not {value:g}")
        for name in ("max_p50_ratio", "max_p99_ratio"):
            if 0 <= getattr(self, name) < 1:
                problems.append(f"{name} below 1 would fail a canary equal to stable")
        if problems:
            raise ValueError("; ".join(problems))

    def merged(self, overrides: dict[str, float | None]) -> Tolerances:
        """These tolerances with every value given (not None) in overrides replacing them.

        Raises:
            ValueError: an unknown key, or a result that does not validate.
        """
        unknown = sorted(set(overrides) - {item.name for item in fields(self)})
        if unknown:
            raise ValueError(f"unknown tolerances {unknown}")
        values = asdict(self)
        values.update({k: float(v) for k, v in overrides.items() if v is not None})
        return Tolerances(**values)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


DEFAULT_TOLERANCES = Tolerances()


def load_tolerances(path: Path, base: Tolerances = DEFAULT_TOLERANCES) -> Tolerances:
    """base with the tolerances in a config file replacing its values.

    Raises:
        OSError: the file cannot be read.
        ValueError: it does not parse, holds unknown keys, or values that are not numbers.
    """
    data: Any = read_config(path)
    if isinstance(data, dict) and isinstance(data.get("rollout"), dict):
        data = data["rollout"]
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a tolerances file holds a table of tolerances")
    try:
        return base.merged(data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from err
