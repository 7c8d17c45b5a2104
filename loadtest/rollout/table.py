"""The rollout check's side-by-side table: stable and canary, their change, tolerance, verdict."""

from __future__ import annotations

from collections.abc import Sequence

from loadtest.rollout.compare import Check

__all__ = ["format_table", "verdict_lines"]

COLUMNS = (("", 18), ("stable", 10), ("canary", 10), ("change", 26), ("tolerance", 24))
VERDICTS = {True: "ok", False: "FAIL", None: ""}


def _line(cells: Sequence[str]) -> str:
    parts = [
        f"{cell:<{width}}" if i == 0 else f"{cell:>{width}}"
        for i, (cell, (_, width)) in enumerate(zip(cells, COLUMNS, strict=False))
    ]
    return " ".join(parts + list(cells[len(COLUMNS) :])).rstrip()


def format_table(sections: dict[str, list[Check]]) -> str:
    """One block per section ("load", "predictions"), a row per check, verdicts at the right."""
    lines = [_line([name for name, _ in COLUMNS] + ["  verdict"])]
    for title, checks in sections.items():
        lines.append(title)
        for check in checks:
            cells = [f"  {check.name}", check.stable, check.canary, check.change, check.tolerance]
            lines.append(_line([*cells, f"  {VERDICTS[check.passed]}"]))
    return "\n".join(lines)


def verdict_lines(reasons: list[str]) -> list[str]:
    """The last lines: one per breach, then the result."""
    if not reasons:
        return ["PASS: the canary is within every tolerance"]
    return [*reasons, f"FAIL: {len(reasons)} tolerance(s) exceeded"]
