"""Start `python -m server` as a subprocess on free loopback ports, for one test module."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    rest: str  # http://127.0.0.1:PORT
    grpc: str  # 127.0.0.1:PORT
    process: subprocess.Popen | None
    log_path: Path | None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path else ""


def wait_until_serving(
    url: str, process: subprocess.Popen | None, log_path: Path | None, timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log_path.read_text() if log_path else ''}"
            )
        with contextlib.suppress(requests.RequestException):
            requests.get(url, timeout=1)
            return
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not come up in {timeout}s")


@contextlib.contextmanager
def start_server(flags: list[str], log_dir: Path, name: str = "server") -> Iterator[RunningServer]:
    """Run the embedded server with `flags` plus fresh --port/--rest_api_port; stop it after."""
    grpc_port, rest_port = free_port(), free_port()
    log_path = log_dir / f"{name}.log"
    args = [
        sys.executable,
        "-m",
        "server",
        f"--port={grpc_port}",
        f"--rest_api_port={rest_port}",
        *flags,
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        rest = f"http://127.0.0.1:{rest_port}"
        wait_until_serving(rest + "/v1/models/_probe", process, log_path)
        yield RunningServer(rest, f"127.0.0.1:{grpc_port}", process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
