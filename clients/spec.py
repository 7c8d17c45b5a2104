"""How a call names a model (name, version or label, signature) and how reload_config lists models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from wire import DEFAULT_SIGNATURE

__all__ = ["DEFAULT_SIGNATURE", "ModelConfigSpec", "ModelTarget"]


@dataclass(frozen=True)
class ModelTarget:
    """A model by name, at one version or label (else the latest), through one signature.

    Raises:
        ValueError: if the name is empty, both version and label are given, the version is
            not a non-negative int, or the label is empty.
    """

    name: str
    version: int | None = None
    label: str | None = None
    signature: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a model name is required")
        if self.version is not None and self.label is not None:
            raise ValueError("give a model version or a version label, not both")
        if self.version is not None and (
            isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 0
        ):
            raise ValueError(f"a model version is a non-negative int, not {self.version!r}")
        if self.label is not None and not self.label:
            raise ValueError("a version label cannot be empty")

    @property
    def address(self) -> ModelTarget:
        """The target without its signature: what model metadata and status are asked for."""
        return ModelTarget(self.name, self.version, self.label) if self.signature else self

    @property
    def signature_name(self) -> str:
        """The signature the server will use: the given one, else serving_default."""
        return self.signature or DEFAULT_SIGNATURE

    def rest_path(self) -> str:
        """The REST resource: /v1/models/NAME[/versions/V | /labels/L], percent-encoded."""
        path = f"/v1/models/{quote(self.name, safe='')}"
        if self.version is not None:
            return f"{path}/versions/{self.version}"
        if self.label is not None:
            return f"{path}/labels/{quote(self.label, safe='')}"
        return path

    def fill(self, model_spec: Any, with_signature: bool = True) -> None:
        """Write the target into a tensorflow.serving.ModelSpec message."""
        model_spec.name = self.name
        if self.version is not None:
            model_spec.version.value = self.version
        elif self.label is not None:
            model_spec.version_label = self.label
        if with_signature and self.signature:
            model_spec.signature_name = self.signature


@dataclass(frozen=True)
class ModelConfigSpec:
    """One model for reload_config: its base path, and either fixed versions or the latest N.

    labels map version labels to versions, e.g. {"stable": 1, "canary": 2}.
    """

    name: str
    base_path: str
    versions: Sequence[int] = ()
    num_latest: int = 1
    labels: Mapping[str, int] = field(default_factory=dict)
    platform: str = "tensorflow"

    def fill(self, config: Any) -> None:
        """Write the spec into a tensorflow.serving.ModelConfig message."""
        config.name = self.name
        config.base_path = self.base_path
        config.model_platform = self.platform
        policy = config.model_version_policy
        if self.versions:
            policy.specific.versions.extend(self.versions)
        else:
            policy.latest.num_versions = self.num_latest
        for label, version in self.labels.items():
            config.version_labels[label] = version
