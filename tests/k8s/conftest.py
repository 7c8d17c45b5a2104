"""Fixtures for the deployment tests: every overlay rendered once per session."""

from __future__ import annotations

from typing import Any

import pytest

from deploy_checks.kustomize import render_overlay
from deploy_checks.layout import overlays


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """{overlay name: the objects `kubectl kustomize` renders for it}."""
    return {name: render_overlay(name) for name in overlays()}
