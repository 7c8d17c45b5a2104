"""Read delayed ground truth from labels.csv: one label per (request id, row), duplicates sorted out.

Columns (a header row is required; other columns are ignored):
    request_id  the request id the client logged with the call
    label       the truth: a class index or class name (classifiers), a number (regressors)
    row         optional, default 0: the row of a batched request the label belongs to
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LabelFileError", "LabelSet", "read_labels"]

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("request_id", "label")
ROW_COLUMN = "row"

Key = tuple[str, int]  # (request id, row within the request)


class LabelFileError(ValueError):
    """labels.csv is missing, lacks a required column, or has a malformed line."""


@dataclass
class LabelSet:
    """The usable labels, and what was set aside.

    A (request id, row) given more than once with the same label is kept once (counted in
    `duplicates`); given with different labels it is dropped entirely (listed in `conflicts`),
    since there is no way to tell which one is the truth.
    """

    labels: dict[Key, str] = field(default_factory=dict)
    lines: int = 0
    duplicates: int = 0
    conflicts: dict[Key, list[str]] = field(default_factory=dict)


def _row_number(text: str | None, where: str) -> int:
    if text is None or text.strip() == "":
        return 0
    try:
        row = int(text)
    except ValueError as err:
        raise LabelFileError(f"{where}: row must be a whole number, not {text!r}") from err
    if row < 0:
        raise LabelFileError(f"{where}: row must not be negative, not {row}")
    return row


def read_labels(path: Path) -> LabelSet:
    """The labels in a CSV file, duplicates kept once and conflicting ones set aside.

    Raises:
        LabelFileError: the file cannot be read, has no request_id or label column, or a line
            has an empty request id or label or a bad row number (the message names the line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise LabelFileError(f"cannot read labels {path}: {err.strerror or err}") from err
    reader = csv.DictReader(text.splitlines())
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise LabelFileError(
            f"{path}: needs the columns {', '.join(REQUIRED_COLUMNS)} (optional {ROW_COLUMN}); "
            f"missing {', '.join(missing)} in the header {columns}"
        )
    found = LabelSet()
    seen: dict[Key, set[str]] = {}
    for number, line in enumerate(reader, start=2):
        where = f"{path}: line {number}"
        line = {(k or "").strip(): (v or "").strip() for k, v in line.items()}
        request_id, label = line.get("request_id", ""), line.get("label", "")
        if not request_id or not label:
            raise LabelFileError(f"{where}: empty request_id or label")
        key = (request_id, _row_number(line.get(ROW_COLUMN), where))
        found.lines += 1
        if key in seen:
            found.duplicates += 1
        seen.setdefault(key, set()).add(label)
    for key, values in seen.items():
        if len(values) == 1:
            found.labels[key] = next(iter(values))
        else:
            found.conflicts[key] = sorted(values)
    if found.conflicts:
        logger.warning(
            "%d labelled row(s) have conflicting labels and are left out", len(found.conflicts)
        )
    return found
