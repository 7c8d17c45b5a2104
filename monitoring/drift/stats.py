"""Two-sample drift statistics: PSI, Kolmogorov-Smirnov, chi-square, and a missing-value test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

PSI_BINS = 10
# Every bin gets half a count more (Jeffreys' rule), so a bin that one small sample happens
# to leave empty does not weigh like a bin the data never reaches (PSI takes logs).
PSEUDO_COUNT = 0.5


@dataclass(frozen=True)
class TestResult:
    """One feature's comparison: PSI (the score), a test statistic and its p-value."""

    psi: float
    method: str
    statistic: float
    p_value: float
    missing_reference: float = 0.0
    missing_current: float = 0.0


def psi_from_counts(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two histograms over the same bins.

    Bins empty in both are dropped; the others get PSEUDO_COUNT more in each sample.
    """
    used = (reference + current) > 0
    reference, current = reference[used] + PSEUDO_COUNT, current[used] + PSEUDO_COUNT
    expected, actual = reference / reference.sum(), current / current.sum()
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def quantile_edges(reference: np.ndarray, bins: int = PSI_BINS) -> np.ndarray:
    """Inner bin edges at the reference's quantiles (ties merged), so bins hold ~equal shares."""
    present = reference[~np.isnan(reference)]
    if present.size == 0:
        return np.empty(0)
    return np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))


def numeric_histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (right-closed, open-ended outer bins) plus a last bin of missing values."""
    missing = np.isnan(values)
    counts = np.bincount(
        np.searchsorted(edges, values[~missing], side="left"), minlength=len(edges) + 1
    )
    return np.append(counts, missing.sum())


def missing_p_value(reference: np.ndarray, current: np.ndarray) -> float:
    """p-value of "both samples miss values at the same rate" (Fisher's exact test)."""
    ref_missing, cur_missing = int(np.isnan(reference).sum()), int(np.isnan(current).sum())
    if ref_missing == cur_missing == 0:
        return 1.0
    table = [[ref_missing, reference.size - ref_missing], [cur_missing, current.size - cur_missing]]
    return float(stats.fisher_exact(table).pvalue)


def compare_numeric(reference: np.ndarray, current: np.ndarray) -> TestResult:
    """PSI over reference-quantile bins (missing values their own bin) and two-sample KS.

    The p-value is the smaller of the KS and missing-rate tests' p-values, doubled
    (Bonferroni over the two), so a feature that went missing drifts as one that moved.
    """
    reference = np.asarray(reference, dtype=np.float64)
    current = np.asarray(current, dtype=np.float64)
    edges = quantile_edges(reference)
    psi = psi_from_counts(numeric_histogram(reference, edges), numeric_histogram(current, edges))
    ref_present, cur_present = reference[~np.isnan(reference)], current[~np.isnan(current)]
    if ref_present.size and cur_present.size:
        ks = stats.ks_2samp(ref_present, cur_present)
        statistic, ks_p = float(ks.statistic), float(ks.pvalue)
    else:
        statistic, ks_p = float("nan"), 1.0
    missing_p = missing_p_value(reference, current)
    p_value = min(1.0, 2 * min(ks_p, missing_p)) if missing_p < 1.0 else ks_p
    return TestResult(
        psi=psi,
        method="psi+ks",
        statistic=statistic,
        p_value=p_value,
        missing_reference=float(np.isnan(reference).mean()) if reference.size else 0.0,
        missing_current=float(np.isnan(current).mean()) if current.size else 0.0,
    )


def category_counts(reference: np.ndarray, current: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The categories of both samples (reference's first, then unseen ones) and a 2 x k table."""
    categories = sorted(set(reference.tolist()))
    categories += sorted(set(current.tolist()) - set(categories))
    index = {category: i for i, category in enumerate(categories)}
    table = np.zeros((2, len(categories)), dtype=np.int64)
    for row, values in enumerate((reference, current)):
        for value in values.tolist():
            table[row, index[value]] += 1
    return categories, table


def compare_categorical(reference: np.ndarray, current: np.ndarray) -> TestResult:
    """PSI over categories and a chi-square test of homogeneity of the two samples.

    A category the reference never shows gets its own column: seen in live traffic, it raises
    both the chi-square statistic and PSI (through PSEUDO_COUNT) instead of being dropped.
    """
    _, table = category_counts(np.asarray(reference), np.asarray(current))
    psi = psi_from_counts(table[0].astype(np.float64), table[1].astype(np.float64))
    if table.shape[1] < 2:
        return TestResult(psi=psi, method="psi+chi2", statistic=0.0, p_value=1.0)
    result = stats.chi2_contingency(table, correction=False)
    return TestResult(
        psi=psi, method="psi+chi2", statistic=float(result.statistic), p_value=float(result.pvalue)
    )
