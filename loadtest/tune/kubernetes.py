"""A trial's server as a one-off Kubernetes Deployment: k8s/base rendered with the trial's
batching_parameters.txt, applied only where kubectl reaches a cluster."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from launcher import LOOPBACK, ROOT, RunningServer, StartError, free_port, running, server_answers
from launcher.server import START_TIMEOUT_S
from loadtest.tune.grid import BatchingConfig
from loadtest.tune.launchers import container_name, write_parameters

__all__ = ["KubernetesLauncher"]


def _image_entry(image: str) -> dict[str, str]:
    """kustomize's images: entry putting image in place of tensorflow/serving."""
    name, _, digest = image.partition("@")
    entry = {"name": "tensorflow/serving"}
    repository, colon, tag = name.rpartition(":")
    if colon and "/" not in tag:
        entry |= {"newName": repository, "newTag": tag}
    else:
        entry["newName"] = name
    if digest:
        entry["digest"] = digest
    return entry


@dataclass
class KubernetesLauncher:
    """A one-off Deployment and Services per trial: k8s/base with a name suffix and a trial
    label (selectors included, so it never selects the real Deployment's pods), the trial's
    batching_parameters.txt merged into its ConfigMap, and image in place of the stock
    tensorflow/serving (the stock one has no models: use `make image`'s). Applied only when a
    cluster answers kubectl; reached through `kubectl port-forward` on loopback; deleted after.
    """

    image: str
    model: str
    namespace: str = "default"
    kubectl: str = "kubectl"
    base: Path = ROOT / "k8s" / "base"
    name: str = "kubernetes"

    def deployment_name(self, trial_dir: Path) -> str:
        return container_name(trial_dir)

    def kustomization(self, trial_dir: Path) -> dict[str, Any]:
        folder = (trial_dir / "k8s").resolve()
        return {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "namespace": self.namespace,
            # Kustomize takes only relative paths to other kustomizations.
            "resources": [os.path.relpath(self.base.resolve(), folder)],
            "nameSuffix": self.deployment_name(trial_dir).removeprefix("tfserving"),
            "labels": [
                {
                    "pairs": {"tfserving-bundle/tune-trial": trial_dir.name[:63]},
                    "includeSelectors": True,
                }
            ],
            "images": [_image_entry(self.image)],
            "configMapGenerator": [
                {
                    "name": "tfserving-config",
                    "behavior": "merge",
                    "files": ["batching_parameters.txt"],
                }
            ],
        }

    def render(self, config: BatchingConfig, trial_dir: Path) -> str:
        """Write trial_dir/k8s/ (kustomization.yaml, batching_parameters.txt) and render it
        with `kubectl kustomize` into trial_dir/k8s/manifests.yaml; returns the YAML.

        Raises:
            StartError: kubectl is missing or kustomize refused the kustomization.
            OSError: a file cannot be written.
        """
        folder = trial_dir / "k8s"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "batching_parameters.txt").write_text(
            write_parameters(config, trial_dir).read_text()
        )
        (folder / "kustomization.yaml").write_text(
            yaml.safe_dump(self.kustomization(trial_dir), sort_keys=False)
        )
        try:
            done = subprocess.run(
                [self.kubectl, "kustomize", str(folder)], capture_output=True, text=True
            )
        except OSError as err:
            raise StartError(
                f"cannot run {self.kubectl}: {err}", folder / "manifests.yaml"
            ) from err
        if done.returncode != 0:
            (folder / "kustomize.log").write_text(done.stderr)
            raise StartError("kubectl kustomize failed", folder / "kustomize.log")
        (folder / "manifests.yaml").write_text(done.stdout)
        return done.stdout

    def commands(self, trial_dir: Path, rest_port: int, grpc_port: int) -> dict[str, list[str]]:
        """The kubectl lines of a trial, in the order run: apply, rollout, port-forward, delete."""
        manifests = str(trial_dir / "k8s" / "manifests.yaml")
        deployment = f"deployment/{self.deployment_name(trial_dir)}"
        kubectl = [self.kubectl, f"--namespace={self.namespace}"]
        return {
            "apply": [*kubectl, "apply", "-f", manifests],
            "rollout": [
                *kubectl,
                "rollout",
                "status",
                deployment,
                f"--timeout={START_TIMEOUT_S:.0f}s",
            ],
            "port-forward": [
                *kubectl,
                "port-forward",
                f"--address={LOOPBACK}",
                deployment,
                f"{rest_port}:8501",
                f"{grpc_port}:8500",
            ],
            "delete": [*kubectl, "delete", "--wait=false", "--ignore-not-found", "-f", manifests],
        }

    def cluster_answers(self) -> bool:
        """Whether kubectl reaches a cluster (within 5 s)."""
        try:
            done = subprocess.run(
                [self.kubectl, "cluster-info", "--request-timeout=5s"],
                capture_output=True,
                timeout=15,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    @contextlib.contextmanager
    def serve(self, config: BatchingConfig, trial_dir: Path) -> Iterator[RunningServer]:
        """Raises: StartError: no cluster answers, or the Deployment did not roll out and serve."""
        self.render(config, trial_dir)
        log_path = trial_dir / "server.log"
        if not self.cluster_answers():
            log_path.write_text(f"{self.kubectl} cluster-info: no cluster answers\n")
            raise StartError("no Kubernetes cluster answers kubectl", log_path)
        rest_port, grpc_port = free_port(), free_port()
        steps = self.commands(trial_dir, rest_port, grpc_port)
        rest = f"http://{LOOPBACK}:{rest_port}"
        try:
            for step in ("apply", "rollout"):
                with open(log_path, "a") as out:
                    done = subprocess.run(steps[step], stdout=out, stderr=subprocess.STDOUT)
                if done.returncode != 0:
                    raise StartError(f"kubectl {step} failed", log_path)
            with running(
                "kubectl port-forward",
                steps["port-forward"],
                trial_dir / "port-forward.log",
                lambda: server_answers(rest, self.model, timeout=1.0),
                timeout=60.0,
            ) as process:
                yield RunningServer(rest, f"{LOOPBACK}:{grpc_port}", process, log_path)
        finally:
            # --wait=false: the next trial's objects have other names, so it need not wait.
            subprocess.run(steps["delete"], capture_output=True, check=False)
