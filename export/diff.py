"""`python -m export diff OLD NEW`: every signature change between two versions, and its verdict."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from exported import ExportedError
from exported.saved_model import SERVE_TAGS, read_signature_defs
from exported.signature_diff import RULES, diff_signature_defs, format_changes, summarize

__all__ = ["EXIT_BAD_INPUT", "EXIT_BREAKING", "EXIT_OK", "add_diff_parser", "run_diff"]

EXIT_OK, EXIT_BREAKING, EXIT_BAD_INPUT = 0, 1, 2

DESCRIPTION = """\
Compare the signatures of two exported versions (their saved_model.pb, read without
TensorFlow): a row per change, each breaking or compatible for the old version's clients.
Exit status: 0 when no change is breaking, 1 when one is, 2 when a version cannot be read.
"""


def add_diff_parser(sub: Any) -> None:
    """Add the diff command to `python -m export`'s subparsers."""
    diff = sub.add_parser(
        "diff",
        help="signature changes between two versions, breaking or compatible (exit 1 if breaking)",
        description=DESCRIPTION,
        epilog=RULES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("old", type=Path, help="the version clients use now, e.g. models/tabular/1")
    diff.add_argument("new", type=Path, help="the version to move them to, e.g. models/tabular/2")
    diff.add_argument(
        "--tags",
        default=",".join(SERVE_TAGS),
        help="the MetaGraph to compare, as TF Serving's --saved_model_tags (default: serve)",
    )


def run_diff(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Write the table and the breaking changes' reasons to out (stdout), a version that
    cannot be read to err (stderr); return the exit status DESCRIPTION gives."""
    out, err = out or sys.stdout, err or sys.stderr
    tags = [tag.strip() for tag in args.tags.split(",") if tag.strip()]
    try:
        old = read_signature_defs(args.old, tags)
        new = read_signature_defs(args.new, tags)
    except (ExportedError, OSError) as error:
        err.write(f"export diff: {error}\n")
        return EXIT_BAD_INPUT
    changes = diff_signature_defs(old, new)
    lines = [f"signatures of {args.old} -> {args.new}: {summarize(changes)}"]
    if changes:
        lines += ["", format_changes(changes)]
    breaking = [change for change in changes if change.breaking]
    if breaking:
        lines += ["", *(f"breaking: {change.line()}" for change in breaking)]
    out.write("\n".join(lines) + "\n")
    return EXIT_BREAKING if breaking else EXIT_OK
