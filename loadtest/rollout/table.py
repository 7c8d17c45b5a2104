"""The rollout check's side-by-side table: stable and canary, their change, tolerance, verdict."""

from __future__ import annotations

from collections.abc import Sequence

from loadtest.rollout.compare import Check

__all__ = ["format_table", "verdict_lines"]

COLUMNS = (("", 18), ("stable", 10), ("canary", 10), ("change", 26), ("tolerance", 24))
VERDICTS = {True: "ok", False: "FAIL", None: ""}
MAX_WIDENED = 30


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    parts = [
        f"{cell:<{width}}" if i == 0 else f"{cell:>{width}}"
        for i, (cell, width) in enumerate(zip(cells, widths, strict=False))
    ]
    return " ".join(parts + list(cells[len(widths) :])).rstrip()


def format_table(sections: dict[str, list[Check]]) -> str:
    """One block per section ("load", "predictions"), a row per check, verdicts at the right.

    Columns are as wide as COLUMNS says, or as their widest cell up to MAX_WIDENED (a
    signature's dtype and shape, say), so that the verdicts stay in one column; a longer cell
    (a verification's detail) runs over on its own row only.
    """
    rows = [
        [f"  {check.name}", check.stable, check.canary, check.change, check.tolerance]
        for checks in sections.values()
        for check in checks
    ]
    widths = [
        max([width, *(len(row[i]) for row in rows if len(row[i]) <= MAX_WIDENED)])
        for i, (_, width) in enumerate(COLUMNS)
    ]
    lines = [_line([name for name, _ in COLUMNS] + ["  verdict"], widths)]
    for title, checks in sections.items():
        lines.append(title)
        for check in checks:
            cells = [f"  {check.name}", check.stable, check.canary, check.change, check.tolerance]
            lines.append(_line([*cells, f"  {VERDICTS[check.passed]}"], widths))
    return "\n".join(lines)


def verdict_lines(reasons: list[str]) -> list[str]:
    """The last lines: one per breach, then the result."""
    if not reasons:
        return ["PASS: the canary is within every tolerance"]
    return [*reasons, f"FAIL: {len(reasons)} tolerance(s) exceeded"]
