"""Each overlay renders with plain `kubectl kustomize` (what kubectl apply -k, Argo CD and Flux
run): every kustomization reads only files below its folder, and the copies of serving_config/
and the dashboard that `make k8s-config` puts there match their originals."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy_checks.kustomize import find_object, render
from deploy_checks.layout import DASHBOARD, K8S, ROOT, SERVING_CONFIG, overlays
from deploy_checks.tools import find_tool
from tests.k8s.objects import pod_spec

CONFIG_FILES = ("models.config", "batching_parameters.txt", "monitoring.config")
OVERLAYS = [pytest.param(name, id=name) for name in overlays()]
# {folder inside k8s/: the folder its files are copied from by `make k8s-config`}. Kustomize
# reads only files in or below a kustomization's folder, so the manifests ship these copies.
COPIES = {
    K8S / "base" / "serving_config": SERVING_CONFIG,
    K8S / "components" / "monitoring" / "dashboards": DASHBOARD.parent,
}
KUSTOMIZATIONS = sorted(K8S.rglob("kustomization.yaml"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_plain_kubectl_kustomize_renders_the_overlay(rendered, overlay: str) -> None:
    """`kubectl apply -k`, Argo CD and Flux render without --load-restrictor; so must we."""
    result = subprocess.run(
        [find_tool("kubectl"), "kustomize", f"k8s/overlays/{overlay}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    (config_map,) = [o for o in objects if o["metadata"]["name"].startswith("tfserving-config-")]
    assert config_map["data"] == {f: (SERVING_CONFIG / f).read_text() for f in CONFIG_FILES}
    if overlay == "prod":
        dashboard = find_object(objects, "ConfigMap", "tfserving-dashboard")
        assert dashboard["data"] == {DASHBOARD.name: DASHBOARD.read_text()}
    # What `make deploy` and `make k8s-check` render is exactly what kubectl apply -k applies.
    assert objects == rendered[overlay]


def files_read(kustomization: Path) -> list[str]:
    """The files (not kustomizations) the kustomization at path loads, as written in it."""
    spec = yaml.safe_load(kustomization.read_text())
    read = []
    for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
        read += [entry.split("=", 1)[-1] for entry in generator.get("files", [])]
        read += generator.get("envs", []) + ([generator["env"]] if "env" in generator else [])
    read += [patch["path"] for patch in spec.get("patches", []) if "path" in patch]
    read += spec.get("patchesStrategicMerge", [])
    folder = kustomization.parent
    read += [r for r in spec.get("resources", []) if (folder / r).is_file()]
    return read


@pytest.mark.parametrize(
    "kustomization", KUSTOMIZATIONS, ids=[str(k.parent.relative_to(K8S)) for k in KUSTOMIZATIONS]
)
def test_kustomization_reads_only_files_below_its_folder(kustomization: Path) -> None:
    folder = kustomization.parent
    for name in files_read(kustomization):
        assert (folder / name).resolve().is_relative_to(folder), (
            f"{kustomization.relative_to(ROOT)} reads {name}, outside its folder: kubectl apply -k "
            "refuses it; copy the file into the folder with `make k8s-config` (Makefile)"
        )


@pytest.mark.parametrize("copies", COPIES, ids=[str(c.relative_to(ROOT)) for c in COPIES])
def test_copies_in_k8s_equal_their_originals(copies: Path) -> None:
    originals = COPIES[copies]
    copied = sorted(p for p in copies.iterdir() if p.is_file())
    assert copied, f"{copies.relative_to(ROOT)} is empty: run `make k8s-config`"
    for copy in copied:
        original = originals / copy.name
        assert original.is_file(), f"{copy.relative_to(ROOT)} has no original: delete it"
        assert copy.read_bytes() == original.read_bytes(), (
            f"{copy.relative_to(ROOT)} differs from {original.relative_to(ROOT)}: run "
            "`make k8s-config` and commit the copy (edit the original, never the copy)"
        )


def test_every_copied_file_is_read_by_a_kustomization() -> None:
    read = {(k.parent / name).resolve() for k in KUSTOMIZATIONS for name in files_read(k)}
    for copies in COPIES:
        for copy in copies.iterdir():
            assert copy.resolve() in read, f"no kustomization reads {copy.relative_to(ROOT)}"


def make_k8s_config(root: Path) -> None:
    """Run `make k8s-config` in root (a copy of the repository's deployment files)."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    result = subprocess.run(
        ["make", "-s", "-C", str(root), "k8s-config"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_k8s_config_writes_the_committed_copies(tmp_path: Path) -> None:
    for folder in ("k8s", "deploy", "serving_config"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for copies in COPIES:
        shutil.rmtree(tmp_path / copies.relative_to(ROOT))
    make_k8s_config(tmp_path)
    for copies in COPIES:
        remade = tmp_path / copies.relative_to(ROOT)
        assert sorted(p.name for p in remade.iterdir()) == sorted(p.name for p in copies.iterdir())
        for copy in copies.iterdir():
            assert (remade / copy.name).read_bytes() == copy.read_bytes()


def test_editing_serving_config_renames_the_config_map(tmp_path: Path) -> None:
    """The hash in the name changes the pod template, which is what rolls the Deployment."""
    for folder in ("k8s", "deploy", "serving_config"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    before = render(tmp_path / "k8s" / "overlays" / "dev")
    models_config = tmp_path / "serving_config" / "models.config"
    models_config.write_text(models_config.read_text().replace("value: 2", "value: 3"))
    make_k8s_config(tmp_path)  # what make deploy runs first
    after = render(tmp_path / "k8s" / "overlays" / "dev")

    def config_name(objects) -> str:
        (volume,) = [v for v in pod_spec(objects)["volumes"] if "configMap" in v]
        return volume["configMap"]["name"]

    assert config_name(before) != config_name(after)
    assert find_object(after, "ConfigMap", config_name(after)) is not None
