"""A process on loopback: started with its output in a log file, waited on until it is ready,
stopped with SIGTERM and, after a grace period, SIGKILL."""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "LOOPBACK",
    "StartError",
    "free_port",
    "launch",
    "log_tail",
    "port_open",
    "running",
    "stop",
    "wait_ready",
]

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


class StartError(RuntimeError):
    """A started process exited, or was not ready in time; the message ends with its log's tail."""

    def __init__(self, message: str, log_path: Path) -> None:
        super().__init__(f"{message} (log: {log_path})\n{log_tail(log_path)}")
        self.log_path = log_path


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on host that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = LOOPBACK) -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file ("" when there is none)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def stop(process: subprocess.Popen[Any], grace: float = 20.0, name: str = "process") -> None:
    """SIGTERM, then SIGKILL if it has not exited within grace seconds; reaps it either way."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        log.warning(
            "%s (pid %d) did not stop on SIGTERM in %gs; killing it", name, process.pid, grace
        )
        process.kill()
        process.wait()


@contextlib.contextmanager
def running(
    name: str,
    command: Sequence[str],
    log_path: Path,
    ready: Callable[[], bool],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    grace: float = 20.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start command (stdout and stderr to log_path), yield it once ready() is true, stop it on
    exit (see stop).

    Raises:
        StartError: the process exited, or ready() was not true within timeout seconds.
    """
    process = launch(name, command, log_path, cwd=cwd, env=env)
    try:
        wait_ready(name, process, ready, log_path, time.monotonic() + timeout)
        yield process
    finally:
        stop(process, grace, name)


def launch(
    name: str,
    command: Sequence[str],
    log_path: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start command with stdout and stderr to log_path; the caller stops it (see stop). For
    several processes started at once (their start-up overlaps), then waited on (wait_ready)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    log.info("started %s (pid %d, log %s)", name, process.pid, log_path)
    return process


def wait_ready(
    name: str,
    process: subprocess.Popen[Any],
    ready: Callable[[], bool],
    log_path: Path,
    deadline: float,
) -> None:
    """Poll ready() until it is true.

    Raises:
        StartError: the process exited first, or the monotonic deadline passed.
    """
    while True:
        if process.poll() is not None:
            raise StartError(f"{name} exited with {process.returncode}", log_path)
        if ready():
            return
        if time.monotonic() > deadline:
            raise StartError(f"{name} was not ready in time", log_path)
        time.sleep(0.1)
