"""The embedded server as a local process: `python -m server` on loopback ports, ready once its
REST API answers (and serves a given model), stopped afterwards; and the "a local server"
options (--start-server, --server-args, --server-log) the CLIs share."""

from __future__ import annotations

import argparse
import contextlib
import logging
import shlex
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

import tflog
from launcher.processes import LOOPBACK, free_port, running

__all__ = [
    "ROOT",
    "START_TIMEOUT_S",
    "RunningServer",
    "add_local_server_arguments",
    "ensure_server",
    "process_env",
    "server_answers",
    "start_server",
]

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
# TensorFlow's import and the example models' loading take ~20 s on a quiet 2-core machine;
# a loaded one can take many times that.
START_TIMEOUT_S = 300.0


@dataclass
class RunningServer:
    """Where a server answers; process and log_path are None for one this code did not start."""

    rest: str  # http://127.0.0.1:PORT
    grpc: str  # 127.0.0.1:PORT
    process: object | None = None
    log_path: Path | None = None

    def log(self) -> str:
        """Everything the server wrote so far ("" for one not started here)."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""


def process_env() -> dict[str, str]:
    """The environment of a project process started here: TensorFlow's start-up noise quiet,
    output unbuffered so that its log is current."""
    return {**tflog.environment(), "PYTHONUNBUFFERED": "1"}


def server_answers(rest_url: str, model: str | None = None, timeout: float = 2.0) -> bool:
    """Whether a server answers at rest_url (and serves model, when given)."""
    path = f"/v1/models/{model}" if model else "/v1/models/_probe"
    try:
        response = requests.get(rest_url.rstrip("/") + path, timeout=timeout)
    except requests.RequestException:
        return False
    return response.status_code == 200 if model else True


@contextlib.contextmanager
def start_server(
    flags: Sequence[str],
    log_path: Path,
    *,
    grpc_port: int | None = None,
    rest_port: int | None = None,
    model: str | None = None,
    timeout: float = START_TIMEOUT_S,
    cwd: Path | None = None,
) -> Iterator[RunningServer]:
    """Run `python -m server` with flags on loopback (free ports unless given) in cwd (default:
    this process's, where relative paths in flags are meant); yield it once its REST API answers
    (and model is available, when given); stop it on exit.

    Raises:
        StartError: the server exited, or was not ready within timeout seconds.
    """
    grpc_port = grpc_port or free_port()
    rest_port = rest_port or free_port()
    rest = f"http://{LOOPBACK}:{rest_port}"
    command = [
        sys.executable,
        "-m",
        "server",
        f"--port={grpc_port}",
        f"--rest_api_port={rest_port}",
        *flags,
    ]
    with running(
        "server",
        command,
        log_path,
        lambda: server_answers(rest, model, timeout=1.0),
        timeout=timeout,
        cwd=cwd,
        env=process_env(),
    ) as process:
        yield RunningServer(rest, f"{LOOPBACK}:{grpc_port}", process, log_path)


def add_local_server_arguments(
    parser: argparse.ArgumentParser,
    *,
    rest_option: str,
    grpc_option: str,
    used_for: str,
    log: Path = Path("build/loadtest-server.log"),
) -> None:
    """The "a local server" options (--start-server, --server-args, --server-log) that
    ensure_server takes, for a command whose addresses are rest_option and grpc_option."""
    local = parser.add_argument_group("a local server")
    local.add_argument(
        "--start-server",
        type=Path,
        metavar="MODELS_CONFIG",
        help=f"if nothing answers at {rest_option}, run `python -m server` on its and "
        f"{grpc_option}'s ports with this models.config for {used_for}, then stop it",
    )
    local.add_argument("--server-args", default="", help="more flags for that server")
    local.add_argument("--server-log", type=Path, default=log)


@contextlib.contextmanager
def ensure_server(
    rest_url: str,
    grpc_target: str,
    config: Path,
    *,
    model: str | None = None,
    server_args: str = "",
    log_path: Path = Path("build/loadtest-server.log"),
) -> Iterator[bool]:
    """Yield True after starting a server (stopped on exit), False when one already answers.

    The started server listens on the ports of rest_url and grpc_target, serving config
    (models.config with local paths); model, when given, must be available before this yields.

    Raises:
        StartError: the started server exited or did not serve in time.
    """
    if server_answers(rest_url):
        log.info("using the server at %s", rest_url)
        yield False
        return
    rest_port = urlsplit(rest_url if "://" in rest_url else f"http://{rest_url}").port or 8501
    grpc_port = int(grpc_target.rsplit(":", 1)[1])
    flags = [
        f"--model_config_file={config}",
        "--allow_version_labels_for_unavailable_models",
        *shlex.split(server_args),
    ]
    log.info("no server at %s: starting one (log: %s)", rest_url, log_path)
    with start_server(flags, log_path, grpc_port=grpc_port, rest_port=rest_port, model=model):
        yield True
