"""The two sides of a rollout check, canary and stable: each a version label or a version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clients.spec import ModelTarget
from loadtest.served import ServedModel, describe_served_model
from loadtest.settings import LoadSettings

__all__ = ["Side", "connect_client", "served_model"]


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


def served_model(settings: LoadSettings, side: Side) -> ServedModel:
    """The version the server answers with for side (a label resolved by the server) and that
    version's signatures, as GetModelMetadata reports them.

    Raises:
        ServingClientError: (a subclass) the server refused or did not answer, e.g. an
            unknown label (InvalidInputError) or version (ModelNotFoundError).
    """
    target = ModelTarget(settings.model, side.version, side.label)
    return describe_served_model(settings.transport, settings.target_host, target, settings.timeout)


def connect_client(settings: LoadSettings) -> Any:
    """A client of the check's server over its transport (rest-httpuser is REST); close it.

    Raises:
        ValueError: as the client's constructor.
    """
    from clients import connect

    transport = "grpc" if settings.transport == "grpc" else "rest"
    return connect(transport, settings.target_host, timeout=settings.timeout)
