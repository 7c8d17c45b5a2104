"""Session-wide fixtures: the example models are exported once per source revision."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
from pathlib import Path

import pytest

import tflog

tflog.quiet()
ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "test-models"


def _export_sources_digest() -> str:
    digest = hashlib.sha256()
    # What an export writes and where: the exporter and the layout it takes its names from.
    sources = [*(ROOT / "export").rglob("*.py"), *(ROOT / "exported").rglob("*.py")]
    for path in sorted(sources):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def example_models() -> Path:
    """A models folder with every example model exported (reused while export/ is unchanged)."""
    target = CACHE / _export_sources_digest()
    CACHE.mkdir(parents=True, exist_ok=True)
    # Two test sessions at once (e.g. a developer's and a hook's) export one at a time.
    with (CACHE.parent / "test-models.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").exists():
            from export.__main__ import main

            for stale in CACHE.glob("*"):  # exports of older sources, or an interrupted one
                shutil.rmtree(stale, ignore_errors=True)
            assert main(["examples", "--base-dir", str(target)]) == 0
            (target / ".complete").touch()
    return target


@pytest.fixture(scope="session")
def tampered_models(example_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tabular 1 (the real export, label stable), tabular 2 (tampered: constant answers behind
    real assets, label canary) and regressor 1, with their models.config: the bad rollout the
    verify and rollout checks must catch. Built once per session."""
    from tests.fixtures.tampered import tampered_models_root

    root = tmp_path_factory.mktemp("tampered-models")
    tampered_models_root(example_models, root)
    return root


@pytest.fixture(scope="session")
def tampered_server(tampered_models: Path, tmp_path_factory: pytest.TempPathFactory):
    """One server of tampered_models for every module that checks a bad rollout is caught."""
    from tests.serverproc import start_server

    flags = [
        f"--model_config_file={tampered_models / 'models.config'}",
        "--allow_version_labels_for_unavailable_models",
    ]
    with start_server(flags, tmp_path_factory.mktemp("tampered-server")) as running:
        yield running
