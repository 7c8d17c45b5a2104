"""The TF Serving release is stated once (serving_config/tfserving_release.txt); all else agrees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploy_checks.__main__ import main
from deploy_checks.layout import ROOT
from deploy_checks.release import disagreements, mentions, set_release
from serving_config.release import (
    ReleaseError,
    serving_image,
    target_release,
    tensorflow_requirement,
)

# The files that state the release: every kind of mention is in one of them.
STATING = (
    "Dockerfile",
    "README.md",
    "pyproject.toml",
    "k8s",
    "serving_config/tfserving_release.txt",
)


@pytest.fixture
def copy_of_repo(tmp_path: Path) -> Path:
    for name in STATING:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    return tmp_path


def test_every_file_agrees_with_the_release_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert disagreements() == []
    assert main(["release"]) == 0
    assert f"TF Serving {target_release()}" in capsys.readouterr().out


def test_every_kind_of_mention_is_found() -> None:
    release = target_release()
    found = {(str(m.path), m.found) for m in mentions()}
    minor = ".".join(release.split(".")[:2])
    assert ("Dockerfile", release) in found
    assert ("k8s/base/deployment.yaml", release) in found
    assert ("k8s/overlays/gpu/kustomization.yaml", release) in found  # the -gpu tag
    assert ("pyproject.toml", minor) in found
    assert sum(1 for path, _ in found if path.startswith("k8s/components/model-quality")) == 2


def test_the_pins_follow_the_release() -> None:
    release = target_release()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"{tensorflow_requirement(release)}"' in pyproject
    assert f'"{tensorflow_requirement(release, "tensorflow-serving-api")}"' in pyproject
    assert f"ARG TFS_IMAGE={serving_image(release)}\n" in (ROOT / "Dockerfile").read_text()


def test_a_stale_mention_is_named_with_its_line(copy_of_repo: Path) -> None:
    release = target_release()
    deployment = copy_of_repo / "k8s/base/deployment.yaml"
    text = deployment.read_text()
    deployment.write_text(text.replace(f"tensorflow/serving:{release}", "tensorflow/serving:2.3.0"))
    (wrong,) = disagreements(copy_of_repo, release)
    line = text[: text.index(f"tensorflow/serving:{release}")].count("\n") + 1
    assert (wrong.path, wrong.line, wrong.found) == (
        Path("k8s/base/deployment.yaml"),
        line,
        "2.3.0",
    )
    assert f"k8s/base/deployment.yaml:{line}: says 2.3.0" in str(wrong)


def test_set_release_moves_every_mention(copy_of_repo: Path) -> None:
    before = len(mentions(copy_of_repo, target_release()))
    set_release("3.4.5", copy_of_repo)
    assert disagreements(copy_of_repo, "3.4.5") == []
    assert len(mentions(copy_of_repo, "3.4.5")) == before
    assert (copy_of_repo / "serving_config/tfserving_release.txt").read_text() == "3.4.5\n"
    pyproject = (copy_of_repo / "pyproject.toml").read_text()
    assert '"tensorflow>=3.4,<3.5"' in pyproject
    assert '"tensorflow-serving-api>=3.4,<3.5"' in pyproject
    assert "newTag: 3.4.5-gpu" in (copy_of_repo / "k8s/overlays/gpu/kustomization.yaml").read_text()


@pytest.mark.parametrize(
    "text", [pytest.param("2.21", id="no-patch"), pytest.param("v2.21.0", id="prefix")]
)
def test_a_malformed_release_is_refused(copy_of_repo: Path, text: str) -> None:
    with pytest.raises(ReleaseError, match="MAJOR.MINOR.PATCH"):
        set_release(text, copy_of_repo)
    with pytest.raises(ReleaseError, match="not a TF Serving release"):
        (copy_of_repo / "x.txt").write_text(text)
        target_release(copy_of_repo / "x.txt")
