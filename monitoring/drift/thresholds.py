"""When a feature, the predictions and the whole data set count as drifted: all in one place."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# PSI > 0.2 is the customary "significant shift" line; 0.1-0.2 is "watch".
DEFAULT_PSI = 0.2
DEFAULT_ALPHA = 0.05
DEFAULT_MIN_ROWS = 30


class ThresholdError(ValueError):
    """A threshold is out of its range."""


@dataclass(frozen=True)
class Thresholds:
    """A feature drifts when its PSI exceeds `psi` AND its test's p-value is below `alpha`
    divided by the number of input features (Bonferroni), so a run over held-out data raises a
    false alarm on some feature with probability at most `alpha`, however many features the
    model has. Requiring both keeps a large but harmless sample (tiny p, small PSI) quiet and a
    noisy small one (PSI inflated by few rows, p not significant) too.

    The predictions are one more test at level `alpha`, with the same PSI line. The data set
    drifts when at least `min_drifted_features` features drift or the predictions do.
    """

    psi: float = DEFAULT_PSI
    alpha: float = DEFAULT_ALPHA
    min_drifted_features: int = 1
    min_rows: int = DEFAULT_MIN_ROWS

    def __post_init__(self) -> None:
        if self.psi <= 0:
            raise ThresholdError(f"the PSI threshold must be positive, not {self.psi}")
        if not 0 < self.alpha < 1:
            raise ThresholdError(f"alpha must be between 0 and 1, not {self.alpha}")
        if self.min_drifted_features < 1:
            raise ThresholdError(
                f"min drifted features must be at least 1, not {self.min_drifted_features}"
            )
        if self.min_rows < 1:
            raise ThresholdError(f"min rows must be at least 1, not {self.min_rows}")

    def feature_alpha(self, features: int) -> float:
        """The per-feature significance level for a model with `features` input features."""
        return self.alpha / max(features, 1)

    def drifted(self, psi: float, p_value: float, alpha: float) -> bool:
        return psi > self.psi and p_value < alpha

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
