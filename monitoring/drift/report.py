"""The Evidently HTML drift report of the same reference and current columns."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from monitoring.drift.frames import Column
from monitoring.drift.thresholds import Thresholds

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

HTML_FILE = "drift_report.html"


class ReportError(RuntimeError):
    """Evidently could not build or save the HTML report."""


def _frame(columns: dict[str, Column], prediction: Column | None) -> pd.DataFrame:
    import pandas as pd

    data = {name: column.values for name, column in columns.items()}
    if prediction is not None:
        data["prediction"] = prediction.values
    return pd.DataFrame(data)


def write_html_report(
    path: Path,
    reference: dict[str, Column],
    current: dict[str, Column],
    thresholds: Thresholds,
    reference_prediction: Column | None = None,
    current_prediction: Column | None = None,
) -> Path:
    """Evidently's data drift preset over every feature (and the prediction), saved as HTML.

    Evidently scores each column with PSI at the same threshold as the summary; its per-column
    verdicts are for reading, the project's summary.json holds the verdict that counts.

    Raises:
        ReportError: Evidently failed to build or save the report.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    with_prediction = reference_prediction is not None and current_prediction is not None
    everything = dict(reference)
    if with_prediction:
        assert reference_prediction is not None  # with_prediction: both predictions given
        everything["prediction"] = reference_prediction
    definition = DataDefinition(
        numerical_columns=[n for n, c in everything.items() if c.kind == "numeric"],
        categorical_columns=[n for n, c in everything.items() if c.kind == "categorical"],
    )
    reference_frame = _frame(reference, reference_prediction if with_prediction else None)
    current_frame = _frame(current, current_prediction if with_prediction else None)
    try:
        report = Report([DataDriftPreset(method="psi", threshold=thresholds.psi)])
        snapshot = report.run(
            Dataset.from_pandas(current_frame, data_definition=definition),
            Dataset.from_pandas(reference_frame, data_definition=definition),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        snapshot.save_html(str(path))
    except (ValueError, TypeError, KeyError, OSError) as err:
        raise ReportError(f"the Evidently report failed: {err}") from err
    log.info("wrote %s", path)
    return path
