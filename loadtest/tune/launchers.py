"""The server a trial restarts: the embedded server or `docker run tensorflow/serving` (and,
in loadtest/tune/kubernetes.py, a one-off Kubernetes Deployment). TF Serving reads
batching_parameters.txt once, at start-up, so every trial gets a server of its own, stopped
after it.

Each launcher writes the trial's files into its folder (config/batching_parameters.txt and,
for a container, what it reads at /config), and says exactly what it runs:
EmbeddedLauncher.flags, DockerLauncher.command, KubernetesLauncher.render and .commands.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from launcher import (
    LOOPBACK,
    ROOT,
    RunningServer,
    free_port,
    running,
    server_answers,
    start_server,
)
from launcher.server import START_TIMEOUT_S
from loadtest.tune.grid import BatchingConfig
from serving_config.release import serving_image, target_release

__all__ = [
    "CONTAINER_FLAGS",
    "DockerLauncher",
    "EmbeddedLauncher",
    "ServerLauncher",
    "container_name",
    "write_parameters",
]

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


def container_name(trial_dir: Path) -> str:
    """The trial's container or Deployment name: tfserving-tune-<trial folder>, DNS-safe."""
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
            f"--name={container_name(trial_dir)}",
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
                [self.docker, "rm", "--force", container_name(trial_dir)],
                capture_output=True,
                check=False,
            )
