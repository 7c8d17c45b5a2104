"""Run a server binary (Prometheus, the Pushgateway) on loopback until its ready URL answers."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import requests


@contextlib.contextmanager
def run_until_stopped(
    name: str, command: Sequence[str], log_path: Path, ready_url: str, timeout: float = 30.0
) -> Iterator[None]:
    """Start command (output to log_path), wait until ready_url answers 200, stop it afterwards.

    Raises:
        RuntimeError: the process exited, or was not ready within timeout seconds (with its log).
    """
    with open(log_path, "wb") as log:
        process = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log_path.read_text()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(ready_url, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready in {timeout:g} s:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
