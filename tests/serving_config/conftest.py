"""Fixtures for the serving_config tests: a models folder shaped like the shipped config expects."""

from __future__ import annotations

from pathlib import Path

import pytest

# The version folders models.config needs: tabular serves specific versions 1 and 2
# (labels stable -> 1, canary -> 2); digits and regressor serve their latest version.
SHIPPED_VERSIONS = {"tabular": (1, 2), "digits": (1,), "regressor": (3,)}


def make_models_root(root: Path, versions: dict[str, tuple[int, ...]]) -> Path:
    """Create empty numbered version folders under root, which is all the checker looks at."""
    for name, numbers in versions.items():
        for number in numbers:
            (root / name / str(number)).mkdir(parents=True)
    return root


@pytest.fixture
def models_root(tmp_path: Path) -> Path:
    """A models folder with the versions the shipped models.config refers to."""
    return make_models_root(tmp_path / "models", SHIPPED_VERSIONS)
