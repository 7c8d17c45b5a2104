"""Use the local server if one answers, else start `python -m server` for the runs and stop it after.

`make loadtest` runs against `make serve`'s server; without one running, it starts its own on
the same ports. The server is started as a process, never imported: load tests reach it over
the wire only.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import requests

__all__ = ["ServerStartError", "add_local_server_arguments", "ensure_server", "server_answers"]

logger = logging.getLogger(__name__)

# TensorFlow's import and the example models' loading take ~20 s on a 2-core machine.
START_TIMEOUT_S = 300.0


class ServerStartError(Exception):
    """The server we started exited or did not come up in time (see .log_path)."""

    def __init__(self, message: str, log_path: Path) -> None:
        super().__init__(message)
        self.log_path = log_path


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


def server_answers(rest_url: str, model: str | None = None, timeout: float = 2.0) -> bool:
    """Whether a server answers at rest_url (and serves model, when given)."""
    path = f"/v1/models/{model}" if model else "/v1/models/_probe"
    try:
        response = requests.get(rest_url.rstrip("/") + path, timeout=timeout)
    except requests.RequestException:
        return False
    return response.status_code == 200 if model else True


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
        ServerStartError: the started server exited or did not serve in time.
    """
    if server_answers(rest_url):
        logger.info("using the server at %s", rest_url)
        yield False
        return
    rest_port = urlsplit(rest_url if "://" in rest_url else f"http://{rest_url}").port or 8501
    grpc_port = int(grpc_target.rsplit(":", 1)[1])
    command = [
        sys.executable,
        "-m",
        "server",
        f"--port={grpc_port}",
        f"--rest_api_port={rest_port}",
        f"--model_config_file={config}",
        "--allow_version_labels_for_unavailable_models",
        *shlex.split(server_args),
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logger.info("no server at %s: starting one (log: %s)", rest_url, log_path)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(process, rest_url, model, log_path)
        yield True
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(
    process: subprocess.Popen, rest_url: str, model: str | None, log_path: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"the server exited with {process.returncode}", log_path)
        if server_answers(rest_url, model):
            return
        time.sleep(0.5)
    raise ServerStartError(f"the server did not serve within {START_TIMEOUT_S:.0f}s", log_path)
