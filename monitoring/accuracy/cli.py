"""`python -m monitoring accuracy`: join delayed labels to logged predictions and judge quality.

Exit status: 0 no version degraded, 1 a version (over all days, or on one UTC day) is worse
than its model card's test metrics beyond the tolerance, 2 bad input (logs, labels, cards).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from monitoring.accuracy.cards import CardError, CardIndex
from monitoring.accuracy.join import LabelValueError, join_labels
from monitoring.accuracy.labels import LabelFileError, read_labels
from monitoring.accuracy.metrics import MIN_LABELLED_ROWS
from monitoring.accuracy.report import AccuracyReport, build_report

__all__ = ["EXIT_DEGRADED", "EXIT_ERROR", "EXIT_OK", "add_arguments", "run"]

EXIT_OK, EXIT_DEGRADED, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--logs", type=Path, required=True, help="request log file or folder")
    parser.add_argument(
        "--labels",
        type=Path,
        required=True,
        help="CSV with request_id,label and an optional row column (batched requests)",
    )
    parser.add_argument(
        "--models-root", type=Path, default=Path("models"), help="where the model cards are"
    )
    parser.add_argument(
        "--min-labelled",
        type=int,
        default=MIN_LABELLED_ROWS,
        help=f"labelled rows a version or day needs to be judged (default {MIN_LABELLED_ROWS})",
    )
    parser.add_argument(
        "--tolerance-scale",
        type=float,
        default=1.0,
        help="multiply every tolerance (monitoring/accuracy/metrics.py) by this",
    )
    parser.add_argument("--json", type=Path, help="write the summary here")
    parser.add_argument("--pushgateway", help="push the metrics to this Pushgateway URL")


def _report(args: argparse.Namespace) -> AccuracyReport:
    if args.min_labelled < 1:
        raise ValueError(f"--min-labelled must be at least 1, not {args.min_labelled}")
    if args.tolerance_scale < 0:
        raise ValueError(f"--tolerance-scale must not be negative, not {args.tolerance_scale}")
    labels = read_labels(args.labels)
    cards = CardIndex(args.models_root)
    joined = join_labels(args.logs, labels, cards)
    if not joined.logged_rows:
        raise ValueError(f"no logged predictions in {args.logs}")
    if not any(cards.card(model, version).path for model, version in joined.logged_rows):
        logged = ", ".join(
            f"{m} {'?' if v is None else v}"
            for m, v in sorted(joined.logged_rows, key=lambda key: (key[0], key[1] or 0))
        )
        raise ValueError(
            f"no model card under {args.models_root} for the logged versions ({logged})"
        )
    return build_report(joined, labels, cards, args.min_labelled, args.tolerance_scale)


def run(args: argparse.Namespace) -> int:
    try:
        report = _report(args)
    except (LabelFileError, LabelValueError, CardError, ValueError, OSError) as err:
        print(f"accuracy: {err}", file=sys.stderr)
        return EXIT_ERROR
    print(report.text())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    if args.pushgateway:
        from monitoring.accuracy.push import push_report
        from monitoring.push import PushError

        try:
            pushed = push_report(report, args.pushgateway)
        except PushError as err:
            print(f"accuracy: cannot push to {args.pushgateway}: {err}", file=sys.stderr)
            return EXIT_ERROR
        print(f"pushed {', '.join(pushed)} to {args.pushgateway}")
    return EXIT_DEGRADED if report.degraded else EXIT_OK
