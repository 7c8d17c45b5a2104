"""The bundle's example models, trained on data that installed packages ship."""

from __future__ import annotations

from collections.abc import Callable

from export.spec import ServingSpec


def builders() -> dict[str, Callable[..., ServingSpec]]:
    """Example name -> function(seed, epochs_scale) returning a trained ServingSpec."""
    from export.examples import digits, regressor, tabular

    return {"tabular": tabular.build, "digits": digits.build, "regressor": regressor.build}
