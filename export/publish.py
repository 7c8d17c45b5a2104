"""Version folders: numbering, staging next to the target, atomic publish and pruning."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from exported.versions import list_versions

log = logging.getLogger(__name__)

STAGING_PREFIX = ".staging-"
_STAGING = re.compile(re.escape(STAGING_PREFIX) + r"(\d+)-(\d+)-.+")
# A model name is one path segment of a REST URL (/v1/models/NAME) and one folder name.
_MODEL_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class PublishError(Exception):
    """A version cannot be published (it exists already, or the folder is unusable)."""


def check_model_name(name: str) -> None:
    """A model name must be usable as `/v1/models/NAME` and as a folder under the base dir.

    Raises:
        PublishError: the name is empty, `.` or `..`, or has a character other than letters,
            digits, `-`, `_` and `.`.
    """
    if not _MODEL_NAME.fullmatch(name) or name in (".", ".."):
        raise PublishError(
            f"model name {name!r} is not allowed: use letters, digits, '-', '_' and '.'"
            " (one URL path segment, not '.' or '..')"
        )


def version_path(model_dir: Path, version: int) -> Path:
    return model_dir / str(version)


def make_staging_dir(model_dir: Path, version: int) -> Path:
    """A fresh folder beside the versions, on the same filesystem, that TF Serving ignores.

    Its name is not a number, so a server polling `model_dir` never loads it; it carries the
    version and this process's id (`.staging-<version>-<pid>-<random>`): while the process
    lives, the folder reserves that version number.
    """
    model_dir.mkdir(parents=True, exist_ok=True)
    prefix = f"{STAGING_PREFIX}{version}-{os.getpid()}-"
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=model_dir))
    staging.chmod(0o755)  # mkdtemp makes it private; a server running as another user must read it
    return staging


def _staging_owner(name: str) -> tuple[int, int] | None:
    """(version, pid) of a staging folder's name, None for other names."""
    match = _STAGING.fullmatch(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(model_dir: Path) -> None:
    """Remove staging folders left behind by exports whose process has ended (crashed or killed);
    those of exports still running are theirs."""
    if not model_dir.is_dir():
        return
    for child in model_dir.iterdir():
        if not (child.name.startswith(STAGING_PREFIX) and child.is_dir()):
            continue
        owner = _staging_owner(child.name)
        if owner is not None and _alive(owner[1]):
            continue
        log.info("removing leftover staging folder %s", child)
        shutil.rmtree(child, ignore_errors=True)


@contextlib.contextmanager
def _publish_lock(model_dir: Path) -> Iterator[None]:
    """One export of a model at a time picks its version number: an flock on the model
    folder itself, so no lock file lies beside the versions."""
    model_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(model_dir, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def reserve_version(model_dir: Path, version: int | None = None) -> tuple[int, Path]:
    """Pick the version (the next free number when None) and make its staging folder, under
    the model's lock: concurrent exports get distinct versions and never remove each other's
    staging folders.

    Raises:
        PublishError: version exists already, or another running export has reserved it.
    """
    with _publish_lock(model_dir):
        remove_stale_staging(model_dir)
        reserved = {
            owner[0]
            for child in model_dir.iterdir()
            if (owner := _staging_owner(child.name)) is not None
        }
        if version is None:
            version = max([*list_versions(model_dir), *reserved], default=0) + 1
        elif version_path(model_dir, version).exists():
            raise PublishError(
                f"{model_dir.name} version {version} exists already at "
                f"{version_path(model_dir, version)}; versions are never overwritten (omit "
                "--version to take the next number)"
            )
        elif version in reserved:
            raise PublishError(
                f"{model_dir.name} version {version} is being exported by another process now"
                " (its staging folder is in the model folder); pick another number"
            )
        return version, make_staging_dir(model_dir, version)


def publish(staging: Path, model_dir: Path, version: int) -> Path:
    """Rename the staged SavedModel into `<model_dir>/<version>` in one step.

    Raises:
        PublishError: the version folder exists already; the staged folder is left untouched.
    """
    target = version_path(model_dir, version)
    if target.exists():
        raise PublishError(f"version {version} of {model_dir.name} exists already at {target}")
    _fsync_tree(staging)
    os.rename(staging, target)
    _fsync_dir(model_dir)
    return target


def prune(model_dir: Path, keep: int) -> list[int]:
    """Delete all but the newest `keep` versions; returns the versions removed."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    versions = list_versions(model_dir)
    doomed = versions[:-keep]
    for version in doomed:
        # Rename first so that a polling server never sees a half-deleted version.
        path = version_path(model_dir, version)
        trash = model_dir / f"{STAGING_PREFIX}deleted-{version}"
        os.rename(path, trash)
        shutil.rmtree(trash)
        log.info("pruned version %d of %s", version, model_dir.name)
    return doomed


def _fsync_tree(root: Path) -> None:
    for dirpath, _, filenames in os.walk(root):
        for filename in filenames:
            with open(os.path.join(dirpath, filename), "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
