"""Render kustomizations with plain `kubectl kustomize`, as `kubectl apply -k` would."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from deploy_checks.layout import OVERLAYS
from deploy_checks.tools import find_tool

TFS_IMAGE = "tensorflow/serving"
# name:tag, name@digest or both; a registry's port ("host:5000/x") is not a tag.
_REFERENCE = re.compile(
    r"^(?P<name>[^\s:@/]+(?::[0-9]+)?(?:/[^\s:@/]+)*)"
    r"(?::(?P<tag>\w[\w.-]{0,127}))?(?:@(?P<digest>\w+:[0-9a-f]+))?$"
)


class RenderError(RuntimeError):
    """kubectl kustomize failed, or was asked for something it cannot render."""


def render_text(path: Path) -> str:
    """Return the YAML stream the kustomization at path renders to.

    Raises:
        ToolMissing: kubectl is not installed.
        RenderError: kustomize refused the kustomization.
    """
    # No --load-restrictor: every kustomization reads only files in or below its own folder
    # (the copies `make k8s-config` keeps), like kubectl apply -k, Argo CD and Flux expect.
    command = [find_tool("kubectl"), "kustomize", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {path} failed: {result.stderr.strip()}")
    return result.stdout


def render(path: Path) -> list[dict[str, Any]]:
    """Return the objects the kustomization at path renders to, in kustomize's order.

    Raises:
        ToolMissing: kubectl is not installed.
        RenderError: kustomize refused the kustomization.
    """
    return [doc for doc in yaml.safe_load_all(render_text(path)) if doc]


def render_overlay_text(name: str, image: str | None = None) -> str:
    """Return k8s/overlays/<name> rendered, with image in place of tensorflow/serving if given.

    The image is set the way a GitOps overlay would: a throwaway kustomization that lists the
    overlay as its resource and an `images:` entry.

    Raises:
        ToolMissing: kubectl is not installed.
        RenderError: kustomize refused the overlay, or image has no tag or digest.
    """
    overlay = OVERLAYS / name
    if image is None:
        return render_text(overlay)
    match = _REFERENCE.match(image)
    # Without a tag or digest kustomize would keep the stock one: "registry/x:2.20.0".
    if not match or not (match["tag"] or match["digest"]):
        raise RenderError(f"{image!r} is not an image reference with a tag or digest")
    entry = {"name": TFS_IMAGE, "newName": match["name"]}
    entry.update({k: match[v] for k, v in (("newTag", "tag"), ("digest", "digest")) if match[v]})
    with tempfile.TemporaryDirectory(prefix="tfserving-deploy-") as workdir:
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            # Kustomize takes only relative paths to other kustomizations.
            "resources": [os.path.relpath(overlay, workdir)],
            "images": [entry],
        }
        (Path(workdir) / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        return render_text(Path(workdir))


def render_overlay(name: str, image: str | None = None) -> list[dict[str, Any]]:
    """Return the objects of k8s/overlays/<name> (see render_overlay_text).

    Raises:
        ToolMissing: kubectl is not installed.
        RenderError: kustomize refused the overlay, or image has no tag or digest.
    """
    return [doc for doc in yaml.safe_load_all(render_overlay_text(name, image)) if doc]


def find_object(
    objects: list[dict[str, Any]], kind: str, name: str | None = None
) -> dict[str, Any] | None:
    """Return the first object of kind (and name, when given), or None."""
    for obj in objects:
        if obj.get("kind") == kind and name in (None, obj["metadata"]["name"]):
            return obj
    return None
