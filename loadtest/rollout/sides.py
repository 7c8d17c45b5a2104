"""The two sides of a rollout check, canary and stable: each a version label or a version."""

from __future__ import annotations

from dataclasses import dataclass

from clients.spec import ModelTarget
from loadtest.served import describe_served_model
from loadtest.settings import LoadSettings

__all__ = ["Side", "served_version"]


@dataclass(frozen=True)
class Side:
    """How one side is addressed: by label ("canary") or by version number, not both.

    Raises:
        ValueError: both or neither of version and label.
    """

    name: str
    version: int | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if (self.version is None) == (self.label is None):
            raise ValueError(f"{self.name}: give a version label or a version, one of them")

    def describe(self) -> str:
        return f"label {self.label}" if self.label is not None else f"version {self.version}"

    def settings(self, base: LoadSettings) -> LoadSettings:
        """base's load, sent to this side."""
        return base.replace(version=self.version, label=self.label)


def served_version(settings: LoadSettings, side: Side) -> int:
    """The version the server answers with for side (a label resolved by the server).

    Raises:
        ServingClientError: (a subclass) the server refused or did not answer, e.g. an
            unknown label (InvalidInputError) or version (ModelNotFoundError).
    """
    target = ModelTarget(settings.model, side.version, side.label)
    return describe_served_model(
        settings.transport, settings.target_host, target, settings.timeout
    ).version
