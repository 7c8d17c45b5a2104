"""Shared monitoring fixtures: the example models' reference data and in-process predictors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monitoring.reference import ModelReference, load_reference


def _reference(models: Path, name: str, version: int = 1) -> ModelReference:
    return load_reference(models / name / str(version))


@pytest.fixture(scope="session")
def reference_tabular(example_models: Path) -> ModelReference:
    return _reference(example_models, "tabular")


@pytest.fixture(scope="session")
def reference_digits(example_models: Path) -> ModelReference:
    return _reference(example_models, "digits")


@pytest.fixture(scope="session")
def reference_regressor(example_models: Path) -> ModelReference:
    return _reference(example_models, "regressor")


@pytest.fixture(scope="session")
def predictors() -> Callable[[ModelReference], Callable]:
    """reference -> its SavedModel's serving_default in process, each loaded once."""
    from monitoring.simulate import saved_model_predictor

    loaded: dict[Path, Callable] = {}

    def predictor(reference: ModelReference) -> Callable:
        if reference.version_dir not in loaded:
            loaded[reference.version_dir] = saved_model_predictor(reference.version_dir)
        return loaded[reference.version_dir]

    return predictor
