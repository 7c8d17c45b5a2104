"""The server a trial restarts: the embedded server, `docker run tensorflow/serving`, or a
one-off Kubernetes Deployment rendered from k8s/base. TF Serving reads batching_parameters.txt
once, at start-up, so every trial gets a server of its own, stopped after it.

Each launcher writes the trial's files into its folder (config/batching_parameters.txt and,
for Docker and Kubernetes, what the container reads), and says exactly what it runs:
EmbeddedLauncher.flags, DockerLauncher.command, KubernetesLauncher.render and .commands.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from launcher import (
    LOOPBACK,
    ROOT,
    RunningServer,
    StartError,
    free_port,
    running,
    server_answers,
    start_server,
)
from launcher.server import START_TIMEOUT_S
from loadtest.tune.grid import BatchingConfig
from serving_config.release import serving_image, target_release

__all__ = [
    "DockerLauncher",
    "EmbeddedLauncher",
    "KubernetesLauncher",
    "ServerLauncher",
    "write_parameters",
]

log = logging.getLogger(__name__)

SERVING_CONFIG = ROOT / "serving_config"
CONTAINER_CONFIG = "/config"
# The container's flags, as in k8s/base/deployment.yaml and the Dockerfile's CMD.
CONTAINER_FLAGS = (
    "--port=8500",
    "--rest_api_port=8501",
    f"--model_config_file={CONTAINER_CONFIG}/models.config",
    f"--monitoring_config_file={CONTAINER_CONFIG}/monitoring.config",
    "--enable_batching=true",
    f"--batching_parameters_file={CONTAINER_CONFIG}/batching_parameters.txt",
    "--allow_version_labels_for_unavailable_models=true",
)


class ServerLauncher(Protocol):
    """Starts a server with one trial's batching parameters, yields where it answers once it
    serves the model, and stops it on exit."""

    name: str

    def serve(
        self, config: BatchingConfig, trial_dir: Path
    ) -> AbstractContextManager[RunningServer]: ...


def write_parameters(config: BatchingConfig, trial_dir: Path) -> Path:
    """trial_dir/config/batching_parameters.txt, written; returns its path.

    Raises:
        OSError: it cannot be written.
    """
    path = trial_dir / "config" / "batching_parameters.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config.text())
    return path


@dataclass
class EmbeddedLauncher:
    """`python -m server --enable_batching --batching_parameters_file=...` on loopback."""

    models_config: Path  # models.config with local base paths
    model: str
    server_args: list[str] = field(default_factory=list)
    monitoring_config: Path = SERVING_CONFIG / "monitoring.config"
    start_timeout: float = START_TIMEOUT_S
    name: str = "embedded"

    def flags(self, parameters: Path) -> list[str]:
        return [
            f"--model_config_file={self.models_config}",
            f"--monitoring_config_file={self.monitoring_config}",
            "--allow_version_labels_for_unavailable_models",
            "--enable_batching",
            f"--batching_parameters_file={parameters}",
            *self.server_args,
        ]

    @contextlib.contextmanager
    def serve(self, config: BatchingConfig, trial_dir: Path) -> Iterator[RunningServer]:
        """Raises: StartError: the server exited or did not serve the model in time."""
        flags = self.flags(write_parameters(config, trial_dir))
        log_path = trial_dir / "server.log"
        with start_server(flags, log_path, model=self.model, timeout=self.start_timeout) as server:
            yield server


def _container_name(trial_dir: Path) -> str:
    return f"tfserving-tune-{trial_dir.name}"[:63].rstrip("-")


@dataclass
class DockerLauncher:
    """`docker run` of the pinned tensorflow/serving image (serving_config/release.py), the
    exported models mounted read-only at /models, the trial's config folder at /config, its
    ports published on loopback only."""

    models_root: Path
    model: str
    gpu: bool = False
    image: str = ""  # default: the pinned release's stock image
    models_config: Path = SERVING_CONFIG / "models.config"  # base paths under /models
    monitoring_config: Path = SERVING_CONFIG / "monitoring.config"
    docker: str = "docker"
    start_timeout: float = START_TIMEOUT_S
    name: str = "docker"

    def __post_init__(self) -> None:
        self.image = self.image or serving_image(target_release(), gpu=self.gpu)

    def command(self, trial_dir: Path, rest_port: int, grpc_port: int) -> list[str]:
        """The exact `docker run` line of a trial whose files are in trial_dir/config."""
        return [
            self.docker,
            "run",
            "--rm",
            f"--name={_container_name(trial_dir)}",
            "--read-only",
            "--tmpfs=/tmp",
            "--user=65532:65532",
            *(["--gpus=all"] if self.gpu else []),
            f"--publish={LOOPBACK}:{grpc_port}:8500",
            f"--publish={LOOPBACK}:{rest_port}:8501",
            f"--volume={self.models_root.resolve()}:/models:ro",
            f"--volume={(trial_dir / 'config').resolve()}:{CONTAINER_CONFIG}:ro",
            "--entrypoint=/usr/bin/tensorflow_model_server",
            self.image,
            *CONTAINER_FLAGS,
        ]

    def prepare(self, config: BatchingConfig, trial_dir: Path) -> None:
        """The container's /config: models.config, monitoring.config, the trial's parameters.

        Raises:
            OSError: a file cannot be copied or written.
        """
        write_parameters(config, trial_dir)
        shutil.copyfile(self.models_config, trial_dir / "config" / "models.config")
        shutil.copyfile(self.monitoring_config, trial_dir / "config" / "monitoring.config")

    @contextlib.contextmanager
    def serve(self, config: BatchingConfig, trial_dir: Path) -> Iterator[RunningServer]:
        """Raises: StartError: the container exited or did not serve the model in time."""
        self.prepare(config, trial_dir)
        rest_port, grpc_port = free_port(), free_port()
        rest = f"http://{LOOPBACK}:{rest_port}"
        command = self.command(trial_dir, rest_port, grpc_port)
        (trial_dir / "command.txt").write_text(" ".join(command) + "\n")
        log_path = trial_dir / "server.log"
        try:
            with running(
                "tensorflow/serving container",
                command,
                log_path,
                lambda: server_answers(rest, self.model, timeout=1.0),
                timeout=self.start_timeout,
            ) as process:
                yield RunningServer(rest, f"{LOOPBACK}:{grpc_port}", process, log_path)
        finally:  # the CLI forwards SIGTERM to the container; make sure it is gone
            subprocess.run(
                [self.docker, "rm", "--force", _container_name(trial_dir)],
                capture_output=True,
                check=False,
            )


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
        return _container_name(trial_dir)

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
