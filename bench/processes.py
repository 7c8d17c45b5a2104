"""Run each benchmarked server in its own process on loopback, and stop it afterwards."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on loopback `port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


@dataclass
class ServiceProcess:
    """A started server process and where its output goes."""

    name: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class ModuleSpec:
    """How to run one server: `python -m <args>`, and how to tell it is ready."""

    name: str
    args: list[str]
    ready: Callable[[], bool]


def _start(spec: ModuleSpec, log_dir: Path) -> ServiceProcess:
    log_path = log_dir / f"{spec.name}.log"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", *spec.args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    log.info("started %s (pid %d)", spec.name, process.pid)
    return ServiceProcess(spec.name, process, log_path)


def _wait_ready(service: ServiceProcess, ready: Callable[[], bool], deadline: float) -> None:
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(
                f"{service.name} exited with {service.process.returncode}:\n{service.log_tail()}"
            )
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{service.name} was not ready in time:\n{service.log_tail()}")


def _stop(service: ServiceProcess) -> None:
    service.process.terminate()
    try:
        service.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop on SIGTERM; killing it", service.name)
        service.process.kill()
        service.process.wait()


@contextlib.contextmanager
def run_modules(
    specs: list[ModuleSpec], log_dir: Path, timeout: float = 240.0
) -> Iterator[list[ServiceProcess]]:
    """Start every server at once, wait until each is ready, and stop them all on exit.

    Starting them together overlaps their TensorFlow imports; each still has its own process.

    Raises:
        RuntimeError: a process exited, or was not ready within `timeout` seconds.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    services: list[ServiceProcess] = []
    try:
        for spec in specs:
            services.append(_start(spec, log_dir))
        deadline = time.monotonic() + timeout
        for spec, service in zip(specs, services, strict=True):
            _wait_ready(service, spec.ready, deadline)
        yield services
    finally:
        for service in services:
            _stop(service)
