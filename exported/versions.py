"""A model's exported versions: the numbered folders under <models_root>/<model>."""

from __future__ import annotations

from pathlib import Path

from exported.errors import ExportedError

__all__ = [
    "latest_version_dir",
    "list_versions",
    "parse_version",
    "version_dir",
    "version_path",
]


def parse_version(name: str) -> int | None:
    """TF Serving's rule: a child folder is a version when its name is a non-negative integer."""
    return int(name) if name.isdigit() else None


def list_versions(model_dir: Path) -> list[int]:
    """The version numbers under model_dir, ascending (empty when the folder does not exist)."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return []
    found = (parse_version(p.name) for p in model_dir.iterdir() if p.is_dir())
    return sorted(v for v in found if v is not None)


def version_path(models_root: Path, model: str, version: int) -> Path:
    """Where export writes a version: <models_root>/<model>/<version> (it may not exist)."""
    return Path(models_root) / model / str(version)


def latest_version_dir(models_root: Path, model: str) -> Path:
    """The newest (highest numbered) version folder of model, the one a `latest` policy serves.

    Raises:
        ExportedError: the model folder is missing or holds no numbered version.
    """
    model_dir = Path(models_root) / model
    if not model_dir.is_dir():
        raise ExportedError(f"no model {model!r} under {models_root}")
    versions = list_versions(model_dir)
    if not versions:
        raise ExportedError(f"{model_dir} holds no exported version")
    return version_path(models_root, model, versions[-1])


def version_dir(models_root: Path, model: str, version: int | None = None) -> Path:
    """The folder of an exported version of model, of its latest when version is None.

    Raises:
        ExportedError: the model or that version is not exported.
    """
    if version is None:
        return latest_version_dir(models_root, model)
    path = version_path(models_root, model, version)
    if not path.is_dir():
        raise ExportedError(f"{model} version {version} is not exported under {models_root}")
    return path
