"""`python -m monitoring drift`: compare logged inputs and predictions with the training reference.

Exit status: 0 no drift, 1 drift past the thresholds, 2 bad input (logs, model, thresholds)
or a failed push.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from monitoring.drift.thresholds import (
    DEFAULT_ALPHA,
    DEFAULT_MIN_ROWS,
    DEFAULT_PSI,
    ThresholdError,
    Thresholds,
)

if TYPE_CHECKING:
    from monitoring.drift.check import DriftCheck

__all__ = ["EXIT_DRIFT", "EXIT_ERROR", "EXIT_OK", "add_arguments", "run"]

EXIT_OK, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, help="model name (its folder under --models-root)"
    )
    parser.add_argument("--logs", type=Path, required=True, help="request log file or folder")
    parser.add_argument("--models-root", type=Path, default=Path("models"), help="default: models")
    parser.add_argument("--version", type=int, help="version to compare with (default: latest)")
    parser.add_argument(
        "--out",
        type=Path,
        help="folder for summary.json and the HTML report (default: reports/drift/MODEL-vVERSION)",
    )
    parser.add_argument("--html", action="store_true", help="also write Evidently's HTML report")
    parser.add_argument("--json", action="store_true", help="print summary.json, not the table")
    parser.add_argument("--pushgateway", help="push the drift metrics to this Pushgateway URL")
    parser.add_argument(
        "--psi-threshold", type=float, default=DEFAULT_PSI, help=f"default {DEFAULT_PSI}"
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=DEFAULT_ALPHA,
        help=f"false-alarm rate over all features, Bonferroni-split (default {DEFAULT_ALPHA})",
    )
    parser.add_argument(
        "--min-drifted-features",
        type=int,
        default=1,
        help="drifted features that make the data set drift (default 1)",
    )
    parser.add_argument(
        "--min-rows",
        type=int,
        default=DEFAULT_MIN_ROWS,
        help=f"logged rows needed to judge (default {DEFAULT_MIN_ROWS})",
    )


def _push(check: DriftCheck, gateway: str) -> int:
    """Push the run's gauges as the drift job, grouped by model; an exit status."""
    from monitoring.drift.summary import metric_samples
    from monitoring.metric_names import JOBS
    from monitoring.push import PushError, push_samples

    reference = check.reference
    samples = metric_samples(check.result, reference.name, reference.version)
    try:
        push_samples(gateway, JOBS["drift"], {"model": reference.name}, samples)
    except (PushError, ValueError) as err:
        print(f"drift: cannot push to {gateway}: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(f"pushed {len(samples)} drift samples to {gateway}", file=sys.stderr)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    from exported import version_dir
    from monitoring.drift.check import check_drift
    from monitoring.drift.logged import describe_set_aside, summary_counts
    from monitoring.drift.report import HTML_FILE, ReportError, write_html_report
    from monitoring.drift.summary import SUMMARY_FILE, format_table, summary_dict, write_summary
    from monitoring.reference import load_reference

    try:
        thresholds = Thresholds(
            args.psi_threshold, args.alpha, args.min_drifted_features, args.min_rows
        )
        reference = load_reference(version_dir(args.models_root, args.model, args.version))
        check = check_drift(reference, args.logs, thresholds)
    except (ThresholdError, ValueError, OSError) as err:
        print(f"drift: {err}", file=sys.stderr)
        return EXIT_ERROR
    out = args.out or Path("reports") / "drift" / f"{reference.name}-v{reference.version}"
    summary = summary_dict(
        check.result,
        reference.name,
        reference.version,
        str(args.logs),
        summary_counts(check.logged),
    )
    try:
        write_summary(out / SUMMARY_FILE, summary)
        if args.html:
            write_html_report(
                out / HTML_FILE,
                check.reference_features,
                check.logged.features,
                thresholds,
                check.reference_prediction,
                check.logged.prediction,
            )
    except (ReportError, OSError) as err:
        print(f"drift: {err}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{reference.name} version {reference.version}: {check.logged.rows} logged rows"
            f" against {check.result.reference_rows} training rows"
        )
        for line in describe_set_aside(check.logged):
            print(f"  {line}")
        print(format_table(check.result))
        print(f"wrote {out / SUMMARY_FILE}" + (f" and {out / HTML_FILE}" if args.html else ""))
    if args.pushgateway and _push(check, args.pushgateway) != EXIT_OK:
        return EXIT_ERROR
    return EXIT_DRIFT if check.result.drift_detected else EXIT_OK
