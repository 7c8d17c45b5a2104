"""Exports of one model at once: distinct versions, and nobody's staging folder removed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from export import publish as publish_module
from tests.export.byo_files import keras_file, versions
from tests.export.test_publish import ROOT

__all__ = ["keras_file"]  # a fixture: used by name


CONCURRENT_EXPORT = """
import sys
from pathlib import Path
from export.keras_model import spec_from_keras
from export.pipeline import export_model
print(export_model(spec_from_keras(Path(sys.argv[1]), "byo"), Path(sys.argv[2])).name)
"""


def test_two_exports_at_once_publish_distinct_versions(keras_file: Path, tmp_path: Path) -> None:
    """Neither fails on the other's number nor deletes the other's staging folder."""
    exports = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_EXPORT, str(keras_file), str(tmp_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [export.communicate(timeout=300) for export in exports]
    for export, (_, stderr) in zip(exports, outputs, strict=True):
        assert export.returncode == 0, stderr[-3000:]
    assert sorted(out.strip().splitlines()[-1] for out, _ in outputs) == ["1", "2"]
    assert versions(tmp_path) == ["1", "2"]
    assert not [p for p in (tmp_path / "byo").iterdir() if p.name.startswith(".staging-")]


def test_a_live_exports_reservation_is_respected_and_a_dead_ones_cleared(tmp_path: Path) -> None:
    model_dir = tmp_path / "byo"
    live = publish_module.make_staging_dir(model_dir, 1)  # this process: alive
    dead = model_dir / f"{publish_module.STAGING_PREFIX}2-{2**22 + 777}-x"
    dead.mkdir()
    version, staging = publish_module.reserve_version(model_dir)
    assert version == 2 and live.is_dir() and not dead.exists()
    with pytest.raises(publish_module.PublishError, match="being exported by another process"):
        publish_module.reserve_version(model_dir, 1)
    shutil.rmtree(staging)
