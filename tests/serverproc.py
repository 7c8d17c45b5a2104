"""The embedded server for one test module or package: launcher.start_server on free loopback
ports, its log in the test's folder."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from launcher import ROOT, RunningServer, free_port
from launcher import start_server as _launch

__all__ = ["ROOT", "RunningServer", "free_port", "start_server"]


@contextlib.contextmanager
def start_server(flags: list[str], log_dir: Path, name: str = "server") -> Iterator[RunningServer]:
    """Run the embedded server with flags plus fresh --port/--rest_api_port, its log at
    log_dir/name.log; stop it after."""
    with _launch(flags, log_dir / f"{name}.log", cwd=ROOT) as running:
        yield running
