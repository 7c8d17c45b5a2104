"""Version folders on disk and which of them a model_version_policy serves, as TF Serving decides."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TypeAlias

from tensorflow_serving.config.file_system_storage_path_source_pb2 import (
    FileSystemStoragePathSourceConfig,
)

ServableVersionPolicy: TypeAlias = FileSystemStoragePathSourceConfig.ServableVersionPolicy

_INT64_MAX = 2**63 - 1
_VERSION_NAME = re.compile(r"[0-9]+")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")

# The container path the shipped models.config uses; local runs swap it for a real folder.
CONTAINER_MODELS_ROOT = "/models"


def is_uri(base_path: str) -> bool:
    """Tell whether base_path is a URI such as gs://bucket/model, which TF Serving also accepts."""
    return _URI.match(base_path) is not None


def resolve_base_path(base_path: str, models_root: Path) -> Path:
    """Map a base_path under /models/ onto models_root; leave any other path as it is."""
    prefix = CONTAINER_MODELS_ROOT + "/"
    if base_path.startswith(prefix):
        return models_root / base_path[len(prefix) :]
    return Path(base_path)


def find_versions(base_path: Path) -> list[int]:
    """Return the versions under base_path, ascending: direct child folders named by an integer.

    Names such as "00000123" count as version 123, as TF Serving parses them with SimpleAtoi;
    other names are ignored.

    Raises:
        FileNotFoundError: base_path does not exist.
        NotADirectoryError: base_path is not a folder.
    """
    return sorted(find_version_dirs(base_path))


def find_version_dirs(base_path: Path) -> dict[int, Path]:
    """Version number -> its folder under base_path (see find_versions for the rules).

    Raises:
        FileNotFoundError: base_path does not exist.
        NotADirectoryError: base_path is not a folder.
    """
    if not base_path.exists():
        raise FileNotFoundError(f"{base_path} does not exist")
    if not base_path.is_dir():
        raise NotADirectoryError(f"{base_path} is not a folder")
    versions: dict[int, Path] = {}
    for child in sorted(base_path.iterdir()):
        if _VERSION_NAME.fullmatch(child.name) and child.is_dir():
            number = int(child.name)
            if number <= _INT64_MAX:
                versions.setdefault(number, child)
    return versions


def served_versions(policy: ServableVersionPolicy, available: Iterable[int]) -> set[int]:
    """Return the versions among `available` that the policy tells TF Serving to load.

    An unset policy means latest{num_versions: 1}, and num_versions 0 is treated as 1.
    """
    present = sorted(set(available))
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return set(present)
    if choice == "specific":
        return set(policy.specific.versions) & set(present)
    count = max(policy.latest.num_versions, 1) if choice == "latest" else 1
    return set(present[-count:]) if present else set()


def describe_policy(policy: ServableVersionPolicy) -> str:
    """Describe a version policy in a few words for error messages."""
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return "all {}"
    if choice == "specific":
        listed = " ".join(f"versions: {v}" for v in policy.specific.versions)
        return f"specific {{ {listed} }}"
    count = max(policy.latest.num_versions, 1) if choice == "latest" else 1
    default = "" if choice else " (the default)"
    return f"latest {{ num_versions: {count} }}{default}"
