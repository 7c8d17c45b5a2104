"""Run each benchmarked server in its own process on loopback, and stop it afterwards."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from launcher import LOOPBACK, ROOT, free_port, launch, port_open, process_env, stop, wait_ready

__all__ = ["HOST", "ROOT", "ModuleSpec", "free_port", "port_open", "run_modules"]

HOST = LOOPBACK


@dataclass(frozen=True)
class ModuleSpec:
    """How to run one server: `python -m <args>`, and how to tell it is ready."""

    name: str
    args: list[str]
    ready: Callable[[], bool]


@contextlib.contextmanager
def run_modules(specs: list[ModuleSpec], log_dir: Path, timeout: float = 240.0) -> Iterator[None]:
    """Start every server at once, wait until each is ready, and stop them all on exit.

    Starting them together overlaps their TensorFlow imports; each still has its own process.

    Raises:
        StartError: a process exited, or was not ready within `timeout` seconds.
    """
    started = []
    try:
        for spec in specs:
            command = [sys.executable, "-m", *spec.args]
            log_path = log_dir / f"{spec.name}.log"
            process = launch(spec.name, command, log_path, cwd=ROOT, env=process_env())
            started.append((spec, process, log_path))
        deadline = time.monotonic() + timeout
        for spec, process, log_path in started:
            wait_ready(spec.name, process, spec.ready, log_path, deadline)
        yield
    finally:
        for spec, process, _ in started:
            stop(process, 20.0, spec.name)
