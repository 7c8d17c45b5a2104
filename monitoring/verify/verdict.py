"""The verification's verdict: one row per check, a table, a JSON summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["VerifyCheck", "VerifyResult"]


@dataclass(frozen=True)
class VerifyCheck:
    """One row of the verdict table; passed None: shown, not gated."""

    name: str
    transport: str
    detail: str
    passed: bool | None

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "-"}[self.passed]


@dataclass(frozen=True)
class VerifyResult:
    """Every check of one model version served over one or two transports."""

    model: str
    version: int
    label: str | None
    version_dir: Path
    rows: int
    checks: list[VerifyCheck]
    metrics: dict[str, dict[str, float]]

    @property
    def failures(self) -> list[VerifyCheck]:
        return [check for check in self.checks if check.passed is False]

    @property
    def passed(self) -> bool:
        return not self.failures

    def text(self) -> str:
        """A header, the verdict table, and a last line PASS or FAIL."""
        via = f" (label {self.label})" if self.label else ""
        lines = [f"verify {self.model} version {self.version}{via}: {self.rows} held-out rows"]
        width = max(len(check.name) for check in self.checks)
        for check in self.checks:
            lines.append(
                f"  {check.verdict:<4}  {check.name:<{width}}  {check.transport:<4}  {check.detail}"
            )
        if self.passed:
            lines.append(f"PASS: {self.model} version {self.version} is served as exported")
        else:
            lines.append(f"FAIL: {len(self.failures)} check(s) failed")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "label": self.label,
            "version_dir": str(self.version_dir),
            "rows": self.rows,
            "checks": [
                {"name": c.name, "transport": c.transport, "detail": c.detail, "passed": c.passed}
                for c in self.checks
            ],
            "metrics": self.metrics,
            "passed": self.passed,
        }
