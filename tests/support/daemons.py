"""Run a server binary (Prometheus, the Pushgateway) on loopback until its ready URL answers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import requests

from launcher import running


def _answers_200(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@contextlib.contextmanager
def run_until_stopped(
    name: str, command: Sequence[str], log_path: Path, ready_url: str, timeout: float = 30.0
) -> Iterator[None]:
    """Start command (output to log_path), wait until ready_url answers 200, stop it afterwards.

    Raises:
        StartError: the process exited, or was not ready within timeout seconds (with its log).
    """
    with running(
        name, command, log_path, lambda: _answers_200(ready_url), timeout=timeout, grace=10
    ):
        yield
